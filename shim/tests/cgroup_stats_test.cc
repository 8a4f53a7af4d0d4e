// Task.Stats from cgroup files: the container's directories found from
// mountinfo + /proc/<pid>/cgroup texts, read by berth_cgroups and encoded as
// v1 / v2 Metrics (fixture trees written here, decoded back), and this
// process's own cgroups, v1 or hybrid and, in a private mount, pure v2.
#include <doctest/doctest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <limits>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "cgroup_stats.h"
#include "cgroups/v1/metrics.pb.h"
#include "cgroups/v2/metrics.pb.h"

using namespace berth;
using namespace berth::shim;

namespace {

// This host's kind: v1 controllers, a hybrid cgroup2 tree, a named hierarchy.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kContainerCgroup =
    "9:name=systemd:/\n"
    "8:pids:/pa/x/c1\n"
    "4:memory:/pa/x/c1\n"
    "2:cpuacct:/pa/x/c1\n"
    "1:cpu:/pa/x/c1\n"
    "0::/\n";

struct TempTree {
  std::string dir;
  TempTree() {
    char tmpl[] = "/tmp/berth-shim-stats-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~TempTree() { (void)sys::remove_all(dir); }
  std::string put(const std::string& rel, const std::string& text) {
    std::string path = dir + "/" + rel;
    REQUIRE(sys::mkdir_p(path.substr(0, path.rfind('/')), 0755).ok());
    REQUIRE(sys::write_file_atomic(path, text, 0644).ok());
    return path;
  }
};

}  // namespace

TEST_CASE("stats: a hybrid host's container cgroups are v1, per controller") {
  auto set = parse_cgroup_set(kHybridMountinfo, kContainerCgroup);
  REQUIRE(set.ok());
  CHECK_FALSE(set->unified);
  CHECK(set->v1.at("memory") == "/sys/fs/cgroup/memory/pa/x/c1");
  CHECK(set->v1.at("cpu") == "/sys/fs/cgroup/cpu/pa/x/c1");
  CHECK(set->v1.at("pids") == "/sys/fs/cgroup/pids/pa/x/c1");
  CHECK(set->v1.count("name=systemd") == 0);
  CHECK(set->memory_dir() == "/sys/fs/cgroup/memory/pa/x/c1");
}

TEST_CASE("stats: a pure v2 host's container cgroup is one directory") {
  auto set = parse_cgroup_set("25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
                              "0::/system.slice/k.scope/c1\n");
  REQUIRE(set.ok());
  CHECK(set->unified);
  CHECK(set->dir == "/sys/fs/cgroup/system.slice/k.scope/c1");
  CHECK(set->memory_dir() == set->dir);
}

// The set handed to berth_cgroups' reader: v1 controllers by directory
// ("cpu,cpuacct" share one), then the v1 encoder; the pure v2 tree, then
// the v2 encoder. Field by field: metrics_encode_test.cc and the reader's
// tests in runtime/cgroups/tests/stats_test.cc.
TEST_CASE("stats: a v1 set's directories are read and encoded as v1 Metrics") {
  TempTree t;
  t.put("cpu,cpuacct/cpuacct.usage", "123456789\n");
  t.put("cpu,cpuacct/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n");
  t.put("memory/memory.usage_in_bytes", "12288\n");
  t.put("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  t.put("blkio/blkio.throttle.io_service_bytes", "8:0 Read 4096\nTotal 4096\n");
  t.put("partitions", "major minor  #blocks  name\n\n   8        0   1048576 sda\n");
  CgroupSet set;
  set.v1["cpu"] = set.v1["cpuacct"] = t.dir + "/cpu,cpuacct";
  set.v1["memory"] = t.dir + "/memory";
  set.v1["blkio"] = t.dir + "/blkio";
  set.v1["pids"] = t.dir + "/pids";  // gone: no PidsStat
  auto any = read_metrics(set, cgroups::StatsHost{t.dir + "/partitions"});
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  CHECK(any->type_url == "io.containerd.cgroups.v1.Metrics");
  io::containerd::cgroups::v1::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
  CHECK(m.cpu().usage().total() == 123456789);
  CHECK(m.cpu().throttling().throttled_periods() == 4);
  CHECK(m.memory().usage().usage() == 12288);
  CHECK(m.memory_oom_control().oom_kill() == 2);
  REQUIRE(m.blkio().io_service_bytes_recursive_size() == 1);
  CHECK(m.blkio().io_service_bytes_recursive(0).device() == "/dev/sda");
  CHECK_FALSE(m.has_pids());
}

TEST_CASE("stats: a v2 set is read and encoded as v2 Metrics") {
  TempTree t;
  t.put("c/cpu.stat", "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n");
  t.put("c/memory.current", "28672\n");
  t.put("c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
  t.put("c/pids.max", "100\n");
  CgroupSet set;
  set.unified = true;
  set.dir = t.dir + "/c";
  auto any = read_metrics(set);
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  CHECK(any->type_url == "io.containerd.cgroups.v2.Metrics");
  io::containerd::cgroups::v2::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
  CHECK(m.cpu().usage_usec() == 5000);
  CHECK(m.memory().usage() == 28672);
  CHECK(m.memory_events().oom_kill() == 1);
  CHECK(m.pids().limit() == 100);
}

TEST_CASE("stats: a cgroup that is gone is NotFound material (ENOENT)") {
  CgroupSet v2;
  v2.unified = true;
  v2.dir = "/nonexistent/berth/c";
  auto r = read_metrics(v2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ENOENT);
  CgroupSet v1;
  v1.v1["memory"] = "/nonexistent/berth/m";
  v1.v1["cpu"] = "/nonexistent/berth/c";
  CHECK(read_metrics(v1).error().code() == ENOENT);
}

TEST_CASE("stats: this process's own cgroups read as real numbers") {
  auto set = cgroups_of_pid(::getpid());
  REQUIRE_MESSAGE(set.ok(), set.error().to_string());
  auto any = read_metrics(*set);
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  if (set->unified) {
    io::containerd::cgroups::v2::Metrics m;
    REQUIRE(m.ParseFromString(any->value));
    CHECK(m.memory().usage() > 0);
  } else {
    io::containerd::cgroups::v1::Metrics m;
    REQUIRE(m.ParseFromString(any->value));
    if (set->v1.count("memory")) CHECK(m.memory().usage().usage() > 0);
    if (set->v1.count("cpuacct")) CHECK(m.cpu().usage().total() > 0);
  }
}

// The v2 path on a real cgroup2 file system: a child in a private mount
// namespace mounts this host's cgroup2 tree over /sys/fs/cgroup (hiding the
// v1 mounts below it), so its own cgroups read as a pure v2 host's. Nothing
// is created: it reads the files of the cgroup it is in.
TEST_CASE("stats: a pure cgroup2 mount reads as v2 Metrics (root, private mount namespace)") {
  if (::geteuid() != 0 || !sys::exists("/sys/fs/cgroup")) {
    MESSAGE("skipped: needs root");
    return;
  }
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(2);
    if (::mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0) ::_exit(3);
    auto set = cgroups_of_pid(::getpid());
    if (!set || !set->unified) ::_exit(4);
    auto any = read_metrics(*set);
    if (!any || any->type_url != "io.containerd.cgroups.v2.Metrics") ::_exit(5);
    io::containerd::cgroups::v2::Metrics m;
    if (!m.ParseFromString(any->value)) ::_exit(6);
    ::_exit(m.cpu().usage_usec() > 0 ? 0 : 7);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
