// linux.resources from JSON text into Resources, with the validation that
// can be done without knowing the hierarchies: types and ranges, the kernel's
// own limits (so that a bad value is reported against its field, not as
// EINVAL from some file), and CPUs and memory nodes against the host's.
//
// Numbers are read from their exact JSON text (json::Value::as_i64/as_u64):
// 2^63-1 stays 2^63-1, 1.5 and 1e3 are errors, never rounded.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/sys.h"
#include "berth/cgroups/resources.h"
#include "berth/json/json.h"

namespace berth::cgroups {

namespace {

using json::Value;

// Reads the members of one JSON object; `path` is its dotted name in errors.
class Reader {
 public:
  Reader(const Value& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string field(std::string_view key) const { return path_ + "." + std::string(key); }
  Error error(std::string_view key, std::string_view message) const {
    return make_error(field(key) + ": " + std::string(message));
  }

  // Absent and null are both "not set", as in Go's encoding/json.
  const Value* get(std::string_view key) const {
    const Value* v = object_.get(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  Result<std::optional<int64_t>> i64(std::string_view key) const {
    const Value* v = get(key);
    if (v == nullptr) return std::optional<int64_t>();
    if (!v->is_number()) return type_error(key, "an integer", *v);
    auto n = v->as_i64();
    if (!n) return error(key, v->number_text() + " is not a 64-bit integer");
    return std::optional<int64_t>(*n);
  }

  Result<std::optional<uint64_t>> u64(std::string_view key, uint64_t max = UINT64_MAX) const {
    const Value* v = get(key);
    if (v == nullptr) return std::optional<uint64_t>();
    if (!v->is_number()) return type_error(key, "an unsigned integer", *v);
    auto n = v->as_u64();
    if (!n) {
      if (!v->number_text().empty() && v->number_text()[0] == '-' && v->as_i64())
        return error(key, v->number_text() + " is negative");
      return error(key, v->number_text() + " is not an unsigned 64-bit integer");
    }
    if (*n > max) return error(key, v->number_text() + " is larger than " + std::to_string(max));
    return std::optional<uint64_t>(*n);
  }

  template <class T>
  Result<std::optional<T>> unsigned_of(std::string_view key) const {
    auto n = BERTH_VALUE(u64(key, std::numeric_limits<T>::max()));
    if (!n) return std::optional<T>();
    return std::optional<T>(static_cast<T>(*n));
  }

  Result<std::optional<bool>> boolean(std::string_view key) const {
    const Value* v = get(key);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_bool()) return type_error(key, "a boolean", *v);
    return std::optional<bool>(v->as_bool());
  }

  Result<std::optional<std::string>> string(std::string_view key) const {
    const Value* v = get(key);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return type_error(key, "a string", *v);
    return std::optional<std::string>(v->as_string());
  }

  // A member that must be an object or an array (nullptr when absent).
  Result<const Value*> container(std::string_view key, Value::Kind kind) const {
    const Value* v = get(key);
    if (v == nullptr) return v;
    if (v->kind() != kind)
      return type_error(key, kind == Value::Kind::kObject ? "an object" : "an array", *v);
    return v;
  }

 private:
  Error type_error(std::string_view key, std::string_view expected, const Value& got) const {
    return error(key, "expected " + std::string(expected) + ", got " +
                          std::string(Value::kind_name(got.kind())));
  }

  const Value& object_;
  std::string path_;
};

template <class T>
Result<T> required(Result<std::optional<T>> value, const Reader& r, std::string_view key) {
  auto v = BERTH_VALUE(std::move(value));
  if (!v) return r.error(key, "is required");
  return *v;
}

// -1 (unlimited), 0 (unset) or a number of bytes.
Status check_bytes(const Reader& r, std::string_view key, const std::optional<int64_t>& v) {
  if (v && *v < -1)
    return r.error(key, std::to_string(*v) + " is invalid (expected -1 for unlimited or bytes)");
  return {};
}

// "0-3,7" into sorted ids. Ids are capped so that "0-4000000000" cannot
// make us allocate gigabytes.
constexpr uint32_t kMaxListId = 1 << 16;

Result<std::vector<uint32_t>> parse_id_list(std::string_view text, const std::string& what) {
  std::vector<uint32_t> ids;
  auto bad = [&](std::string why) {
    return make_error(what + ": \"" + std::string(text) + "\": " + why);
  };
  auto number = [&](std::string_view s, uint32_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  std::string_view rest = text;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  if (rest.empty()) return bad("empty list");
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (comma != std::string_view::npos && rest.empty()) return bad("trailing comma");
    size_t dash = item.find('-');
    uint32_t first = 0, last = 0;
    if (dash == std::string_view::npos) {
      if (!number(item, first)) return bad("\"" + std::string(item) + "\" is not a number");
      last = first;
    } else if (!number(item.substr(0, dash), first) || !number(item.substr(dash + 1), last)) {
      return bad("\"" + std::string(item) + "\" is not a range like 0-3");
    }
    if (last < first) return bad("range \"" + std::string(item) + "\" is reversed");
    if (last >= kMaxListId) return bad(std::to_string(last) + " is too large");
    for (uint32_t id = first; id <= last; ++id) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// cpu.cpus and cpu.mems must name online CPUs and nodes: the kernel would
// refuse the write with a bare EINVAL.
Status check_subset(const Reader& r, std::string_view key, const std::string& list,
                    const std::string& online_text, std::string_view online_file) {
  auto want = BERTH_VALUE(parse_id_list(list, r.field(key)));
  auto online = BERTH_VALUE(parse_id_list(online_text, std::string(online_file)));
  for (uint32_t id : want)
    if (!std::binary_search(online.begin(), online.end(), id))
      return r.error(key, "\"" + list + "\" includes " + std::to_string(id) +
                              ", which is not online on this host (" + std::string(online_file) +
                              ": " + std::string(online_text.substr(0, online_text.find('\n'))) +
                              ")");
  return {};
}

Status parse_memory(const Reader& r, MemoryResources& m) {
  m.limit = BERTH_VALUE(r.i64("limit"));
  m.reservation = BERTH_VALUE(r.i64("reservation"));
  m.swap = BERTH_VALUE(r.i64("swap"));
  m.kernel = BERTH_VALUE(r.i64("kernel"));
  m.kernel_tcp = BERTH_VALUE(r.i64("kernelTCP"));
  for (auto [key, value] : {std::pair{"limit", &m.limit},
                            {"reservation", &m.reservation},
                            {"swap", &m.swap},
                            {"kernel", &m.kernel},
                            {"kernelTCP", &m.kernel_tcp}})
    BERTH_TRY(check_bytes(r, key, *value));
  m.swappiness = BERTH_VALUE(r.u64("swappiness"));
  if (m.swappiness && *m.swappiness > 100)
    return r.error("swappiness", std::to_string(*m.swappiness) + " is out of range 0..100");
  m.disable_oom_killer = BERTH_VALUE(r.boolean("disableOOMKiller"));
  m.use_hierarchy = BERTH_VALUE(r.boolean("useHierarchy"));
  m.check_before_update = BERTH_VALUE(r.boolean("checkBeforeUpdate")).value_or(false);
  // swap is memory+swap (v1's memsw): below the memory limit it cannot be.
  if (m.swap && *m.swap > 0 && m.limit && *m.limit > 0 && *m.swap < *m.limit)
    return r.error("swap", std::to_string(*m.swap) + " is less than memory.limit " +
                               std::to_string(*m.limit) + " (swap is memory+swap)");
  return {};
}

Status parse_cpu(const Reader& r, CpuResources& c, const HostTopology* host) {
  c.shares = BERTH_VALUE(r.u64("shares"));
  // The kernel clamps v1 shares into 2..262144 without a word, and the v2
  // weight conversion assumes that range.
  if (c.shares && *c.shares != 0 && (*c.shares < 2 || *c.shares > 262144))
    return r.error("shares", std::to_string(*c.shares) + " is out of range 2..262144");
  c.quota = BERTH_VALUE(r.i64("quota"));
  // Kernel limits (kernel/sched/core.c): quota at least 1 ms, period 1 ms..1 s.
  if (c.quota && (*c.quota < -1 || (*c.quota > 0 && *c.quota < 1000)))
    return r.error("quota", std::to_string(*c.quota) +
                                " is invalid (expected -1 for unlimited, or at least 1000 us)");
  c.period = BERTH_VALUE(r.u64("period"));
  if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000))
    return r.error("period", std::to_string(*c.period) + " is out of range 1000..1000000 us");
  c.burst = BERTH_VALUE(r.u64("burst"));
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
    return r.error("burst", std::to_string(*c.burst) + " is larger than cpu.quota " +
                                std::to_string(*c.quota));
  c.realtime_runtime = BERTH_VALUE(r.i64("realtimeRuntime"));
  if (c.realtime_runtime && *c.realtime_runtime < -1)
    return r.error("realtimeRuntime", std::to_string(*c.realtime_runtime) + " is invalid");
  c.realtime_period = BERTH_VALUE(r.u64("realtimePeriod"));
  if (c.realtime_runtime && c.realtime_period && *c.realtime_period > 0 &&
      *c.realtime_runtime > 0 && static_cast<uint64_t>(*c.realtime_runtime) > *c.realtime_period)
    return r.error("realtimeRuntime", std::to_string(*c.realtime_runtime) +
                                          " is larger than cpu.realtimePeriod " +
                                          std::to_string(*c.realtime_period));
  c.cpus = BERTH_VALUE(r.string("cpus")).value_or("");
  c.mems = BERTH_VALUE(r.string("mems")).value_or("");
  c.idle = BERTH_VALUE(r.i64("idle"));
  if (c.idle && *c.idle != 0 && *c.idle != 1)
    return r.error("idle", std::to_string(*c.idle) + " is invalid (expected 0 or 1)");

  if (c.any_cpuset()) {
    HostTopology read;
    if (host == nullptr) {
      read = BERTH_VALUE(host_topology());
      host = &read;
    }
    if (!c.cpus.empty())
      BERTH_TRY(
          check_subset(r, "cpus", c.cpus, host->online_cpus, "/sys/devices/system/cpu/online"));
    if (!c.mems.empty())
      BERTH_TRY(
          check_subset(r, "mems", c.mems, host->online_nodes, "/sys/devices/system/node/online"));
  }
  return {};
}

Result<std::optional<uint16_t>> blkio_weight(const Reader& r, std::string_view key) {
  auto w = BERTH_VALUE(r.unsigned_of<uint16_t>(key));
  if (w && *w != 0 && (*w < 10 || *w > 1000))
    return r.error(key, std::to_string(*w) + " is out of range 10..1000");
  return w;
}

// Device numbers of block IO rules: both required and non-negative.
Status device_numbers(const Reader& r, int64_t& major, int64_t& minor) {
  major = BERTH_VALUE(required(r.i64("major"), r, "major"));
  minor = BERTH_VALUE(required(r.i64("minor"), r, "minor"));
  for (auto [key, v] : {std::pair{"major", major}, {"minor", minor}})
    if (v < 0 || v > UINT32_MAX) return r.error(key, std::to_string(v) + " is out of range");
  return {};
}

Status parse_block_io(const Reader& r, BlockIoResources& b) {
  b.weight = BERTH_VALUE(blkio_weight(r, "weight"));
  b.leaf_weight = BERTH_VALUE(blkio_weight(r, "leafWeight"));
  if (const Value* list = BERTH_VALUE(r.container("weightDevice", Value::Kind::kArray))) {
    for (size_t i = 0; i < list->items().size(); ++i) {
      std::string path = r.field("weightDevice") + "[" + std::to_string(i) + "]";
      const Value& item = list->items()[i];
      if (!item.is_object()) return make_error(path + ": expected an object");
      Reader d(item, path);
      WeightDevice w;
      BERTH_TRY(device_numbers(d, w.major, w.minor));
      w.weight = BERTH_VALUE(blkio_weight(d, "weight"));
      w.leaf_weight = BERTH_VALUE(blkio_weight(d, "leafWeight"));
      if (!w.weight && !w.leaf_weight) return make_error(path + ": needs weight or leafWeight");
      b.weight_device.push_back(w);
    }
  }
  for (auto [key, out] : {std::pair{"throttleReadBpsDevice", &b.read_bps},
                          {"throttleWriteBpsDevice", &b.write_bps},
                          {"throttleReadIOPSDevice", &b.read_iops},
                          {"throttleWriteIOPSDevice", &b.write_iops}}) {
    const Value* list = BERTH_VALUE(r.container(key, Value::Kind::kArray));
    if (list == nullptr) continue;
    for (size_t i = 0; i < list->items().size(); ++i) {
      std::string path = r.field(key) + "[" + std::to_string(i) + "]";
      const Value& item = list->items()[i];
      if (!item.is_object()) return make_error(path + ": expected an object");
      Reader d(item, path);
      ThrottleDevice t;
      BERTH_TRY(device_numbers(d, t.major, t.minor));
      t.rate = BERTH_VALUE(required(d.u64("rate"), d, "rate"));
      out->push_back(t);
    }
  }
  return {};
}

// "2MB": digits, then KB, MB, GB, TB or PB, as the hugetlb file names spell it.
bool valid_page_size(std::string_view s) {
  if (s.size() < 3 || s[0] < '1' || s[0] > '9') return false;
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  std::string_view unit = s.substr(digits);
  return unit == "KB" || unit == "MB" || unit == "GB" || unit == "TB" || unit == "PB";
}

// Names that are written into a cgroup file next to a number: a blank or a
// newline would let one entry smuggle in another.
bool plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

Status parse_lists(const Reader& r, Resources& out) {
  if (const Value* list = BERTH_VALUE(r.container("hugepageLimits", Value::Kind::kArray))) {
    for (size_t i = 0; i < list->items().size(); ++i) {
      std::string path = r.field("hugepageLimits") + "[" + std::to_string(i) + "]";
      if (!list->items()[i].is_object()) return make_error(path + ": expected an object");
      Reader h(list->items()[i], path);
      HugepageLimit limit;
      limit.page_size = BERTH_VALUE(required(h.string("pageSize"), h, "pageSize"));
      if (!valid_page_size(limit.page_size))
        return h.error("pageSize", "\"" + limit.page_size + "\" is not a size like 2MB or 1GB");
      limit.limit = BERTH_VALUE(required(h.u64("limit"), h, "limit"));
      out.hugepage_limits.push_back(std::move(limit));
    }
  }
  if (const Value* net = BERTH_VALUE(r.container("network", Value::Kind::kObject))) {
    Reader n(*net, r.field("network"));
    out.network.class_id = BERTH_VALUE(n.unsigned_of<uint32_t>("classID"));
    if (const Value* list = BERTH_VALUE(n.container("priorities", Value::Kind::kArray))) {
      for (size_t i = 0; i < list->items().size(); ++i) {
        std::string path = n.field("priorities") + "[" + std::to_string(i) + "]";
        if (!list->items()[i].is_object()) return make_error(path + ": expected an object");
        Reader p(list->items()[i], path);
        NetworkPriority prio;
        prio.name = BERTH_VALUE(required(p.string("name"), p, "name"));
        if (!plain_name(prio.name) || prio.name.size() > 15)
          return p.error("name", "\"" + prio.name + "\" is not an interface name");
        prio.priority = BERTH_VALUE(required(p.unsigned_of<uint32_t>("priority"), p, "priority"));
        out.network.priorities.push_back(std::move(prio));
      }
    }
  }
  if (const Value* rdma = BERTH_VALUE(r.container("rdma", Value::Kind::kObject))) {
    for (const auto& [device, limits] : rdma->members()) {
      std::string path = r.field("rdma") + "[\"" + device + "\"]";
      if (!plain_name(device)) return make_error(path + ": not a device name");
      if (!limits.is_object()) return make_error(path + ": expected an object");
      Reader d(limits, path);
      RdmaLimit limit;
      limit.hca_handles = BERTH_VALUE(d.unsigned_of<uint32_t>("hcaHandles"));
      limit.hca_objects = BERTH_VALUE(d.unsigned_of<uint32_t>("hcaObjects"));
      if (!limit.hca_handles && !limit.hca_objects)
        return make_error(path + ": needs hcaHandles or hcaObjects");
      out.rdma[device] = limit;
    }
  }
  return {};
}

// A unified key names a file in the container's own cgroup2 directory:
// "<controller>.<name>", nothing that could leave the directory, and none of
// the files through which processes move or die (the runtime's business).
Status check_unified_key(const std::string& path, std::string_view key) {
  auto bad = [&](std::string why) { return make_error(path + ": " + why); };
  if (key.find('/') != std::string_view::npos || key.find("..") != std::string_view::npos)
    return bad("a key may not contain \"/\" or \"..\"");
  size_t dot = key.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == key.size())
    return bad("not a cgroup file name like \"memory.high\"");
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              (i > dot && ((c >= 'A' && c <= 'Z') || c == '-'));
    if (!ok || (i < dot && c == '.')) return bad("not a cgroup file name like \"memory.high\"");
  }
  for (std::string_view reserved : {"cgroup.procs", "cgroup.threads", "cgroup.kill",
                                    "cgroup.subtree_control", "cgroup.type", "cgroup.freeze"})
    if (key == reserved) return bad("managed by the runtime, not settable");
  return {};
}

Status parse_unified(const Reader& r, Resources& out) {
  const Value* unified = BERTH_VALUE(r.container("unified", Value::Kind::kObject));
  if (unified == nullptr) return {};
  for (const auto& [key, value] : unified->members()) {
    std::string path = r.field("unified") + "[\"" + key + "\"]";
    BERTH_TRY(check_unified_key(path, key));
    if (!value.is_string()) return make_error(path + ": expected a string");
    out.unified[key] = value.as_string();
  }
  return {};
}

Status parse_devices(const Reader& r, Resources& out) {
  const Value* list = BERTH_VALUE(r.container("devices", Value::Kind::kArray));
  if (list == nullptr) return {};
  for (size_t i = 0; i < list->items().size(); ++i) {
    std::string path = r.field("devices") + "[" + std::to_string(i) + "]";
    if (!list->items()[i].is_object()) return make_error(path + ": expected an object");
    Reader d(list->items()[i], path);
    DeviceRule rule;
    rule.allow = BERTH_VALUE(required(d.boolean("allow"), d, "allow"));
    std::string type = BERTH_VALUE(d.string("type")).value_or("a");
    if (type != "a" && type != "c" && type != "b")
      return d.error("type", "\"" + type + "\" is not a, c or b");
    rule.type = type[0];
    for (auto [key, target] : {std::pair{"major", &rule.major}, {"minor", &rule.minor}}) {
      *target = BERTH_VALUE(d.i64(key)).value_or(-1);
      if (*target < -1 || *target > UINT32_MAX)
        return d.error(key, std::to_string(*target) + " is out of range (-1 means all)");
    }
    std::string access = BERTH_VALUE(d.string("access")).value_or("");
    // Absent or empty means all access, as runc writes it to v1.
    if (access.empty()) access = "rwm";
    bool r_ = false, w_ = false, m_ = false;
    for (char c : access) {
      bool& seen = c == 'r' ? r_ : c == 'w' ? w_ : m_;
      if ((c != 'r' && c != 'w' && c != 'm') || seen)
        return d.error("access", "\"" + access + "\" is not a combination of r, w and m");
      seen = true;
    }
    rule.access.clear();
    if (r_) rule.access += 'r';
    if (w_) rule.access += 'w';
    if (m_) rule.access += 'm';
    out.devices.push_back(std::move(rule));
  }
  return {};
}

Result<Resources> parse(std::string_view raw_json, std::string_view field,
                        const HostTopology* host) {
  Resources out;
  out.field = std::string(field);
  if (raw_json.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  auto doc = BERTH_VALUE(json::parse(raw_json, field));
  if (doc.is_null()) return out;
  if (!doc.is_object())
    return make_error(std::string(field) + ": expected an object, got " +
                      std::string(Value::kind_name(doc.kind())));
  Reader r(doc, std::string(field));
  if (const Value* m = BERTH_VALUE(r.container("memory", Value::Kind::kObject)))
    BERTH_TRY(parse_memory(Reader(*m, r.field("memory")), out.memory));
  if (const Value* c = BERTH_VALUE(r.container("cpu", Value::Kind::kObject)))
    BERTH_TRY(parse_cpu(Reader(*c, r.field("cpu")), out.cpu, host));
  if (const Value* p = BERTH_VALUE(r.container("pids", Value::Kind::kObject))) {
    Reader pr(*p, r.field("pids"));
    out.pids_limit = BERTH_VALUE(pr.i64("limit"));
    if (out.pids_limit && *out.pids_limit < -1)
      return pr.error("limit", std::to_string(*out.pids_limit) +
                                   " is invalid (expected -1 for unlimited, or a count)");
  }
  if (const Value* b = BERTH_VALUE(r.container("blockIO", Value::Kind::kObject)))
    BERTH_TRY(parse_block_io(Reader(*b, r.field("blockIO")), out.block_io));
  BERTH_TRY(parse_lists(r, out));
  BERTH_TRY(parse_unified(r, out));
  BERTH_TRY(parse_devices(r, out));
  return out;
}

}  // namespace

bool MemoryResources::any() const {
  return limit || reservation || swap || kernel_tcp || swappiness || disable_oom_killer ||
         use_hierarchy;
}

bool CpuResources::any_cpu() const {
  return shares || quota || burst || period || realtime_runtime || realtime_period || idle;
}

bool BlockIoResources::any() const {
  return weight || leaf_weight || !weight_device.empty() || !read_bps.empty() ||
         !write_bps.empty() || !read_iops.empty() || !write_iops.empty();
}

Result<HostTopology> host_topology() {
  HostTopology host;
  host.online_cpus = BERTH_VALUE(sys::read_file("/sys/devices/system/cpu/online", 1 << 16));
  // Kernels without NUMA have no node directory: then there is one node, 0.
  auto nodes = sys::read_file("/sys/devices/system/node/online", 1 << 16);
  if (nodes) {
    host.online_nodes = std::move(*nodes);
  } else if (nodes.error().code() == ENOENT) {
    host.online_nodes = "0";
  } else {
    return std::move(nodes).error();
  }
  return host;
}

Result<Resources> parse_resources(std::string_view raw_json, std::string_view field) {
  return parse(raw_json, field, nullptr);
}

Result<Resources> parse_resources(std::string_view raw_json, std::string_view field,
                                  const HostTopology& host) {
  return parse(raw_json, field, &host);
}

}  // namespace berth::cgroups
