// Reading a container's resource usage. Each controller is read from the v1
// hierarchy that carries it, else from the cgroup2 tree, like
// apply_resources writes it; times are converted to nanoseconds, everything
// else is kept as the kernel counts it (the encoders convert).
//
// A file that is missing reads as zero: a controller not enabled, a kernel
// without swap accounting, a cgroup already removed. A file that exists but
// does not parse is an error naming it.

#include "berth/cgroups/stats.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "cgroupfs.h"

namespace berth::cgroups {

namespace {

uint64_t or_zero(const std::optional<uint64_t>& v) { return v.value_or(0); }

Result<uint64_t> u64_file(const std::string& dir, std::string_view file) {
  return or_zero(BERTH_VALUE(fs::read_u64_optional(dir, file)));
}

// "key value" lines into a map (memory.stat, cpu.stat).
Result<std::map<std::string, uint64_t>> flat_keyed(const std::string& dir, std::string_view file) {
  std::map<std::string, uint64_t> out;
  auto text = BERTH_VALUE(fs::read_optional(dir, file));
  if (!text) return out;
  for (auto line : fs::split_lines(*text)) {
    auto f = fs::split_fields(line);
    if (f.size() != 2)
      return make_error("cgroup `" + fs::path_of(dir, file) + "`: malformed line \"" +
                        std::string(line) + "\"");
    out[std::string(f[0])] = BERTH_VALUE(fs::parse_u64(f[1], fs::path_of(dir, file)));
  }
  return out;
}

uint64_t get(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

Result<std::vector<uint64_t>> number_list(const std::string& dir, std::string_view file) {
  std::vector<uint64_t> out;
  auto text = BERTH_VALUE(fs::read_optional(dir, file));
  if (!text) return out;
  for (auto f : fs::split_fields(*text))
    out.push_back(BERTH_VALUE(fs::parse_u64(f, fs::path_of(dir, file))));
  return out;
}

Status read_cpuacct_v1(const std::string& dir, CpuStats& cpu) {
  cpu.total = BERTH_VALUE(u64_file(dir, "cpuacct.usage"));
  cpu.percpu = BERTH_VALUE(number_list(dir, "cpuacct.usage_percpu"));
  // cpuacct.stat counts USER_HZ ticks.
  auto ticks = BERTH_VALUE(flat_keyed(dir, "cpuacct.stat"));
  uint64_t hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  if (hz == 0) hz = 100;
  cpu.user = get(ticks, "user") * (1000000000ULL / hz);
  cpu.kernel = get(ticks, "system") * (1000000000ULL / hz);
  // "cpu user system" then one line per CPU, in nanoseconds.
  auto all = BERTH_VALUE(fs::read_optional(dir, "cpuacct.usage_all"));
  if (all) {
    auto lines = fs::split_lines(*all);
    for (size_t i = 1; i < lines.size(); ++i) {
      auto f = fs::split_fields(lines[i]);
      if (f.size() < 3) continue;
      std::string path = fs::path_of(dir, "cpuacct.usage_all");
      cpu.percpu_user.push_back(BERTH_VALUE(fs::parse_u64(f[1], path)));
      cpu.percpu_kernel.push_back(BERTH_VALUE(fs::parse_u64(f[2], path)));
    }
  }
  return {};
}

Status read_cpu_throttling_v1(const std::string& dir, CpuStats& cpu) {
  auto stat = BERTH_VALUE(flat_keyed(dir, "cpu.stat"));
  cpu.periods = get(stat, "nr_periods");
  cpu.throttled_periods = get(stat, "nr_throttled");
  cpu.throttled_time = get(stat, "throttled_time");  // ns on v1
  return {};
}

Status read_cpu_v2(const std::string& dir, CpuStats& cpu) {
  auto stat = BERTH_VALUE(flat_keyed(dir, "cpu.stat"));  // microseconds
  cpu.total = get(stat, "usage_usec") * 1000;
  cpu.user = get(stat, "user_usec") * 1000;
  cpu.kernel = get(stat, "system_usec") * 1000;
  cpu.periods = get(stat, "nr_periods");
  cpu.throttled_periods = get(stat, "nr_throttled");
  cpu.throttled_time = get(stat, "throttled_usec") * 1000;
  return {};
}

Result<MemoryEntry> memory_entry_v1(const std::string& dir, const std::string& prefix) {
  MemoryEntry e;
  e.usage = BERTH_VALUE(u64_file(dir, prefix + ".usage_in_bytes"));
  e.max = BERTH_VALUE(u64_file(dir, prefix + ".max_usage_in_bytes"));
  e.failcnt = BERTH_VALUE(u64_file(dir, prefix + ".failcnt"));
  e.limit = BERTH_VALUE(u64_file(dir, prefix + ".limit_in_bytes"));
  return e;
}

Status read_memory_v1(const std::string& dir, MemoryStats& m) {
  m.raw = BERTH_VALUE(flat_keyed(dir, "memory.stat"));
  m.cache = get(m.raw, "cache");
  m.usage = BERTH_VALUE(memory_entry_v1(dir, "memory"));
  m.swap = BERTH_VALUE(memory_entry_v1(dir, "memory.memsw"));
  m.kernel = BERTH_VALUE(memory_entry_v1(dir, "memory.kmem"));
  m.kernel_tcp = BERTH_VALUE(memory_entry_v1(dir, "memory.kmem.tcp"));
  auto oom = BERTH_VALUE(flat_keyed(dir, "memory.oom_control"));
  m.oom_control = {get(oom, "oom_kill_disable"), get(oom, "under_oom"), get(oom, "oom_kill")};
  return {};
}

// failcnt is the nearest v2 count to v1's: memory.events' "max" (times the
// usage hit memory.max).
Status read_memory_v2(const std::string& dir, MemoryStats& m) {
  m.raw = BERTH_VALUE(flat_keyed(dir, "memory.stat"));
  m.cache = get(m.raw, "file");
  m.usage.usage = BERTH_VALUE(u64_file(dir, "memory.current"));
  m.usage.limit = BERTH_VALUE(u64_file(dir, "memory.max"));
  m.usage.max = BERTH_VALUE(u64_file(dir, "memory.peak"));  // Linux 5.19
  auto events = BERTH_VALUE(flat_keyed(dir, "memory.events"));
  m.events = {get(events, "low"), get(events, "high"), get(events, "max"), get(events, "oom"),
              get(events, "oom_kill")};
  m.usage.failcnt = m.events.max;
  auto swap = BERTH_VALUE(fs::read_u64_optional(dir, "memory.swap.current"));
  m.swap_accounting = swap.has_value();
  m.swap.usage = or_zero(swap);
  m.swap.limit = BERTH_VALUE(u64_file(dir, "memory.swap.max"));
  m.swap.max = BERTH_VALUE(u64_file(dir, "memory.swap.peak"));  // Linux 6.5
  return {};
}

Status read_pids(const std::string& dir, PidsStats& p) {
  p.current = BERTH_VALUE(u64_file(dir, "pids.current"));
  uint64_t limit = BERTH_VALUE(u64_file(dir, "pids.max"));
  p.limit = limit == UINT64_MAX ? 0 : limit;  // runc's and containerd's "no limit"
  return {};
}

// "8:0 Read 4096" lines, or "8:0 4096" (time and sectors files). The
// "Total 4608" summary line names no device and is skipped, as runc and
// containerd skip it.
Result<std::vector<BlkioEntry>> blkio_entries(const std::string& text, const std::string& path) {
  std::vector<BlkioEntry> out;
  for (auto line : fs::split_lines(text)) {
    auto f = fs::split_fields(line);
    if (f.size() != 2 && f.size() != 3) continue;
    size_t colon = f[0].find(':');
    if (colon == std::string_view::npos) continue;
    BlkioEntry e;
    e.major = BERTH_VALUE(fs::parse_u64(f[0].substr(0, colon), path));
    e.minor = BERTH_VALUE(fs::parse_u64(f[0].substr(colon + 1), path));
    if (f.size() == 3) e.op = std::string(f[1]);
    e.value = BERTH_VALUE(fs::parse_u64(f.back(), path));
    out.push_back(std::move(e));
  }
  return out;
}

// /proc/partitions: "major minor #blocks name" → "/dev/name"; containerd
// reports the name with each entry. A host without the file names none.
std::map<std::pair<uint64_t, uint64_t>, std::string> device_names(const std::string& partitions) {
  std::map<std::pair<uint64_t, uint64_t>, std::string> out;
  auto text = sys::read_file(partitions, 1 << 20);
  if (!text) return out;
  for (auto line : fs::split_lines(*text)) {
    auto f = fs::split_fields(line);
    uint64_t major = 0, minor = 0;
    if (f.size() != 4) continue;
    auto [p1, e1] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), major);
    auto [p2, e2] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), minor);
    if (e1 == std::errc() && e2 == std::errc()) out[{major, minor}] = "/dev/" + std::string(f[3]);
  }
  return out;
}

// Every family runc or containerd may report: BFQ's (a disk running BFQ),
// CFQ's (kernels before 5.0), the throttle layer's (every bio, limit or
// not), recursive or not.
constexpr const char* kBlkioFiles[] = {
    "bfq.io_service_bytes_recursive",
    "bfq.io_serviced_recursive",
    "io_service_bytes_recursive",
    "io_serviced_recursive",
    "io_queued_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "time_recursive",
    "sectors_recursive",
    "throttle.io_service_bytes_recursive",
    "throttle.io_serviced_recursive",
    "throttle.io_service_bytes",
    "throttle.io_serviced",
};

Status read_blkio_v1(const std::string& dir, const StatsHost& host, BlkioStats& b) {
  bool any = false;
  for (const char* name : kBlkioFiles) {
    std::string file = std::string("blkio.") + name;
    auto text = BERTH_VALUE(fs::read_optional(dir, file));
    if (!text) continue;
    auto& entries = b.v1[name] = BERTH_VALUE(blkio_entries(*text, fs::path_of(dir, file)));
    any = any || !entries.empty();
  }
  if (!any) return {};
  auto names = device_names(host.partitions);
  for (auto& [file, entries] : b.v1)
    for (auto& e : entries) {
      auto it = names.find({e.major, e.minor});
      if (it != names.end()) e.device = it->second;
    }
  return {};
}

// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
Status read_io_v2(const std::string& dir, BlkioStats& b) {
  auto text = BERTH_VALUE(fs::read_optional(dir, "io.stat"));
  if (!text) return {};
  std::string path = fs::path_of(dir, "io.stat");
  for (auto line : fs::split_lines(*text)) {
    auto f = fs::split_fields(line);
    if (f.empty()) continue;
    size_t colon = f[0].find(':');
    if (colon == std::string_view::npos)
      return make_error("cgroup `" + path + "`: malformed line \"" + std::string(line) + "\"");
    IoEntry e;
    e.major = BERTH_VALUE(fs::parse_u64(f[0].substr(0, colon), path));
    e.minor = BERTH_VALUE(fs::parse_u64(f[0].substr(colon + 1), path));
    const std::pair<std::string_view, uint64_t*> keys[] = {
        {"rbytes", &e.rbytes}, {"wbytes", &e.wbytes}, {"rios", &e.rios},
        {"wios", &e.wios},     {"dbytes", &e.dbytes}, {"dios", &e.dios}};
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      for (auto [key, value] : keys)
        if (f[i].substr(0, eq) == key)
          *value = BERTH_VALUE(fs::parse_u64(f[i].substr(eq + 1), path));
    }
    b.io.push_back(e);
  }
  return {};
}

// rdma.current / rdma.max: "<device> hca_handle=N hca_object=N" lines.
Result<std::vector<RdmaEntry>> rdma_entries(const std::string& dir, std::string_view file) {
  std::vector<RdmaEntry> out;
  auto text = BERTH_VALUE(fs::read_optional(dir, file));
  if (!text) return out;
  std::string path = fs::path_of(dir, file);
  for (auto line : fs::split_lines(*text)) {
    auto f = fs::split_fields(line);
    if (f.empty()) continue;
    RdmaEntry e;
    e.device = std::string(f[0]);
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      uint64_t v =
          std::min<uint64_t>(BERTH_VALUE(fs::parse_u64(f[i].substr(eq + 1), path)), UINT32_MAX);
      if (f[i].substr(0, eq) == "hca_handle") e.hca_handles = static_cast<uint32_t>(v);
      if (f[i].substr(0, eq) == "hca_object") e.hca_objects = static_cast<uint32_t>(v);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status read_rdma_v2(const std::string& dir, RdmaStats& r) {
  r.present = fs::exists(dir, "rdma.current");
  if (!r.present) return {};
  r.current = BERTH_VALUE(rdma_entries(dir, "rdma.current"));
  r.limit = BERTH_VALUE(rdma_entries(dir, "rdma.max"));
  return {};
}

Result<std::vector<uint16_t>> id_list(const std::string& dir, std::string_view file) {
  std::vector<uint16_t> out;
  auto text = BERTH_VALUE(fs::read_optional(dir, file));
  if (!text) return out;
  std::string_view rest = fs::trim(*text);
  auto bad = [&] {
    return make_error("cgroup `" + fs::path_of(dir, file) + "`: malformed list \"" +
                      std::string(rest) + "\"");
  };
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t dash = item.find('-');
    uint16_t first = 0, last = 0;
    auto num = [](std::string_view s, uint16_t& v) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && p == s.data() + s.size() && !s.empty();
    };
    if (!num(item.substr(0, dash), first)) return bad();
    last = first;
    if (dash != std::string_view::npos && !num(item.substr(dash + 1), last)) return bad();
    for (uint32_t id = first; id <= last; ++id) out.push_back(static_cast<uint16_t>(id));
  }
  return out;
}

// Page sizes from the file names present ("hugetlb.2MB.<suffix>"), so the
// same code reads a fake cgroupfs and any host.
Result<std::vector<std::string>> hugetlb_sizes(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> sizes;
  auto names = sys::list_dir(dir);
  if (!names)
    return names.error().code() == ENOENT
               ? sizes
               : Result<std::vector<std::string>>(std::move(names).error());
  std::string tail = "." + std::string(suffix);
  for (const auto& name : *names) {
    if (name.rfind("hugetlb.", 0) != 0 || name.size() <= 8 + tail.size()) continue;
    if (name.compare(name.size() - tail.size(), tail.size(), tail) != 0) continue;
    std::string size = name.substr(8, name.size() - 8 - tail.size());
    if (size.find('.') == std::string::npos) sizes.push_back(size);
  }
  std::sort(sizes.begin(), sizes.end());
  return sizes;
}

Status read_hugetlb_v1(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  for (const auto& size : BERTH_VALUE(hugetlb_sizes(dir, "usage_in_bytes"))) {
    std::string prefix = "hugetlb." + size;
    HugetlbStats h;
    h.usage = BERTH_VALUE(u64_file(dir, prefix + ".usage_in_bytes"));
    h.max = BERTH_VALUE(u64_file(dir, prefix + ".max_usage_in_bytes"));
    h.failcnt = BERTH_VALUE(u64_file(dir, prefix + ".failcnt"));
    h.limit = BERTH_VALUE(u64_file(dir, prefix + ".limit_in_bytes"));
    out[size] = h;
  }
  return {};
}

Status read_hugetlb_v2(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  for (const auto& size : BERTH_VALUE(hugetlb_sizes(dir, "current"))) {
    std::string prefix = "hugetlb." + size;
    HugetlbStats h;
    h.usage = BERTH_VALUE(u64_file(dir, prefix + ".current"));
    h.limit = BERTH_VALUE(u64_file(dir, prefix + ".max"));
    auto events = BERTH_VALUE(flat_keyed(dir, prefix + ".events"));
    h.failcnt = get(events, "max");
    out[size] = h;
  }
  return {};
}

bool has(const Hierarchy& h, std::string_view controller) {
  return std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end();
}

// A cgroup removed under us (the container exited) or never found ("").
bool is_dir(const std::string& dir) {
  if (dir.empty()) return false;
  auto st = sys::stat(dir);
  return st && S_ISDIR(st->st_mode);
}

}  // namespace

Result<Stats> stats(const Layout& layout, const Placement& placement, const StatsHost& host) {
  if (placement.dirs.size() != layout.hierarchies.size())
    return make_error("cgroup stats: the placement does not match the layout");
  Stats s;
  Sources& src = s.sources;
  auto v1_has = [&](std::string_view c) {
    for (const auto& h : layout.hierarchies)
      if (!h.unified && has(h, c)) return true;
    return false;
  };
  for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
    const Hierarchy& h = layout.hierarchies[i];
    const std::string& dir = placement.dirs[i];
    if (!is_dir(dir)) continue;
    if (h.unified) {
      if (!v1_has("cpuacct") && !v1_has("cpu")) {
        BERTH_TRY(read_cpu_v2(dir, s.cpu));
        src.cpu = src.cpuacct = Source::kV2;
      }
      if (!v1_has("memory")) {
        BERTH_TRY(read_memory_v2(dir, s.memory));
        src.memory = Source::kV2;
      }
      if (!v1_has("pids")) {
        BERTH_TRY(read_pids(dir, s.pids));
        src.pids = Source::kV2;
      }
      if (!v1_has("blkio")) {
        BERTH_TRY(read_io_v2(dir, s.blkio));
        src.blkio = Source::kV2;
      }
      if (!v1_has("cpuset")) {
        s.cpuset.cpus = BERTH_VALUE(id_list(dir, "cpuset.cpus.effective"));
        s.cpuset.mems = BERTH_VALUE(id_list(dir, "cpuset.mems.effective"));
        src.cpuset = Source::kV2;
      }
      if (!v1_has("hugetlb")) {
        BERTH_TRY(read_hugetlb_v2(dir, s.hugetlb));
        src.hugetlb = Source::kV2;
      }
      BERTH_TRY(read_rdma_v2(dir, s.rdma));
      continue;
    }
    if (has(h, "cpuacct")) {
      BERTH_TRY(read_cpuacct_v1(dir, s.cpu));
      src.cpuacct = Source::kV1;
    }
    if (has(h, "cpu")) {
      BERTH_TRY(read_cpu_throttling_v1(dir, s.cpu));
      src.cpu = Source::kV1;
    }
    if (has(h, "memory")) {
      BERTH_TRY(read_memory_v1(dir, s.memory));
      src.memory = Source::kV1;
    }
    if (has(h, "pids")) {
      BERTH_TRY(read_pids(dir, s.pids));
      src.pids = Source::kV1;
    }
    if (has(h, "blkio")) {
      BERTH_TRY(read_blkio_v1(dir, host, s.blkio));
      src.blkio = Source::kV1;
    }
    if (has(h, "cpuset")) {
      s.cpuset.cpus = BERTH_VALUE(id_list(dir, "cpuset.effective_cpus"));
      s.cpuset.mems = BERTH_VALUE(id_list(dir, "cpuset.effective_mems"));
      src.cpuset = Source::kV1;
    }
    if (has(h, "hugetlb")) {
      BERTH_TRY(read_hugetlb_v1(dir, s.hugetlb));
      src.hugetlb = Source::kV1;
    }
  }
  return s;
}

Result<uint64_t> oom_kill_count(std::string_view dir) {
  for (const char* file : {"memory.events", "memory.oom_control"}) {
    auto text = BERTH_VALUE(fs::read_optional(dir, file));
    if (!text) continue;
    auto count = BERTH_VALUE(fs::keyed_value(*text, "oom_kill", fs::path_of(dir, file)));
    return count.value_or(0);  // v1 before Linux 4.13 has no such line
  }
  return make_error("cgroup `" + std::string(dir) + "`: no memory.events or memory.oom_control",
                    ENOENT);
}

Result<uint64_t> oom_kill_count(const Placement& placement) {
  for (const auto& dir : placement.dirs) {
    auto count = oom_kill_count(dir);
    if (count || count.error().code() != ENOENT) return count;
  }
  return make_error("cgroup `" + (placement.dirs.empty() ? std::string() : placement.dirs[0]) +
                        "`: no memory.events or memory.oom_control in any of its directories",
                    ENOENT);
}

}  // namespace berth::cgroups
