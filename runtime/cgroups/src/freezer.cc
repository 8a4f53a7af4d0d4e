// Freezing a container (pause/resume) and signalling all of its processes
// (kill --all, delete --force).
//
// Placement carries no Layout, so the version is told by the files in each
// directory: freezer.state is the v1 freezer, cgroup.freeze (Linux 5.2) the
// cgroup2 one, cgroup.kill (Linux 5.14) cgroup2's kill switch.

#include <signal.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/resources.h"
#include "cgroupfs.h"

namespace berth::cgroups {

namespace {

struct Freezer {
  std::string dir;
  bool v1 = false;
};

// A hybrid host has both; the v1 freezer is the one made for it (runc's v1
// driver uses it too) and cgroup.freeze of a hybrid cgroup2 tree would work
// only for processes that joined that tree.
std::optional<Freezer> find_freezer(const Placement& placement) {
  for (const auto& dir : placement.dirs)
    if (fs::exists(dir, "freezer.state")) return Freezer{dir, true};
  for (const auto& dir : placement.dirs)
    if (fs::exists(dir, "cgroup.freeze")) return Freezer{dir, false};
  return std::nullopt;
}

Error no_freezer(const Placement& placement) {
  return make_error("cgroup `" + (placement.dirs.empty() ? std::string() : placement.dirs[0]) +
                        "`: no freezer (neither a v1 freezer.state nor a cgroup2 cgroup.freeze)",
                    ENOTSUP);
}

Result<std::string> v1_state(const std::string& dir) {
  return std::string(fs::trim(BERTH_VALUE(fs::read(dir, "freezer.state"))));
}

// v1: writing FROZEN starts freezing; the state reads FREEZING until every
// task stopped. A task in an uninterruptible wait (a vfork parent, a stuck
// NFS read) can keep it there: like runc, write FROZEN again on each poll and
// thaw briefly now and then to let such a task move on, and give up at the
// deadline, leaving the cgroup thawed rather than half frozen.
Status freeze_v1(const std::string& dir, bool frozen, int64_t deadline) {
  const char* want = frozen ? "FROZEN" : "THAWED";
  long delay = 1;
  for (int attempt = 1;; ++attempt) {
    BERTH_TRY(fs::write(dir, "freezer.state", want));
    std::string state = BERTH_VALUE(v1_state(dir));
    if (state == want) return {};
    if (state != "FREEZING")
      return make_error("cgroup `" + fs::path_of(dir, "freezer.state") + "`: reads \"" + state +
                        "\" after writing " + want);
    if (fs::now_ms() >= deadline) {
      (void)fs::write(dir, "freezer.state", "THAWED");
      return make_error("cgroup `" + dir +
                            "`: did not freeze in time (a process stuck in an "
                            "uninterruptible wait?); thawed it again",
                        ETIMEDOUT);
    }
    if (attempt % 50 == 0) {
      (void)fs::write(dir, "freezer.state", "THAWED");
      fs::sleep_ms(10);
    }
    fs::sleep_ms(delay);
    delay = std::min(delay * 2, 10L);
  }
}

Result<bool> v2_frozen_event(const std::string& dir) {
  std::string events = BERTH_VALUE(fs::read(dir, "cgroup.events"));
  auto value = BERTH_VALUE(fs::keyed_value(events, "frozen", fs::path_of(dir, "cgroup.events")));
  return value.value_or(0) == 1;
}

// v2: cgroup.freeze is the request; cgroup.events' "frozen" is the outcome.
Status freeze_v2(const std::string& dir, bool frozen, int64_t deadline) {
  BERTH_TRY(fs::write(dir, "cgroup.freeze", frozen ? "1" : "0"));
  long delay = 1;
  for (;;) {
    if (BERTH_VALUE(v2_frozen_event(dir)) == frozen) return {};
    if (fs::now_ms() >= deadline) {
      if (frozen) (void)fs::write(dir, "cgroup.freeze", "0");
      return make_error("cgroup `" + dir + "`: cgroup.events did not report \"frozen " +
                            (frozen ? "1" : "0") + "\" in time" +
                            (frozen ? "; thawed it again" : ""),
                        ETIMEDOUT);
    }
    fs::sleep_ms(delay);
    delay = std::min(delay * 2, 10L);
  }
}

}  // namespace

Status freeze(const Placement& placement, bool frozen, int timeout_ms) {
  auto freezer = find_freezer(placement);
  if (!freezer) return no_freezer(placement);
  int64_t deadline = fs::now_ms() + timeout_ms;
  return freezer->v1 ? freeze_v1(freezer->dir, frozen, deadline)
                     : freeze_v2(freezer->dir, frozen, deadline);
}

Result<bool> frozen(const Placement& placement) {
  auto freezer = find_freezer(placement);
  if (!freezer) return no_freezer(placement);
  if (!freezer->v1) {
    // The container's own request, not an ancestor's freeze showing through.
    std::string want = BERTH_VALUE(fs::read(freezer->dir, "cgroup.freeze"));
    return fs::trim(want) == "1";
  }
  // FREEZING is not paused yet. A cgroup frozen only because an ancestor is
  // reads FROZEN too; self_freezing tells whether the freeze is its own.
  if (BERTH_VALUE(v1_state(freezer->dir)) != "FROZEN") return false;
  auto self = BERTH_VALUE(fs::read_u64_optional(freezer->dir, "freezer.self_freezing"));
  return !self || *self == 1;
}

Status kill_all(const Placement& placement, int sig) {
  if (sig == SIGKILL) {
    bool killed = false;
    for (const auto& dir : placement.dirs) {
      if (!fs::exists(dir, "cgroup.kill")) continue;
      BERTH_TRY(fs::write(dir, "cgroup.kill", "1"));
      killed = true;
    }
    // On a pure cgroup2 host that is everything. A hybrid host's v1
    // hierarchies may still hold a process that left the cgroup2 tree:
    // fall through and signal what remains.
    if (killed && placement.dirs.size() == 1) return {};
  }

  // Frozen, no process can fork a child that the pid list below misses.
  // Without a freezer the list is taken anyway (best effort, as runc).
  auto freezer = find_freezer(placement);
  bool was_frozen = false;
  bool froze = false;
  if (freezer) {
    // Errors here must not stop the signals: `delete --force` relies on them.
    auto state = frozen(placement);
    was_frozen = state.ok() && *state;
    if (!was_frozen) froze = freeze(placement, true).ok();
  }
  auto list = pids(placement);
  Status result;
  if (!list) {
    result = std::move(list).error();
  } else {
    for (pid_t pid : *list) {
      if (sys::kill(pid, sig) != 0 && errno != ESRCH && result.ok())
        result = Error(
            errno, "kill pid " + std::to_string(pid) + " with signal " + std::to_string(sig), true);
    }
  }
  // Thaw so the signals are acted on. A paused container stays paused for
  // other signals (SIGTERM must not resume it), but SIGKILL must be let
  // through or the processes never die.
  if (froze || (was_frozen && sig == SIGKILL)) {
    auto st = freeze(placement, false);
    if (result.ok() && !st.ok()) result = std::move(st);
  }
  return result;
}

}  // namespace berth::cgroups
