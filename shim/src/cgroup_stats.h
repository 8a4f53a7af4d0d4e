#pragma once
// Task.Stats: the container's resource usage read straight from its cgroup
// files (berth_cgroups' stats reader) and packed as the Any containerd
// decodes (`ctr task metrics`, CRI ContainerStats): v1 Metrics on a v1 or
// hybrid host, v2 Metrics only when /sys/fs/cgroup is the unified hierarchy
// (the choice containerd-shim-runc-v2 makes; a hybrid host's hugetlb-only
// v2 tree is not used). Encoding: metrics_encode.h.
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
#include "berth/cgroups/stats.h"

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

struct MetricsAny {
  std::string type_url;  // kMetricsV1TypeUrl or kMetricsV2TypeUrl
  std::string value;     // the serialized message
};

// Reads the container's cgroups with berth_cgroups' reader and encodes them
// as v1 or v2 Metrics (metrics_encode.h). A missing file reads as zero, as
// containerd's IgnoreNotExist; fails with ENOENT only when the container's
// cgroup is gone altogether.
Result<MetricsAny> read_metrics(const CgroupSet& cgroups, const cgroups::StatsHost& host = {});

}  // namespace berth::shim
