#pragma once
// Resource usage of a container's cgroup: one reader of the cgroup v1 / v2
// files into one neutral struct, and the encoders on top of it:
//
//   consumer                         encoder                       where
//   `berth events` (runc's JSON)     stats_json runtime/cgroups/src/stats_json.cc berth-shim
//   Task.Stats            encode_metrics_v1 / _v2       shim/src/metrics_encode.cc
//     (containerd's cgroups Metrics)
//
// The struct keeps the kernel's facts in common units (nanoseconds, bytes)
// and says where each controller was read from; what a consumer makes of
// them (runc's memory+swap, containerd's choice of blkio files) is its
// encoder's business. oom_kill_count is the one OOM counter: `berth events`
// and the shim's OOM watch both use it.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/cgroups.h"

namespace berth::cgroups {

// Where a controller's files were read from: nowhere (not mounted, or the
// container's directory is gone), a v1 hierarchy, or the cgroup2 tree.
enum class Source : uint8_t { kNone, kV1, kV2 };

struct Sources {
  Source cpu = Source::kNone, cpuacct = Source::kNone, cpuset = Source::kNone,
         memory = Source::kNone, pids = Source::kNone, blkio = Source::kNone,
         hugetlb = Source::kNone;
};

struct CpuStats {
  // Nanoseconds (v2's microseconds converted).
  uint64_t total = 0, kernel = 0, user = 0;
  std::vector<uint64_t> percpu, percpu_kernel, percpu_user;  // v1 only
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
};

struct MemoryEntry {
  uint64_t usage = 0, max = 0, failcnt = 0;
  uint64_t limit = 0;  // UINT64_MAX when unlimited ("max")
};

// v2 memory.events.
struct MemoryEvents {
  uint64_t low = 0, high = 0, max = 0, oom = 0, oom_kill = 0;
};

// v1 memory.oom_control.
struct OomControl {
  uint64_t oom_kill_disable = 0, under_oom = 0, oom_kill = 0;
};

struct MemoryStats {
  uint64_t cache = 0;  // page cache: memory.stat "cache" (v1) or "file" (v2)
  // v1: memory.{usage_in_bytes,max_usage_in_bytes,failcnt,limit_in_bytes};
  // v2: memory.current, memory.peak (Linux 5.19), memory.events "max",
  // memory.max.
  MemoryEntry usage;
  // v1: memory.memsw.* (memory+swap). v2: memory.swap.current, .peak and
  // .max (swap alone), when swap_accounting.
  MemoryEntry swap;
  bool swap_accounting = false;         // v2: memory.swap.current exists
  MemoryEntry kernel, kernel_tcp;       // v1 only
  std::map<std::string, uint64_t> raw;  // memory.stat as the kernel names it
  MemoryEvents events;                  // v2 only
  OomControl oom_control;               // v1 only
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0 when unlimited, as runc and containerd report it
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"; "" in time/sectors files
  uint64_t value = 0;
  std::string device;  // "/dev/sda" from /proc/partitions, "" when not listed
};

// v2 io.stat, one per device.
struct IoEntry {
  uint64_t major = 0, minor = 0;
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0, dbytes = 0, dios = 0;
};

struct BlkioStats {
  // v1: every blkio statistics file that exists, by its name without
  // "blkio." ("throttle.io_service_bytes", "io_serviced_recursive",
  // "bfq.io_service_bytes_recursive"...): runc and containerd each pick a
  // different family of them.
  std::map<std::string, std::vector<BlkioEntry>> v1;
  std::vector<IoEntry> io;  // v2
};

struct HugetlbStats {
  uint64_t usage = 0;
  uint64_t max = 0;      // v1 max_usage_in_bytes
  uint64_t failcnt = 0;  // v1 failcnt, v2 events "max"
  uint64_t limit = 0;    // v1 limit_in_bytes, v2 max (UINT64_MAX: "max")
};

struct CpusetStats {
  std::vector<uint16_t> cpus, mems;  // effective
};

// v2 rdma.current / rdma.max lines.
struct RdmaEntry {
  std::string device;
  uint32_t hca_handles = 0, hca_objects = 0;  // "max": UINT32_MAX
};

struct RdmaStats {
  bool present = false;  // rdma.current exists
  std::vector<RdmaEntry> current, limit;
};

struct Stats {
  Sources sources;
  CpuStats cpu;
  CpusetStats cpuset;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size, as the files name it: "2MB"
  RdmaStats rdma;                               // v2 only
};

// Host files the reader consults besides the cgroup's; tests point them at
// fixtures.
struct StatsHost {
  std::string partitions = "/proc/partitions";  // device names of v1 blkio entries
};

// Reads every controller the layout has into one Stats. Each controller is
// read from the v1 hierarchy that carries it, else from the cgroup2 tree.
// A directory that is "" or gone leaves its controllers kNone; a file that
// is missing (a controller not enabled, no swap accounting) reads as zero;
// a file that exists but does not parse is an error naming it.
Result<Stats> stats(const Layout& layout, const Placement& placement, const StatsHost& host = {});

// The "data" member of `runc events --stats`: {"cpu":{...},"memory":{...},
// "pids":{...},"blkio":{...},"hugetlb":{...},...}, with runc's JSON names
// and its omission of zero numbers and empty lists.
std::string stats_json(const Stats& stats);

// How many processes the kernel's OOM killer killed in the memory cgroup
// `dir` (and below): memory.events "oom_kill" (v2) or memory.oom_control
// "oom_kill" (v1; 0 before Linux 4.13, which has no such line). ENOENT
// when the directory has neither file.
Result<uint64_t> oom_kill_count(std::string_view dir);
// The same for the container's directory that holds memory files.
Result<uint64_t> oom_kill_count(const Placement& placement);

}  // namespace berth::cgroups
