#pragma once
// Resource usage of a container's cgroup, read from v1 or v2 files and
// reported in the shape of runc's `events --stats` "data" object (what
// containerd's runc shim and `docker stats` parse), and the OOM-kill count
// the shim reports as an event.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/cgroups.h"

namespace berth::cgroups {

struct CpuStats {
  // Nanoseconds.
  uint64_t total = 0, kernel = 0, user = 0;
  std::vector<uint64_t> percpu, percpu_kernel, percpu_user;  // v1 only
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
};

struct MemoryEntry {
  uint64_t usage = 0, max = 0, failcnt = 0;
  uint64_t limit = 0;  // UINT64_MAX when unlimited ("max")
};

struct MemoryStats {
  uint64_t cache = 0;
  MemoryEntry usage;
  MemoryEntry swap;                     // memory+swap, as v1 reports it (v2 values are summed up)
  MemoryEntry kernel, kernel_tcp;       // v1 only
  std::map<std::string, uint64_t> raw;  // memory.stat
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0 when unlimited, as runc reports it
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"
  uint64_t value = 0;
};

struct BlkioStats {
  std::vector<BlkioEntry> io_service_bytes_recursive;
  std::vector<BlkioEntry> io_serviced_recursive;
};

struct HugetlbStats {
  uint64_t usage = 0, max = 0, failcnt = 0;
};

struct CpusetStats {
  std::vector<uint16_t> cpus, mems;  // effective
};

struct Stats {
  CpuStats cpu;
  CpusetStats cpuset;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size: "2MB"
};

// Reads every controller the layout has; a controller whose files are
// missing (not enabled, or a cgroup gone) reads as zeros.
Result<Stats> stats(const Layout& layout, const Placement& placement);

// The "data" member of `runc events --stats`: {"cpu":{...},"memory":{...},
// "pids":{...},"blkio":{...},"hugetlb":{...},...}, with runc's JSON names
// and its omission of zero numbers and empty lists.
std::string stats_json(const Stats& stats);

// How many processes the kernel's OOM killer killed in the container's
// cgroup (and below): memory.events "oom_kill" (v2) or memory.oom_control
// "oom_kill" (v1, Linux 4.13).
Result<uint64_t> oom_kill_count(const Placement& placement);

}  // namespace berth::cgroups
