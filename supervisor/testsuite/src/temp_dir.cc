#include "berth/testsuite/temp_dir.h"

#include <cstdlib>

#include "berth/base/sys.h"

namespace berth::testsuite {

TempDir::TempDir(const std::string& prefix) {
  auto dir = sys::make_temp_dir(prefix);
  // Without a directory no test can run: stop here rather than write into "".
  if (!dir) std::abort();
  path_ = std::move(dir).value();
}

TempDir::~TempDir() { (void)sys::remove_all(path_); }

}  // namespace berth::testsuite
