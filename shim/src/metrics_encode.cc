#include "metrics_encode.h"

#include <iterator>
#include <vector>

#include "proto_writer.h"

namespace berth::shim {

using cgroups::Source;

namespace {

// ----------------------------------------------------------------- v1
// Field numbers: proto/cgroups/v1/metrics.proto.

// MemoryEntry {limit 1, usage 2, max 3, failcnt 4}
ProtoWriter memory_entry(const cgroups::MemoryEntry& e) {
  ProtoWriter w;
  w.u64(1, e.limit).u64(2, e.usage).u64(3, e.max).u64(4, e.failcnt);
  return w;
}

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// memory.stat keys in MemoryStat's field order: field = index + 1.
constexpr const char* kMemoryStatV1[] = {
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
};

void memory_v1(const cgroups::MemoryStats& s, ProtoWriter& m) {
  ProtoWriter mem;
  for (size_t i = 0; i < std::size(kMemoryStatV1); ++i)
    mem.u64(static_cast<uint32_t>(i + 1), get(s.raw, kMemoryStatV1[i]));
  mem.message(33, memory_entry(s.usage));
  mem.message(34, memory_entry(s.swap));
  mem.message(35, memory_entry(s.kernel));
  mem.message(36, memory_entry(s.kernel_tcp));
  m.message(4, mem);
  // MemoryOomControl {oom_kill_disable 1, under_oom 2, oom_kill 3}
  ProtoWriter oc;
  oc.u64(1, s.oom_control.oom_kill_disable)
      .u64(2, s.oom_control.under_oom)
      .u64(3, s.oom_control.oom_kill);
  m.message(9, oc);
}

void cpu_v1(const cgroups::Stats& s, ProtoWriter& m) {
  ProtoWriter c;
  if (s.sources.cpuacct == Source::kV1) {
    // CPUUsage {total 1, kernel 2, user 3, per_cpu 4}
    ProtoWriter u;
    u.u64(1, s.cpu.total).u64(2, s.cpu.kernel).u64(3, s.cpu.user).packed_u64(4, s.cpu.percpu);
    c.message(1, u);
  }
  if (s.sources.cpu == Source::kV1) {
    // Throttle {periods 1, throttled_periods 2, throttled_time 3}
    ProtoWriter t;
    t.u64(1, s.cpu.periods).u64(2, s.cpu.throttled_periods).u64(3, s.cpu.throttled_time);
    c.message(2, t);
  }
  m.message(3, c);
}

// BlkIOEntry {op 1, device 2, major 3, minor 4, value 5}, one per entry,
// in field `field` of `out`. Returns the number of entries.
size_t blkio_file(const cgroups::BlkioStats& b, const char* name, uint32_t field,
                  ProtoWriter& out) {
  auto it = b.v1.find(name);
  if (it == b.v1.end()) return 0;
  for (const auto& e : it->second) {
    ProtoWriter w;
    w.bytes(1, e.op).bytes(2, e.device).u64(3, e.major).u64(4, e.minor).u64(5, e.value);
    out.message(field, w);
  }
  return it->second.size();
}

// containerd's choice: the CFQ files when the kernel has them and they have
// entries, else the throttle layer's (not recursive, as containerd reads them).
void blkio_v1(const cgroups::BlkioStats& b, ProtoWriter& m) {
  static const std::pair<const char*, uint32_t> kScheduler[] = {
      {"io_service_bytes_recursive", 1},
      {"io_serviced_recursive", 2},
      {"io_queued_recursive", 3},
      {"io_service_time_recursive", 4},
      {"io_wait_time_recursive", 5},
      {"io_merged_recursive", 6},
      {"time_recursive", 7},
      {"sectors_recursive", 8},
  };
  ProtoWriter w;
  size_t entries = 0;
  if (b.v1.count("io_serviced_recursive"))
    for (auto [name, field] : kScheduler) entries += blkio_file(b, name, field, w);
  if (entries == 0) {
    w = ProtoWriter();
    blkio_file(b, "throttle.io_service_bytes", 1, w);
    blkio_file(b, "throttle.io_serviced", 2, w);
  }
  m.message(5, w);
}

// ----------------------------------------------------------------- v2
// Field numbers: proto/cgroups/v2/metrics.proto.

// memory.stat keys in MemoryStat's field order (1..31).
constexpr const char* kMemoryStatV2[] = {
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
};

void memory_v2(const cgroups::MemoryStats& s, ProtoWriter& m) {
  ProtoWriter mem;
  for (size_t i = 0; i < std::size(kMemoryStatV2); ++i) {
    std::string key = kMemoryStatV2[i];
    uint64_t v = get(s.raw, key);
    // Linux 5.9 split the workingset counters by LRU; the sum is the old one.
    if (!s.raw.count(key) && key.rfind("workingset_", 0) == 0)
      v = get(s.raw, key + "_anon") + get(s.raw, key + "_file");
    mem.u64(static_cast<uint32_t>(i + 1), v);
  }
  mem.u64(32, s.usage.usage).u64(33, s.usage.limit);
  mem.u64(34, s.swap.usage).u64(35, s.swap.limit);
  mem.u64(36, s.usage.max).u64(37, s.swap.max);
  m.message(4, mem);
}

// RdmaEntry {device 1, hca_handles 2, hca_objects 3} in field `field`.
void rdma_entries(const std::vector<cgroups::RdmaEntry>& entries, uint32_t field,
                  ProtoWriter& out) {
  for (const auto& e : entries) {
    ProtoWriter w;
    w.bytes(1, e.device).u64(2, e.hca_handles).u64(3, e.hca_objects);
    out.message(field, w);
  }
}

}  // namespace

std::string encode_metrics_v1(const cgroups::Stats& s) {
  // Metrics {hugetlb 1, pids 2, cpu 3, memory 4, blkio 5, ..., memory_oom_control 9}
  ProtoWriter m;
  if (s.sources.hugetlb == Source::kV1) {
    for (const auto& [size, h] : s.hugetlb) {
      ProtoWriter w;  // HugetlbStat {usage 1, max 2, failcnt 3, pagesize 4}
      w.u64(1, h.usage).u64(2, h.max).u64(3, h.failcnt).bytes(4, size);
      m.message(1, w);
    }
  }
  if (s.sources.pids == Source::kV1) {
    ProtoWriter p;  // PidsStat {current 1, limit 2}
    p.u64(1, s.pids.current).u64(2, s.pids.limit);
    m.message(2, p);
  }
  if (s.sources.cpuacct == Source::kV1 || s.sources.cpu == Source::kV1) cpu_v1(s, m);
  if (s.sources.memory == Source::kV1) memory_v1(s.memory, m);
  if (s.sources.blkio == Source::kV1) blkio_v1(s.blkio, m);
  return m.take();
}

std::string encode_metrics_v2(const cgroups::Stats& s) {
  // Metrics {pids 1, cpu 2, memory 4, rdma 5, io 6, hugetlb 7, memory_events 8}
  ProtoWriter m;
  ProtoWriter pids;  // PidsStat {current 1, limit 2}
  pids.u64(1, s.pids.current).u64(2, s.pids.limit);
  m.message(1, pids);

  // CPUStat {usage_usec 1, user_usec 2, system_usec 3, nr_periods 4,
  // nr_throttled 5, throttled_usec 6}: cpu.stat's microseconds again.
  ProtoWriter c;
  c.u64(1, s.cpu.total / 1000).u64(2, s.cpu.user / 1000).u64(3, s.cpu.kernel / 1000);
  c.u64(4, s.cpu.periods).u64(5, s.cpu.throttled_periods).u64(6, s.cpu.throttled_time / 1000);
  m.message(2, c);

  memory_v2(s.memory, m);

  if (s.rdma.present) {
    ProtoWriter r;  // RdmaStat {current 1, limit 2}
    rdma_entries(s.rdma.current, 1, r);
    rdma_entries(s.rdma.limit, 2, r);
    m.message(5, r);
  }

  // IOStat {usage 1: IOEntry {major 1, minor 2, rbytes 3, wbytes 4, rios 5, wios 6}}
  ProtoWriter io;
  for (const auto& e : s.blkio.io) {
    ProtoWriter w;
    w.u64(1, e.major)
        .u64(2, e.minor)
        .u64(3, e.rbytes)
        .u64(4, e.wbytes)
        .u64(5, e.rios)
        .u64(6, e.wios);
    io.message(1, w);
  }
  m.message(6, io);

  if (s.sources.hugetlb == Source::kV2) {
    for (const auto& [size, h] : s.hugetlb) {
      ProtoWriter w;  // HugeTlbStat {current 1, max 2, pagesize 3}
      w.u64(1, h.usage).u64(2, h.limit).bytes(3, size);
      m.message(7, w);
    }
  }

  const auto& ev = s.memory.events;
  ProtoWriter e;  // MemoryEvents {low 1, high 2, max 3, oom 4, oom_kill 5}
  e.u64(1, ev.low).u64(2, ev.high).u64(3, ev.max).u64(4, ev.oom).u64(5, ev.oom_kill);
  m.message(8, e);
  return m.take();
}

}  // namespace berth::shim
