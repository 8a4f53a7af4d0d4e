#pragma once
// A container as berthd keeps it: what the user asked for (ContainerConfig,
// docker's Config + HostConfig in one value), the record around it
// (Container) and the store of records (ContainerStore, SQLite in
// supervisor/metadata). The OCI spec is derived from the config and the
// image's config by supervisor/oci; the task (the running process) lives in
// supervisor/tasks.
//
// Every field has docker's meaning and default; an empty/zero value means
// "not set" (the image's value or docker's default applies).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::core {

// -v / --mount / --tmpfs / VOLUME, after parsing. Named and anonymous
// volumes are resolved to a host directory (`source`) by berthd before the
// spec is generated.
struct MountSpec {
  std::string type;    // "bind", "volume", "tmpfs"
  std::string source;  // host path (bind), volume name (volume; empty: anonymous), unused (tmpfs)
  std::string target;  // absolute path in the container
  bool read_only = false;
  std::string propagation;           // bind: "rprivate" (default), "private", "rshared", ...
  std::vector<std::string> options;  // tmpfs: "size=64m", "mode=1777"; bind: "nocopy" is ignored
  bool operator==(const MountSpec&) const = default;
};

struct RestartPolicy {
  std::string name = "no";  // "no", "always", "unless-stopped", "on-failure"
  int max_retries = 0;      // on-failure:N (0: unlimited)
  bool operator==(const RestartPolicy&) const = default;
};

struct Ulimit {
  std::string name;  // "nofile" (RLIMIT_NOFILE), docker's names
  int64_t soft = 0, hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct DeviceMapping {
  std::string host_path, container_path;
  std::string permissions = "rwm";
  bool operator==(const DeviceMapping&) const = default;
};

struct Resources {
  int64_t memory = 0;       // bytes (0: unlimited)
  int64_t memory_swap = 0;  // bytes, memory+swap (-1: unlimited swap, 0: unset = 2×memory)
  int64_t nano_cpus = 0;    // --cpus × 1e9
  int64_t cpu_shares = 0;
  int64_t pids_limit = 0;  // 0: unset, -1: unlimited
  bool operator==(const Resources&) const = default;
};

struct ContainerConfig {
  std::string image;  // as the user gave it ("busybox"); the record holds the resolved id
  // Process. `entrypoint` set (even to an empty list, `--entrypoint ""`)
  // replaces the image's and clears its Cmd unless `cmd` is given too.
  std::vector<std::string> cmd;
  std::optional<std::vector<std::string>> entrypoint;
  std::vector<std::string> env;   // "K=V", after the image's Env
  std::string working_dir, user;  // user: "name", "uid", "uid:gid", "name:group"
  std::vector<std::string> group_add;
  bool tty = false, open_stdin = false;
  std::string stop_signal;           // "SIGTERM", "15"; empty: the image's, then SIGTERM
  std::optional<int> stop_timeout;   // seconds; empty: 10
  std::string hostname, domainname;  // empty: the short id
  std::map<std::string, std::string> labels;
  // Host side.
  std::vector<MountSpec> mounts;  // -v, --mount and --tmpfs in command-line order
  bool read_only = false;
  bool privileged = false;
  std::vector<std::string> cap_add, cap_drop;  // "NET_ADMIN" or "CAP_NET_ADMIN", "ALL"
  // Seccomp: empty = docker's default profile, "unconfined", or a profile's JSON text.
  std::string seccomp_profile;
  bool no_new_privileges = false;
  Resources resources;
  std::vector<Ulimit> ulimits;
  std::vector<DeviceMapping> devices;
  bool init = false;
  int64_t shm_size = 0;  // bytes; 0: 64 MiB
  std::map<std::string, std::string> sysctls;
  std::string ipc_mode, pid_mode,
      uts_mode;              // "", "host", "container:NAME|ID" ("private"/"shareable" for ipc)
  std::string network_mode;  // "none" | "host" (bridge comes with networks)
  std::string runtime;       // "" (berth), "runc", "crun", or an absolute path
  RestartPolicy restart;
  bool auto_remove = false;                        // --rm
  std::map<std::string, std::string> log_options;  // json-file: max-size, max-file
  bool operator==(const ContainerConfig&) const = default;
};

// docker's State.Status values.
enum class ContainerStatus { created, running, paused, restarting, removing, exited, dead };
std::string_view to_string(ContainerStatus s);
std::optional<ContainerStatus> container_status_from(std::string_view s);

struct ContainerState {
  ContainerStatus status = ContainerStatus::created;
  int pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;           // why the last start failed
  int64_t started_at_ns = 0;   // 0: never
  int64_t finished_at_ns = 0;  // 0: never
  int restart_count = 0;
  bool stopped_by_user =
      false;  // a manual stop: restart policies (but `always` on daemon start) hold off
  bool operator==(const ContainerState&) const = default;
};

struct Container {
  std::string id;          // 64 hex
  std::string name;        // without docker's leading '/'
  std::string image_name;  // normalised reference the config's image resolved to
  std::string image_id;    // "sha256:…" of the image's config
  std::string snapshot_key;
  std::string snapshotter;
  ContainerConfig config;
  ContainerState state;
  int64_t created_at_ns = 0;
  bool operator==(const Container&) const = default;
};

// The records. Names are unique per namespace; ids are 64 hex and unique
// per namespace. Every change is one transaction.
class ContainerStore {
 public:
  virtual ~ContainerStore() = default;
  // EEXIST naming the name or id when taken.
  virtual Status create(std::string_view ns, const Container& c) = 0;
  virtual Result<Container> get(std::string_view ns, std::string_view id) = 0;  // exact id
  virtual Result<std::vector<Container>> list(std::string_view ns) = 0;
  // Replaces the record's state (the hot path: every start and exit).
  virtual Status update_state(std::string_view ns, std::string_view id,
                              const ContainerState& state) = 0;
  // Replaces everything but the id (rename, update --restart/--memory).
  virtual Status update(std::string_view ns, const Container& c) = 0;
  virtual Status remove(std::string_view ns, std::string_view id) = 0;  // ENOENT when absent
};

}  // namespace berth::core

namespace berth::core {

// The records' JSON (the metadata store's columns): every field, snake_case
// names; unknown keys are ignored so that a newer daemon's records still load.
std::string to_json(const ContainerConfig& config);
Result<ContainerConfig> container_config_from_json(std::string_view text, std::string_view what);
std::string to_json(const ContainerState& state);
Result<ContainerState> container_state_from_json(std::string_view text, std::string_view what);

}  // namespace berth::core

namespace berth::core {

// A volume (docker's `local` driver): a directory berthd owns under
// <root>/volumes/<name>/_data, named by the user or anonymous (64 hex, made
// for `-v /path` and an image's VOLUME, removed with its container by
// `rm -v` and `--rm`).
struct Volume {
  std::string name;
  std::string mountpoint;  // absolute host path of the data directory
  std::map<std::string, std::string> labels;
  bool anonymous = false;
  int64_t created_at_ns = 0;
  bool operator==(const Volume&) const = default;
};

class VolumeStore {
 public:
  virtual ~VolumeStore() = default;
  virtual Status create(std::string_view ns, const Volume& v) = 0;  // EEXIST when taken
  virtual Result<Volume> get(std::string_view ns, std::string_view name) = 0;
  virtual Result<std::vector<Volume>> list(std::string_view ns) = 0;
  virtual Status remove(std::string_view ns, std::string_view name) = 0;  // ENOENT when absent
};

}  // namespace berth::core
