#pragma once
// A fresh directory under /tmp for one test, removed with everything in it
// when the test ends.

#include <string>

namespace berth::testsuite {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace berth::testsuite
