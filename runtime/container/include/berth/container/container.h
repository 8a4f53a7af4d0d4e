#pragma once
// The container lifecycle as a library: what the `berth` CLI calls. Each
// operation takes the state root (runc's --root) and a container id, locks
// the container's state directory, and follows the OCI runtime spec's
// lifecycle: creating → created → running → stopped (paused in part 2).

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::container {

struct Globals {
  std::string root = "/run/berth";
  bool systemd_cgroup = false;
  // --cgroup-manager=disabled: create makes and joins no cgroup. Later
  // commands tell such a container by its empty cgroup list in the state.
  bool cgroups_disabled = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string console_socket;
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  // Set by `run` in the foreground: with process.terminal and no console
  // socket, berth itself relays the pty to its own stdio (as runc does).
  bool relay_console = false;
};

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view status_name(ContainerStatus status);

struct State {
  std::string oci_version;
  std::string id;
  ContainerStatus status = ContainerStatus::kStopped;
  pid_t pid = 0;  // 0 once stopped
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC, nanoseconds
  std::string owner;
  std::map<std::string, std::string> annotations;
};
// The runtime-spec state object plus runc's rootfs, created and owner.
std::string state_json(const State& state, bool pretty);
std::string state_list_json(const std::vector<State>& states);

Status create(const Globals& globals, const CreateOptions& options);
Status start(const Globals& globals, std::string_view id);
// create + start; unless detached, waits, forwards signals, deletes the
// container and returns the exit code of its process (128 + signal).
Result<int> run(const Globals& globals, const CreateOptions& options, bool detach);
Result<State> state(const Globals& globals, std::string_view id);
Status kill(const Globals& globals, std::string_view id, int signal, bool all);
// `delete`: a container that is not stopped is refused unless force.
Status remove(const Globals& globals, std::string_view id, bool force);
Result<std::vector<State>> list(const Globals& globals);
Result<std::vector<pid_t>> pids(const Globals& globals, std::string_view id);

struct ExecOptions {
  std::string id;
  std::string process_file;       // --process: a process.json (replaces args, env, ...)
  std::vector<std::string> args;  // the command when no --process
  bool tty = false;
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;  // added to the container's env (replacing same names)
  std::string user;              // "uid[:gid]"
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> capabilities;  // added to the container's sets
  bool no_new_privs = false;
  std::string apparmor;
  std::string pid_file;
  bool detach = false;
  int preserve_fds = 0;
};
// Runs a new process in a running container: its namespaces, its cgroup and
// the same security as the init. Returns the exit code unless detached.
Result<int> exec(const Globals& globals, const ExecOptions& options);

// Freezes / thaws every process of the container (cgroup freezer).
Status pause(const Globals& globals, std::string_view id);
Status resume(const Globals& globals, std::string_view id);
// Applies a linux.resources object to a live container; `field` names its
// source in errors ("--resources").
Status update(const Globals& globals, std::string_view id, std::string_view resources_json,
              std::string_view field);
// One stats event in runc's `events --stats` format:
// {"type":"stats","id":"…","data":{cpu, memory, pids, blkio, hugetlb}}.
Result<std::string> stats_event(const Globals& globals, std::string_view id);
// runc's `events`: a stats event every interval and an "oom" event each time
// the kernel OOM-kills in the container, until the container stops. `emit`
// gets each JSON line.
Status events(const Globals& globals, std::string_view id, int interval_ms,
              void (*emit)(const std::string& line));

// Validates a container id: [A-Za-z0-9_+.-]{1,1024}, not "." or "..".
Status validate_id(std::string_view id);

}  // namespace berth::container
