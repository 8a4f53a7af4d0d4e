// Stats as the "data" object of `runc events --stats` (runc's types/events.go).
//
// runc marshals with Go's encoding/json, so this mirrors its tags: numbers
// tagged omitempty vanish when zero, structs tagged omitzero vanish when all
// their fields are zero, lists vanish when empty, and the few untagged
// fields (memory entries' limit and failcnt, cpu kernel and user, hugetlb
// failcnt) are always written. Consumers (containerd's shim, docker stats)
// read it with the same struct, so missing and zero mean the same to them.

#include <string>

#include "berth/cgroups/stats.h"
#include "berth/json/json.h"

namespace berth::cgroups {

namespace {

void omitempty(json::Writer& w, const char* key, uint64_t v) {
  if (v != 0) w.key(key).uinteger(v);
}

template <class T>
void list(json::Writer& w, const char* key, const std::vector<T>& values) {
  if (values.empty()) return;
  w.key(key).begin_array();
  for (auto v : values) w.uinteger(v);
  w.end_array();
}

bool zero(const MemoryEntry& e) {
  return e.usage == 0 && e.max == 0 && e.failcnt == 0 && e.limit == 0;
}

void memory_entry(json::Writer& w, const char* key, const MemoryEntry& e) {
  if (zero(e)) return;
  w.key(key).begin_object();
  w.key("limit").uinteger(e.limit);
  omitempty(w, "usage", e.usage);
  omitempty(w, "max", e.max);
  w.key("failcnt").uinteger(e.failcnt);
  w.end_object();
}

void blkio_list(json::Writer& w, const char* key, const std::vector<BlkioEntry>& entries) {
  if (entries.empty()) return;
  w.key(key).begin_array();
  for (const auto& e : entries) {
    w.begin_object();
    omitempty(w, "major", e.major);
    omitempty(w, "minor", e.minor);
    if (!e.op.empty()) w.key("op").string(e.op);
    omitempty(w, "value", e.value);
    w.end_object();
  }
  w.end_array();
}

void cpu(json::Writer& w, const CpuStats& c) {
  w.key("cpu").begin_object();
  bool usage_zero = c.total == 0 && c.kernel == 0 && c.user == 0 && c.percpu.empty() &&
                    c.percpu_kernel.empty() && c.percpu_user.empty();
  if (!usage_zero) {
    w.key("usage").begin_object();
    omitempty(w, "total", c.total);
    list(w, "percpu", c.percpu);
    list(w, "percpu_kernel", c.percpu_kernel);
    list(w, "percpu_user", c.percpu_user);
    w.key("kernel").uinteger(c.kernel);
    w.key("user").uinteger(c.user);
    w.end_object();
  }
  if (c.periods != 0 || c.throttled_periods != 0 || c.throttled_time != 0) {
    w.key("throttling").begin_object();
    omitempty(w, "periods", c.periods);
    omitempty(w, "throttledPeriods", c.throttled_periods);
    omitempty(w, "throttledTime", c.throttled_time);
    w.end_object();
  }
  w.end_object();
}

// Only the effective lists are read; the v1 flags runc also copies are
// written as zeros, which is what runc reports for them on cgroup v2.
void cpuset(json::Writer& w, const CpusetStats& c) {
  w.key("cpuset").begin_object();
  list(w, "cpus", c.cpus);
  w.key("cpu_exclusive").uinteger(0);
  list(w, "mems", c.mems);
  for (const char* key :
       {"mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
        "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level"})
    w.key(key).uinteger(0);
  w.end_object();
}

// v2 reports swap alone; v1, and so runc's JSON, memory+swap: add them up.
// runc leaves max and failcnt 0 on v2.
MemoryEntry memsw_of_v2(const MemoryStats& m) {
  MemoryEntry e;
  if (!m.swap_accounting) return e;
  e.usage = m.swap.usage + m.usage.usage;
  e.limit = m.swap.limit == UINT64_MAX || m.usage.limit == UINT64_MAX
                ? UINT64_MAX
                : m.swap.limit + m.usage.limit;
  return e;
}

void memory(json::Writer& w, const MemoryStats& m, Source source) {
  w.key("memory").begin_object();
  omitempty(w, "cache", m.cache);
  memory_entry(w, "usage", m.usage);
  memory_entry(w, "swap", source == Source::kV2 ? memsw_of_v2(m) : m.swap);
  memory_entry(w, "kernel", m.kernel);
  memory_entry(w, "kernelTCP", m.kernel_tcp);
  if (!m.raw.empty()) {
    w.key("raw").begin_object();
    for (const auto& [k, v] : m.raw) w.key(k).uinteger(v);
    w.end_object();
  }
  w.end_object();
}

// runc's choice on v1: the first family whose service_bytes file has
// entries: BFQ's, CFQ's, then the throttle layer's, recursive first (it sees
// every bio whether or not a limit is set). On v2, io.stat's counts by
// operation.
void blkio(json::Writer& w, const BlkioStats& b) {
  static const std::pair<const char*, const char*> kFamilies[] = {
      {"bfq.io_service_bytes_recursive", "bfq.io_serviced_recursive"},
      {"io_service_bytes_recursive", "io_serviced_recursive"},
      {"throttle.io_service_bytes_recursive", "throttle.io_serviced_recursive"},
      {"throttle.io_service_bytes", "throttle.io_serviced"},
  };
  static const std::vector<BlkioEntry> kNone;
  auto file = [&](const char* name) -> const std::vector<BlkioEntry>& {
    auto it = b.v1.find(name);
    return it == b.v1.end() ? kNone : it->second;
  };
  std::vector<BlkioEntry> bytes, serviced;
  for (auto [bytes_file, serviced_file] : kFamilies) {
    if (file(bytes_file).empty()) continue;
    bytes = file(bytes_file);
    serviced = file(serviced_file);
    break;
  }
  for (const auto& e : b.io) {
    bytes.push_back({e.major, e.minor, "Read", e.rbytes, {}});
    bytes.push_back({e.major, e.minor, "Write", e.wbytes, {}});
    serviced.push_back({e.major, e.minor, "Read", e.rios, {}});
    serviced.push_back({e.major, e.minor, "Write", e.wios, {}});
  }
  w.key("blkio").begin_object();
  blkio_list(w, "ioServiceBytesRecursive", bytes);
  blkio_list(w, "ioServicedRecursive", serviced);
  w.end_object();
}

}  // namespace

std::string stats_json(const Stats& s) {
  json::Writer w;
  w.begin_object();
  cpu(w, s.cpu);
  cpuset(w, s.cpuset);
  memory(w, s.memory, s.sources.memory);
  w.key("pids").begin_object();
  omitempty(w, "current", s.pids.current);
  omitempty(w, "limit", s.pids.limit);
  w.end_object();
  blkio(w, s.blkio);
  w.key("hugetlb").begin_object();
  for (const auto& [size, h] : s.hugetlb) {
    w.key(size).begin_object();
    omitempty(w, "usage", h.usage);
    omitempty(w, "max", h.max);
    w.key("failcnt").uinteger(h.failcnt);
    w.end_object();
  }
  w.end_object();
  w.key("intel_rdt").begin_object().end_object();
  w.key("network_interfaces").null();
  w.end_object();
  return w.str();
}

}  // namespace berth::cgroups
