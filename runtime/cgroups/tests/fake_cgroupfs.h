#pragma once
// A fake cgroupfs for unit tests: plain directories in a temp dir, one per
// hierarchy, with the Layout and Placement that point at them. Files a test
// does not create do not exist, like files of a controller that is off.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"

namespace cgtest {

// The error text of a Result, "" when it succeeded: doctest evaluates
// *_MESSAGE arguments even for passing checks when run with -s.
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().to_string();
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-cgres-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)berth::sys::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline void mkdirs(const std::string& path) { REQUIRE(berth::sys::mkdir_p(path, 0755).ok()); }

inline void put(const std::string& path, std::string_view text) {
  auto fd = berth::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd.ok());
  REQUIRE(berth::sys::write_all(*fd, text, path).ok());
}

// The file's content, or "<missing>".
inline std::string get(const std::string& path) {
  auto text = berth::sys::read_file(path);
  return text ? *text : std::string("<missing>");
}

// A fake host: v1 hierarchies named by their controllers, optionally a
// cgroup2 tree ("unified"), and the container's directory "<mount>/ctr" in
// each (created).
struct FakeHost {
  TempDir tmp;
  berth::cgroups::Layout layout;
  berth::cgroups::Placement placement;

  void add_v1(const std::string& controller) {
    berth::cgroups::Hierarchy h;
    h.mount_point = tmp.path + "/" + controller;
    h.controllers = {controller};
    h.own_path = "/";
    add(std::move(h));
  }
  void add_v2(const std::string& name = "unified") {
    berth::cgroups::Hierarchy h;
    h.mount_point = tmp.path + "/" + name;
    h.unified = true;
    h.own_path = "/";
    add(std::move(h));
  }
  std::string dir(const std::string& hierarchy) const {
    return tmp.path + "/" + hierarchy + "/ctr";
  }
  std::string file(const std::string& hierarchy, const std::string& name) const {
    return dir(hierarchy) + "/" + name;
  }

 private:
  void add(berth::cgroups::Hierarchy h) {
    mkdirs(h.mount_point + "/ctr");
    placement.dirs.push_back(h.mount_point + "/ctr");
    placement.created.push_back(true);
    layout.hierarchies.push_back(std::move(h));
  }
};

}  // namespace cgtest
