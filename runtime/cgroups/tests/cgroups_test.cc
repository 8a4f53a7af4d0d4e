#include "berth/cgroups/cgroups.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/sys.h"

using berth::cgroups::Hierarchy;
using berth::cgroups::Layout;
using berth::cgroups::Placement;

namespace {

// This host's texts, verbatim (hybrid: v1 controllers, name=systemd, and a
// cgroup2 tree at /sys/fs/cgroup/unified).
constexpr const char* kHybridMountinfo =
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs "
    "rw,size=12334448k,nr_inodes=3083612,mode=755\n"
    "24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k\n"
    "25 23 0:23 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534\n"
    "27 26 0:24 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs "
    "model_tools_unavailable ro,size=4k,mode=755\n"
    "28 25 0:25 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "7:blkio:/\n"
    "6:freezer:/\n"
    "5:devices:/\n"
    "4:memory:/process_api/ca0649a05b78a41c18b25b37759117fe\n"
    "3:cpuset:/\n"
    "2:cpuacct:/\n"
    "1:cpu:/\n"
    "0::/\n";

const Hierarchy* find(const Layout& layout, std::string_view mount_point) {
  for (const auto& h : layout.hierarchies)
    if (h.mount_point == mount_point) return &h;
  return nullptr;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-cgroups-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)berth::sys::remove_all(path); }
};

void mkdirs(const std::string& path) { REQUIRE(berth::sys::mkdir_p(path, 0755).ok()); }

void put(const std::string& path, std::string_view text) {
  auto fd = berth::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd.ok());
  REQUIRE(berth::sys::write_all(*fd, text, path).ok());
}

std::string get(const std::string& path) {
  auto text = berth::sys::read_file(path);
  REQUIRE(text.ok());
  return *text;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The kernel removes a cgroup's interface files with the cgroup; a plain
// directory needs them unlinked before rmdir succeeds.
void kernel_forget_files(const std::string& dir) {
  auto names = berth::sys::list_dir(dir);
  REQUIRE(names.ok());
  for (const auto& name : *names) {
    std::string child = dir + "/" + name;
    if (is_dir(child))
      kernel_forget_files(child);
    else
      REQUIRE(berth::sys::unlink(child).ok());
  }
}

}  // namespace

TEST_CASE("parse_layout: this host's hybrid layout") {
  auto layout = berth::cgroups::parse_layout(kHybridMountinfo, kHybridCgroup);
  REQUIRE(layout.ok());
  CHECK_FALSE(layout->pure_v2());
  REQUIRE(layout->hierarchies.size() == 9);  // 8 v1 controllers + unified; no name=systemd
  CHECK(layout->hierarchies[0].mount_point == "/sys/fs/cgroup/cpu");
  CHECK(layout->hierarchies[8].mount_point == "/sys/fs/cgroup/unified");
  CHECK(find(*layout, "/sys/fs/cgroup/systemd") == nullptr);

  const Hierarchy* memory = find(*layout, "/sys/fs/cgroup/memory");
  REQUIRE(memory != nullptr);
  CHECK(memory->controllers == std::vector<std::string>{"memory"});
  CHECK_FALSE(memory->unified);
  CHECK(memory->own_path == "/process_api/ca0649a05b78a41c18b25b37759117fe");

  const Hierarchy* cpu = find(*layout, "/sys/fs/cgroup/cpu");
  REQUIRE(cpu != nullptr);
  CHECK(cpu->controllers == std::vector<std::string>{"cpu"});
  CHECK(cpu->own_path == "/");

  const Hierarchy* unified = find(*layout, "/sys/fs/cgroup/unified");
  REQUIRE(unified != nullptr);
  CHECK(unified->unified);
  CHECK(unified->controllers.empty());
  CHECK(unified->own_path == "/");
}

TEST_CASE("parse_layout: pure cgroup v2") {
  const char* mountinfo =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "25 22 0:21 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
      "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  auto layout =
      berth::cgroups::parse_layout(mountinfo, "0::/user.slice/user-1000.slice/session-2.scope\n");
  REQUIRE(layout.ok());
  CHECK(layout->pure_v2());
  CHECK(layout->hierarchies[0].mount_point == "/sys/fs/cgroup");
  CHECK(layout->hierarchies[0].own_path == "/user.slice/user-1000.slice/session-2.scope");
}

TEST_CASE("parse_layout: v1 with comounted controllers, escaped paths and no cgroup2") {
  const char* mountinfo =
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "25 22 0:21 / /sys rw - sysfs sysfs rw\n"
      "30 25 0:27 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "32 30 0:29 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
      "33 30 0:30 / /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
      "34 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "35 30 0:32 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,clone_children\n";
  const char* cgroup =
      "5:cpuset:/\n"
      "4:cpu,cpuacct:/user.slice\n"
      "3:net_cls,net_prio:/\n"
      "2:memory:/user.slice\n"
      "1:name=systemd:/user.slice/session-1.scope\n"
      "0::/user.slice/session-1.scope\n";  // listed, but no cgroup2 is mounted
  auto layout = berth::cgroups::parse_layout(mountinfo, cgroup);
  REQUIRE(layout.ok());
  REQUIRE(layout->hierarchies.size() == 4);
  const Hierarchy* cpu = find(*layout, "/sys/fs/cgroup/cpu,cpuacct");
  REQUIRE(cpu != nullptr);
  CHECK(cpu->controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(cpu->own_path == "/user.slice");
  const Hierarchy* memory = find(*layout, "/sys/fs/cgroup/my memory");
  REQUIRE(memory != nullptr);
  CHECK(memory->own_path == "/user.slice");
  CHECK(find(*layout, "/sys/fs/cgroup/cpuset") != nullptr);
}

TEST_CASE("parse_layout: own path is relative to the mount's root") {
  // Inside a container: the hierarchy's mount shows only /docker/abc.
  const char* mountinfo =
      "100 99 0:50 / / rw - overlay overlay rw\n"
      "101 100 0:51 / /sys ro - sysfs sysfs ro\n"
      "102 101 0:52 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
      "103 102 0:30 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
      "104 102 0:31 /docker/abc /sys/fs/cgroup/pids ro - cgroup cgroup rw,pids\n";
  const char* cgroup =
      "2:memory:/docker/abc/sub\n"
      "1:pids:/elsewhere\n";
  auto layout = berth::cgroups::parse_layout(mountinfo, cgroup);
  REQUIRE(layout.ok());
  REQUIRE(layout->hierarchies.size() == 2);
  CHECK(find(*layout, "/sys/fs/cgroup/memory")->own_path == "/sub");
  // The pids mount does not reach the caller's cgroup: unknown, so that
  // only absolute cgroupsPaths can use it.
  CHECK(find(*layout, "/sys/fs/cgroup/pids")->own_path.empty());
  CHECK_FALSE(berth::cgroups::plan_placement(*layout, "x", "c1").ok());
  auto abs = berth::cgroups::plan_placement(*layout, "/x", "c1");
  REQUIRE(abs.ok());
  CHECK(abs->dirs[1] == "/sys/fs/cgroup/pids/x");
}

TEST_CASE("parse_layout: hidden mounts are skipped") {
  SUBCASE("unified covered by a tmpfs") {
    std::string mountinfo =
        std::string(kHybridMountinfo) + "41 40 0:40 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n";
    auto layout = berth::cgroups::parse_layout(mountinfo, kHybridCgroup);
    REQUIRE(layout.ok());
    CHECK(layout->hierarchies.size() == 8);
    CHECK(find(*layout, "/sys/fs/cgroup/unified") == nullptr);
  }
  SUBCASE("cgroup2 mounted over the whole hybrid tree (private mount namespace)") {
    std::string mountinfo =
        std::string(kHybridMountinfo) + "50 30 0:37 / /sys/fs/cgroup rw - cgroup2 none rw\n";
    auto layout = berth::cgroups::parse_layout(mountinfo, kHybridCgroup);
    REQUIRE(layout.ok());
    CHECK(layout->pure_v2());
    CHECK(layout->hierarchies[0].mount_point == "/sys/fs/cgroup");
  }
}

TEST_CASE("parse_layout: errors") {
  CHECK_FALSE(berth::cgroups::parse_layout("21 26 0:20 / /proc rw\n", kHybridCgroup).ok());
  CHECK_FALSE(berth::cgroups::parse_layout(kHybridMountinfo, "garbage\n").ok());
  auto none = berth::cgroups::parse_layout("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "0::/\n");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message().find("no cgroup") != std::string::npos);
}

TEST_CASE("detect_layout on this host") {
  auto layout = berth::cgroups::detect_layout();
  REQUIRE(layout.ok());
  CHECK_FALSE(layout->hierarchies.empty());
}

TEST_CASE("plan_placement") {
  Layout layout;
  layout.hierarchies.push_back({"/cg/memory", {"memory"}, false, "/process_api/x"});
  layout.hierarchies.push_back({"/cg/unified", {}, true, "/"});

  auto dirs = [&](std::string_view path, std::string_view id = "c1") {
    auto p = berth::cgroups::plan_placement(layout, path, id);
    REQUIRE(p.ok());
    CHECK(p->created == std::vector<bool>{false, false});
    return p->dirs;
  };
  auto error = [&](std::string_view path, std::string_view id = "c1") {
    auto p = berth::cgroups::plan_placement(layout, path, id);
    REQUIRE_FALSE(p.ok());
    return p.error().message();
  };

  CHECK(dirs("/berth/c1") ==
        std::vector<std::string>{"/cg/memory/berth/c1", "/cg/unified/berth/c1"});
  CHECK(dirs("berth/c1") ==
        std::vector<std::string>{"/cg/memory/process_api/x/berth/c1", "/cg/unified/berth/c1"});
  CHECK(dirs("") == std::vector<std::string>{"/cg/memory/process_api/x/c1", "/cg/unified/c1"});
  CHECK(dirs("//a/./b/../c/") == std::vector<std::string>{"/cg/memory/a/c", "/cg/unified/a/c"});
  CHECK(dirs("a/b/..") == std::vector<std::string>{"/cg/memory/process_api/x/a", "/cg/unified/a"});

  CHECK(error("/../etc").find("leads above") != std::string::npos);
  CHECK(error("/a/../../etc").find("leads above") != std::string::npos);
  CHECK(error("a/../../x").find("outside this process's own cgroup") != std::string::npos);
  CHECK(error("/") == "linux.cgroupsPath \"/\": names the cgroup hierarchy's root");
  CHECK(error(".").find("own cgroup") != std::string::npos);
  CHECK(error("system.slice:berth:c1").find("--systemd-cgroup") != std::string::npos);
  CHECK(error("", "").find("container id") != std::string::npos);
  CHECK_FALSE(berth::cgroups::plan_placement(layout, "", "a/b").ok());
  CHECK_FALSE(berth::cgroups::plan_placement(layout, "", "..").ok());
}

TEST_CASE("create, join, pids and remove on a fake cgroupfs") {
  TempDir tmp;
  const std::string memory = tmp.path + "/memory";
  const std::string cpuset = tmp.path + "/cpuset";
  mkdirs(memory + "/own");
  put(memory + "/own/cgroup.procs", "4242\n");  // the caller itself
  mkdirs(cpuset + "/mid");
  put(cpuset + "/cpuset.cpus", "0-1\n");
  put(cpuset + "/cpuset.mems", "0\n");
  // An existing level with empty values: the nearest ancestor that has them
  // is the one to copy from.
  put(cpuset + "/mid/cpuset.cpus", "\n");
  put(cpuset + "/mid/cpuset.mems", "\n");

  Layout layout;
  layout.hierarchies.push_back({memory, {"memory"}, false, "/own"});
  layout.hierarchies.push_back({cpuset, {"cpuset"}, false, "/mid"});

  auto placement = berth::cgroups::plan_placement(layout, "a/b", "c1");
  REQUIRE(placement.ok());
  auto created = berth::cgroups::create(*placement);
  REQUIRE_MESSAGE(created.ok(), (created.ok() ? std::string() : created.error().to_string()));
  CHECK(placement->created == std::vector<bool>{true, true});
  CHECK(placement->made_dirs == std::vector<std::string>{memory + "/own/a", memory + "/own/a/b",
                                                         cpuset + "/mid/a", cpuset + "/mid/a/b"});
  CHECK(get(cpuset + "/mid/a/cpuset.cpus") == "0-1");
  CHECK(get(cpuset + "/mid/a/b/cpuset.mems") == "0");
  CHECK_FALSE(berth::sys::exists(memory + "/own/a/cpuset.cpus"));

  REQUIRE(berth::cgroups::join(*placement, 1234).ok());
  CHECK(get(memory + "/own/a/b/cgroup.procs") == "1234");
  mkdirs(memory + "/own/a/b/nested");
  put(memory + "/own/a/b/nested/cgroup.procs", "77\n1234\n");
  auto pids = berth::cgroups::pids(*placement);
  REQUIRE(pids.ok());
  CHECK(*pids == std::vector<pid_t>{77, 1234});

  auto busy = berth::cgroups::remove(*placement);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().message() == "cgroup `" + memory + "/own/a/b/nested`: still holds processes");
  CHECK(is_dir(cpuset + "/mid/a/b"));

  // The processes exit; the kernel drops the interface files with the cgroups.
  kernel_forget_files(memory + "/own/a");
  kernel_forget_files(cpuset + "/mid/a");
  auto removed = berth::cgroups::remove(*placement);
  REQUIRE_MESSAGE(removed.ok(), (removed.ok() ? std::string() : removed.error().to_string()));
  CHECK_FALSE(berth::sys::exists(memory + "/own/a"));
  CHECK_FALSE(berth::sys::exists(cpuset + "/mid/a"));
  CHECK(is_dir(memory + "/own"));
  CHECK(is_dir(cpuset + "/mid"));
  // Removing again: everything is gone already, which is not an error.
  CHECK(berth::cgroups::remove(*placement).ok());
}

TEST_CASE("create: an existing cgroup that holds processes is an error, and rolls back") {
  TempDir tmp;
  const std::string pids_root = tmp.path + "/pids";
  const std::string memory = tmp.path + "/memory";
  mkdirs(pids_root);
  mkdirs(memory + "/a/b");
  put(memory + "/a/b/cgroup.procs", "42\n");

  Layout layout;
  layout.hierarchies.push_back({pids_root, {"pids"}, false, "/"});
  layout.hierarchies.push_back({memory, {"memory"}, false, "/"});
  auto placement = berth::cgroups::plan_placement(layout, "/a/b", "c1");
  REQUIRE(placement.ok());
  auto st = berth::cgroups::create(*placement);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "cgroup `" + memory + "/a/b`: already holds processes");
  // The pids directories made before the failure are gone again.
  CHECK_FALSE(berth::sys::exists(pids_root + "/a"));
  CHECK(placement->made_dirs.empty());
  CHECK(placement->created == std::vector<bool>{false, false});
  CHECK(is_dir(memory + "/a/b"));
}

TEST_CASE("create: an existing empty cgroup is used and not removed; shared parents stay") {
  TempDir tmp;
  const std::string pids_root = tmp.path + "/pids";
  mkdirs(pids_root + "/existing");
  Layout layout;
  layout.hierarchies.push_back({pids_root, {"pids"}, false, "/"});

  auto reused = berth::cgroups::plan_placement(layout, "/existing", "c0");
  REQUIRE(reused.ok());
  REQUIRE(berth::cgroups::create(*reused).ok());
  CHECK(reused->created == std::vector<bool>{false});
  REQUIRE(berth::cgroups::remove(*reused).ok());
  CHECK(is_dir(pids_root + "/existing"));

  auto c1 = berth::cgroups::plan_placement(layout, "/shared/c1", "c1");
  auto c2 = berth::cgroups::plan_placement(layout, "/shared/c2", "c2");
  REQUIRE(c1.ok());
  REQUIRE(c2.ok());
  REQUIRE(berth::cgroups::create(*c1).ok());
  REQUIRE(berth::cgroups::create(*c2).ok());
  CHECK(c1->made_dirs == std::vector<std::string>{pids_root + "/shared", pids_root + "/shared/c1"});
  CHECK(c2->made_dirs == std::vector<std::string>{pids_root + "/shared/c2"});
  REQUIRE(berth::cgroups::remove(*c1).ok());
  CHECK(is_dir(pids_root + "/shared/c2"));
  REQUIRE(berth::cgroups::remove(*c2).ok());
  CHECK_FALSE(berth::sys::exists(pids_root + "/shared/c2"));
}

TEST_CASE("create: no cpuset copying in a cgroup2 tree") {
  TempDir tmp;
  mkdirs(tmp.path + "/unified");
  put(tmp.path + "/unified/cgroup.controllers", "cpuset\n");
  put(tmp.path + "/unified/cpuset.cpus", "0-1\n");
  put(tmp.path + "/unified/cpuset.mems", "0\n");
  Layout layout;
  layout.hierarchies.push_back({tmp.path + "/unified", {}, true, "/"});
  auto placement = berth::cgroups::plan_placement(layout, "/c", "c");
  REQUIRE(placement.ok());
  REQUIRE(berth::cgroups::create(*placement).ok());
  CHECK_FALSE(berth::sys::exists(tmp.path + "/unified/c/cpuset.cpus"));
  REQUIRE(berth::cgroups::remove(*placement).ok());
}

// A real cgroup, nested under this process's own memory cgroup (never at a
// hierarchy root, never outside our own subtree).
TEST_CASE("real v1 memory cgroup under our own: create, join, pids, remove") {
  auto layout = berth::cgroups::detect_layout();
  REQUIRE(layout.ok());
  Layout mine;
  for (const auto& h : layout->hierarchies)
    if (!h.unified && h.controllers == std::vector<std::string>{"memory"})
      mine.hierarchies.push_back(h);
  if (mine.hierarchies.empty() || mine.hierarchies[0].own_path.empty() ||
      ::access(mine.hierarchies[0].mount_point.c_str(), W_OK) != 0) {
    MESSAGE("skipped: no writable v1 memory hierarchy");
    return;
  }
  auto placement = berth::cgroups::plan_placement(
      mine, "berth-cgroups-test-" + std::to_string(::getpid()) + "/c1", "c1");
  REQUIRE(placement.ok());
  auto created = berth::cgroups::create(*placement);
  if (!created.ok()) {
    MESSAGE("skipped: " << created.error().to_string());
    return;
  }
  CHECK(placement->made_dirs.size() == 2);

  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto joined = berth::cgroups::join(*placement, child);
  CHECK_MESSAGE(joined.ok(), (joined.ok() ? "" : joined.error().to_string()));
  auto pids = berth::cgroups::pids(*placement);
  REQUIRE(pids.ok());
  CHECK(*pids == std::vector<pid_t>{child});
  auto busy = berth::cgroups::remove(*placement);
  CHECK_FALSE(busy.ok());

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  auto removed = berth::cgroups::remove(*placement);
  CHECK_MESSAGE(removed.ok(), (removed.ok() ? "" : removed.error().to_string()));
  CHECK_FALSE(berth::sys::exists(placement->made_dirs[0]));
}

// remove() finds sub-cgroups by getdents' d_type, not by a stat of every
// control file: on real cgroupfs a nested cgroup (one the container's own
// init made) must still be found and removed before its parent.
TEST_CASE("real v1 memory cgroup: remove takes the nested cgroups a container made") {
  auto layout = berth::cgroups::detect_layout();
  REQUIRE(layout.ok());
  Layout mine;
  for (const auto& h : layout->hierarchies)
    if (!h.unified && h.controllers == std::vector<std::string>{"memory"})
      mine.hierarchies.push_back(h);
  if (mine.hierarchies.empty() || mine.hierarchies[0].own_path.empty() ||
      ::access(mine.hierarchies[0].mount_point.c_str(), W_OK) != 0) {
    MESSAGE("skipped: no writable v1 memory hierarchy");
    return;
  }
  auto placement = berth::cgroups::plan_placement(
      mine, "berth-cgroups-nested-" + std::to_string(::getpid()), "c1");
  REQUIRE(placement.ok());
  auto created = berth::cgroups::create(*placement);
  if (!created.ok()) {
    MESSAGE("skipped: " << created.error().to_string());
    return;
  }
  const std::string leaf = placement->dirs[0];
  REQUIRE(::mkdir((leaf + "/inner").c_str(), 0755) == 0);
  REQUIRE(::mkdir((leaf + "/inner/deeper").c_str(), 0755) == 0);
  auto removed = berth::cgroups::remove(*placement);
  CHECK_MESSAGE(removed.ok(), (removed.ok() ? "" : removed.error().to_string()));
  CHECK_FALSE(berth::sys::exists(leaf));
  if (berth::sys::exists(leaf)) {  // leave nothing behind even when the check failed
    ::rmdir((leaf + "/inner/deeper").c_str());
    ::rmdir((leaf + "/inner").c_str());
    ::rmdir(leaf.c_str());
  }
}
