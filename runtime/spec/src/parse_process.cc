// process (config.md "Process", "POSIX process", "Linux Process", "User").

#include <sys/resource.h>

#include <set>

#include "reader.h"

namespace berth::spec {
namespace internal {
namespace {

struct NamedValue {
  std::string_view name;
  int value;
};

// getrlimit(2); values from <sys/resource.h>, all Linux has.
constexpr NamedValue kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

// include/uapi/linux/sched.h. SCHED_ISO is reserved and unimplemented: the
// spec lists it, so it parses, and sched_setattr(2) will refuse it.
constexpr NamedValue kSchedPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

constexpr std::string_view kSchedFlags[] = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};

// include/uapi/linux/ioprio.h
constexpr NamedValue kIoprioClasses[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

template <size_t N>
const NamedValue* find_named(const NamedValue (&table)[N], std::string_view name) {
  for (const NamedValue& entry : table)
    if (entry.name == name) return &entry;
  return nullptr;
}

Status parse_user(const Reader& r, const Value& v, const std::string& path, User& user) {
  Obj o = BERTH_VALUE(r.object(v, path));
  // The spec marks uid and gid REQUIRED; an absent one means 0, as in runc,
  // whose Go decoding leaves it at the zero value.
  BERTH_TRY(r.optional(o, "uid", user.uid));
  BERTH_TRY(r.optional(o, "gid", user.gid));
  BERTH_TRY(r.optional(o, "umask", user.umask));
  BERTH_TRY(r.optional(o, "additionalGids", user.additional_gids));
  return {};
}

Status parse_capabilities(const Reader& r, const Value& v, const std::string& path,
                          Capabilities& caps) {
  Obj o = BERTH_VALUE(r.object(v, path));
  struct {
    std::string_view key;
    std::vector<std::string>* out;
  } const sets[] = {
      {"bounding", &caps.bounding},       {"effective", &caps.effective},
      {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
      {"ambient", &caps.ambient},
  };
  for (const auto& set : sets) {
    BERTH_TRY(r.optional(o, set.key, *set.out));
    // Resolving names to numbers needs libcap and the running kernel's
    // CAP_LAST_CAP (unknown ones are warnings, per the spec); here only the
    // shape is checked.
    for (size_t i = 0; i < set.out->size(); ++i) {
      const std::string& name = (*set.out)[i];
      if (name.size() <= 4 || name.compare(0, 4, "CAP_") != 0)
        return r.error(index(o.at(set.key), i),
                       "capability names start with \"CAP_\", got " + quote(name));
    }
  }
  return {};
}

Status parse_rlimits(const Reader& r, const Value& v, const std::string& path,
                     std::vector<Rlimit>& out) {
  BERTH_TRY(r.array(v, path));
  std::set<int> seen;
  for (size_t i = 0; i < v.items().size(); ++i) {
    Obj o = BERTH_VALUE(r.object(v.items()[i], index(path, i)));
    Rlimit rl;
    BERTH_TRY(r.required(o, "type", rl.type));
    const NamedValue* known = find_named(kRlimits, rl.type);
    if (!known) return r.error(o.at("type"), "unknown rlimit type " + quote(rl.type));
    rl.resource = known->value;
    if (!seen.insert(rl.resource).second)
      return r.error(path, "duplicate rlimit " + quote(rl.type));
    BERTH_TRY(r.required(o, "soft", rl.soft));
    BERTH_TRY(r.required(o, "hard", rl.hard));
    if (rl.soft > rl.hard)
      return r.error(o.at("soft"), "soft limit " + std::to_string(rl.soft) +
                                       " is above the hard limit " + std::to_string(rl.hard));
    out.push_back(std::move(rl));
  }
  return {};
}

Result<Scheduler> parse_scheduler(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Scheduler s;
  BERTH_TRY(r.required(o, "policy", s.policy));
  const NamedValue* policy = find_named(kSchedPolicies, s.policy);
  if (!policy) return r.error(o.at("policy"), "unknown scheduler policy " + quote(s.policy));
  s.policy_value = policy->value;
  BERTH_TRY(r.optional(o, "nice", s.nice));
  if (s.nice && (*s.nice < -20 || *s.nice > 19))
    return r.error(o.at("nice"), "must be between -20 and 19, got " + std::to_string(*s.nice));
  BERTH_TRY(r.optional(o, "priority", s.priority));
  BERTH_TRY(r.optional(o, "flags", s.flags));
  for (size_t i = 0; i < s.flags.size(); ++i) {
    bool known = false;
    for (std::string_view f : kSchedFlags) known = known || f == s.flags[i];
    if (!known)
      return r.error(index(o.at("flags"), i), "unknown scheduler flag " + quote(s.flags[i]));
  }
  BERTH_TRY(r.optional(o, "runtime", s.runtime));
  BERTH_TRY(r.optional(o, "deadline", s.deadline));
  BERTH_TRY(r.optional(o, "period", s.period));
  return s;
}

Result<IoPriority> parse_io_priority(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  IoPriority io;
  BERTH_TRY(r.required(o, "class", io.class_name));
  const NamedValue* cls = find_named(kIoprioClasses, io.class_name);
  if (!cls) return r.error(o.at("class"), "unknown I/O priority class " + quote(io.class_name));
  io.class_value = cls->value;
  BERTH_TRY(r.optional(o, "priority", io.priority));
  if (io.priority < 0 || io.priority > 7)
    return r.error(o.at("priority"), "must be between 0 and 7, got " + std::to_string(io.priority));
  return io;
}

Status check_env(const Reader& r, const std::vector<std::string>& env, const std::string& path) {
  // An entry without "=" or with an empty name is not an environment
  // variable; runc 1.2 refuses them too rather than pass garbage to execve.
  for (size_t i = 0; i < env.size(); ++i) {
    size_t eq = env[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return r.error(index(path, i), "expected NAME=value, got " + quote(env[i]));
  }
  return {};
}

}  // namespace

Result<Process> parse_process_object(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Process p;
  BERTH_TRY(r.optional(o, "terminal", p.terminal));
  if (const Value* cs = o.get("consoleSize")) {
    Obj size = BERTH_VALUE(r.object(*cs, o.at("consoleSize")));
    ConsoleSize c;
    BERTH_TRY(r.required(size, "height", c.height));
    BERTH_TRY(r.required(size, "width", c.width));
    // "Runtimes MUST ignore consoleSize if terminal is false or unset."
    if (p.terminal) p.console_size = c;
  }
  if (const Value* user = o.get("user")) BERTH_TRY(parse_user(r, *user, o.at("user"), p.user));

  BERTH_TRY(r.optional(o, "args", p.args));
  if (p.args.empty())
    return r.error(o.at("args"), "must name the program to run (at least one entry)");
  BERTH_TRY(r.optional(o, "env", p.env));
  BERTH_TRY(check_env(r, p.env, o.at("env")));
  BERTH_TRY(r.required(o, "cwd", p.cwd));
  if (p.cwd.empty() || p.cwd[0] != '/')
    return r.error(o.at("cwd"), "must be an absolute path, got " + quote(p.cwd));

  if (const Value* caps = o.get("capabilities")) {
    Capabilities c;
    BERTH_TRY(parse_capabilities(r, *caps, o.at("capabilities"), c));
    p.capabilities = std::move(c);
  }
  if (const Value* rl = o.get("rlimits"))
    BERTH_TRY(parse_rlimits(r, *rl, o.at("rlimits"), p.rlimits));
  BERTH_TRY(r.optional(o, "noNewPrivileges", p.no_new_privileges));
  BERTH_TRY(r.optional(o, "apparmorProfile", p.apparmor_profile));
  BERTH_TRY(r.optional(o, "selinuxLabel", p.selinux_label));
  BERTH_TRY(r.optional(o, "oomScoreAdj", p.oom_score_adj));
  // The kernel's OOM_SCORE_ADJ_MIN/MAX; a write outside fails with EINVAL.
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    return r.error(o.at("oomScoreAdj"),
                   "must be between -1000 and 1000, got " + std::to_string(*p.oom_score_adj));
  if (const Value* s = o.get("scheduler"))
    p.scheduler = BERTH_VALUE(parse_scheduler(r, *s, o.at("scheduler")));
  if (const Value* io = o.get("ioPriority"))
    p.io_priority = BERTH_VALUE(parse_io_priority(r, *io, o.at("ioPriority")));
  return p;
}

}  // namespace internal

Result<Process> parse_process(std::string_view json_text, std::string_view source) {
  json::Value doc = BERTH_VALUE(json::parse(json_text, source, 64, kMaxConfigSize));
  internal::Reader r(source);
  // The document is the process object itself, so paths start at its
  // fields: "process.json: cwd: ...".
  return internal::parse_process_object(r, doc, "");
}

}  // namespace berth::spec
