#pragma once
// Task.Stats: the container's resource usage read straight from its cgroup
// files and packed as the Any containerd decodes (`ctr task metrics`, CRI
// ContainerStats):
//
//   host                      type URL                            message
//   cgroup v1 or hybrid       io.containerd.cgroups.v1.Metrics    proto/cgroups/v1/metrics.proto
//   pure cgroup v2            io.containerd.cgroups.v2.Metrics    proto/cgroups/v2/metrics.proto
//
// (the choice containerd-shim-runc-v2 makes: v2 only when /sys/fs/cgroup is
// the unified hierarchy; a hybrid host's hugetlb-only v2 tree is not used).
//
// Why the files and not `<runtime> events --stats`: crun has no `events`
// command; runc's JSON is lossy for v2 (no memory.events, io.stat by
// operation only); Stats is polled (CRI: every container, every 10 s) and a
// read of a dozen small files costs microseconds where a runtime process
// costs milliseconds and a fork of the shim; and the shim needs the same
// directories for its OOM watch anyway. The directories come from the
// init's /proc/<pid>/cgroup at Create (the runtime has placed it by then),
// so they are right whatever cgroupsPath, runtime or cgroup driver made them.

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::shim {

struct CgroupSet {
  bool unified = false;  // pure cgroup v2: `dir` is the container's cgroup
  std::string dir;
  // v1 (and hybrid): controller → the container's directory in the
  // hierarchy that carries it ("cpu" and "cpuacct" may share one).
  std::map<std::string, std::string> v1;

  // The directory holding memory.* files ("" when not mounted).
  std::string memory_dir() const;
  bool empty() const { return dir.empty() && v1.empty(); }
};

// From the text of the shim's /proc/self/mountinfo and the container
// process's /proc/<pid>/cgroup (parameters so that tests feed fakes).
Result<CgroupSet> parse_cgroup_set(std::string_view mountinfo, std::string_view proc_pid_cgroup);
Result<CgroupSet> cgroups_of_pid(pid_t pid);

// Host facts the readers need; tests point them at fixtures.
struct StatsEnv {
  std::string partitions = "/proc/partitions";        // blkio device names
  std::string hugepages = "/sys/kernel/mm/hugepages";  // hugetlb page sizes
  long clock_ticks = 0;                               // 0: sysconf(_SC_CLK_TCK)
};

struct MetricsAny {
  std::string type_url;  // "io.containerd.cgroups.v1.Metrics" or ...v2.Metrics
  std::string value;     // the serialized message
};

// Reads every controller that is there (a missing file reads as zero, as
// containerd's IgnoreNotExist); fails with ENOENT only when the container's
// cgroup is gone altogether.
Result<MetricsAny> read_metrics(const CgroupSet& cgroups, const StatsEnv& env = {});

// "hugepages-2048kB" → "2MB", "hugepages-1048576kB" → "1GB" (containerd's
// page size names, used in file names and in HugetlbStat.pagesize).
std::string hugepage_size_name(std::string_view dir_entry);

}  // namespace berth::shim
