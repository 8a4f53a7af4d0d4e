// On this host's real cgroups, as root. Every cgroup is made under this
// process's own memory cgroup path ("<own>/berth-cgtest-<pid>-<tag>"), the
// same path in every hierarchy, and removed again by a destructor, so a
// failing check still cleans up. Tests skip with a printed reason when not
// root or when the host has no v1 memory hierarchy.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "berth/base/sys.h"
#include "berth/cgroups/devices.h"
#include "berth/cgroups/resources.h"
#include "berth/cgroups/stats.h"
#include "berth/json/json.h"
#include "fake_cgroupfs.h"

namespace cg = berth::cgroups;

namespace {

std::string trimmed(const std::string& path) {
  auto text = berth::sys::read_file(path);
  if (!text) return "<" + text.error().to_string() + ">";
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A child that waits for a byte on `go`, then runs `body` and exits with its
// result; killed and reaped by the destructor if still there.
struct Child {
  pid_t pid = -1;
  int go = -1;
  template <class F>
  explicit Child(F body) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      char c;
      ::close(fds[1]);
      if (::read(fds[0], &c, 1) != 1) ::_exit(100);
      ::_exit(body());
    }
    ::close(fds[0]);
    go = fds[1];
  }
  void start() {
    REQUIRE(::write(go, "x", 1) == 1);
    ::close(go);
    go = -1;
  }
  int wait() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~Child() {
    if (go >= 0) ::close(go);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

struct LiveCgroup {
  cg::Layout layout;
  cg::Placement placement;
  std::string skip;  // why not, when not empty

  // `v2_only`: the host's cgroup2 tree alone, the layout of a pure-v2 host
  // (with only the controllers this tree offers).
  explicit LiveCgroup(const std::string& tag, bool v2_only = false) {
    if (::geteuid() != 0) {
      skip = "requires root";
      return;
    }
    auto layout_r = cg::detect_layout();
    if (!layout_r) {
      skip = "no cgroup hierarchies: " + layout_r.error().to_string();
      return;
    }
    layout = *layout_r;
    std::string own;
    for (const auto& h : layout.hierarchies)
      if (!h.unified &&
          std::find(h.controllers.begin(), h.controllers.end(), "memory") != h.controllers.end())
        own = h.own_path;
    if (own.empty()) {
      skip = "requires a cgroup v1 memory hierarchy (this test is for the hybrid host)";
      return;
    }
    if (own == "/") own.clear();
    if (v2_only) {
      cg::Layout only;
      for (const auto& h : layout.hierarchies)
        if (h.unified) only.hierarchies.push_back(h);
      if (only.hierarchies.empty()) {
        skip = "no cgroup2 tree";
        return;
      }
      layout = only;
      REQUIRE(layout.pure_v2());
    }
    std::string path = own + "/berth-cgtest-" + std::to_string(::getpid()) + "-" + tag;
    auto plan = cg::plan_placement(layout, path, "");
    REQUIRE_MESSAGE(plan.ok(), cgtest::why(plan));
    placement = *plan;
    auto st = cg::create(placement);
    REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  }

  ~LiveCgroup() {
    if (!skip.empty() || placement.dirs.empty()) return;
    (void)cg::freeze(placement, false);
    for (int i = 0; i < 50; ++i) {
      auto left = cg::pids(placement);
      if (!left || left->empty()) break;
      (void)cg::kill_all(placement, SIGKILL);
      ::usleep(20000);
    }
    auto st = cg::remove(placement);
    if (!st.ok()) MESSAGE("cleanup: " << st.error().to_string());
    for (const auto& dir : placement.dirs)
      CHECK_MESSAGE(!berth::sys::exists(dir), "left behind: " << dir);
  }

  // The container's directory in the hierarchy mounted at .../<name>.
  std::string dir(const std::string& name) const {
    for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
      const std::string& m = layout.hierarchies[i].mount_point;
      if (m.size() >= name.size() && m.compare(m.size() - name.size(), name.size(), name) == 0)
        return placement.dirs[i];
    }
    return "";
  }

  cg::Resources parse(const std::string& json) const {
    auto r = cg::parse_resources(json, "linux.resources");
    REQUIRE_MESSAGE(r.ok(), cgtest::why(r));
    return *r;
  }
  berth::Status apply(const std::string& json) const {
    return cg::apply_resources(layout, placement, parse(json));
  }
};

#define SKIP_UNLESS_READY(c)            \
  do {                                  \
    if (!(c).skip.empty()) {            \
      MESSAGE("skipped: " << (c).skip); \
      return;                           \
    }                                   \
  } while (0)

}  // namespace

TEST_CASE("live: v1 memory, memsw, cpu, cpuset and pids limits read back") {
  LiveCgroup c("limits");
  SKIP_UNLESS_READY(c);
  std::string mem = c.dir("/memory");
  REQUIRE_FALSE(mem.empty());
  auto st = c.apply(R"({"memory": {"limit": 67108864, "reservation": 33554432},
                        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0",
                                "mems": "0"},
                        "pids": {"limit": 32}})");
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(trimmed(mem + "/memory.limit_in_bytes") == "67108864");
  CHECK(trimmed(mem + "/memory.soft_limit_in_bytes") == "33554432");
  CHECK(trimmed(c.dir("/pids") + "/pids.max") == "32");
  CHECK(trimmed(c.dir("/cpu") + "/cpu.shares") == "512");
  CHECK(trimmed(c.dir("/cpu") + "/cpu.cfs_quota_us") == "50000");
  CHECK(trimmed(c.dir("/cpuset") + "/cpuset.cpus") == "0");

  if (berth::sys::exists(mem + "/memory.memsw.limit_in_bytes")) {
    // Grow, shrink, grow: each needs the other write order, which the
    // kernel enforces (limit <= memsw after every write).
    for (auto [limit, swap] :
         {std::pair{64 << 20, 128 << 20}, {16 << 20, 32 << 20}, {256 << 20, 512 << 20}}) {
      st = c.apply("{\"memory\": {\"limit\": " + std::to_string(limit) +
                   ", \"swap\": " + std::to_string(swap) + "}}");
      REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
      CHECK(trimmed(mem + "/memory.limit_in_bytes") == std::to_string(limit));
      CHECK(trimmed(mem + "/memory.memsw.limit_in_bytes") == std::to_string(swap));
    }
    // memsw below the current limit: the kernel's EINVAL, with file and value.
    st = c.apply(R"({"memory": {"swap": 33554432}})");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().to_string() == "cgroup `" + mem +
                                        "/memory.memsw.limit_in_bytes`: write \"33554432\": "
                                        "Invalid argument");
    st = c.apply(R"({"memory": {"limit": -1}})");
    REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
    CHECK(trimmed(mem + "/memory.memsw.limit_in_bytes") == trimmed(mem + "/memory.limit_in_bytes"));
  } else {
    MESSAGE("memsw part skipped: no swap accounting on this kernel");
  }
}

TEST_CASE("live: blkio throttle on the root disk; no weight files is a clear error") {
  LiveCgroup c("blkio");
  SKIP_UNLESS_READY(c);
  struct stat st {};
  if (::stat("/dev/vda", &st) != 0 || !S_ISBLK(st.st_mode)) {
    MESSAGE("skipped: no /dev/vda");
    return;
  }
  std::string dev = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  auto r = c.apply("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": " +
                   std::to_string(major(st.st_rdev)) +
                   ", \"minor\": " + std::to_string(minor(st.st_rdev)) + ", \"rate\": 1048576}]}}");
  REQUIRE_MESSAGE(r.ok(), cgtest::why(r));
  CHECK(trimmed(c.dir("/blkio") + "/blkio.throttle.read_bps_device") == dev + " 1048576");
  if (!berth::sys::exists(c.dir("/blkio") + "/blkio.weight") &&
      !berth::sys::exists(c.dir("/blkio") + "/blkio.bfq.weight")) {
    r = c.apply(R"({"blockIO": {"weight": 500}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().to_string().find("has no weight files") != std::string::npos);
  }
}

TEST_CASE("live: freezer freezes and thaws a forked child, stats read, kill_all kills") {
  LiveCgroup c("freezer");
  SKIP_UNLESS_READY(c);
  if (c.dir("/freezer").empty()) {
    MESSAGE("skipped: no v1 freezer hierarchy");
    return;
  }
  // Memory it touches after joining is charged to the container (v1 does
  // not move charges made before).
  Child child([] {
    // volatile: at -O2 stores to a never-read array are removed, and the
    // child would touch no memory at all.
    static volatile char block[4 << 20];
    for (size_t i = 0; i < sizeof block; i += 4096) block[i] = 1;
    for (;;) ::pause();
    return 0;
  });
  auto st = cg::join(c.placement, child.pid);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  child.start();
  // Up to 5 s: on a loaded 2-core machine the child may not run for a while.
  for (int i = 0; i < 1000 && trimmed(c.dir("/memory") + "/memory.usage_in_bytes") == "0"; ++i)
    ::usleep(5000);

  st = cg::freeze(c.placement, true);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(trimmed(c.dir("/freezer") + "/freezer.state") == "FROZEN");
  auto f = cg::frozen(c.placement);
  REQUIRE(f.ok());
  CHECK(*f);
  st = cg::freeze(c.placement, false);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(trimmed(c.dir("/freezer") + "/freezer.state") == "THAWED");
  CHECK_FALSE(*cg::frozen(c.placement));

  auto s = cg::stats(c.layout, c.placement);
  REQUIRE_MESSAGE(s.ok(), cgtest::why(s));
  CHECK(s->pids.current == 1);
  CHECK(s->memory.usage.usage > 0);
  CHECK_FALSE(s->memory.raw.empty());
  auto parsed = berth::json::parse(cg::stats_json(*s), "stats");
  CHECK(parsed.ok());
  auto oom = cg::oom_kill_count(c.placement);
  REQUIRE_MESSAGE(oom.ok(), cgtest::why(oom));
  CHECK(*oom == 0);

  st = cg::kill_all(c.placement, SIGKILL);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(child.wait() == 128 + SIGKILL);
}

TEST_CASE("live: the device filter passes the verifier on the cgroup2 tree and filters") {
  LiveCgroup c("bpf");
  SKIP_UNLESS_READY(c);
  std::string v2;
  for (size_t i = 0; i < c.layout.hierarchies.size(); ++i)
    if (c.layout.hierarchies[i].unified) v2 = c.placement.dirs[i];
  if (v2.empty()) {
    MESSAGE("skipped: no cgroup2 tree");
    return;
  }
  // Only /dev/null; /dev/zero (1:5) is denied.
  std::vector<cg::DeviceRule> rules(2);
  rules[0].allow = false;
  rules[1].allow = true;
  rules[1].type = 'c';
  rules[1].major = 1;
  rules[1].minor = 3;
  rules[1].access = "rw";
  auto ruleset = cg::emulate_device_rules(rules);
  REQUIRE(ruleset.ok());
  auto program = cg::device_filter_program(*ruleset);
  auto st = cg::attach_device_filter(v2, program);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  auto ids = cg::attached_device_filters(v2);
  REQUIRE(ids.ok());
  CHECK(ids->size() == 1);
  // An update replaces the program instead of stacking a second one.
  st = cg::attach_device_filter(v2, program);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  auto after = cg::attached_device_filters(v2);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 1);
  CHECK((*after)[0] != (*ids)[0]);

  // A process in the cgroup: 0 when /dev/null opens and /dev/zero is refused.
  Child child([] {
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) return 1;
    ::close(null_fd);
    int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero_fd >= 0) return 2;
    return errno == EPERM ? 0 : 3;
  });
  st = cg::join(c.placement, child.pid);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  child.start();
  CHECK(child.wait() == 0);
}

TEST_CASE("live: apply_resources on the hybrid host puts devices in v1") {
  LiveCgroup c("devices");
  SKIP_UNLESS_READY(c);
  std::string dev = c.dir("/devices");
  if (dev.empty()) {
    MESSAGE("skipped: no v1 devices hierarchy");
    return;
  }
  auto st = c.apply(R"({"devices": [{"allow": false, "access": "rwm"},
                                   {"allow": true, "type": "c", "major": 1, "minor": 3,
                                    "access": "rwm"},
                                   {"allow": true, "type": "c", "major": 136, "access": "rw"}]})");
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(trimmed(dev + "/devices.list") == "c 1:3 rwm\nc 136:* rw");
}

TEST_CASE("live: cgroup2 freeze, cgroup.events and cgroup.kill on the host's cgroup2 tree") {
  LiveCgroup c("v2freeze");
  SKIP_UNLESS_READY(c);
  // The container's cgroup2 directory alone, as a pure-v2 host would have it.
  cg::Placement v2;
  for (size_t i = 0; i < c.layout.hierarchies.size(); ++i)
    if (c.layout.hierarchies[i].unified) v2.dirs.push_back(c.placement.dirs[i]);
  if (v2.dirs.empty() || !berth::sys::exists(v2.dirs[0] + "/cgroup.freeze")) {
    MESSAGE("skipped: no cgroup2 tree with cgroup.freeze (Linux 5.2)");
    return;
  }
  Child child([] {
    for (;;) ::pause();
    return 0;
  });
  auto st = cg::join(c.placement, child.pid);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  child.start();
  st = cg::freeze(v2, true);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(trimmed(v2.dirs[0] + "/cgroup.events").find("frozen 1") != std::string::npos);
  CHECK(*cg::frozen(v2));
  st = cg::freeze(v2, false);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK_FALSE(*cg::frozen(v2));
  if (!berth::sys::exists(v2.dirs[0] + "/cgroup.kill")) {
    MESSAGE("cgroup.kill part skipped: needs Linux 5.14");
    return;
  }
  st = cg::kill_all(v2, SIGKILL);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  CHECK(child.wait() == 128 + SIGKILL);
}

TEST_CASE("live: apply_resources with a pure-v2 layout: BPF devices, clear controller errors") {
  LiveCgroup c("purev2", true);
  SKIP_UNLESS_READY(c);
  const std::string& dir = c.placement.dirs[0];
  auto st = c.apply(R"({"devices": [{"allow": false, "access": "rwm"},
                                   {"allow": true, "type": "c", "major": 1, "minor": 3,
                                    "access": "rw"}]})");
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  auto ids = cg::attached_device_filters(dir);
  REQUIRE(ids.ok());
  CHECK(ids->size() == 1);

  // This tree offers hugetlb only: asking for pids is refused, naming the
  // level and what it offers, and nothing is enabled anywhere.
  std::string mount = c.layout.hierarchies[0].mount_point;
  std::string before = trimmed(mount + "/cgroup.subtree_control");
  auto controllers = trimmed(mount + "/cgroup.controllers");
  if (controllers.find("pids") == std::string::npos) {
    st = c.apply(R"({"pids": {"limit": 5}})");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().to_string() ==
          "linux.resources.pids: the pids controller is not available "
          "in cgroup2 `" +
              mount + "` (cgroup.controllers: \"" + controllers + "\")");
    CHECK(trimmed(mount + "/cgroup.subtree_control") == before);
  }

  Child child([] {
    // A millisecond of CPU, for the usage check below.
    struct timespec t0 {
    }, t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    do ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000000L);
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) return 1;
    ::close(null_fd);
    return ::open("/dev/zero", O_RDONLY | O_CLOEXEC) < 0 && errno == EPERM ? 0 : 2;
  });
  st = cg::join(c.placement, child.pid);
  REQUIRE_MESSAGE(st.ok(), cgtest::why(st));
  child.start();
  CHECK(child.wait() == 0);

  auto s = cg::stats(c.layout, c.placement);
  REQUIRE_MESSAGE(s.ok(), cgtest::why(s));
  CHECK(s->cpu.total > 0);  // cpu.stat's usage_usec is there without the cpu controller
}
