#include "berth/linux/process_attrs.h"

#include <doctest/doctest.h>
#include <grp.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "berth/base/sys.h"

using berth::os::CapabilitySets;

namespace {

constexpr int kCapSysResource = 24;

// Runs fn in a forked child (attributes applied there stay there) and
// returns its exit code: 0 for success, a distinct code per failed check.
template <class F>
int in_child(F fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(fn());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// For the child: a failed Status prints its message (so a failing test
// shows why) and becomes exit code `code`.
int fail_with(const berth::Status& st, int code) {
  std::fprintf(stderr, "child: %s\n",
               st.ok() ? "unexpected success" : st.error().to_string().c_str());
  return code;
}

bool have_effective(int cap) {
  struct __user_cap_header_struct header {
    _LINUX_CAPABILITY_VERSION_3, 0
  };
  struct __user_cap_data_struct data[2]{};
  REQUIRE(::capget(&header, data) == 0);
  return data[cap / 32].effective & (1U << (cap % 32));
}

bool in_bounding_set(int cap) { return ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

berth::spec::Rlimit nofile(uint64_t soft, uint64_t hard, int resource = RLIMIT_NOFILE) {
  berth::spec::Rlimit r;
  r.type = "RLIMIT_NOFILE";
  r.resource = resource;
  r.soft = soft;
  r.hard = hard;
  return r;
}

}  // namespace

TEST_CASE("resolve_capabilities: names to masks") {
  berth::spec::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.effective = {"CAP_KILL"};
  caps.permitted = {"CAP_KILL", "CAP_KILL"};
  caps.ambient = {"CAP_CHECKPOINT_RESTORE"};  // 40: Linux 5.9
  auto sets = berth::os::resolve_capabilities(caps);
  REQUIRE(sets.ok());
  CHECK(sets->bounding ==
        ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE)));
  CHECK(sets->effective == (1ULL << CAP_KILL));
  CHECK(sets->permitted == (1ULL << CAP_KILL));
  CHECK(sets->inheritable == 0);
  CHECK(sets->ambient == (1ULL << 40));
}

TEST_CASE("resolve_capabilities: unknown names are errors naming set and name") {
  berth::spec::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_FOO"};
  auto r = berth::os::resolve_capabilities(caps);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "process.capabilities.bounding: unknown capability \"CAP_FOO\"");

  for (const char* bad : {"cap_chown", "chown", "12", "CAP_", ""}) {
    berth::spec::Capabilities c;
    c.inheritable = {bad};
    auto e = berth::os::resolve_capabilities(c);
    REQUIRE_FALSE(e.ok());
    CHECK(contains(e.error().message(), "process.capabilities.inheritable: unknown capability"));
  }
}

TEST_CASE("check_rlimits") {
  struct rlimit own {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  CHECK(berth::os::check_rlimits({nofile(64, own.rlim_max)}).ok());
  CHECK(berth::os::check_rlimits({}).ok());

  auto huge = berth::os::check_rlimits({nofile(1024, 1ULL << 40)});
  if (have_effective(kCapSysResource)) {
    CHECK(huge.ok());
  } else {
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.error().message() ==
          "process.rlimits: RLIMIT_NOFILE hard limit 1099511627776 is above this process's hard "
          "limit " +
              std::to_string(own.rlim_max) + " and CAP_SYS_RESOURCE is missing");
  }

  auto inverted = berth::os::check_rlimits({nofile(100, 50)});
  REQUIRE_FALSE(inverted.ok());
  CHECK(inverted.error().message() ==
        "process.rlimits: RLIMIT_NOFILE soft limit 100 is above its hard limit 50");

  // Resolved from the name when spec parsing left the number unset.
  CHECK(berth::os::check_rlimits({nofile(64, 64, -1)}).ok());
  berth::spec::Rlimit bogus = nofile(1, 1, -1);
  bogus.type = "RLIMIT_BOGUS";
  CHECK_FALSE(berth::os::check_rlimits({bogus}).ok());
}

TEST_CASE("apply_rlimits lowers NOFILE in a child; raising above the hard limit names the rlimit") {
  CHECK(in_child([] {
          auto st = berth::os::apply_rlimits({nofile(64, 128)});
          if (!st.ok()) return fail_with(st, 1);
          struct rlimit now {};
          if (::getrlimit(RLIMIT_NOFILE, &now) != 0) return 2;
          if (now.rlim_cur != 64 || now.rlim_max != 128) return 3;
          auto up = berth::os::apply_rlimits({nofile(64, 256)});
          if (up.ok()) return have_effective(kCapSysResource) ? 0 : 4;
          if (!contains(up.error().message(), "setrlimit RLIMIT_NOFILE (soft 64, hard 256)"))
            return fail_with(up, 5);
          return 0;
        }) == 0);
}

TEST_CASE("apply_personality") {
  CHECK(in_child([] {
          auto st = berth::os::apply_personality("LINUX32");
          if (!st.ok()) return fail_with(st, 1);
          int now = ::personality(0xffffffff);
          if ((now & PER_MASK) != PER_LINUX32) return 2;
          st = berth::os::apply_personality("LINUX");
          if (!st.ok()) return fail_with(st, 3);
          return (::personality(0xffffffff) & PER_MASK) == PER_LINUX ? 0 : 4;
        }) == 0);
  auto bad = berth::os::apply_personality("BSD");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "linux.personality.domain: unknown domain \"BSD\"");
}

TEST_CASE("apply_user switches uid, gid, groups and umask in a child") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: requires root");
    return;
  }
  CHECK(in_child([] {
          berth::spec::User user;
          user.uid = 1000;
          user.gid = 1000;
          user.additional_gids = {1001, 1002};
          user.umask = 027;
          auto st = berth::os::apply_user(user, true);
          if (!st.ok()) return fail_with(st, 1);
          uid_t r, e, s;
          if (::getresuid(&r, &e, &s) != 0 || r != 1000 || e != 1000 || s != 1000) return 2;
          gid_t gr, ge, gs;
          if (::getresgid(&gr, &ge, &gs) != 0 || gr != 1000 || ge != 1000 || gs != 1000) return 3;
          gid_t groups[8];
          int n = ::getgroups(8, groups);
          if (n != 2 || groups[0] != 1001 || groups[1] != 1002) return 4;
          if (::umask(0) != 027) return 5;
          return 0;
        }) == 0);
  // No additional gids: the runtime's own supplementary groups are dropped.
  CHECK(in_child([] {
          berth::spec::User user;
          user.uid = 0;
          user.gid = 0;
          if (::setgroups(1, std::vector<gid_t>{4}.data()) != 0) return 1;
          auto st = berth::os::apply_user(user, true);
          if (!st.ok()) return fail_with(st, 2);
          return ::getgroups(0, nullptr) == 0 ? 0 : 3;
        }) == 0);
}

TEST_CASE("apply_user: additional gids where setgroups is denied") {
  berth::spec::User user;
  user.uid = ::getuid();
  user.gid = ::getgid();
  user.additional_gids = {5};
  auto st = berth::os::apply_user(user, false);
  REQUIRE_FALSE(st.ok());
  CHECK(contains(st.error().message(), "process.user.additionalGids"));
}

TEST_CASE("apply_oom_score_adj") {
  CHECK(in_child([] {
          auto st = berth::os::apply_oom_score_adj(500);
          if (!st.ok()) return fail_with(st, 1);
          auto text = berth::sys::read_file("/proc/self/oom_score_adj");
          if (!text || *text != "500\n") return 2;
          auto lower = berth::os::apply_oom_score_adj(-500);
          if (lower.ok()) return have_effective(kCapSysResource) ? 0 : 3;
          if (!contains(lower.error().message(), "CAP_SYS_RESOURCE")) return fail_with(lower, 4);
          return 0;
        }) == 0);
  CHECK_FALSE(berth::os::apply_oom_score_adj(1001).ok());
}

TEST_CASE("apply_scheduler") {
  CHECK(in_child([] {
          berth::spec::Scheduler sched;
          sched.policy = "SCHED_BATCH";
          sched.nice = 5;
          auto st = berth::os::apply_scheduler(sched);
          if (!st.ok()) return fail_with(st, 1);
          if (::sched_getscheduler(0) != SCHED_BATCH) return 2;
          errno = 0;
          if (::getpriority(PRIO_PROCESS, 0) != 5) return 3;
          return 0;
        }) == 0);
  CHECK(in_child([] {
          berth::spec::Scheduler sched;
          sched.policy = "SCHED_FIFO";
          sched.priority = 10;
          sched.flags = {"SCHED_FLAG_RESET_ON_FORK"};
          auto st = berth::os::apply_scheduler(sched);
          // Real-time scheduling needs CAP_SYS_NICE and, with RT group
          // scheduling, a cgroup with rt runtime: report, do not fail.
          if (!st.ok()) return st.error().code() == EPERM ? 0 : fail_with(st, 1);
          if (::sched_getscheduler(0) != (SCHED_FIFO | SCHED_RESET_ON_FORK)) return 2;
          struct sched_param param {};
          if (::sched_getparam(0, &param) != 0 || param.sched_priority != 10) return 3;
          return 0;
        }) == 0);
  berth::spec::Scheduler bad;
  bad.policy = "SCHED_FAST";
  auto st = berth::os::apply_scheduler(bad);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "process.scheduler.policy: unknown policy \"SCHED_FAST\"");
  bad.policy = "SCHED_OTHER";
  bad.flags = {"SCHED_FLAG_NOPE"};
  CHECK_FALSE(berth::os::apply_scheduler(bad).ok());
}

TEST_CASE("apply_io_priority") {
  CHECK(in_child([] {
          berth::spec::IoPriority prio;
          prio.class_name = "IOPRIO_CLASS_BE";
          prio.priority = 4;
          auto st = berth::os::apply_io_priority(prio);
          if (!st.ok()) return fail_with(st, 1);
          long now = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
          return now == ((2 << 13) | 4) ? 0 : 2;
        }) == 0);
  berth::spec::IoPriority bad;
  bad.class_name = "IOPRIO_CLASS_BE";
  bad.priority = 8;
  CHECK_FALSE(berth::os::apply_io_priority(bad).ok());
}

TEST_CASE("drop_bounding_set and apply_capabilities in a child") {
  if (!in_bounding_set(CAP_SETPCAP) || !have_effective(CAP_SETPCAP)) {
    MESSAGE("skipped: requires CAP_SETPCAP");
    return;
  }
  CHECK(in_child([] {
          CapabilitySets sets;
          sets.bounding = (1ULL << CAP_CHOWN) | (1ULL << CAP_KILL);
          sets.permitted = sets.bounding;
          sets.effective = sets.bounding;
          sets.inheritable = 1ULL << CAP_KILL;
          sets.ambient = 1ULL << CAP_KILL;
          auto st = berth::os::drop_bounding_set(sets);
          if (!st.ok()) return fail_with(st, 1);
          if (!in_bounding_set(CAP_KILL) || !in_bounding_set(CAP_CHOWN)) return 2;
          if (in_bounding_set(CAP_SYS_ADMIN) || in_bounding_set(CAP_SETPCAP)) return 3;
          st = berth::os::apply_capabilities(sets);
          if (!st.ok()) return fail_with(st, 4);
          struct __user_cap_header_struct header {
            _LINUX_CAPABILITY_VERSION_3, 0
          };
          struct __user_cap_data_struct data[2]{};
          if (::capget(&header, data) != 0) return 5;
          if (data[0].effective != sets.effective || data[1].effective != 0) return 6;
          if (data[0].permitted != sets.permitted || data[0].inheritable != sets.inheritable)
            return 7;
          if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 1) return 8;
          if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) != 0) return 9;
          return 0;
        }) == 0);
}

// runc and crun skip ambient capabilities the kernel would refuse (not
// permitted and inheritable): `runc spec`'s default config asks for one.
TEST_CASE("apply_capabilities: ambient outside inheritable is skipped, as runc does") {
  CHECK(in_child([] {
          CapabilitySets sets;
          sets.permitted = sets.effective = 1ULL << CAP_KILL;
          sets.ambient = 1ULL << CAP_KILL;
          auto st = berth::os::apply_capabilities(sets);
          if (!st.ok()) return fail_with(st, 1);
          if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0) return 2;
          return 0;
        }) == 0);
}

TEST_CASE("apply_capabilities: a capability the host withholds is named") {
  if (in_bounding_set(kCapSysResource)) {
    MESSAGE("skipped: this host grants CAP_SYS_RESOURCE");
    return;
  }
  berth::spec::Capabilities caps;
  caps.bounding = caps.permitted = caps.effective = {"CAP_CHOWN", "CAP_SYS_RESOURCE"};
  auto sets = berth::os::resolve_capabilities(caps);
  REQUIRE(sets.ok());
  CHECK(in_child([&] {
          auto st = berth::os::apply_capabilities(*sets);
          if (st.ok()) return 1;
          if (st.error().message() !=
              "capset: CAP_SYS_RESOURCE is not in this process's bounding set (the host "
              "withholds it)")
            return fail_with(st, 2);
          return st.error().code() == EPERM ? 0 : 3;
        }) == 0);
}
