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
  auto o = os::parse_mount_options(
      {"nosuid", "noexec", "ro", "rw", "rprivate", "mode=755", "size=64k"}, "mounts[0].options");
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
  s.linux_->namespaces.push_back({spec::NamespaceType::kMount, ""});
  return s;
}
}  // namespace

TEST_CASE(
    "rootfs plan: without a mount namespace nothing is mounted, and what needs it is refused") {
  TempBundle b;
  auto s = base_spec();
  s.linux_->namespaces.clear();
  s.root->readonly = false;
  auto plan = os::plan_rootfs(s, b.dir);
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->mount_namespace);
  CHECK(plan->mounts.empty());
  CHECK(plan->devices.empty());  // the image's /dev as it is: mknod would write the bundle

  auto refused = [&](const spec::Spec& bad, std::string_view field) {
    CAPTURE(field);
    auto p = os::plan_rootfs(bad, b.dir);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message() == "config.json: " + std::string(field) +
                                     ": needs a mount namespace; linux.namespaces has none, and "
                                     "berth never mounts in the host's");
  };
  auto t = s;
  t.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  refused(t, "mounts");
  t = s;
  t.root->readonly = true;
  refused(t, "root.readonly");
  t = s;
  t.linux_->masked_paths = {"/proc/kcore"};
  refused(t, "linux.maskedPaths");
  t = s;
  t.linux_->readonly_paths = {"/proc/sys"};
  refused(t, "linux.readonlyPaths");
  t = s;
  t.linux_->rootfs_propagation = "rslave";
  refused(t, "linux.rootfsPropagation");
  t = s;
  t.linux_->devices.push_back(spec::Device{});
  refused(t, "linux.devices");
}

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

namespace {

os::MountStep step(const std::string& dest, const std::string& type, os::MountKind kind) {
  os::MountStep s;
  s.mount.destination = dest;
  s.mount.type = type;
  s.mount.source = type;
  s.kind = kind;
  return s;
}

}  // namespace

TEST_CASE("/proc must be procfs, /sys sysfs, and only emulated files go under /proc") {
  using os::MountKind;
  CHECK(os::check_proc_sys_mount(step("/proc", "proc", MountKind::kFilesystem), "mounts[0]").ok());
  CHECK(os::check_proc_sys_mount(step("/sys", "sysfs", MountKind::kFilesystem), "mounts[0]").ok());
  // binds are checked against their source when mounted
  CHECK(os::check_proc_sys_mount(step("/proc", "bind", MountKind::kBind), "mounts[0]").ok());
  CHECK(os::check_proc_sys_mount(step("/proc/meminfo", "bind", MountKind::kBind), "m").ok());
  CHECK(
      os::check_proc_sys_mount(step("/proc/sys/kernel/ns_last_pid", "bind", MountKind::kBind), "m")
          .ok());
  CHECK(os::check_proc_sys_mount(step("/sys/fs/cgroup", "cgroup", MountKind::kCgroup), "m").ok());
  CHECK(os::check_proc_sys_mount(step("/procfoo", "tmpfs", MountKind::kFilesystem), "m").ok());

  auto st = os::check_proc_sys_mount(step("/proc", "tmpfs", MountKind::kFilesystem), "mounts[2]");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() ==
        "mounts[2]: `/proc` must be proc (type proc or a bind of one), not `tmpfs`");
  st = os::check_proc_sys_mount(step("/sys", "tmpfs", MountKind::kFilesystem), "mounts[3]");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("`/sys` must be sysfs") != std::string::npos);
  for (const char* dest :
       {"/proc/self/oom_score_adj", "/proc/sys", "/proc/1/attr", "/proc/meminfo/x"}) {
    CAPTURE(dest);
    st = os::check_proc_sys_mount(step(dest, "bind", MountKind::kBind), "mounts[4]");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("is inside /proc") != std::string::npos);
  }
}

TEST_CASE("plan_rootfs refuses a bind of an ordinary directory onto /proc or /sys") {
  char dir[] = "/tmp/berth-plan-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string bundle = dir;
  REQUIRE(sys::mkdir_p(bundle + "/rootfs", 0755).ok());
  REQUIRE(sys::mkdir_p(bundle + "/fake", 0755).ok());
  for (const char* dest : {"/proc", "/sys"}) {
    CAPTURE(dest);
    spec::Spec s = base_spec();
    spec::Mount m;
    m.destination = dest;
    m.type = "bind";
    m.source = "fake";
    m.options = {"rbind"};
    s.mounts.push_back(m);
    auto plan = os::plan_rootfs(s, bundle);
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.error().message().find("config.json: mounts[0].source: `" + bundle +
                                      "/fake` is not") == 0);
    // the host's own /proc and /sys are what a bind there may bring
    s.mounts[0].source = dest;
    CHECK(os::plan_rootfs(s, bundle).ok());
  }
  REQUIRE(sys::remove_all(bundle).ok());
}
