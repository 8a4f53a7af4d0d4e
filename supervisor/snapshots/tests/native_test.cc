// The native snapshotter against the conformance suite, and copy_tree's
// fidelity (what prepare relies on).

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/base/sys.h"
#include "berth/snapshots/copy_tree.h"
#include "berth/snapshots/native.h"
#include "testsuite/snapshotter_suite.h"
#include "testsuite/tree.h"

using namespace berth;
namespace fs = std::filesystem;

TEST_CASE("native snapshotter passes the snapshotter suite") {
  testsuite::snapshotter_suite(
      [](const std::string& root) -> Result<std::unique_ptr<core::Snapshotter>> {
        auto s = snapshots::NativeSnapshotter::open(root);
        if (!s) return std::move(s).error();
        return std::unique_ptr<core::Snapshotter>(std::move(*s));
      });
}

TEST_CASE(
    "copy_tree keeps owners, setuid, capabilities, times, hard links, devices; skips sockets") {
  struct TempDir {
    std::string path = sys::make_temp_dir("berth-copy-").value();
    ~TempDir() { (void)sys::remove_all(path); }
  } t;
  const std::string* tmp = &t.path;
  std::string src = *tmp + "/src", dst = *tmp + "/dst";
  fs::create_directories(src + "/d");
  std::ofstream(src + "/d/suid") << "x";
  REQUIRE(::chown((src + "/d/suid").c_str(), 1000, 1000) == 0);
  REQUIRE(::chmod((src + "/d/suid").c_str(), 04755) == 0);
  std::string cap = testsuite::net_bind_capability();
  REQUIRE(::setxattr((src + "/d/suid").c_str(), "security.capability", cap.data(), cap.size(), 0) ==
          0);
  REQUIRE(::link((src + "/d/suid").c_str(), (src + "/hard").c_str()) == 0);
  REQUIRE(::symlink("d/suid", (src + "/sym").c_str()) == 0);
  REQUIRE(::mknod((src + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  REQUIRE(::mkfifo((src + "/fifo").c_str(), 0600) == 0);
  REQUIRE(::setxattr((src + "/d").c_str(), "user.dir", "v", 1, 0) == 0);
  REQUIRE(::chown((src + "/d").c_str(), 7, 8) == 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string sp = src + "/sock";
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sp.c_str());
  REQUIRE(::bind(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  ::close(sock);
  struct timespec old[2] = {{1'000'000'000, 5}, {1'000'000'000, 123456789}};
  REQUIRE(::utimensat(AT_FDCWD, (src + "/sym").c_str(), old, AT_SYMLINK_NOFOLLOW) == 0);

  auto st = snapshots::copy_tree(src, dst);
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().to_string()));
  auto want = testsuite::describe_tree(src);
  want.erase("/sock");
  CHECK(testsuite::describe_tree(dst) == want);
  CHECK(!fs::exists(dst + "/sock"));
  struct stat a {
  }, b{};
  REQUIRE(::lstat((dst + "/d/suid").c_str(), &a) == 0);
  REQUIRE(::lstat((dst + "/hard").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK((a.st_mode & 07777) == 04755);
}
