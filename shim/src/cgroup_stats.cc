#include "cgroup_stats.h"

#include <map>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"
#include "metrics_encode.h"

namespace berth::shim {

std::string CgroupSet::memory_dir() const {
  if (unified) return dir;
  auto it = v1.find("memory");
  return it == v1.end() ? std::string() : it->second;
}

Result<CgroupSet> parse_cgroup_set(std::string_view mountinfo, std::string_view proc_pid_cgroup) {
  // The layout parser reads "where the caller sits" from the cgroup text it
  // is given: fed the container's, that is the container's cgroup.
  auto layout = BERTH_VALUE(cgroups::parse_layout(mountinfo, proc_pid_cgroup));
  CgroupSet set;
  set.unified = layout.pure_v2();
  for (const auto& h : layout.hierarchies) {
    if (h.own_path.empty()) continue;  // no mount here reaches its cgroup
    std::string dir = h.own_path == "/" ? h.mount_point : h.mount_point + h.own_path;
    if (h.unified) {
      if (set.unified) set.dir = dir;
      continue;
    }
    for (const auto& c : h.controllers) set.v1[c] = dir;
  }
  if (set.empty()) return make_error("no cgroup hierarchy reaches the container's cgroup", ENOENT);
  return set;
}

Result<CgroupSet> cgroups_of_pid(pid_t pid) {
  auto mountinfo = BERTH_VALUE(sys::read_file("/proc/self/mountinfo"));
  auto own = BERTH_VALUE(sys::read_file("/proc/" + std::to_string(pid) + "/cgroup", 1 << 20));
  return parse_cgroup_set(mountinfo, own);
}

namespace {

// The set as the reader's layout and placement: the pure v2 tree, or one
// hierarchy per v1 directory ("cpu" and "cpuacct" may share one).
void to_layout(const CgroupSet& set, cgroups::Layout& layout, cgroups::Placement& placement) {
  auto add = [&](cgroups::Hierarchy h, const std::string& dir) {
    layout.hierarchies.push_back(std::move(h));
    placement.dirs.push_back(dir);
  };
  if (set.unified) {
    cgroups::Hierarchy h;
    h.unified = true;
    add(std::move(h), set.dir);
    return;
  }
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const auto& [controller, dir] : set.v1) by_dir[dir].push_back(controller);
  for (auto& [dir, controllers] : by_dir) {
    cgroups::Hierarchy h;
    h.controllers = std::move(controllers);
    add(std::move(h), dir);
  }
}

}  // namespace

Result<MetricsAny> read_metrics(const CgroupSet& set, const cgroups::StatsHost& host) {
  cgroups::Layout layout;
  cgroups::Placement placement;
  to_layout(set, layout, placement);
  auto s = BERTH_VALUE(cgroups::stats(layout, placement, host));
  const auto& src = s.sources;
  using cgroups::Source;
  if (src.memory == Source::kNone && src.cpuacct == Source::kNone && src.cpu == Source::kNone &&
      src.pids == Source::kNone)
    return make_error("the container's cgroup is gone", ENOENT);
  if (set.unified) return MetricsAny{kMetricsV2TypeUrl, encode_metrics_v2(s)};
  return MetricsAny{kMetricsV1TypeUrl, encode_metrics_v1(s)};
}

}  // namespace berth::shim
