// mount_all / unmount_all on real mounts (root).

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/base/sys.h"
#include "berth/snapshots/mount.h"

using namespace berth;
namespace fs = std::filesystem;

namespace {

// Removed even when a REQUIRE fails, after unmounting what a failed case left.
struct TempDir {
  std::string path = sys::make_temp_dir("berth-mount-").value();
  ~TempDir() {
    for (const char* sub : {"/merged", "/dst"}) (void)snapshots::unmount_all(path + sub);
    (void)sys::remove_all(path);
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

// The issue: "images with more layers than one mount's option page holds
// still mount". mount(2) takes at most one page of options; 150 layers of
// ~45-byte paths need more, which only fsconfig's "lowerdir+" carries.
TEST_CASE("an overlay of 150 layers whose lowerdir string exceeds a page still mounts") {
  TempDir t;
  const std::string* tmp = &t.path;
  std::string base = *tmp + "/" + std::string(20, 'l');
  std::string lowerdir = "lowerdir=";
  constexpr int kLayers = 150;
  size_t total = 0;
  for (int i = 0; i < kLayers; ++i) {
    std::string dir = base + "/layer-" + std::to_string(i);
    fs::create_directories(dir);
    std::ofstream(dir + "/f" + std::to_string(i)) << i;
    std::ofstream(dir + "/top") << i;
    // The nearest layer comes first: layer 149's `top` must win.
    lowerdir += (i ? ":" : "") + base + "/layer-" + std::to_string(kLayers - 1 - i);
    total += dir.size();
  }
  REQUIRE(total > 4096);
  REQUIRE(lowerdir.size() > 4096);
  fs::create_directories(*tmp + "/upper");
  fs::create_directories(*tmp + "/work");
  fs::create_directories(*tmp + "/merged");
  std::vector<core::Mount> m{
      {"overlay",
       "overlay",
       {"upperdir=" + *tmp + "/upper", "workdir=" + *tmp + "/work", lowerdir}}};
  auto st = snapshots::mount_all(m, *tmp + "/merged");
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().to_string()));
  CHECK(read_file(*tmp + "/merged/f0") == "0");
  CHECK(read_file(*tmp + "/merged/f149") == "149");
  CHECK(read_file(*tmp + "/merged/top") == "149");
  std::ofstream(*tmp + "/merged/written") << "w";
  CHECK(fs::exists(*tmp + "/upper/written"));
  CHECK(snapshots::unmount_all(*tmp + "/merged").ok());
  CHECK(!fs::exists(*tmp + "/merged/f0"));
  CHECK(snapshots::unmount_all(*tmp + "/merged").ok());  // nothing left: fine
}

TEST_CASE("a read-only bind mount is read-only; an unknown type is refused") {
  TempDir t;
  const std::string* tmp = &t.path;
  fs::create_directories(*tmp + "/src");
  fs::create_directories(*tmp + "/dst");
  REQUIRE(snapshots::mount_all({{"bind", *tmp + "/src", {"ro", "rbind"}}}, *tmp + "/dst").ok());
  int fd = ::open((*tmp + "/dst/x").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  int error = errno;  // before doctest's reporting can change it
  CHECK(fd == -1);
  CHECK(error == EROFS);
  CHECK(snapshots::unmount_all(*tmp + "/dst").ok());
  auto bad = snapshots::mount_all({{"nfs", "x", {}}}, *tmp + "/dst");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code() == ENOTSUP);
}
