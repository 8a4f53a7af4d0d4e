#pragma once
// The OCI runtime-spec 1.2 configuration (config.json) as plain data.
// Parsed and validated by parse_spec(); yajl never leaves this library.
// Fields the spec marks optional are std::optional (absent ≠ zero); 64-bit
// unsigned values (rlimits, memory, seccomp args) are held exactly, including
// 2^64-1. Only what berth acts on is modelled; unknown keys are ignored, as
// the spec requires for forward compatibility.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::spec {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Capabilities {
  // Names as in the spec ("CAP_CHOWN"); validated against libcap's list.
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  std::string type;   // "RLIMIT_NOFILE"
  int resource = -1;  // resolved RLIMIT_* number
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER, SCHED_FIFO, ...
  int policy_value = 0;
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime, deadline, period;
};

struct IoPriority {
  std::string class_name;  // IOPRIO_CLASS_RT | BE | IDLE
  int class_value = 0;
  int32_t priority = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int32_t> oom_score_adj;
  std::string selinux_label;
  std::optional<Scheduler> scheduler;
  std::optional<IoPriority> io_priority;
};

struct Root {
  std::string path;  // as written: relative to the bundle or absolute
  bool readonly = false;
};

struct Mount {
  std::string destination;  // absolute; parse_spec cleans it ("/a/./b/" -> "/a/b")
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<struct IdMapping> uid_mappings, gid_mappings;  // idmapped mounts
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };
std::string_view namespace_type_name(NamespaceType type);  // "pid", "network", ...
int namespace_clone_flag(NamespaceType type);              // CLONE_NEWPID, ...
std::string_view namespace_proc_name(NamespaceType type);  // "pid", "net", "mnt", ...

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: create a new one; else join the namespace at path
};

struct Device {
  std::string path;  // absolute and cleaned, like Mount::destination
  char type = 'c';   // 'c', 'u' (= 'c'), 'b', 'p'
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

// linux.resources: kept as the raw JSON text of the object so the cgroup
// layer (runtime part 2) can parse what it applies; part 1 only places the
// process. Also parsed: devices allow/deny list is applied by the cgroup layer.
struct Resources {
  std::string raw_json;  // "" when absent
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_EQ, ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::string cgroups_path;
  Resources resources;
  std::string rootfs_propagation;  // "", [r]shared, [r]slave, [r]private, [r]unbindable
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;    // absolute and cleaned
  std::vector<std::string> readonly_paths;  // absolute and cleaned
  std::string mount_label;
  std::optional<Seccomp> seccomp;
  std::optional<std::string> personality_domain;  // LINUX or LINUX32
  std::vector<std::string> personality_flags;
  std::optional<std::string> intel_rdt_raw;  // not supported: rejected if set
};

struct Spec {
  std::string oci_version;
  std::optional<Root> root;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_;  // "linux" is a macro under GCC

  bool has_namespace(NamespaceType type) const;
  const Namespace* find_namespace(NamespaceType type) const;
};

// Parses and validates config.json text. `source` names the file in errors:
// "config.json: process.cwd: must be an absolute path, got \"tmp\"".
// Rejects: invalid JSON, wrong types, nesting deeper than 64, text larger
// than kMaxConfigSize, unknown namespace types, duplicate namespaces, relative
// cwd, bad mount destinations, unknown rlimits, negative ids, ...
constexpr size_t kMaxConfigSize = 16 << 20;
Result<Spec> parse_spec(std::string_view json_text, std::string_view source = "config.json");

// Parses a process.json (runc exec --process): the Process object alone.
Result<Process> parse_process(std::string_view json_text, std::string_view source);

// The default config.json `berth spec` writes (runc's defaults: sh, terminal,
// default caps, masked paths); `rootless` adds a user namespace and mappings
// for the calling user.
std::string default_spec_json(bool rootless, uint32_t uid, uint32_t gid);

}  // namespace berth::spec
