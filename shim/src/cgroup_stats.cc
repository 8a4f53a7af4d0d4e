#include "cgroup_stats.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"
#include "proto_writer.h"

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

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Views into the text: the text must outlive them (a temporary would not;
// the deleted overloads catch that at compile time).
std::vector<std::string_view> split_ws(std::string&&) = delete;
std::vector<std::string_view> lines_of(std::string&&) = delete;

std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Negative values (v1 reports -1 for some unset limits) read as 0.
uint64_t to_u64(std::string_view s, uint64_t if_max = kMax) {
  if (s == "max") return if_max;
  uint64_t v = 0;
  return parse_u64(s, &v) ? v : 0;
}

// Small files: a cgroup file is at most a few KiB (blkio: a line per
// device and operation).
std::string read_text(const std::string& path) {
  auto t = sys::read_file(path, 1 << 20);
  return t ? std::move(*t) : std::string();
}

// A one-value file; missing or unparsable → 0.
uint64_t read_u64(const std::string& path, uint64_t if_max = kMax) {
  std::string text = read_text(path);
  auto words = split_ws(text);
  return words.empty() ? 0 : to_u64(words[0], if_max);
}

// "key value" lines.
std::map<std::string, uint64_t, std::less<>> read_kv(const std::string& path) {
  std::map<std::string, uint64_t, std::less<>> out;
  std::string text = read_text(path);
  for (auto line : lines_of(text)) {
    auto w = split_ws(line);
    if (w.size() >= 2) out[std::string(w[0])] = to_u64(w[1]);
  }
  return out;
}

uint64_t get(const std::map<std::string, uint64_t, std::less<>>& kv, std::string_view key) {
  auto it = kv.find(key);
  return it == kv.end() ? 0 : it->second;
}

bool is_dir(const std::string& path) {
  auto st = sys::stat(path);
  return st && S_ISDIR(st->st_mode);
}

// Page sizes the kernel offers, as containerd names them.
std::vector<std::string> hugepage_sizes(const StatsEnv& env) {
  std::vector<std::string> out;
  auto entries = sys::list_dir(env.hugepages);
  if (!entries) return out;
  for (const auto& e : *entries) {
    std::string name = hugepage_size_name(e);
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

// ----------------------------------------------------------------- v1
// Field numbers: proto/cgroups/v1/metrics.proto (the unit tests decode what
// is written here with the classes generated from it).

struct Dirs {
  const CgroupSet& set;
  std::string of(const char* controller) const {
    auto it = set.v1.find(controller);
    return it != set.v1.end() && is_dir(it->second) ? it->second : std::string();
  }
};

// MemoryEntry {limit 1, usage 2, max 3, failcnt 4}
ProtoWriter memory_entry(const std::string& prefix) {
  ProtoWriter e;
  e.u64(1, read_u64(prefix + "limit_in_bytes"));
  e.u64(2, read_u64(prefix + "usage_in_bytes"));
  e.u64(3, read_u64(prefix + "max_usage_in_bytes"));
  e.u64(4, read_u64(prefix + "failcnt"));
  return e;
}

// memory.stat keys in MemoryStat's field order: field = index + 1.
constexpr const char* kMemoryStatV1[] = {
    "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout",
    "pgfault", "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file",
    "unevictable", "hierarchical_memory_limit", "hierarchical_memsw_limit", "total_cache",
    "total_rss", "total_rss_huge", "total_mapped_file", "total_dirty", "total_writeback",
    "total_pgpgin", "total_pgpgout", "total_pgfault", "total_pgmajfault", "total_inactive_anon",
    "total_active_anon", "total_inactive_file", "total_active_file", "total_unevictable",
};

void memory_v1(const std::string& dir, ProtoWriter& m) {
  ProtoWriter mem;
  auto kv = read_kv(dir + "/memory.stat");
  for (size_t i = 0; i < std::size(kMemoryStatV1); ++i) mem.u64(static_cast<uint32_t>(i + 1), get(kv, kMemoryStatV1[i]));
  mem.message(33, memory_entry(dir + "/memory."));           // usage
  mem.message(34, memory_entry(dir + "/memory.memsw."));     // swap
  mem.message(35, memory_entry(dir + "/memory.kmem."));      // kernel
  mem.message(36, memory_entry(dir + "/memory.kmem.tcp."));  // kernel_tcp
  m.message(4, mem);
  // MemoryOomControl {oom_kill_disable 1, under_oom 2, oom_kill 3}
  auto oom = read_kv(dir + "/memory.oom_control");
  ProtoWriter oc;
  oc.u64(1, get(oom, "oom_kill_disable")).u64(2, get(oom, "under_oom")).u64(3, get(oom, "oom_kill"));
  m.message(9, oc);
}

void cpu_v1(const std::string& cpuacct, const std::string& cpu, long ticks, ProtoWriter& m) {
  ProtoWriter c;
  if (!cpuacct.empty()) {
    // CPUUsage {total 1, kernel 2, user 3, per_cpu 4}, nanoseconds; cpuacct.stat
    // counts USER_HZ ticks.
    ProtoWriter u;
    auto st = read_kv(cpuacct + "/cpuacct.stat");
    const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(ticks > 0 ? ticks : 100);
    u.u64(1, read_u64(cpuacct + "/cpuacct.usage"));
    u.u64(2, get(st, "system") * ns_per_tick);
    u.u64(3, get(st, "user") * ns_per_tick);
    std::string percpu = read_text(cpuacct + "/cpuacct.usage_percpu");
    std::vector<uint64_t> values;
    for (auto w : split_ws(percpu)) values.push_back(to_u64(w));
    u.packed_u64(4, values);
    c.message(1, u);
  }
  if (!cpu.empty()) {
    // Throttle {periods 1, throttled_periods 2, throttled_time 3}
    auto st = read_kv(cpu + "/cpu.stat");
    ProtoWriter t;
    t.u64(1, get(st, "nr_periods")).u64(2, get(st, "nr_throttled")).u64(3, get(st, "throttled_time"));
    c.message(2, t);
  }
  m.message(3, c);
}

// /proc/partitions: "major minor #blocks name" → "/dev/name".
std::map<std::pair<uint64_t, uint64_t>, std::string> device_names(const std::string& partitions) {
  std::map<std::pair<uint64_t, uint64_t>, std::string> out;
  std::string text = read_text(partitions);
  for (auto line : lines_of(text)) {
    auto w = split_ws(line);
    uint64_t major = 0, minor = 0;
    if (w.size() == 4 && parse_u64(w[0], &major) && parse_u64(w[1], &minor))
      out[{major, minor}] = "/dev/" + std::string(w[3]);
  }
  return out;
}

// "<major>:<minor> <op> <value>" or "<major>:<minor> <value>" lines, each a
// BlkIOEntry {op 1, device 2, major 3, minor 4, value 5} in field `field`
// of `out`; the "Total" summary line has no device and is skipped, as
// containerd does. Returns the number of entries.
int blkio_file(const std::string& path, const std::map<std::pair<uint64_t, uint64_t>, std::string>& names,
               uint32_t field, ProtoWriter& out) {
  int n = 0;
  std::string text = read_text(path);
  for (auto line : lines_of(text)) {
    auto w = split_ws(line);
    if (w.size() < 2) continue;
    size_t colon = w[0].find(':');
    uint64_t major = 0, minor = 0;
    if (colon == std::string_view::npos || !parse_u64(w[0].substr(0, colon), &major) ||
        !parse_u64(w[0].substr(colon + 1), &minor))
      continue;
    ProtoWriter e;
    if (w.size() >= 3) e.bytes(1, w[1]);
    auto it = names.find({major, minor});
    if (it != names.end()) e.bytes(2, it->second);
    e.u64(3, major).u64(4, minor).u64(5, to_u64(w.size() >= 3 ? w[2] : w[1]));
    out.message(field, e);
    ++n;
  }
  return n;
}

void blkio_v1(const std::string& dir, const StatsEnv& env, ProtoWriter& m) {
  auto names = device_names(env.partitions);
  // BlkIOStat: the CFQ/BFQ files when the scheduler provides them, else the
  // throttle files (every blkio cgroup has those), as containerd reads them.
  struct File {
    const char* name;
    uint32_t field;
  };
  static const File kScheduler[] = {
      {"blkio.io_service_bytes_recursive", 1}, {"blkio.io_serviced_recursive", 2},
      {"blkio.io_queued_recursive", 3},        {"blkio.io_service_time_recursive", 4},
      {"blkio.io_wait_time_recursive", 5},     {"blkio.io_merged_recursive", 6},
      {"blkio.time_recursive", 7},             {"blkio.sectors_recursive", 8},
  };
  ProtoWriter b;
  int entries = 0;
  if (sys::exists(dir + "/blkio.io_serviced_recursive"))
    for (const auto& f : kScheduler) entries += blkio_file(dir + "/" + f.name, names, f.field, b);
  if (entries == 0) {
    b = ProtoWriter();
    blkio_file(dir + "/blkio.throttle.io_service_bytes", names, 1, b);
    blkio_file(dir + "/blkio.throttle.io_serviced", names, 2, b);
  }
  m.message(5, b);
}

Result<MetricsAny> metrics_v1(const CgroupSet& set, const StatsEnv& env) {
  Dirs d{set};
  std::string memory = d.of("memory"), cpuacct = d.of("cpuacct"), cpu = d.of("cpu"), pids = d.of("pids"),
              blkio = d.of("blkio"), hugetlb = d.of("hugetlb");
  if (memory.empty() && cpuacct.empty() && cpu.empty() && pids.empty())
    return make_error("the container's cgroup is gone", ENOENT);
  // Metrics {hugetlb 1, pids 2, cpu 3, memory 4, blkio 5, ..., memory_oom_control 9}
  ProtoWriter m;
  if (!hugetlb.empty()) {
    for (const auto& size : hugepage_sizes(env)) {
      // HugetlbStat {usage 1, max 2, failcnt 3, pagesize 4}
      std::string p = hugetlb + "/hugetlb." + size + ".";
      ProtoWriter h;
      h.u64(1, read_u64(p + "usage_in_bytes")).u64(2, read_u64(p + "max_usage_in_bytes"));
      h.u64(3, read_u64(p + "failcnt")).bytes(4, size);
      m.message(1, h);
    }
  }
  if (!pids.empty()) {
    ProtoWriter p;  // PidsStat {current 1, limit 2}
    p.u64(1, read_u64(pids + "/pids.current")).u64(2, read_u64(pids + "/pids.max", 0));
    m.message(2, p);
  }
  if (!cpuacct.empty() || !cpu.empty()) cpu_v1(cpuacct, cpu, env.clock_ticks ? env.clock_ticks : ::sysconf(_SC_CLK_TCK), m);
  if (!memory.empty()) memory_v1(memory, m);
  if (!blkio.empty()) blkio_v1(blkio, env, m);
  return MetricsAny{"io.containerd.cgroups.v1.Metrics", m.take()};
}

// ----------------------------------------------------------------- v2
// Field numbers: proto/cgroups/v2/metrics.proto.

// cpu.stat keys in CPUStat's field order: field = index + 1.
constexpr const char* kCpuStatV2[] = {"usage_usec", "user_usec", "system_usec",
                                      "nr_periods", "nr_throttled", "throttled_usec"};
// memory.stat keys in MemoryStat's field order (1..31).
constexpr const char* kMemoryStatV2[] = {
    "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty",
    "file_writeback", "anon_thp", "inactive_anon", "active_anon", "inactive_file", "active_file",
    "unevictable", "slab_reclaimable", "slab_unreclaimable", "pgfault", "pgmajfault",
    "workingset_refault", "workingset_activate", "workingset_nodereclaim", "pgrefill", "pgscan",
    "pgsteal", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc",
    "thp_collapse_alloc",
};
constexpr const char* kMemoryEventsV2[] = {"low", "high", "max", "oom", "oom_kill"};

// rdma.current / rdma.max: "<device> hca_handle=N hca_object=N" lines, each
// a RdmaEntry {device 1, hca_handles 2, hca_objects 3} ("max": 2^32-1).
void rdma_v2(const std::string& path, uint32_t field, ProtoWriter& out) {
  std::string text = read_text(path);
  for (auto line : lines_of(text)) {
    auto w = split_ws(line);
    if (w.empty()) continue;
    ProtoWriter e;
    e.bytes(1, w[0]);
    for (size_t i = 1; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto key = w[i].substr(0, eq);
      uint64_t v = std::min<uint64_t>(to_u64(w[i].substr(eq + 1), UINT32_MAX), UINT32_MAX);
      if (key == "hca_handle") e.u64(2, v);
      if (key == "hca_object") e.u64(3, v);
    }
    out.message(field, e);
  }
}

Result<MetricsAny> metrics_v2(const CgroupSet& set, const StatsEnv& env) {
  const std::string& dir = set.dir;
  if (dir.empty() || !is_dir(dir)) return make_error("the container's cgroup is gone", ENOENT);
  // Metrics {pids 1, cpu 2, memory 4, rdma 5, io 6, hugetlb 7, memory_events 8}
  ProtoWriter m;
  ProtoWriter pids;  // PidsStat {current 1, limit 2}
  pids.u64(1, read_u64(dir + "/pids.current")).u64(2, read_u64(dir + "/pids.max", 0));
  m.message(1, pids);

  auto cpu = read_kv(dir + "/cpu.stat");
  ProtoWriter c;
  for (size_t i = 0; i < std::size(kCpuStatV2); ++i) c.u64(static_cast<uint32_t>(i + 1), get(cpu, kCpuStatV2[i]));
  m.message(2, c);

  auto kv = read_kv(dir + "/memory.stat");
  ProtoWriter mem;
  for (size_t i = 0; i < std::size(kMemoryStatV2); ++i) {
    std::string key = kMemoryStatV2[i];
    uint64_t v = get(kv, key);
    // Linux 5.9 split the workingset counters by LRU; the sum is the old one.
    if (!kv.count(key) && key.rfind("workingset_", 0) == 0) v = get(kv, key + "_anon") + get(kv, key + "_file");
    mem.u64(static_cast<uint32_t>(i + 1), v);
  }
  mem.u64(32, read_u64(dir + "/memory.current"));
  mem.u64(33, read_u64(dir + "/memory.max"));
  mem.u64(34, read_u64(dir + "/memory.swap.current"));
  mem.u64(35, read_u64(dir + "/memory.swap.max"));
  mem.u64(36, read_u64(dir + "/memory.peak"));
  mem.u64(37, read_u64(dir + "/memory.swap.peak"));
  m.message(4, mem);

  if (sys::exists(dir + "/rdma.current")) {
    ProtoWriter r;  // RdmaStat {current 1, limit 2}
    rdma_v2(dir + "/rdma.current", 1, r);
    rdma_v2(dir + "/rdma.max", 2, r);
    m.message(5, r);
  }

  // io.stat: "<major>:<minor> rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
  // → IOStat {usage 1: IOEntry {major 1, minor 2, rbytes 3, wbytes 4, rios 5, wios 6}}
  ProtoWriter io;
  std::string io_stat = read_text(dir + "/io.stat");
  for (auto line : lines_of(io_stat)) {
    auto w = split_ws(line);
    if (w.empty()) continue;
    size_t colon = w[0].find(':');
    uint64_t major = 0, minor = 0;
    if (colon == std::string_view::npos || !parse_u64(w[0].substr(0, colon), &major) ||
        !parse_u64(w[0].substr(colon + 1), &minor))
      continue;
    uint64_t values[4] = {0, 0, 0, 0};
    static constexpr std::string_view kKeys[] = {"rbytes", "wbytes", "rios", "wios"};
    for (size_t i = 1; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      if (eq == std::string_view::npos) continue;
      for (size_t k = 0; k < 4; ++k)
        if (w[i].substr(0, eq) == kKeys[k]) values[k] = to_u64(w[i].substr(eq + 1));
    }
    ProtoWriter e;
    e.u64(1, major).u64(2, minor);
    for (size_t k = 0; k < 4; ++k) e.u64(static_cast<uint32_t>(k + 3), values[k]);
    io.message(1, e);
  }
  m.message(6, io);

  for (const auto& size : hugepage_sizes(env)) {
    std::string p = dir + "/hugetlb." + size + ".";
    if (!sys::exists(p + "current")) continue;  // controller not enabled here
    ProtoWriter h;  // HugeTlbStat {current 1, max 2, pagesize 3}
    h.u64(1, read_u64(p + "current")).u64(2, read_u64(p + "max")).bytes(3, size);
    m.message(7, h);
  }

  auto ev = read_kv(dir + "/memory.events");
  ProtoWriter e;  // MemoryEvents {low 1, high 2, max 3, oom 4, oom_kill 5}
  for (size_t i = 0; i < std::size(kMemoryEventsV2); ++i) e.u64(static_cast<uint32_t>(i + 1), get(ev, kMemoryEventsV2[i]));
  m.message(8, e);
  return MetricsAny{"io.containerd.cgroups.v2.Metrics", m.take()};
}

}  // namespace

std::string hugepage_size_name(std::string_view entry) {
  constexpr std::string_view prefix = "hugepages-";
  if (entry.substr(0, prefix.size()) != prefix || entry.size() < prefix.size() + 3) return {};
  std::string_view num = entry.substr(prefix.size());
  if (num.substr(num.size() - 2) != "kB") return {};
  uint64_t kb = 0;
  if (!parse_u64(num.substr(0, num.size() - 2), &kb) || kb == 0) return {};
  // Binary units, as containerd's units.CustomSize(1024) prints them; page
  // sizes are powers of two, so the value is whole.
  static const char* const kUnits[] = {"KB", "MB", "GB", "TB", "PB"};
  size_t unit = 0;
  double value = static_cast<double>(kb);
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%s", value, kUnits[unit]);
  return buf;
}

Result<MetricsAny> read_metrics(const CgroupSet& cgroups, const StatsEnv& env) {
  return cgroups.unified ? metrics_v2(cgroups, env) : metrics_v1(cgroups, env);
}

}  // namespace berth::shim
