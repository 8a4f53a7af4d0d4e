#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/sys.h"
#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {
constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "tester:x:1000:1000:tester:/home/tester:/bin/sh\n"
    "  \n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
constexpr std::string_view kGroup =
    "root:x:0:\n"
    "wheel:x:10:tester,other\n"
    "audio:x:29:tester\n"
    "tester:x:1000:\n"
    "staff:x:50:\n";
using Gids = std::vector<uint32_t>;
}  // namespace

TEST_CASE("user: a name from passwd, its groups from /etc/group membership") {
  auto u = resolve_user_in(kPasswd, kGroup, "tester", {});
  REQUIRE(u.ok());
  CHECK(u->uid == 1000);
  CHECK(u->gid == 1000);
  CHECK(u->home == "/home/tester");
  CHECK(u->additional_gids == Gids{1000, 10, 29});
}

TEST_CASE("user: empty is root; a uid without an entry is fine, with gid 0 and no home") {
  auto root = resolve_user_in(kPasswd, kGroup, "", {});
  REQUIRE(root.ok());
  CHECK(root->uid == 0);
  CHECK(root->home == "/root");
  auto bare = resolve_user_in(kPasswd, kGroup, "4242", {});
  REQUIRE(bare.ok());
  CHECK(bare->uid == 4242);
  CHECK(bare->gid == 0);
  CHECK(bare->home.empty());
  CHECK(bare->additional_gids == Gids{0});
  // A number is always a uid, never a name.
  auto numeric = resolve_user_in("1000:x:5:5::/h:/bin/sh\n", std::nullopt, "1000", {});
  REQUIRE(numeric.ok());
  CHECK(numeric->gid == 0);
}

TEST_CASE("user: uid:gid and name:group; explicit groups drop membership groups") {
  auto u = resolve_user_in(kPasswd, kGroup, "tester:staff", {});
  REQUIRE(u.ok());
  CHECK(u->uid == 1000);
  CHECK(u->gid == 50);
  CHECK(u->additional_gids == Gids{50});
  auto n = resolve_user_in(kPasswd, kGroup, "7:8", {});
  REQUIRE(n.ok());
  CHECK(n->uid == 7);
  CHECK(n->gid == 8);
}

TEST_CASE("user: unknown names fail in runc's words") {
  auto u = resolve_user_in(kPasswd, kGroup, "nobody2", {});
  REQUIRE(!u.ok());
  CHECK(u.error().message() == "unable to find user nobody2: no matching entries in passwd file");
  // no passwd at all: only numbers work
  CHECK(!resolve_user_in(std::nullopt, std::nullopt, "tester", {}).ok());
  CHECK(resolve_user_in(std::nullopt, std::nullopt, "12", {}).ok());
  auto g = resolve_user_in(kPasswd, kGroup, "tester:nogroup", {});
  REQUIRE(!g.ok());
  CHECK(g.error().message() == "unable to find group nogroup: no matching entries in group file");
  auto range = resolve_user_in(kPasswd, kGroup, "-1", {});
  REQUIRE(!range.ok());
  CHECK(range.error().message() == "uids and gids must be in range 0-2147483647");
}

TEST_CASE("user: --group-add by name or number, after the user's groups") {
  auto u = resolve_user_in(kPasswd, kGroup, "tester", {"staff", "777", "10"});
  REQUIRE(u.ok());
  CHECK(u->additional_gids == Gids{1000, 10, 29, 50, 777, 10});
  auto bad = resolve_user_in(kPasswd, kGroup, "", {"nosuch"});
  REQUIRE(!bad.ok());
  CHECK(bad.error().message() == "unable to find group nosuch");
}

TEST_CASE("user: files are read inside the rootfs, never through a symlink out of it") {
  auto dir = sys::make_temp_dir("berth-oci-user-");
  REQUIRE(dir.ok());
  std::string root = *dir + "/rootfs";
  REQUIRE(sys::mkdir_p(root + "/etc", 0755).ok());
  REQUIRE(sys::mkdir_p(root + *dir, 0755).ok());
  // A decoy "host" passwd beside the rootfs, and the image's own copy at
  // the same path inside it: the image's /etc/passwd links to the decoy's
  // absolute host path.
  REQUIRE(
      sys::write_file_atomic(*dir + "/decoy-passwd", "tester:x:6666:6666::/decoy:/bin/sh\n", 0644)
          .ok());
  REQUIRE(sys::write_file_atomic(root + *dir + "/decoy-passwd",
                                 "tester:x:1000:1000::/home/t:/bin/sh\n", 0644)
              .ok());
  REQUIRE(::symlink((*dir + "/decoy-passwd").c_str(), (root + "/etc/passwd").c_str()) == 0);
  auto u = resolve_user(root, "tester", {});
  REQUIRE(u.ok());
  CHECK(u->uid == 1000);
  CHECK(u->home == "/home/t");
  // ../ cannot climb out either
  REQUIRE(sys::unlink(root + "/etc/passwd").ok());
  REQUIRE(::symlink("../../decoy-passwd", (root + "/etc/passwd").c_str()) == 0);
  auto climbed = resolve_user(root, "tester", {});
  CHECK(!climbed.ok());  // resolves to <root>/decoy-passwd: absent, so no such user
  // A FIFO would block berthd forever: refused without opening it for read.
  REQUIRE(sys::unlink(root + "/etc/passwd").ok());
  REQUIRE(::mkfifo((root + "/etc/passwd").c_str(), 0644) == 0);
  auto fifo = resolve_user(root, "tester", {});
  REQUIRE(!fifo.ok());
  CHECK(fifo.error().message().find("not a regular file") != std::string::npos);
  CHECK(sys::remove_all(*dir).ok());
}
