#pragma once
// A container's state directory, <root>/<id>/ (mode 0700):
//   state.json   what later commands need (pid + start time, bundle, cgroups)
//   config.json  the config as created (hooks for start and delete)
//   exec.sock    exists while the init waits for `start` (status "created")
// Every command holds an exclusive flock on the directory while it works, so
// concurrent commands on one container serialise.

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/container/container.h"

namespace berth::container {

struct StoredState {
  std::string id;
  std::string oci_version;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/pid/stat starttime: guards against pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;
  std::string owner;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> cgroup_dirs;
  std::vector<bool> cgroup_created;
  std::vector<std::string> cgroup_made_dirs;  // parents berth made, removed on delete
};

// Every host mounts at least one hierarchy, so an empty cgroup list means
// the container was created with --cgroup-manager=disabled.
inline bool has_cgroup(const StoredState& s) { return !s.cgroup_dirs.empty(); }
inline Error no_cgroup_error(const StoredState& s, std::string_view what) {
  return make_error("cannot " + std::string(what) + " container `" + s.id +
                        "`: it has no cgroup (created with --cgroup-manager=disabled)",
                    ENOTSUP);
}

class StateDir {
 public:
  // Makes <root>/<id> (and root) and locks it; "container `id` already
  // exists" when it is there.
  static Result<StateDir> create(const std::string& root, std::string_view id);
  // Opens and locks an existing one: "container `id` does not exist".
  static Result<StateDir> open(const std::string& root, std::string_view id);

  const std::string& path() const { return path_; }
  BorrowedFd fd() const { return BorrowedFd(fd_); }
  // The exec socket through /proc/self/fd, whatever the length of root.
  std::string exec_socket() const;
  bool has_exec_socket() const;

  Status save(const StoredState& state) const;
  Result<StoredState> load() const;
  Status save_config(std::string_view config_json) const;
  Result<std::string> load_config() const;
  // Lets other commands in while this one goes on (a foreground exec).
  void release_lock() { fd_.reset(); }
  // Removes the directory and everything in it; the lock goes with it.
  Status destroy();

 private:
  StateDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

// Status from the live system: is the init (pid + start time) alive, is it
// still waiting on exec.sock.
ContainerStatus current_status(const StoredState& state, const StateDir& dir);
bool init_alive(const StoredState& state);

State public_state(const StoredState& stored, ContainerStatus status);

// runc's words (libcontainer/error.go, runc 1.1) for the refusals its
// callers match on: containerd-shim-runc-v2 takes a kill failing with
// "container not running" as an exit already seen and "does not exist" as a
// missing container, and reports anything else as a failed kill. Each
// message names the id too: "container `ID`: container not running".
inline constexpr std::string_view kNotRunning = "container not running";
inline constexpr std::string_view kNotExist = "container does not exist";
inline constexpr std::string_view kExist = "container with given ID already exists";
inline constexpr std::string_view kPaused = "container paused";
Error not_running_error(std::string_view id);
// "cannot VERB container `ID`: " and why, in runc's words when it has some.
Error refused_in_state(std::string_view verb, std::string_view id, ContainerStatus status,
                       std::string_view hint = {});

}  // namespace berth::container
