#pragma once
// cgroup placement (runtime part 1): find the hierarchies this host mounts
// (pure v2, legacy v1, or hybrid: v1 controllers plus a v2 tree), compute a
// container's cgroup in each, create it and move a pid into it, and remove it
// again. Resources come in runtime part 2.
//
// cgroupsPath rules (runc's): an absolute path is used as given below each
// hierarchy's mount point; a relative one is nested under the caller's own
// cgroup in that hierarchy (from /proc/self/cgroup); empty means
// "<caller's cgroup>/<container id>".

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::cgroups {

struct Hierarchy {
  std::string mount_point;               // /sys/fs/cgroup/memory
  std::vector<std::string> controllers;  // {"memory"}; empty for a v2 tree
  bool unified = false;                  // cgroup2
  std::string own_path;                  // the caller's cgroup in it: "/user.slice"
                                         // ("" when no mount of it reaches that cgroup:
                                         // then only absolute cgroupsPaths can be placed)
};

struct Layout {
  std::vector<Hierarchy> hierarchies;
  bool pure_v2() const { return hierarchies.size() == 1 && hierarchies[0].unified; }
};

// From the text of /proc/self/mountinfo and /proc/self/cgroup (parameters so
// that tests feed fakes). Named v1 hierarchies (name=systemd) are skipped.
Result<Layout> parse_layout(std::string_view mountinfo, std::string_view proc_self_cgroup);
Result<Layout> detect_layout();  // this host's

// The container's cgroup: one directory per hierarchy.
struct Placement {
  std::vector<std::string> dirs;  // absolute directories, one per hierarchy
  std::vector<bool> created;      // which of them create() made
  // Every directory create() made, leaves and the parents it had to make,
  // parents first: remove() deletes them deepest first, so a cgroupsPath
  // like /a/b/c leaves no empty /a/b behind. Persist it with `dirs`.
  std::vector<std::string> made_dirs;
};

Result<Placement> plan_placement(const Layout& layout, std::string_view cgroups_path,
                                 std::string_view container_id);
// mkdir -p each dir (v1 cpuset: cpus/mems copied down from the parent so that
// joining works). A dir that exists and holds processes is an error
// ("cgroup `/sys/fs/cgroup/pids/x`: already holds processes").
Status create(Placement& placement);
// Writes pid into cgroup.procs of every dir.
Status join(const Placement& placement, pid_t pid);
// rmdir every dir this container created, deepest first; dirs that still
// hold processes are an error; missing dirs are not.
Status remove(const Placement& placement);
// Pids in the container's cgroup (cgroup.procs recursively, the union over
// all its hierarchies), for `berth ps` and `kill --all`.
Result<std::vector<pid_t>> pids(const Placement& placement);

}  // namespace berth::cgroups
