// Process attributes: capabilities, rlimits, user, scheduler, I/O priority,
// personality and oom_score_adj of a container process.
//
// The apply steps run in the child between clone and exec; they build error
// text only on failure. Capability sets go through capset(2) directly (as
// libcap's own cap_set_proc does in the end) so that applying them needs no
// cap_t allocation; libcap supplies the name table.

#include "berth/linux/process_attrs.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

#include "berth/base/sys.h"

namespace berth::os {

namespace {

constexpr int kCapSysResource = 24;  // CAP_SYS_RESOURCE
constexpr int kMaxCap = 63;          // capability masks are 64 bits

uint64_t bit(int cap) { return uint64_t{1} << cap; }

// "CAP_SYS_RESOURCE" for error text (libcap's own names are lower-case).
std::string cap_name(int cap) {
  std::string name;
  if (char* text = ::cap_to_name(cap)) {
    name = text;
    ::cap_free(text);
  }
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return "capability " + std::to_string(cap);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// The highest capability the running kernel knows. /proc says it directly;
// libcap's probe is the fallback when /proc is not mounted yet.
int kernel_last_cap() {
  auto text = sys::read_file("/proc/sys/kernel/cap_last_cap", 64);
  if (text) {
    int value = -1;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    (void)p;
    if (ec == std::errc() && value >= 0) return value < kMaxCap ? value : kMaxCap;
  }
  int bits = ::cap_max_bits();
  return bits > 0 && bits <= kMaxCap + 1 ? bits - 1 : kMaxCap;
}

// Allocation-free bounding-set probe for the child: PR_CAPBSET_READ answers
// EINVAL past the kernel's last capability.
struct Bounding {
  uint64_t mask = 0;
  int last = -1;
};
Result<Bounding> read_bounding_set() {
  Bounding b;
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    int rc = sys::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (rc < 0) {
      int err = errno;
      if (err == EINVAL) break;
      return sys_error(err, "prctl PR_CAPBSET_READ", cap_name(cap));
    }
    if (rc == 1) b.mask |= bit(cap);
    b.last = cap;
  }
  return b;
}

struct CurrentCaps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};
Result<CurrentCaps> read_current_caps() {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  struct __user_cap_data_struct data[2]{};
  if (sys::capget(&header, data) != 0) return sys_error("capget");
  CurrentCaps c;
  c.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  c.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  c.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return c;
}

// capset's EPERM says only "not allowed"; the usual cause is a capability
// the host never granted us (this kind of host withholds CAP_SYS_RESOURCE),
// so find it and name it.
Error explain_capset_eperm(const CapabilitySets& sets) {
  auto current = read_current_caps();
  auto bounding = read_bounding_set();
  if (!current || !bounding) return sys_error(EPERM, "capset");
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (!((sets.permitted | sets.effective) & bit(cap)) || (current->permitted & bit(cap)))
      continue;
    if (!(bounding->mask & bit(cap)) && (sets.bounding & bit(cap)))
      return sys_error(EPERM, "capset: " + cap_name(cap) +
                                  " is not in this process's bounding set (the host withholds it)");
    return sys_error(EPERM, "capset: " + cap_name(cap) +
                                " is not in this process's permitted set (the host withholds it)");
  }
  for (int cap = 0; cap <= kMaxCap; ++cap)
    if ((sets.effective & bit(cap)) && !(sets.permitted & bit(cap)))
      return sys_error(EPERM, "capset: " + cap_name(cap) +
                                  " is in the effective set but not in the "
                                  "permitted set");
  for (int cap = 0; cap <= kMaxCap; ++cap)
    if ((sets.inheritable & bit(cap)) && !(current->inheritable & bit(cap)) &&
        !(bounding->mask & bit(cap)))
      return sys_error(EPERM, "capset: " + cap_name(cap) +
                                  " is in the inheritable set but not in the bounding set");
  return sys_error(EPERM, "capset");
}

int rlimit_resource(const spec::Rlimit& r) {
  if (r.resource >= 0) return r.resource;
  struct Entry {
    const char* name;
    int resource;
  };
  static constexpr Entry kTable[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  for (const auto& e : kTable)
    if (r.type == e.name) return e.resource;
  return -1;
}

std::string limit_text(uint64_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

// struct sched_attr (include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER0):
// glibc 2.36 has neither the struct nor a sched_setattr wrapper.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

struct NamedValue {
  const char* name;
  uint64_t value;
};
constexpr NamedValue kSchedPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};
constexpr NamedValue kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};
constexpr NamedValue kIoPrioClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};

template <size_t N>
const NamedValue* lookup(const NamedValue (&table)[N], std::string_view name) {
  for (const auto& e : table)
    if (name == e.name) return &e;
  return nullptr;
}

constexpr int kIoprioClassShift = 13;

}  // namespace

Result<CapabilitySets> resolve_capabilities(const spec::Capabilities& caps) {
  const int last = kernel_last_cap();
  CapabilitySets sets;
  auto resolve = [&](const std::vector<std::string>& names, std::string_view set,
                     uint64_t& mask) -> Status {
    for (const auto& name : names) {
      cap_value_t value = -1;
      // libcap also takes lower case and bare numbers; the spec names are
      // upper-case "CAP_..." only, as runc accepts them.
      bool spec_form = name.size() > 4 && name.compare(0, 4, "CAP_") == 0;
      for (char c : name)
        if (std::islower(static_cast<unsigned char>(c))) spec_form = false;
      if (!spec_form || ::cap_from_name(name.c_str(), &value) != 0 || value < 0)
        return make_error("process.capabilities." + std::string(set) + ": unknown capability \"" +
                          name + "\"");
      // Newer than the running kernel: nothing to grant, as runc does.
      if (value > last) continue;
      mask |= bit(value);
    }
    return {};
  };
  BERTH_TRY(resolve(caps.bounding, "bounding", sets.bounding));
  BERTH_TRY(resolve(caps.effective, "effective", sets.effective));
  BERTH_TRY(resolve(caps.inheritable, "inheritable", sets.inheritable));
  BERTH_TRY(resolve(caps.permitted, "permitted", sets.permitted));
  BERTH_TRY(resolve(caps.ambient, "ambient", sets.ambient));
  return sets;
}

// The kernel's last capability without /proc (which in the child may be the
// container's, or not mounted): start from the headers' CAP_LAST_CAP and let
// PR_CAPBSET_READ's EINVAL say where the kernel's list ends, one or two
// probes instead of one per capability.
Result<int> probe_last_cap() {
  auto known = [](int cap) -> Result<bool> {
    if (sys::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0) return true;
    int err = errno;
    if (err == EINVAL) return false;
    return sys_error(err, "prctl PR_CAPBSET_READ", cap_name(cap));
  };
  int last = CAP_LAST_CAP < kMaxCap ? CAP_LAST_CAP : kMaxCap;
  if (BERTH_VALUE(known(last))) {
    while (last < kMaxCap && BERTH_VALUE(known(last + 1))) ++last;  // a newer kernel
  } else {
    while (last > 0 && !BERTH_VALUE(known(last - 1))) --last;  // an older kernel
    --last;
  }
  return last;
}

Status drop_bounding_set(const CapabilitySets& sets) {
  const int last = BERTH_VALUE(probe_last_cap());
  // Dropping a capability the set no longer holds succeeds, so each one is
  // read only when a drop fails: without CAP_SETPCAP (EPERM) a capability
  // that is already gone is still fine.
  for (int cap = 0; cap <= last; ++cap) {
    if (sets.bounding & bit(cap)) continue;
    if (sys::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      int err = errno;
      if (sys::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
      return sys_error(err, "drop " + cap_name(cap) + " from the bounding set");
    }
  }
  return {};
}

Status apply_capabilities(const CapabilitySets& sets) {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  struct __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sets.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * i));
  }
  if (sys::capset(&header, data) != 0) {
    if (errno == EPERM) return explain_capset_eperm(sets);
    return sys_error("capset");
  }
  // Ambient capabilities (Linux 4.3) survive exec only while they stay in
  // permitted and inheritable, which is why they come after capset. Clear
  // first: the set must be exactly the config's, not ours plus it.
  if (sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    if (errno != EINVAL || sets.ambient != 0) return sys_error("prctl PR_CAP_AMBIENT_CLEAR_ALL");
  }
  // The kernel only allows ambient capabilities that are also permitted and
  // inheritable; runc and crun skip the others (`runc spec`'s own default
  // asks for ambient CAP_KILL with an empty inheritable set), and so do we.
  const uint64_t raisable = sets.ambient & sets.permitted & sets.inheritable;
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (!(raisable & bit(cap))) continue;
    if (sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      int err = errno;
      if (err == EPERM)
        return sys_error(err, "raise ambient " + cap_name(cap) +
                                  ": an ambient capability must also be permitted and inheritable");
      return sys_error(err, "raise ambient " + cap_name(cap));
    }
  }
  return {};
}

Status check_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  if (rlimits.empty()) return {};
  auto caps = BERTH_VALUE(read_current_caps());
  const bool can_raise = caps.effective & bit(kCapSysResource);
  for (const auto& r : rlimits) {
    int resource = rlimit_resource(r);
    if (resource < 0) return make_error("process.rlimits: unknown rlimit \"" + r.type + "\"");
    if (r.soft > r.hard)
      return make_error("process.rlimits: " + r.type + " soft limit " + limit_text(r.soft) +
                        " is above its hard limit " + limit_text(r.hard));
    struct rlimit current {};
    if (sys::getrlimit(resource, &current) != 0) return sys_error("getrlimit", r.type);
    // Raising a hard limit needs CAP_SYS_RESOURCE in the initial user
    // namespace, so a user namespace in the container does not help: fail
    // here, before anything exists, rather than in the child.
    if (!can_raise && r.hard > current.rlim_max)
      return make_error("process.rlimits: " + r.type + " hard limit " + limit_text(r.hard) +
                            " is above this process's hard limit " + limit_text(current.rlim_max) +
                            " and CAP_SYS_RESOURCE is missing",
                        EPERM);
  }
  return {};
}

Status apply_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  for (const auto& r : rlimits) {
    int resource = rlimit_resource(r);
    if (resource < 0) return make_error("setrlimit: unknown rlimit \"" + r.type + "\"");
    struct rlimit limit {};
    limit.rlim_cur = r.soft;
    limit.rlim_max = r.hard;
    if (sys::prlimit(0, resource, &limit, nullptr) != 0) {
      int err = errno;
      return sys_error(err, "setrlimit " + r.type + " (soft " + limit_text(r.soft) + ", hard " +
                                limit_text(r.hard) + ")");
    }
  }
  return {};
}

Status apply_user(const spec::User& user, bool setgroups_allowed) {
  static_assert(sizeof(gid_t) == sizeof(uint32_t));
  if (setgroups_allowed) {
    // Always, even with no additional gids: otherwise the container process
    // keeps the runtime's own supplementary groups.
    if (sys::setgroups(user.additional_gids.size(),
                       reinterpret_cast<const gid_t*>(user.additional_gids.data())) != 0) {
      int err = errno;
      return sys_error(
          err, "setgroups (" + std::to_string(user.additional_gids.size()) + " additional gids)");
    }
  } else if (!user.additional_gids.empty()) {
    return make_error(
        "process.user.additionalGids: cannot be set: setgroups is denied in this user namespace",
        EPERM);
  }
  // gid first: after setresuid to a non-root uid we could no longer change it.
  if (sys::setresgid(user.gid, user.gid, user.gid) != 0) {
    int err = errno;
    return sys_error(err, "setresgid " + std::to_string(user.gid));
  }
  if (sys::setresuid(user.uid, user.uid, user.uid) != 0) {
    int err = errno;
    return sys_error(err, "setresuid " + std::to_string(user.uid));
  }
  if (user.umask) sys::umask(static_cast<mode_t>(*user.umask & 07777));
  return {};
}

Status apply_scheduler(const spec::Scheduler& sched) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  if (!sched.policy.empty()) {
    const NamedValue* policy = lookup(kSchedPolicies, sched.policy);
    if (policy == nullptr)
      return make_error("process.scheduler.policy: unknown policy \"" + sched.policy + "\"");
    attr.sched_policy = static_cast<uint32_t>(policy->value);
  } else {
    attr.sched_policy = static_cast<uint32_t>(sched.policy_value);
  }
  for (const auto& name : sched.flags) {
    const NamedValue* flag = lookup(kSchedFlags, name);
    if (flag == nullptr)
      return make_error("process.scheduler.flags: unknown flag \"" + name + "\"");
    attr.sched_flags |= flag->value;
  }
  attr.sched_nice = sched.nice.value_or(0);
  attr.sched_priority = static_cast<uint32_t>(sched.priority.value_or(0));
  attr.sched_runtime = sched.runtime.value_or(0);
  attr.sched_deadline = sched.deadline.value_or(0);
  attr.sched_period = sched.period.value_or(0);
  if (sys::sched_setattr_self(&attr) != 0) {
    int err = errno;
    return sys_error(
        err, "sched_setattr (policy " +
                 (sched.policy.empty() ? std::to_string(sched.policy_value) : sched.policy) +
                 ", priority " + std::to_string(attr.sched_priority) + ", nice " +
                 std::to_string(attr.sched_nice) + ")");
  }
  return {};
}

Status apply_io_priority(const spec::IoPriority& prio) {
  int io_class = prio.class_value;
  if (!prio.class_name.empty()) {
    const NamedValue* c = lookup(kIoPrioClasses, prio.class_name);
    if (c == nullptr)
      return make_error("process.ioPriority.class: unknown class \"" + prio.class_name + "\"");
    io_class = static_cast<int>(c->value);
  }
  if (prio.priority < 0 || prio.priority > 7)
    return make_error("process.ioPriority.priority: " + std::to_string(prio.priority) +
                      " is outside 0..7");
  int value = (io_class << kIoprioClassShift) | prio.priority;
  if (sys::ioprio_set_self(value) != 0) {
    int err = errno;
    return sys_error(err,
                     "ioprio_set (class " +
                         (prio.class_name.empty() ? std::to_string(io_class) : prio.class_name) +
                         ", priority " + std::to_string(prio.priority) + ")");
  }
  return {};
}

Status apply_personality(const std::string& domain) {
  unsigned long persona;
  if (domain == "LINUX")
    persona = PER_LINUX;
  else if (domain == "LINUX32")
    persona = PER_LINUX32;
  else
    return make_error("linux.personality.domain: unknown domain \"" + domain + "\"");
  if (sys::personality(persona) == -1) {
    int err = errno;
    return sys_error(err, "personality " + domain);
  }
  return {};
}

Status apply_oom_score_adj(int32_t value) {
  if (value < -1000 || value > 1000)
    return make_error("process.oomScoreAdj: " + std::to_string(value) + " is outside -1000..1000");
  char text[16];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  (void)ec;
  constexpr std::string_view kPath = "/proc/self/oom_score_adj";
  auto fd = BERTH_VALUE(sys::open(kPath, O_WRONLY));
  // After pivot_root this is the container's /proc: never write into a
  // file a mount put there in procfs's place.
  if (BERTH_VALUE(sys::fstatfs_type(fd, kPath)) != sys::kProcSuperMagic)
    return make_error("write `/proc/self/oom_score_adj`: /proc is not procfs", EPERM);
  auto written = sys::write_all(fd, std::string_view(text, static_cast<size_t>(end - text)), kPath);
  if (!written.ok()) {
    int err = written.error().code();
    // The kernel refuses to go below the last value a privileged writer set
    // (oom_score_adj_min) without CAP_SYS_RESOURCE.
    if (err == EACCES || err == EPERM)
      return sys_error(err, "write `/proc/self/oom_score_adj` (" + std::to_string(value) +
                                "): lowering oom_score_adj needs CAP_SYS_RESOURCE, which this "
                                "process lacks");
    return std::move(written).error();
  }
  return {};
}

}  // namespace berth::os
