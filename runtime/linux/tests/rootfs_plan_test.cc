#include <doctest/doctest.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "berth/base/sys.h"
#include "berth/linux/mount_options.h"
#include "berth/linux/rootfs.h"

using namespace berth;

TEST_CASE("mount options: flags, clears, propagation, data") {
  auto o = os::parse_mount_options({"nosuid", "noexec", "ro", "rw", "rprivate", "mode=755", "size=64k"},
                                   "mounts[0].options");
  REQUIRE(o.ok());
  CHECK((o->flags & MS_NOSUID));
  CHECK((o->flags & MS_NOEXEC));
  CHECK_FALSE((o->flags & MS_RDONLY));  // "rw" after "ro" wins
  CHECK((o->clear_flags & MS_RDONLY));
  REQUIRE(o->propagation.size() == 1);
  CHECK(o->propagation[0] == (MS_PRIVATE | MS_REC));
  CHECK(o->data == "mode=755,size=64k");
  CHECK_FALSE(o->bind);
}

TEST_CASE("mount options: bind with ro needs a remount; recursive attributes") {
  auto o = os::parse_mount_options({"rbind", "ro", "rnosuid"}, "mounts[1].options");
  REQUIRE(o.ok());
  CHECK(o->bind);
  CHECK(o->recursive_bind);
  CHECK(o->needs_bind_remount());
  CHECK(o->recursive_set == MOUNT_ATTR_NOSUID);
  auto plain = os::parse_mount_options({"bind"}, "m");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->needs_bind_remount());
}

TEST_CASE("mount options: idmap is refused with the field named") {
  auto o = os::parse_mount_options({"idmap"}, "mounts[2].options");
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().to_string().find("mounts[2].options") != std::string::npos);
}

namespace {
struct TempBundle {
  std::string dir;
  TempBundle() {
    char tmpl[] = "/tmp/berth-plan-XXXXXX";
    dir = ::mkdtemp(tmpl);
    (void)sys::mkdir(dir + "/rootfs", 0755);
  }
  ~TempBundle() { (void)sys::remove_all(dir); }
};

spec::Spec base_spec() {
  spec::Spec s;
  s.oci_version = "1.2.0";
  s.root = spec::Root{"rootfs", true};
  s.linux_ = spec::Linux{};
  return s;
}
}  // namespace

TEST_CASE("rootfs plan: bind sources resolve against the bundle, defaults devices added") {
  TempBundle b;
  auto s = base_spec();
  s.mounts.push_back({"/data", "bind", "data", {"rbind", "ro"}, {}, {}});
  s.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  spec::Device custom;
  custom.path = "/dev/null";
  custom.type = 'c';
  custom.major = 1;
  custom.minor = 3;
  custom.file_mode = 0600;
  s.linux_->devices.push_back(custom);
  auto plan = os::plan_rootfs(s, b.dir);
  REQUIRE(plan.ok());
  CHECK(plan->rootfs == b.dir + "/rootfs");
  CHECK(plan->readonly);
  REQUIRE(plan->mounts.size() == 2);
  CHECK(plan->mounts[0].kind == os::MountKind::kBind);
  CHECK(plan->mounts[0].mount.source == b.dir + "/data");
  CHECK(plan->mounts[1].kind == os::MountKind::kFilesystem);
  // six defaults, /dev/null overridden by the config's (mode 0600)
  CHECK(plan->devices.size() == 6);
  int nulls = 0;
  for (const auto& d : plan->devices)
    if (d.path == "/dev/null") {
      ++nulls;
      CHECK(d.file_mode == 0600u);
    }
  CHECK(nulls == 1);
}

TEST_CASE("rootfs plan: a host-bound /dev gets no default devices or symlinks") {
  TempBundle b;
  auto s = base_spec();
  s.mounts.push_back({"/dev", "bind", "/dev", {"rbind"}, {}, {}});
  auto plan = os::plan_rootfs(s, b.dir);
  REQUIRE(plan.ok());
  CHECK(plan->devices.empty());
  CHECK_FALSE(plan->create_dev_symlinks);
}

TEST_CASE("rootfs plan: missing rootfs and bind without source are named errors") {
  TempBundle b;
  auto s = base_spec();
  s.root->path = "nope";
  auto plan = os::plan_rootfs(s, b.dir);
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().to_string().find("root.path") != std::string::npos);
  auto s2 = base_spec();
  s2.mounts.push_back({"/x", "bind", "", {"bind"}, {}, {}});
  auto plan2 = os::plan_rootfs(s2, b.dir);
  REQUIRE_FALSE(plan2.ok());
  CHECK(plan2.error().to_string().find("mounts[0].source") != std::string::npos);
}

TEST_CASE("make_in_root: symlinks in the tree cannot lead outside it") {
  if (::geteuid() != 0) return;  // openat2 works unprivileged, but keep parity
  TempBundle b;
  std::string root = b.dir + "/rootfs";
  std::string outside = b.dir + "/outside";
  REQUIRE(sys::mkdir(outside, 0755).ok());
  // rootfs/escape -> ../../outside (relative) and rootfs/abs -> /outside-abs
  REQUIRE(::symlink("../../outside", (root + "/escape").c_str()) == 0);
  REQUIRE(::symlink(outside.c_str(), (root + "/abs").c_str()) == 0);
  auto rootfd = sys::open(root, O_PATH | O_DIRECTORY);
  REQUIRE(rootfd.ok());
  // A dangling symlink is followed to where it points inside the rootfs.
  auto fd = os::make_in_root(*rootfd, "/escape/made", true, false);
  REQUIRE(fd.ok());
  auto fd2 = os::make_in_root(*rootfd, "/abs/file", false, false);
  REQUIRE(fd2.ok());
  // Nothing was created in the decoy dir outside the rootfs.
  CHECK(sys::list_dir(outside)->empty());
  CHECK(sys::exists(root + "/outside/made"));
  CHECK(sys::exists(root + outside + "/file"));
  // A proc-style target refuses a symlinked last component.
  auto nofollow = os::make_in_root(*rootfd, "/escape", true, true);
  CHECK_FALSE(nofollow.ok());
}
