#pragma once
// A temp dir for one test case, removed with everything in it.

#include <string>

#include "berth/base/sys/files.h"

namespace berth::logs::testing {

struct TempDir {
  std::string path = sys::make_temp_dir("berth-logs-").value();
  ~TempDir() { (void)sys::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

}  // namespace berth::logs::testing
