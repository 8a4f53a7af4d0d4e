#pragma once
// The parts of a runtime-spec config this generator fills, as plain values:
// the rules build them, write.cc turns them into JSON. Unset optionals are
// left out of the document, as Go's omitempty leaves them out of docker's.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::oci {

struct User {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home;  // from passwd; "" when the user has no entry
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0, hard = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, permitted;
};

struct Process {
  bool terminal = false;
  User user;
  std::vector<std::string> args, env;
  std::string cwd = "/";
  Capabilities caps;
  bool no_new_privileges = false;
  std::vector<Rlimit> rlimits;
};

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct Namespace {
  std::string type, path;
};

struct Device {
  std::string path, type;  // "c", "b", "p"
  int64_t major = 0, minor = 0;
  uint32_t file_mode = 0, uid = 0, gid = 0;
};

struct DeviceRule {
  bool allow = false;
  std::string type;                     // "" = all
  std::optional<int64_t> major, minor;  // unset = all
  std::string access = "rwm";
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<int64_t> memory_limit, memory_swap;
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<int64_t> cpu_quota;
  std::optional<int64_t> pids_limit;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures, flags;
  std::vector<SeccompRule> syscalls;
};

struct Spec {
  Process process;
  std::string root_path;
  bool root_readonly = false;
  std::string hostname, domainname;
  std::vector<Mount> mounts;
  std::vector<Namespace> namespaces;
  std::vector<std::string> masked_paths, readonly_paths;
  std::vector<Device> devices;
  Resources resources;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string cgroups_path;
  std::string rootfs_propagation;
};

}  // namespace berth::oci
