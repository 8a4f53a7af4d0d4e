// apply_resources: which directory each setting goes to, enabling cgroup2
// controllers along the path, and the order of the writers.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apply.h"
#include "berth/cgroups/resources.h"
#include "cgroupfs.h"

namespace berth::cgroups {

namespace {

using Writer = Status (*)(const std::string&, const Resources&);

struct Controller {
  const char* v1;     // v1 controller name
  const char* v2;     // cgroup2 controller to enable; "" none needed; nullptr no v2 form
  const char* field;  // in errors: "<resources field>.<this>"
  bool (*wanted)(const Resources&);
  Writer set_v1;
  Writer set_v2;
};

// runc's order: cpuset before anything that moves memory, devices early;
// the rest does not depend on each other.
const Controller kControllers[] = {
    {"cpuset", "cpuset", "cpu.cpus", [](const Resources& r) { return r.cpu.any_cpuset(); },
     detail::set_cpuset, detail::set_cpuset},
    // v2 device control is a BPF program on the directory, no controller.
    {"devices", "", "devices", [](const Resources& r) { return !r.devices.empty(); },
     detail::set_devices_v1, detail::set_devices_v2},
    {"memory", "memory", "memory", [](const Resources& r) { return r.memory.any(); },
     detail::set_memory_v1, detail::set_memory_v2},
    {"cpu", "cpu", "cpu", [](const Resources& r) { return r.cpu.any_cpu(); }, detail::set_cpu_v1,
     detail::set_cpu_v2},
    {"pids", "pids", "pids", [](const Resources& r) { return r.pids_limit.has_value(); },
     detail::set_pids, detail::set_pids},
    {"blkio", "io", "blockIO", [](const Resources& r) { return r.block_io.any(); },
     detail::set_blkio_v1, detail::set_io_v2},
    {"hugetlb", "hugetlb", "hugepageLimits",
     [](const Resources& r) { return !r.hugepage_limits.empty(); }, detail::set_hugetlb_v1,
     detail::set_hugetlb_v2},
    {"net_cls", nullptr, "network.classID",
     [](const Resources& r) { return r.network.class_id.has_value(); }, detail::set_net_cls_v1,
     nullptr},
    {"net_prio", nullptr, "network.priorities",
     [](const Resources& r) { return !r.network.priorities.empty(); }, detail::set_net_prio_v1,
     nullptr},
    {"rdma", "rdma", "rdma", [](const Resources& r) { return !r.rdma.empty(); }, detail::set_rdma,
     detail::set_rdma},
};

std::optional<size_t> v1_hierarchy(const Layout& layout, std::string_view controller) {
  for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
    const auto& h = layout.hierarchies[i];
    if (!h.unified &&
        std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end())
      return i;
  }
  return std::nullopt;
}

std::optional<size_t> v2_hierarchy(const Layout& layout) {
  for (size_t i = 0; i < layout.hierarchies.size(); ++i)
    if (layout.hierarchies[i].unified) return i;
  return std::nullopt;
}

bool has_word(std::string_view text, std::string_view word) {
  for (auto f : fs::split_fields(text))
    if (f == word) return true;
  return false;
}

struct Needed {
  std::string controller;
  std::string field;  // the setting that needs it, for the error
};

// cgroup2 files of a controller exist in a cgroup only when its parent has
// the controller in cgroup.subtree_control, which needs the grandparent to
// have it, and so on up to the root: enable it at every level from the
// mount point down to the container's parent. Levels that have it already
// are only read, so nothing is written above the container when the
// controllers are on (the usual case under systemd).
Status enable_controllers(const std::string& mount, const std::string& dir,
                          const std::vector<Needed>& required, std::vector<std::string> optional,
                          const std::string& field) {
  if (required.empty() && optional.empty()) return {};
  std::string prefix = mount == "/" ? "" : mount;
  if (dir.size() <= prefix.size() + 1 || dir.compare(0, prefix.size(), prefix) != 0 ||
      dir[prefix.size()] != '/')
    return make_error("cgroup `" + dir + "`: not below its hierarchy's mount point `" + mount +
                      "`");
  std::vector<std::string> levels{mount};
  for (size_t slash = dir.find('/', prefix.size() + 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1))
    levels.push_back(dir.substr(0, slash));

  for (const auto& level : levels) {
    std::string available =
        BERTH_VALUE(fs::read_optional(level, "cgroup.controllers")).value_or("");
    std::string enabled =
        BERTH_VALUE(fs::read_optional(level, "cgroup.subtree_control")).value_or("");
    auto enable = [&](const std::string& controller) -> Status {
      auto st = fs::write(level, "cgroup.subtree_control", "+" + controller);
      if (st.ok() || st.error().code() != EBUSY) return st;
      // cgroup2's "no internal processes" rule; the hint goes after the
      // errno text, so this error is built whole rather than from_syscall.
      return Error(EBUSY, st.error().to_string() +
                              " (a cgroup that holds processes cannot enable controllers "
                              "for its children)");
    };
    // A populated cgroup other than the root must not enable controllers:
    // domain ones fail with EBUSY ("no internal processes"), and threaded
    // ones (cpu, pids) succeed but make it a thread root whose normal
    // children then refuse every process (EOPNOTSUPP) -- the caller's own
    // cgroup would be broken for the container and everything else.
    bool populated =
        level != mount &&
        !fs::trim(BERTH_VALUE(fs::read_optional(level, "cgroup.procs")).value_or("")).empty();
    for (const auto& n : required) {
      if (populated && !has_word(enabled, n.controller))
        return make_error(field + "." + n.field + ": cgroup `" + level +
                              "` holds processes, so it cannot enable the " + n.controller +
                              " controller for the container's cgroup below it (cgroup v2 allows "
                              "no processes in a cgroup that delegates controllers)",
                          EBUSY);
      if (!has_word(available, n.controller))
        return make_error(field + "." + n.field + ": the " + n.controller +
                              " controller is not available in cgroup2 `" + level +
                              "` (cgroup.controllers: \"" + std::string(fs::trim(available)) +
                              "\")",
                          ENOTSUP);
      if (!has_word(enabled, n.controller)) BERTH_TRY(enable(n.controller));
    }
    // Wanted for stats only: whatever cannot be had is dropped quietly.
    std::vector<std::string> kept;
    for (const auto& c : optional) {
      if (!has_word(available, c)) continue;
      if (populated && !has_word(enabled, c)) continue;
      if (!has_word(enabled, c) && !enable(c).ok()) continue;
      kept.push_back(c);
    }
    optional = std::move(kept);
  }
  return {};
}

}  // namespace

Status apply_resources(const Layout& layout, const Placement& placement,
                       const Resources& resources) {
  const Resources& r = resources;
  if (placement.dirs.size() != layout.hierarchies.size())
    return make_error("apply cgroup resources: the placement has " +
                      std::to_string(placement.dirs.size()) + " directories for " +
                      std::to_string(layout.hierarchies.size()) + " hierarchies");
  auto v2 = v2_hierarchy(layout);

  struct Step {
    const Controller* controller;
    size_t hierarchy;
    bool v2;
  };
  std::vector<Step> steps;
  std::vector<Needed> required;
  for (const auto& c : kControllers) {
    if (!c.wanted(r)) continue;
    if (auto i = v1_hierarchy(layout, c.v1)) {
      steps.push_back({&c, *i, false});
    } else if (v2 && c.v2 != nullptr) {
      steps.push_back({&c, *v2, true});
      if (*c.v2 != '\0') required.push_back({c.v2, c.field});
    } else {
      return make_error(r.field + "." + c.field + ": no cgroup hierarchy on this host has the " +
                            c.v1 + " controller" +
                            (c.v2 == nullptr ? " (cgroup v2 has no equivalent)" : ""),
                        ENOTSUP);
    }
  }
  if (!r.unified.empty()) {
    if (!v2)
      return make_error(r.field + ".unified: this host mounts no cgroup2 hierarchy", ENOTSUP);
    for (const auto& [key, value] : r.unified) {
      std::string controller = key.substr(0, key.find('.'));
      if (controller != "cgroup") required.push_back({controller, "unified[\"" + key + "\"]"});
    }
  }

  if (v2) {
    // So that stats() finds memory.current, cpu.stat's throttling, io.stat
    // and pids.current on a pure cgroup2 host even without limits.
    std::vector<std::string> optional;
    for (auto [v1_name, v2_name] :
         {std::pair{"memory", "memory"}, {"pids", "pids"}, {"cpu", "cpu"}, {"blkio", "io"}})
      if (!v1_hierarchy(layout, v1_name)) optional.push_back(v2_name);
    BERTH_TRY(enable_controllers(layout.hierarchies[*v2].mount_point, placement.dirs[*v2], required,
                                 optional, r.field));
  }

  for (const auto& step : steps) {
    const std::string& dir = placement.dirs[step.hierarchy];
    BERTH_TRY((step.v2 ? step.controller->set_v2 : step.controller->set_v1)(dir, r));
  }
  if (!r.unified.empty()) BERTH_TRY(detail::set_unified(placement.dirs[*v2], r));
  return {};
}

}  // namespace berth::cgroups
