// linux (config-linux.md).

#include <set>

#include "reader.h"

namespace berth::spec::internal {
namespace {

constexpr std::string_view kSeccompActions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::string_view kSeccompOps[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::string_view kSeccompFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::string_view kPropagations[] = {
    "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

template <size_t N>
bool one_of(const std::string_view (&names)[N], std::string_view name) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

std::optional<NamespaceType> namespace_type_from(std::string_view name) {
  constexpr NamespaceType kAll[] = {
      NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kMount,  NamespaceType::kIpc,
      NamespaceType::kUts, NamespaceType::kUser,    NamespaceType::kCgroup, NamespaceType::kTime};
  for (NamespaceType t : kAll)
    if (namespace_type_name(t) == name) return t;
  return std::nullopt;
}

Status parse_namespaces(const Reader& r, const Value& v, const std::string& path,
                        std::vector<Namespace>& out) {
  BERTH_TRY(r.array(v, path));
  for (size_t i = 0; i < v.items().size(); ++i) {
    Obj o = BERTH_VALUE(r.object(v.items()[i], index(path, i)));
    std::string type;
    BERTH_TRY(r.required(o, "type", type));
    std::optional<NamespaceType> t = namespace_type_from(type);
    if (!t) return r.error(o.at("type"), "unknown namespace type " + quote(type));
    for (const Namespace& earlier : out)
      if (earlier.type == *t) return r.error(path, "duplicate namespace " + quote(type));
    Namespace ns{*t, {}};
    BERTH_TRY(r.optional(o, "path", ns.path));
    if (!ns.path.empty() && ns.path[0] != '/')
      return r.error(o.at("path"), "must be an absolute path, got " + quote(ns.path));
    out.push_back(std::move(ns));
  }
  return {};
}

Status parse_time_offsets(const Reader& r, const Value& v, const std::string& path,
                          std::map<std::string, TimeOffset>& out) {
  Obj o = BERTH_VALUE(r.object(v, path));
  for (const auto& [clock, item] : v.members()) {
    std::string clock_path = o.at(clock);
    // time_namespaces(7): only these two clocks can be offset.
    if (clock != "monotonic" && clock != "boottime")
      return r.error(clock_path, "unknown clock (expected \"monotonic\" or \"boottime\")");
    Obj entry = BERTH_VALUE(r.object(item, clock_path));
    TimeOffset off;
    BERTH_TRY(r.optional(entry, "secs", off.secs));
    BERTH_TRY(r.optional(entry, "nanosecs", off.nanosecs));
    if (off.nanosecs >= 1000000000)
      return r.error(entry.at("nanosecs"),
                     "must be below 1000000000, got " + std::to_string(off.nanosecs));
    out[clock] = off;
  }
  return {};
}

Status parse_devices(const Reader& r, const Value& v, const std::string& path,
                     std::vector<Device>& out) {
  BERTH_TRY(r.array(v, path));
  for (size_t i = 0; i < v.items().size(); ++i) {
    Obj o = BERTH_VALUE(r.object(v.items()[i], index(path, i)));
    Device d;
    std::string type;
    BERTH_TRY(r.required(o, "type", type));
    if (type != "c" && type != "u" && type != "b" && type != "p")
      return r.error(o.at("type"), "unknown device type " + quote(type) +
                                       " (expected \"c\", \"u\", \"b\" or \"p\")");
    d.type = type[0];
    const Value* path_value = o.get("path");
    if (!path_value) return r.error(o.at("path"), "required");
    BERTH_TRY(read_container_path(r, *path_value, o.at("path"), d.path));
    if (d.type == 'p') {
      // A FIFO has no device number; any given is ignored by mknod(2).
      BERTH_TRY(r.optional(o, "major", d.major));
      BERTH_TRY(r.optional(o, "minor", d.minor));
    } else {
      BERTH_TRY(r.required(o, "major", d.major));
      BERTH_TRY(r.required(o, "minor", d.minor));
    }
    BERTH_TRY(r.optional(o, "fileMode", d.file_mode));
    BERTH_TRY(r.optional(o, "uid", d.uid));
    BERTH_TRY(r.optional(o, "gid", d.gid));
    out.push_back(std::move(d));
  }
  return {};
}

// errnoRet makes sense only for actions that return an errno; the spec
// requires an error otherwise rather than silently dropping it.
bool takes_errno(std::string_view action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

Result<SeccompSyscall> parse_syscall(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  SeccompSyscall sc;
  BERTH_TRY(r.required(o, "names", sc.names));
  if (sc.names.empty()) return r.error(o.at("names"), "must contain at least one syscall name");
  for (size_t i = 0; i < sc.names.size(); ++i)
    if (sc.names[i].empty()) return r.error(index(o.at("names"), i), "must not be empty");
  BERTH_TRY(r.required(o, "action", sc.action));
  if (!one_of(kSeccompActions, sc.action))
    return r.error(o.at("action"), "unknown seccomp action " + quote(sc.action));
  BERTH_TRY(r.optional(o, "errnoRet", sc.errno_ret));
  if (sc.errno_ret && !takes_errno(sc.action))
    return r.error(o.at("errnoRet"), "not allowed with action " + quote(sc.action));
  if (const Value* args = o.get("args")) {
    std::string args_path = o.at("args");
    BERTH_TRY(r.array(*args, args_path));
    for (size_t i = 0; i < args->items().size(); ++i) {
      Obj a = BERTH_VALUE(r.object(args->items()[i], index(args_path, i)));
      SeccompArg arg;
      BERTH_TRY(r.required(a, "index", arg.index));
      // A syscall has at most six arguments (seccomp_data.args[6]).
      if (arg.index > 5)
        return r.error(a.at("index"), "must be between 0 and 5, got " + std::to_string(arg.index));
      BERTH_TRY(r.required(a, "value", arg.value));
      BERTH_TRY(r.optional(a, "valueTwo", arg.value_two));
      BERTH_TRY(r.required(a, "op", arg.op));
      if (!one_of(kSeccompOps, arg.op))
        return r.error(a.at("op"), "unknown seccomp operator " + quote(arg.op));
      sc.args.push_back(std::move(arg));
    }
  }
  return sc;
}

Result<Seccomp> parse_seccomp(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Seccomp s;
  BERTH_TRY(r.required(o, "defaultAction", s.default_action));
  if (!one_of(kSeccompActions, s.default_action))
    return r.error(o.at("defaultAction"), "unknown seccomp action " + quote(s.default_action));
  BERTH_TRY(r.optional(o, "defaultErrnoRet", s.default_errno_ret));
  if (s.default_errno_ret && !takes_errno(s.default_action))
    return r.error(o.at("defaultErrnoRet"),
                   "not allowed with defaultAction " + quote(s.default_action));
  BERTH_TRY(r.optional(o, "architectures", s.architectures));
  for (size_t i = 0; i < s.architectures.size(); ++i)
    if (s.architectures[i].rfind("SCMP_ARCH_", 0) != 0)
      return r.error(
          index(o.at("architectures"), i),
          "architecture names start with \"SCMP_ARCH_\", got " + quote(s.architectures[i]));
  BERTH_TRY(r.optional(o, "flags", s.flags));
  for (size_t i = 0; i < s.flags.size(); ++i)
    if (!one_of(kSeccompFlags, s.flags[i]))
      return r.error(index(o.at("flags"), i), "unknown seccomp flag " + quote(s.flags[i]));
  BERTH_TRY(r.optional(o, "listenerPath", s.listener_path));
  if (!s.listener_path.empty() && s.listener_path[0] != '/')
    return r.error(o.at("listenerPath"), "must be an absolute path, got " + quote(s.listener_path));
  BERTH_TRY(r.optional(o, "listenerMetadata", s.listener_metadata));
  if (!s.listener_metadata.empty() && s.listener_path.empty())
    return r.error(o.at("listenerMetadata"), "requires listenerPath");
  if (const Value* calls = o.get("syscalls")) {
    std::string calls_path = o.at("syscalls");
    BERTH_TRY(r.array(*calls, calls_path));
    for (size_t i = 0; i < calls->items().size(); ++i)
      s.syscalls.push_back(BERTH_VALUE(parse_syscall(r, calls->items()[i], index(calls_path, i))));
  }
  return s;
}

Status parse_paths(const Reader& r, const Obj& o, std::string_view key,
                   std::vector<std::string>& out) {
  const Value* v = o.get(key);
  if (!v) return {};
  std::string path = o.at(key);
  BERTH_TRY(r.array(*v, path));
  for (size_t i = 0; i < v->items().size(); ++i) {
    std::string p;
    BERTH_TRY(read_container_path(r, v->items()[i], index(path, i), p));
    out.push_back(std::move(p));
  }
  return {};
}

// Kept as text for the cgroup and RDT layers; the Writer re-serializes the
// DOM, so numbers keep their exact digits (memory limits near 2^63, -1).
Result<std::string> raw_object(const Reader& r, const Value& v, const std::string& path) {
  BERTH_TRY(r.object(v, path));
  json::Writer w;
  w.value(v);
  if (!w.ok()) return r.error(path, "cannot be re-serialized");
  return w.str();
}

}  // namespace

Result<Linux> parse_linux_object(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Linux l;
  if (const Value* ns = o.get("namespaces"))
    BERTH_TRY(parse_namespaces(r, *ns, o.at("namespaces"), l.namespaces));
  BERTH_TRY(parse_id_mappings(r, o, "uidMappings", l.uid_mappings));
  BERTH_TRY(parse_id_mappings(r, o, "gidMappings", l.gid_mappings));
  if (const Value* t = o.get("timeOffsets"))
    BERTH_TRY(parse_time_offsets(r, *t, o.at("timeOffsets"), l.time_offsets));
  if (const Value* d = o.get("devices"))
    BERTH_TRY(parse_devices(r, *d, o.at("devices"), l.devices));
  BERTH_TRY(r.optional(o, "cgroupsPath", l.cgroups_path));
  if (const Value* res = o.get("resources"))
    l.resources.raw_json = BERTH_VALUE(raw_object(r, *res, o.at("resources")));
  BERTH_TRY(r.optional(o, "rootfsPropagation", l.rootfs_propagation));
  if (!one_of(kPropagations, l.rootfs_propagation))
    return r.error(o.at("rootfsPropagation"),
                   "unknown propagation " + quote(l.rootfs_propagation) +
                       " (expected shared, slave, private, unbindable or their r- forms)");
  BERTH_TRY(r.optional(o, "sysctl", l.sysctl));
  BERTH_TRY(parse_paths(r, o, "maskedPaths", l.masked_paths));
  BERTH_TRY(parse_paths(r, o, "readonlyPaths", l.readonly_paths));
  BERTH_TRY(r.optional(o, "mountLabel", l.mount_label));
  if (const Value* s = o.get("seccomp"))
    l.seccomp = BERTH_VALUE(parse_seccomp(r, *s, o.at("seccomp")));
  if (const Value* p = o.get("personality")) {
    Obj po = BERTH_VALUE(r.object(*p, o.at("personality")));
    std::string domain;
    BERTH_TRY(r.required(po, "domain", domain));
    if (domain != "LINUX" && domain != "LINUX32")
      return r.error(po.at("domain"), "unknown personality domain " + quote(domain) +
                                          " (expected LINUX or LINUX32)");
    l.personality_domain = std::move(domain);
    BERTH_TRY(r.optional(po, "flags", l.personality_flags));
  }
  if (const Value* rdt = o.get("intelRdt"))
    l.intel_rdt_raw = BERTH_VALUE(raw_object(r, *rdt, o.at("intelRdt")));
  return l;
}

}  // namespace berth::spec::internal
