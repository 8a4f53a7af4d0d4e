#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/sys.h"

#include "mounts.h"

using namespace berth::shim;

TEST_CASE("overlay rootfs from the snapshotter is one mount with the options as data") {
  MountSpec m{"overlay",
              "overlay",
              {"index=off", "workdir=/s/426/work", "upperdir=/s/426/fs", "lowerdir=/s/1/fs"}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 1);
  const auto& s = (*plan)[0];
  CHECK(s.source == "overlay");
  CHECK(s.target == "/b/rootfs");
  CHECK(s.fstype == "overlay");
  CHECK(s.flags == 0);
  CHECK(s.data == "index=off,workdir=/s/426/work,upperdir=/s/426/fs,lowerdir=/s/1/fs");
}

TEST_CASE("a read-only bind is a bind plus a read-only remount") {
  MountSpec m{"bind", "/var/lib/x/fs", {"rbind", "ro", "nosuid", "rprivate"}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 3);
  CHECK((*plan)[0].flags == (MS_BIND | MS_REC));
  CHECK((*plan)[0].fstype.empty());
  CHECK((*plan)[0].data.empty());
  CHECK((*plan)[1].flags == (MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID));
  CHECK((*plan)[2].flags == (MS_PRIVATE | MS_REC));
}

TEST_CASE("rw clears ro; unknown words are data") {
  MountSpec m{"tmpfs", "tmpfs", {"ro", "rw", "size=64k", "mode=755"}};
  auto plan = plan_mount(m, "/t");
  REQUIRE(plan.ok());
  CHECK((*plan)[0].flags == 0);
  CHECK((*plan)[0].data == "size=64k,mode=755");
}

TEST_CASE("options beyond one page are refused with the size in the message") {
  MountSpec m{"overlay", "overlay", {"lowerdir=" + std::string(5000, 'a')}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().to_string().find("exceed one page") != std::string::npos);
}

namespace {
std::string many_layers(int n, const std::string& base) {
  std::string lower = "lowerdir=";
  for (int i = n; i >= 1; --i) {
    if (i != n) lower += ":";
    lower += base + "/" + std::to_string(i) + "/fs";
  }
  return lower;
}
}  // namespace

TEST_CASE("lowerdirs beyond a page are compacted relative to their common parent") {
  const std::string base = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
  MountSpec m{"overlay",
              "overlay",
              {"index=off", "workdir=" + base + "/90/work", "upperdir=" + base + "/90/fs",
               many_layers(80, base)}};
  REQUIRE(m.options[3].size() > 4096);
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
  REQUIRE(plan->size() == 1);
  const auto& s = (*plan)[0];
  CHECK(s.chdir == base);
  CHECK(s.data.size() < 4096);
  CHECK(s.data.find("workdir=" + base + "/90/work") != std::string::npos);  // only lowerdir changes
  CHECK(s.data.find(",lowerdir=80/fs:79/fs:") != std::string::npos);
  CHECK(s.data.substr(s.data.size() - 5) == ":1/fs");
}

TEST_CASE("short overlay options are not compacted") {
  const std::string base = "/s/snapshots";
  MountSpec m{"overlay", "overlay", {"upperdir=/s/snapshots/9/fs", many_layers(3, base)}};
  auto plan = plan_mount(m, "/b/rootfs");
  REQUIRE(plan.ok());
  CHECK((*plan)[0].chdir.empty());
  CHECK(
      (*plan)[0].data ==
      "upperdir=/s/snapshots/9/fs,lowerdir=/s/snapshots/3/fs:/s/snapshots/2/fs:/s/snapshots/1/fs");
}

TEST_CASE("compact_lowerdir: common parent, whole directories only") {
  auto c = compact_lowerdir({"lowerdir=/a/snap/12/fs:/a/snap/1/fs"});
  CHECK(c.chdir == "/a/snap");
  CHECK(c.options == std::vector<std::string>{"lowerdir=12/fs:1/fs"});
  // "/a/sn" is a common prefix but not a directory of both: cut to "/a".
  c = compact_lowerdir({"lowerdir=/a/snap1/fs:/a/snap2/fs"});
  CHECK(c.chdir == "/a");
  CHECK(c.options == std::vector<std::string>{"lowerdir=snap1/fs:snap2/fs"});
  // Nothing in common but "/": unchanged.
  c = compact_lowerdir({"lowerdir=/a/fs:/b/fs"});
  CHECK(c.chdir.empty());
  CHECK(c.options == std::vector<std::string>{"lowerdir=/a/fs:/b/fs"});
  c = compact_lowerdir({"upperdir=/x"});
  CHECK(c.chdir.empty());
}

TEST_CASE("a compacted overlay really mounts (root, private mount namespace)") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  char tmpl[] = "/tmp/berth-shim-ovl-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  // Long directory names: 60 layers of ~90 bytes each, > 4 KiB of lowerdir.
  const std::string base = dir + "/" + std::string(40, 's') + "/snapshots";
  const int layers = 60;
  for (int i = 1; i <= layers; ++i) {
    std::string fs = base + "/" + std::string(30, 'l') + std::to_string(i) + "/fs";
    REQUIRE(berth::sys::mkdir_p(fs, 0755).ok());
    REQUIRE(berth::sys::write_file_atomic(fs + "/layer" + std::to_string(i), "x").ok());
  }
  REQUIRE(berth::sys::mkdir_p(dir + "/upper", 0755).ok());
  REQUIRE(berth::sys::mkdir_p(dir + "/work", 0755).ok());
  REQUIRE(berth::sys::mkdir_p(dir + "/rootfs", 0755).ok());
  std::string lower = "lowerdir=";
  for (int i = layers; i >= 1; --i) {
    if (i != layers) lower += ":";
    lower += base + "/" + std::string(30, 'l') + std::to_string(i) + "/fs";
  }
  REQUIRE(lower.size() > 4096);
  MountSpec m{
      "overlay", "overlay", {"upperdir=" + dir + "/upper", "workdir=" + dir + "/work", lower}};
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // A child in its own mount namespace: nothing leaks to the host's.
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(2);
    auto plan = plan_mount(m, dir + "/rootfs");
    if (!plan || (*plan)[0].chdir.empty()) ::_exit(3);
    char before[4096];
    if (!::getcwd(before, sizeof before)) ::_exit(4);
    if (!apply_mount(*plan)) ::_exit(5);
    char after[4096];
    if (!::getcwd(after, sizeof after) || std::string(before) != after) ::_exit(6);  // cwd restored
    bool ok =
        berth::sys::exists(dir + "/rootfs/layer1") && berth::sys::exists(dir + "/rootfs/layer60");
    ::_exit(ok ? 0 : 7);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  (void)berth::sys::remove_all(dir);
}
