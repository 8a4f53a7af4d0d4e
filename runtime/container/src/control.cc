// Operations on a running container's cgroup: pause, resume, update,
// stats and events.
#include <time.h>

#include "berth/base/sys.h"
#include "berth/cgroups/resources.h"
#include "berth/cgroups/stats.h"
#include "berth/json/json.h"
#include "state_store.h"

namespace berth::container {

namespace {

cgroups::Placement placement_of(const StoredState& s) {
  cgroups::Placement placement;
  placement.dirs = s.cgroup_dirs;
  placement.created = s.cgroup_created;
  placement.made_dirs = s.cgroup_made_dirs;
  return placement;
}

Status require(const StoredState& s, ContainerStatus actual,
               std::initializer_list<ContainerStatus> allowed, std::string_view verb) {
  for (auto a : allowed)
    if (a == actual) return {};
  return refused_in_state(verb, s.id, actual);
}

std::string event_line(std::string_view type, std::string_view id, const std::string& data_json) {
  json::Writer w;
  w.begin_object().key("type").string(type).key("id").string(id);
  if (!data_json.empty()) {
    auto data = json::parse(data_json, "stats");
    if (data) w.key("data").value(*data);
  }
  w.end_object();
  return w.str();
}

void sleep_ms(int ms) {
  struct timespec ts {
    ms / 1000, (ms % 1000) * 1000000L
  };
  while (sys::nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

}  // namespace

Status pause(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  if (!has_cgroup(s)) return no_cgroup_error(s, "pause");
  BERTH_TRY(require(s, current_status(s, dir),
                    {ContainerStatus::kRunning, ContainerStatus::kCreated}, "pause"));
  return cgroups::freeze(placement_of(s), true);
}

Status resume(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  if (!has_cgroup(s)) return no_cgroup_error(s, "resume");
  BERTH_TRY(require(s, current_status(s, dir), {ContainerStatus::kPaused}, "resume"));
  return cgroups::freeze(placement_of(s), false);
}

Status update(const Globals& globals, std::string_view id, std::string_view resources_json,
              std::string_view field) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  BERTH_TRY(require(
      s, current_status(s, dir),
      {ContainerStatus::kRunning, ContainerStatus::kCreated, ContainerStatus::kPaused}, "update"));
  if (!has_cgroup(s)) return no_cgroup_error(s, "update");
  auto resources = BERTH_VALUE(cgroups::parse_resources(resources_json, field));
  auto layout = BERTH_VALUE(cgroups::detect_layout());
  return cgroups::apply_resources(layout, placement_of(s), resources);
}

Result<std::string> stats_event(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  BERTH_TRY(
      require(s, current_status(s, dir),
              {ContainerStatus::kRunning, ContainerStatus::kCreated, ContainerStatus::kPaused},
              "read stats of"));
  if (!has_cgroup(s)) return no_cgroup_error(s, "read stats of");
  auto layout = BERTH_VALUE(cgroups::detect_layout());
  auto stats = BERTH_VALUE(cgroups::stats(layout, placement_of(s)));
  return event_line("stats", s.id, cgroups::stats_json(stats));
}

Status events(const Globals& globals, std::string_view id, int interval_ms,
              void (*emit)(const std::string& line)) {
  uint64_t ooms = 0;
  {
    auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
    auto s = BERTH_VALUE(dir.load());
    if (!has_cgroup(s)) return no_cgroup_error(s, "watch events of");
    if (auto count = cgroups::oom_kill_count(placement_of(s))) ooms = *count;
  }
  // The state dir is opened (and locked) only for each sample, so that the
  // loop never blocks the container's other commands.
  for (int elapsed = interval_ms;; elapsed += 100) {
    auto dir = StateDir::open(globals.root, id);
    if (!dir) return {};  // deleted: the stream ends
    auto s = BERTH_VALUE(dir->load());
    if (current_status(s, *dir) == ContainerStatus::kStopped) return {};
    auto placement = placement_of(s);
    if (auto count = cgroups::oom_kill_count(placement); count && *count > ooms) {
      ooms = *count;
      emit(event_line("oom", s.id, ""));
    }
    if (elapsed >= interval_ms) {
      elapsed = 0;
      auto layout = BERTH_VALUE(cgroups::detect_layout());
      auto stats = cgroups::stats(layout, placement);
      if (stats) emit(event_line("stats", s.id, cgroups::stats_json(*stats)));
    }
    dir->release_lock();
    sleep_ms(100);
  }
}

}  // namespace berth::container
