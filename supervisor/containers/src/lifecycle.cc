// Container life cycle: start, stop, kill, pause, exits and restart
// policies, wait, and recovery after a daemon restart (see service.h).

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "berth/base/scope_guard.h"
#include "berth/base/signals.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "internal.h"

namespace berth::containers {

namespace {

constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::minutes(1);
constexpr auto kResetAfter = std::chrono::seconds(10);

Error not_running(const core::Container& c) {
  return core::in_use("Container " + c.id + " is not running");
}

// Query strings of the logger URI: the shim URL-decodes them.
std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '/' || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(char(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

int stop_signal_of(const core::Container& c) {
  if (c.config.stop_signal.empty()) return SIGTERM;
  auto sig = parse_signal(c.config.stop_signal);
  return sig ? *sig : SIGTERM;
}

}  // namespace

Status ContainerService::start(std::string_view ns, std::string_view ref) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (c.state.status == core::ContainerStatus::running) return ok_status();
  if (c.state.status == core::ContainerStatus::paused)
    return core::in_use("cannot start a paused container, try unpause instead");
  if (c.state.status == core::ContainerStatus::removing)
    return core::in_use("container is marked for removal and cannot be started");
  c.state.stopped_by_user = false;
  return start_locked(ns, c, *e);
}

Status ContainerService::start_locked(std::string_view ns, core::Container& c, Entry& e) {
  std::string bundle = bundle_dir(ns, c.id);
  std::string rootfs = bundle + "/rootfs";
  // Whatever a failed start leaves is undone in reverse order: task, mount,
  // bundle; the record then says why (docker's State.Error).
  auto attempt = [&]() -> Result<uint32_t> {
    BERTH_TRY(sys::mkdir_p(rootfs, 0711));
    auto mounts = BERTH_VALUE(snapshotter_.mounts(c.snapshot_key));
    BERTH_TRY(hooks_.mount_rootfs(mounts, rootfs));
    core::ImageConfig image;
    auto req = BERTH_VALUE(spec_request(ns, c, image));
    req.mounts = BERTH_VALUE(resolve_mounts(ns, c, rootfs));
    auto spec = BERTH_VALUE(hooks_.generate_spec(req));
    BERTH_TRY(sys::write_file_atomic(bundle + "/config.json", spec, 0600));

    core::TaskCreateRequest create;
    create.id = c.id;
    create.bundle = bundle;
    create.runtime = c.config.runtime;
    std::string uri = "binary://" + paths_.logger + "?path=" + url_escape(log_path(c.id));
    for (const auto& [k, v] : c.config.log_options) uri += "&" + k + "=" + url_escape(v);
    create.io.stdout_path = uri;
    create.io.stderr_path = c.config.tty ? "" : uri;
    create.io.terminal = c.config.tty;
    if (c.config.open_stdin) {
      std::string fifo = bundle + "/init-stdin";
      sys::unlink_quiet(fifo);
      if (sys::mknodat(AT_FDCWD, fifo.c_str(), S_IFIFO | 0600, 0) != 0)
        return make_error("mkfifo `" + fifo + "`", errno);
      create.io.stdin_path = fifo;
    }
    BERTH_VALUE(tasks_.create(ns, create));
    ScopeGuard drop_task([&] { (void)tasks_.remove(ns, c.id); });
    // The shim opened its read end in create: a non-blocking open finds it.
    if (c.config.open_stdin)
      e.stdin_keep = BERTH_VALUE(sys::open(bundle + "/init-stdin", O_WRONLY | O_NONBLOCK));
    auto pid = BERTH_VALUE(tasks_.start(ns, c.id));
    drop_task.dismiss();
    return pid;
  };
  {
    std::lock_guard oom(e.oom_mu);
    e.oom = false;
  }
  auto pid = attempt();
  if (!pid) {
    e.stdin_keep.reset();
    cleanup_task(ns, c);
    c.state.status = core::ContainerStatus::exited;
    c.state.error = pid.error().message();
    // docker's codes for a process that could not be started.
    const auto& m = c.state.error;
    bool missing = m.find("executable file not found") != std::string::npos ||
                   m.find("no such file or directory") != std::string::npos ||
                   m.find("No such file or directory") != std::string::npos;
    bool denied = m.find("ermission denied") != std::string::npos ||
                  m.find("not an executable file") != std::string::npos;
    c.state.exit_code = missing ? 127 : denied ? 126 : 128;
    c.state.pid = 0;
    (void)store_.update_state(ns, c.id, c.state);
    // docker: a --rm container that could not start is removed too.
    if (c.config.auto_remove) (void)remove_locked(ns, c, e, true);
    return pid.error();
  }
  c.state.status = core::ContainerStatus::running;
  c.state.pid = int(*pid);
  c.state.error.clear();
  c.state.exit_code = 0;
  c.state.oom_killed = false;
  c.state.started_at_ns = now_ns();
  BERTH_TRY(store_.update_state(ns, c.id, c.state));
  e.started_at = std::chrono::steady_clock::now();
  publish(ns, "/containers/start", c);
  return ok_status();
}

Result<SpecRequest> ContainerService::spec_request(std::string_view ns, const core::Container& c,
                                                   core::ImageConfig& image) {
  std::string dir = container_dir(c.id);
  auto raw = BERTH_VALUE(sys::read_file(dir + "/image-config.json", 16 << 20));
  image = BERTH_VALUE(core::parse_config(raw, "container " + c.id + " image config"));
  SpecRequest req;
  req.id = c.id;
  req.config = &c.config;
  req.image = &image;
  req.rootfs = bundle_dir(ns, c.id) + "/rootfs";
  req.hostname_file = dir + "/hostname";
  req.hosts_file = dir + "/hosts";
  req.resolv_file = dir + "/resolv.conf";
  req.mounts = c.config.mounts;
  for (const auto& [kind, mode] :
       {std::pair{"ipc", &c.config.ipc_mode}, std::pair{"pid", &c.config.pid_mode},
        std::pair{"uts", &c.config.uts_mode}}) {
    if (!mode->starts_with("container:")) continue;
    auto other = BERTH_VALUE(find(ns, mode->substr(10)));
    if (other.state.status != core::ContainerStatus::running || other.state.pid <= 0)
      return core::in_use("cannot join " + std::string(kind) + " namespace of container " +
                          other.name + ": it is not running");
    req.namespace_paths[kind] = "/proc/" + std::to_string(other.state.pid) + "/ns/" + kind;
  }
  return req;
}

Result<std::string> ContainerService::exec_process(std::string_view ns, const core::Container& c,
                                                   const ExecSpec& exec) {
  if (c.state.status != core::ContainerStatus::running)
    return core::in_use(c.state.status == core::ContainerStatus::paused
                            ? "Container " + c.id + " is paused, unpause the container before exec"
                            : "Container " + c.id + " is not running");
  core::ImageConfig image;
  auto req = BERTH_VALUE(spec_request(ns, c, image));
  return hooks_.generate_exec(req, exec);
}

void ContainerService::cleanup_task(std::string_view ns, const core::Container& c) {
  (void)tasks_.remove(ns, c.id);
  std::string bundle = bundle_dir(ns, c.id);
  if (!sys::exists(bundle)) return;
  (void)hooks_.unmount_rootfs(bundle + "/rootfs");
  (void)sys::remove_all(bundle);
}

Status ContainerService::stop(std::string_view ns, std::string_view ref,
                              std::optional<int> timeout) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::unique_lock lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  c.state.stopped_by_user = true;
  if (c.state.status == core::ContainerStatus::restarting) {
    // A restart is pending: cancel it (the scheduled start checks the status).
    c.state.status = core::ContainerStatus::exited;
    return store_.update_state(ns, c.id, c.state);
  }
  if (c.state.status != core::ContainerStatus::running &&
      c.state.status != core::ContainerStatus::paused) {
    return store_.update_state(ns, c.id, c.state);
  }
  BERTH_TRY(store_.update_state(ns, c.id, c.state));
  int seconds = timeout ? *timeout : c.config.stop_timeout.value_or(10);
  uint64_t gen = e->exits;
  auto exited = [&] { return e->exits != gen; };
  if (seconds != 0) {
    (void)tasks_.kill(ns, c.id, "", stop_signal_of(c), false);
    if (c.state.status == core::ContainerStatus::paused) (void)tasks_.resume(ns, c.id);
    if (seconds < 0)
      e->cv.wait(lock, exited);
    else if (e->cv.wait_for(lock, std::chrono::seconds(seconds), exited))
      return ok_status();
  }
  if (!exited()) {
    (void)tasks_.kill(ns, c.id, "", SIGKILL, true);
    if (!e->cv.wait_for(lock, std::chrono::seconds(30), exited))
      return make_error("container " + c.id + ": did not exit after SIGKILL", ETIMEDOUT);
  }
  return ok_status();
}

Status ContainerService::restart(std::string_view ns, std::string_view ref,
                                 std::optional<int> timeout) {
  BERTH_TRY(stop(ns, ref, timeout));
  return start(ns, ref);
}

Status ContainerService::kill(std::string_view ns, std::string_view ref, std::string_view signal) {
  int sig = SIGKILL;
  if (!signal.empty()) {
    auto parsed = parse_signal(signal);
    if (!parsed) return core::invalid_argument("Invalid signal: " + std::string(signal));
    sig = *parsed;
  }
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (c.state.status != core::ContainerStatus::running &&
      c.state.status != core::ContainerStatus::paused)
    return not_running(c);
  // docker: a kill is not a stop, so policies still apply, except to SIGKILL
  // from the user, which docker also treats as a manual stop.
  if (sig == SIGKILL) {
    c.state.stopped_by_user = true;
    BERTH_TRY(store_.update_state(ns, c.id, c.state));
  }
  return tasks_.kill(ns, c.id, "", sig, false);
}

Status ContainerService::pause(std::string_view ns, std::string_view ref) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (c.state.status == core::ContainerStatus::paused)
    return core::in_use("Container " + c.id + " is already paused");
  if (c.state.status != core::ContainerStatus::running) return not_running(c);
  BERTH_TRY(tasks_.pause(ns, c.id));
  c.state.status = core::ContainerStatus::paused;
  BERTH_TRY(store_.update_state(ns, c.id, c.state));
  publish(ns, "/containers/pause", c);
  return ok_status();
}

Status ContainerService::unpause(std::string_view ns, std::string_view ref) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  if (c.state.status != core::ContainerStatus::paused)
    return core::in_use("Container " + c.id + " is not paused");
  BERTH_TRY(tasks_.resume(ns, c.id));
  c.state.status = core::ContainerStatus::running;
  BERTH_TRY(store_.update_state(ns, c.id, c.state));
  publish(ns, "/containers/unpause", c);
  return ok_status();
}

Status ContainerService::update(std::string_view ns, std::string_view ref, const Update& u) {
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::lock_guard lock(e->mu);
  c = BERTH_VALUE(store_.get(ns, c.id));
  auto& r = c.config.resources;
  if (u.memory) {
    if (*u.memory != 0 && *u.memory < (6 << 20))
      return core::invalid_argument("Minimum memory limit allowed is 6MB");
    if (r.memory_swap > 0 && *u.memory > r.memory_swap)
      return core::invalid_argument(
          "Memory limit should be smaller than already set memoryswap limit, update the "
          "memoryswap at the same time");
    r.memory = *u.memory;
  }
  if (u.nano_cpus) r.nano_cpus = *u.nano_cpus;
  if (u.pids_limit) r.pids_limit = *u.pids_limit;
  if (u.restart) {
    if (c.config.auto_remove && u.restart->name != "no")
      return core::invalid_argument(
          "Restart policy cannot be updated because AutoRemove is enabled for the container");
    c.config.restart = *u.restart;
  }
  if (c.state.status == core::ContainerStatus::running ||
      c.state.status == core::ContainerStatus::paused) {
    // An OCI LinuxResources object with what changed.
    std::string json = "{";
    auto add = [&](const std::string& part) { json += (json.size() > 1 ? "," : "") + part; };
    if (u.memory) add("\"memory\":{\"limit\":" + std::to_string(*u.memory ? *u.memory : -1) + "}");
    if (u.nano_cpus)
      add("\"cpu\":{\"quota\":" + std::to_string(*u.nano_cpus ? *u.nano_cpus / 10000 : -1) +
          ",\"period\":100000}");
    if (u.pids_limit)
      add("\"pids\":{\"limit\":" + std::to_string(*u.pids_limit > 0 ? *u.pids_limit : -1) + "}");
    json += "}";
    if (json != "{}") BERTH_TRY(tasks_.update(ns, c.id, json));
  }
  BERTH_TRY(store_.update(ns, c));
  publish(ns, "/containers/update", c);
  return ok_status();
}

Result<std::vector<uint32_t>> ContainerService::pids(std::string_view ns, std::string_view ref) {
  auto c = BERTH_VALUE(find(ns, ref));
  if (c.state.status != core::ContainerStatus::running &&
      c.state.status != core::ContainerStatus::paused)
    return not_running(c);
  return tasks_.pids(ns, c.id);
}

// --- exits -----------------------------------------------------------------

void ContainerService::on_exit(std::string ns, core::TaskExit exit) {
  if (!exit.exec_id.empty()) return;  // exec processes are their caller's business
  schedule(std::chrono::milliseconds(0),
           [this, ns = std::move(ns), exit = std::move(exit)] { handle_exit(ns, exit); });
}

void ContainerService::handle_exit(const std::string& ns, const core::TaskExit& exit) {
  auto e = entry(ns, exit.id);
  std::unique_lock lock(e->mu);
  auto got = store_.get(ns, exit.id);
  if (!got) return;
  auto c = std::move(*got);
  if (c.state.status != core::ContainerStatus::running &&
      c.state.status != core::ContainerStatus::paused &&
      c.state.status != core::ContainerStatus::removing)
    return;  // already handled (a duplicate, or recovery got there first)
  // The exit of an earlier task of this container (recovery reported it, the
  // policy restarted it, then the old shim's Wait answered): acting on it
  // would tear down the new task and orphan its process.
  if (exit.pid != 0 && c.state.pid > 0 && int(exit.pid) != c.state.pid) return;
  e->stdin_keep.reset();
  cleanup_task(ns, c);
  bool removing = c.state.status == core::ContainerStatus::removing;
  c.state.status = removing ? core::ContainerStatus::removing : core::ContainerStatus::exited;
  c.state.exit_code = int(exit.exit_status);
  c.state.pid = 0;
  c.state.finished_at_ns = exit.exited_at_ns ? exit.exited_at_ns : now_ns();
  {
    std::lock_guard oom(e->oom_mu);
    c.state.oom_killed = e->oom;
  }
  (void)store_.update_state(ns, c.id, c.state);
  e->last_exit = c.state.exit_code;
  ++e->exits;
  e->cv.notify_all();
  publish(ns, "/tasks/exit", c, std::to_string(c.state.exit_code));
  if (removing) return;

  const auto& policy = c.config.restart;
  bool again = false;
  if (!c.state.stopped_by_user) {
    if (policy.name == "always" || policy.name == "unless-stopped")
      again = true;
    else if (policy.name == "on-failure")
      again = c.state.exit_code != 0 &&
              (policy.max_retries == 0 || c.state.restart_count < policy.max_retries);
  }
  if (!again) {
    if (c.config.auto_remove) (void)remove_locked(ns, c, *e, true);
    return;
  }
  auto ran = std::chrono::steady_clock::now() - e->started_at;
  if (ran >= kResetAfter || e->backoff.count() == 0)
    e->backoff = kMinBackoff;
  else
    e->backoff = std::min<std::chrono::milliseconds>(e->backoff * 2, kMaxBackoff);
  c.state.status = core::ContainerStatus::restarting;
  c.state.restart_count++;
  (void)store_.update_state(ns, c.id, c.state);
  std::string id = c.id;
  schedule(e->backoff, [this, ns, id] {
    auto e = entry(ns, id);
    std::lock_guard lock(e->mu);
    auto c = store_.get(ns, id);
    if (!c || c->state.status != core::ContainerStatus::restarting) return;  // stopped meanwhile
    (void)start_locked(ns, *c, *e);
  });
}

void ContainerService::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lock(work_mu_);
    work_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
  }
  work_cv_.notify_all();
}

void ContainerService::worker_loop() {
  std::unique_lock lock(work_mu_);
  while (!stopping_) {
    if (work_.empty()) {
      work_cv_.wait(lock);
      continue;
    }
    auto first = work_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      work_cv_.wait_until(lock, first->first);
      continue;
    }
    auto fn = std::move(first->second);
    work_.erase(first);
    lock.unlock();
    fn();
    lock.lock();
  }
}

ContainerService::ExitWatch ContainerService::exit_watch(std::string_view ns, std::string_view id) {
  auto e = entry(ns, id);
  std::lock_guard lock(e->mu);
  auto c = store_.get(ns, id);
  return {e->exits, c && is_active(c->state.status)};
}

std::optional<int> ContainerService::wait_exit_after(std::string_view ns, std::string_view id,
                                                     uint64_t generation,
                                                     std::chrono::milliseconds limit) {
  auto e = entry(ns, id);
  std::unique_lock lock(e->mu);
  if (!e->cv.wait_for(lock, limit, [&] { return e->exits != generation || e->removed; }))
    return std::nullopt;
  return e->last_exit;
}

Result<int> ContainerService::wait(std::string_view ns, std::string_view ref,
                                   std::string_view condition,
                                   const std::function<bool()>& cancelled) {
  if (condition.empty()) condition = "not-running";
  if (condition != "not-running" && condition != "next-exit" && condition != "removed")
    return core::invalid_argument("invalid condition: \"" + std::string(condition) + "\"");
  auto c = BERTH_VALUE(find(ns, ref));
  auto e = entry(ns, c.id);
  std::unique_lock lock(e->mu);
  uint64_t gen = e->exits;
  auto done = [&]() -> bool {
    if (e->removed) return true;
    if (condition == "next-exit") return e->exits != gen;
    if (condition == "removed") return false;
    auto now = store_.get(ns, c.id);
    return !now || !is_active(now->state.status);
  };
  while (!done()) {
    if (cancelled && cancelled()) return make_error("wait cancelled", ECANCELED);
    e->cv.wait_for(lock, std::chrono::milliseconds(250));
  }
  auto now = store_.get(ns, c.id);
  return now ? now->state.exit_code : e->last_exit;
}

// --- recovery --------------------------------------------------------------

Status ContainerService::recover() {
  std::set<std::string> namespaces = {"default"};
  std::string base = paths_.state + "/containers";
  if (auto dirs = sys::list_subdirs(base)) namespaces.insert(dirs->begin(), dirs->end());
  std::set<std::string> keys_in_use;
  for (const auto& ns : namespaces) {
    auto records = store_.list(ns);
    if (!records) continue;
    std::map<std::string, core::Container> by_id;
    std::vector<std::pair<std::string, std::string>> bundles;
    for (auto& c : *records) {
      keys_in_use.insert(c.snapshot_key);
      if (sys::exists(bundle_dir(ns, c.id))) bundles.emplace_back(c.id, bundle_dir(ns, c.id));
      by_id.emplace(c.id, std::move(c));
    }
    // Bundles without a record: a create or remove cut short.
    if (auto dirs = sys::list_subdirs(base + "/" + ns)) {
      for (const auto& id : *dirs)
        if (!by_id.count(id)) bundles.emplace_back(id, base + "/" + ns + "/" + id);
    }
    auto found = tasks_.recover(ns, bundles);
    std::map<std::string, std::optional<core::TaskInfo>> live;
    if (found)
      for (auto& r : *found) live[r.id] = r.info;
    for (const auto& [id, bundle] : bundles) {
      if (by_id.count(id)) continue;
      (void)tasks_.remove(ns, id);
      (void)hooks_.unmount_rootfs(bundle + "/rootfs");
      (void)sys::remove_all(bundle);
    }
    for (auto& [id, c] : by_id) {
      auto it = live.find(id);
      bool alive = it != live.end() && it->second &&
                   (it->second->status == core::TaskStatus::running ||
                    it->second->status == core::TaskStatus::paused ||
                    it->second->status == core::TaskStatus::pausing);
      if (alive) {
        auto e = entry(ns, id);
        e->started_at = std::chrono::steady_clock::now();
        // The task is what runs: a record berthd left at `restarting` or
        // `created` (killed between the task's start and the record's
        // write) would make its exit look already handled, leaving the shim.
        bool paused = it->second->status != core::TaskStatus::running;
        if (c.state.status != core::ContainerStatus::removing) {
          c.state.status = paused ? core::ContainerStatus::paused : core::ContainerStatus::running;
          c.state.pid = int(it->second->pid);
        }
        (void)store_.update_state(ns, id, c.state);
        continue;
      }
      bool was_active =
          is_active(c.state.status) || c.state.status == core::ContainerStatus::removing;
      if (!was_active) {
        // docker's rule on daemon start: `always` brings back a container
        // stopped by hand (a stop cancels the policy only for the daemon's
        // lifetime); `unless-stopped` and a never-started one stay down.
        if (c.config.restart.name == "always" && c.state.status == core::ContainerStatus::exited &&
            c.state.started_at_ns != 0)
          schedule(std::chrono::milliseconds(0), [this, ns, id] { (void)start(ns, id); });
        continue;
      }
      if (c.state.status == core::ContainerStatus::restarting)
        c.state.status = core::ContainerStatus::running;
      // It exited while berthd was away: the shim's recorded exit when there
      // is one, else 255 (containerd's code for a task whose shim is gone).
      core::TaskExit exit{id, "", 0, 255, now_ns()};
      if (it != live.end() && it->second) {
        exit.exit_status = it->second->exit_status;
        if (it->second->exited_at_ns) exit.exited_at_ns = it->second->exited_at_ns;
      }
      if (c.state.status != core::ContainerStatus::removing)
        c.state.status = core::ContainerStatus::running;
      (void)store_.update_state(ns, id, c.state);
      // `always` also restarts a container stopped by hand (docker's rule on
      // daemon start); handle_exit applies the rest of the policy.
      if (c.config.restart.name == "always" && c.state.stopped_by_user) {
        c.state.stopped_by_user = false;
        (void)store_.update_state(ns, id, c.state);
      }
      handle_exit(ns, exit);
    }
  }
  // Snapshots of creates cut short: keyed by a container id, no record.
  if (auto snaps = snapshotter_.list()) {
    for (const auto& s : *snaps) {
      if (s.kind != core::SnapshotKind::kActive || keys_in_use.count(s.key)) continue;
      auto label = s.labels.find("berth.container");
      if (label != s.labels.end()) (void)snapshotter_.remove(s.key);
    }
  }
  return ok_status();
}

}  // namespace berth::containers
