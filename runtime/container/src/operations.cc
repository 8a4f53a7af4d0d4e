// start, state, kill, delete, list, ps: the commands after create.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"
#include "berth/cgroups/resources.h"
#include "berth/linux/hooks.h"
#include "create_internal.h"
#include "prepared.h"
#include "state_store.h"

namespace berth::container {

namespace {

cgroups::Placement placement_of(const StoredState& s) {
  cgroups::Placement placement;
  placement.dirs = s.cgroup_dirs;
  placement.created = s.cgroup_created;
  placement.made_dirs = s.cgroup_made_dirs;
  return placement;
}

Result<spec::Spec> stored_spec(const StateDir& dir) {
  auto text = BERTH_VALUE(dir.load_config());
  return spec::parse_spec(text, dir.path() + "/config.json");
}

// Signals the init through a pidfd opened after checking its start time, so
// a recycled pid is never signalled.
Status signal_init(const StoredState& s, int sig) {
  auto pidfd = sys::pidfd_open(s.pid);
  if (!pidfd || !init_alive(s)) return not_running_error(s.id);
  return sys::pidfd_send_signal(*pidfd, sig);
}

Status signal_all(const StoredState& s, int sig) { return cgroups::kill_all(placement_of(s), sig); }

// Waits until the init is gone, polling its pidfd (readable on exit).
Status wait_gone(const StoredState& s, std::chrono::milliseconds timeout) {
  auto pidfd = sys::pidfd_open(s.pid);
  if (!pidfd || !init_alive(s)) return {};
  struct pollfd pfd {
    pidfd->get(), POLLIN, 0
  };
  int rc = sys::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc <= 0 && init_alive(s))
    return make_error("container `" + s.id + "`: init did not exit after SIGKILL", ETIMEDOUT);
  return {};
}

Status cleanup(StateDir& dir, const StoredState& s) {
  auto placement = placement_of(s);
  // The kernel refuses to rmdir a cgroup that holds a process, so when the
  // container made every one of its cgroups, a first removal that succeeds
  // proves it left no process behind, without reading and listing each
  // hierarchy first. A cgroup it did not make is not removed: look inside.
  bool made_all = placement.created.size() == placement.dirs.size() &&
                  std::all_of(placement.created.begin(), placement.created.end(),
                              [](bool made) { return made; });
  bool removed = made_all && cgroups::remove(placement).ok();
  // Without its own pid namespace a container's other processes outlive its
  // init: kill what is left in the cgroup, as runc's delete does.
  if (auto left =
          removed ? Result<std::vector<pid_t>>(std::vector<pid_t>()) : cgroups::pids(placement);
      left && !left->empty()) {
    (void)cgroups::kill_all(placement, SIGKILL);
    for (int i = 0; i < 200; ++i) {
      auto now = cgroups::pids(placement);
      if (!now || now->empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // The processes are gone; a cgroup may report busy for a moment while
  // the kernel finishes tearing them down.
  Status cg;
  for (int attempt = 0; attempt < 50 && !removed; ++attempt) {
    cg = cgroups::remove(placement);
    if (cg) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto spec = stored_spec(dir);
  if (spec) {
    std::string state =
        hook_state_json(s.id, ContainerStatus::kStopped, 0, s.bundle, s.annotations);
    // Poststop hook failures are logged, not fatal (runtime spec).
    for (size_t i = 0; i < spec->hooks.poststop.size(); ++i) {
      auto st = os::run_hook(spec->hooks.poststop[i], "poststop", i, state);
      if (!st) std::fprintf(stderr, "berth: warning: %s\n", st.error().to_string().c_str());
    }
  }
  BERTH_TRY(dir.destroy());
  if (!cg) return std::move(cg).error();
  return {};
}

}  // namespace

std::string_view status_name(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kPaused: return "paused";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

Status validate_id(std::string_view id) {
  if (id.empty()) return make_error("container id: must not be empty");
  if (id.size() > 1024) return make_error("container id: longer than 1024 characters");
  if (id == "." || id == "..")
    return make_error("container id: `" + std::string(id) + "` is not allowed");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok)
      return make_error("container id `" + std::string(id) +
                        "`: only letters, digits and _ + - . are allowed");
  }
  return {};
}

Status start_locked(const StateDir& dir, const StoredState& s, const spec::Spec& spec) {
  auto status = current_status(s, dir);
  if (status != ContainerStatus::kCreated)
    return refused_in_state("start", s.id, status, "not created");
  auto conn = BERTH_VALUE(sys::connect_unix(dir.exec_socket()));
  BERTH_TRY(sys::write_all(conn, "s", "exec.sock"));
  // EOF means the exec happened (the connection is close-on-exec in the
  // init); any text is the init's reason for failing.
  auto reply = sys::read_all(conn, 64 << 10, "exec.sock");
  sys::unlinkat(dir.fd().get(), "exec.sock", 0);
  if (!reply) return std::move(reply).error();
  if (!reply->empty()) return make_error("start: " + *reply, EIO);
  std::string state =
      hook_state_json(s.id, ContainerStatus::kRunning, s.pid, s.bundle, s.annotations);
  for (size_t i = 0; i < spec.hooks.poststart.size(); ++i) {
    auto st = os::run_hook(spec.hooks.poststart[i], "poststart", i, state);
    if (!st) std::fprintf(stderr, "berth: warning: %s\n", st.error().to_string().c_str());
  }
  return {};
}

Status start(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  auto spec = BERTH_VALUE(stored_spec(dir));
  return start_locked(dir, s, spec);
}

Result<State> state(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  return public_state(s, current_status(s, dir));
}

Status kill(const Globals& globals, std::string_view id, int sig, bool all) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  // --all reaches what is left in the cgroup even after the init died (a
  // container without its own pid namespace): runc allows it, and
  // containerd's shim relies on it.
  // Without a cgroup nothing else finds the container's processes: --all
  // reaches the init only (podman sends no --all to such a container).
  if (all && has_cgroup(s)) return signal_all(s, sig);
  if (current_status(s, dir) == ContainerStatus::kStopped) return not_running_error(s.id);
  return signal_init(s, sig);
}

Status remove(const Globals& globals, std::string_view id, bool force) {
  auto opened = StateDir::open(globals.root, id);
  // runc's contract, which containerd's shim relies on: forcing the delete
  // of a container that does not exist succeeds.
  if (!opened && force && opened.error().code() == ENOENT) return {};
  if (!opened) return std::move(opened).error();
  auto& dir = *opened;
  auto loaded = dir.load();
  if (!loaded) {
    // A create that died before writing state.json: nothing runs, the
    // lock is free, so only the directory is left to remove.
    if (loaded.error().code() == EAGAIN) return dir.destroy();
    return std::move(loaded).error();
  }
  auto& s = *loaded;
  auto status = current_status(s, dir);
  if (status != ContainerStatus::kStopped) {
    if (!force) return refused_in_state("delete", s.id, status, "stop it first, or use --force");
    return destroy_locked(dir, s);
  }
  return cleanup(dir, s);
}

Status destroy_locked(StateDir& dir, const StoredState& s) {
  (void)signal_all(s, SIGKILL);
  (void)signal_init(s, SIGKILL);
  BERTH_TRY(wait_gone(s, std::chrono::milliseconds(10000)));
  return cleanup(dir, s);
}

Result<std::vector<State>> list(const Globals& globals) {
  std::vector<State> out;
  auto names = sys::list_dir(globals.root);
  if (!names) {
    if (names.error().code() == ENOENT) return out;
    return std::move(names).error();
  }
  std::sort(names->begin(), names->end());
  for (const auto& name : *names) {
    if (!validate_id(name)) continue;
    auto st = state(globals, name);
    if (st) out.push_back(std::move(*st));
  }
  return out;
}

Result<std::vector<pid_t>> pids(const Globals& globals, std::string_view id) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, id));
  auto s = BERTH_VALUE(dir.load());
  if (current_status(s, dir) == ContainerStatus::kStopped) return std::vector<pid_t>{};
  if (!has_cgroup(s)) return no_cgroup_error(s, "list the processes of");
  return cgroups::pids(placement_of(s));
}

}  // namespace berth::container
