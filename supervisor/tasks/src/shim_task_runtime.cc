// The TaskRuntime calls: each builds its Task request, hands it to the loop
// (runtime_impl.cc) and turns the reply into core's types.
#include "berth/base/sha256.h"
#include "berth/tasks/shim_task_runtime.h"

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "containerd/runc/v1/options.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "runtime_impl.h"

namespace berth::tasks {

namespace task = containerd::task::v2;

namespace {

int64_t to_ns(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000000LL + t.nanos();
}

template <class Response>
Result<Response> parse(const std::string& payload, const char* what) {
  Response r;
  if (!r.ParseFromString(payload))
    return make_error(std::string("shim ") + what + ": invalid response", EPROTO);
  return r;
}

core::TaskStatus status_of(int s) {
  switch (s) {
    case 1: return core::TaskStatus::created;
    case 2: return core::TaskStatus::running;
    case 3: return core::TaskStatus::stopped;
    case 4: return core::TaskStatus::paused;
    case 5: return core::TaskStatus::pausing;
    default: return core::TaskStatus::unknown;
  }
}

// The task's shim, when it still runs: a task whose shim died is stopped,
// and only state() and remove() still work on it.
Result<std::shared_ptr<Shim>> live(ShimTaskRuntime::Impl& m, std::string_view ns,
                                   std::string_view id) {
  auto s = BERTH_VALUE(m.find(ns, id));
  if (s->dead) return core::unavailable("task `" + std::string(id) + "`: its shim is gone");
  return s;
}

// A call whose reply carries nothing.
Status done(Result<std::string> reply) {
  if (!reply) return std::move(reply).error();
  return {};
}

}  // namespace

namespace {
// Shim sockets of a state dir too long for sun_path go under here.
constexpr const char* kShortSocketParent = "/run/berth-shims";
}  // namespace

ShimTaskRuntime::ShimTaskRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ShimTaskRuntime::~ShimTaskRuntime() {
  impl_->stop_threads();
  // The shims make their socket dir; with no shim left it is empty and goes
  // (live shims keep theirs, and rmdir leaves a dir that is not empty).
  const std::string& dir = impl_->binary.socket_dir;
  sys::rmdir_quiet(dir);
  // The short parent of long state paths, when the last daemon using it goes.
  if (dir.starts_with(kShortSocketParent)) sys::rmdir_quiet(kShortSocketParent);
}

Result<std::unique_ptr<ShimTaskRuntime>> ShimTaskRuntime::create(ShimTaskRuntimeOptions options) {
  if (options.shim_binary.empty() || options.shim_binary[0] != '/')
    return core::invalid_argument("task runtime: shim binary `" + options.shim_binary +
                                  "` must be an absolute path");
  if (options.state_dir.empty() || options.state_dir[0] != '/')
    return core::invalid_argument("task runtime: state dir `" + options.state_dir +
                                  "` must be an absolute path");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // The shims' sockets are <dir>/<64 hex>: sun_path holds 107 bytes, so a
  // long state dir (a test's temp dir) gets a short one named by its hash.
  std::string socket_dir = options.state_dir + "/s";
  if (socket_dir.size() + 1 + 64 > 106)
    socket_dir =
        std::string(kShortSocketParent) + "/" + sha256_hex(options.state_dir).substr(0, 16);
  impl->binary = ShimBinary{options.shim_binary, options.daemon_address, options.publish_binary,
                            options.state_dir + "/tasks.ttrpc", socket_dir};
  if (auto st = impl->start_threads(); !st) {
    impl->stop_threads();
    return std::move(st).error().wrap("task runtime `" + options.state_dir + "`");
  }
  return std::unique_ptr<ShimTaskRuntime>(new ShimTaskRuntime(std::move(impl)));
}

void ShimTaskRuntime::set_handlers(ExitHandler on_exit, EventHandler on_event) {
  std::lock_guard lock(impl_->mu);
  impl_->on_exit = std::move(on_exit);
  impl_->on_event = std::move(on_event);
}

Result<uint32_t> ShimTaskRuntime::create(std::string_view ns, const core::TaskCreateRequest& req) {
  Impl& m = *impl_;
  if (ns.empty() || req.id.empty())
    return core::invalid_argument("create task `" + req.id + "`: namespace and id are required");
  if (req.bundle.empty() || req.bundle[0] != '/')
    return core::invalid_argument("create task `" + req.id + "`: bundle `" + req.bundle +
                                  "` must be an absolute path");
  auto s = std::make_shared<Shim>();
  s->ns = ns;
  s->id = req.id;
  s->bundle = req.bundle;
  {
    std::lock_guard lock(m.mu);
    if (!m.shims.emplace(Impl::key(ns, req.id), s).second)
      return core::already_exists("task `" + req.id + "`: already exists");
  }
  containerd::runc::v1::Options runc;
  runc.set_binary_name(req.runtime.empty() ? m.options.default_runtime : req.runtime);
  runc.set_root(m.options.state_dir + "/runtime/" + std::string(ns));
  google::protobuf::Any options;
  options.set_type_url("containerd.runc.v1.Options");
  options.set_value(runc.SerializeAsString());

  // From here a failure undoes what exists: the shim told to go, waited
  // for, its `delete` run (runtime state, mounts), its socket and address
  // file removed. The shim must not outlive a failed create.
  bool started = false;
  auto fail = [&](Error e) -> Error {
    s->removing = true;
    if (started) {
      if (s->pidfd.valid()) {
        task::ShutdownRequest shutdown;
        shutdown.set_id(s->id);
        (void)m.call(s, "Shutdown", shutdown, {}, std::chrono::milliseconds(2000));
      }
      m.on_loop([&] { m.drop_client(*s); });
      m.await_shim_exit(*s);
      (void)m.cleanup_dead(*s);
      sys::unlink_quiet(s->bundle + "/address");
    }
    m.forget(*s);
    return std::move(e).wrap("create task `" + s->id + "`");
  };

  auto socket = m.binary.start(ns, req.id, req.bundle, options.SerializeAsString());
  if (!socket) return fail(std::move(socket).error());
  started = true;
  s->socket = *socket;
  m.on_loop([&] { m.connect_client(*s); });
  task::ConnectRequest connect;
  connect.set_id(req.id);
  auto connected = m.call(s, "Connect", connect);
  if (!connected) return fail(std::move(connected).error());
  auto info = parse<task::ConnectResponse>(*connected, "Connect");
  if (!info) return fail(std::move(info).error());
  s->shim_pid = static_cast<pid_t>(info->shim_pid());
  auto pidfd = sys::pidfd_open(s->shim_pid);
  if (!pidfd) return fail(std::move(pidfd).error());
  s->pidfd = std::move(*pidfd);
  m.on_loop([&] { m.watch_shim(s); });

  task::CreateTaskRequest create;
  create.set_id(req.id);
  create.set_bundle(req.bundle);
  create.set_terminal(req.io.terminal);
  create.set_stdin(req.io.stdin_path);
  create.set_stdout(req.io.stdout_path);
  create.set_stderr(req.io.stderr_path);
  *create.mutable_options() = options;
  std::weak_ptr<Shim> weak = s;
  auto created = m.call(s, "Create", create, [&m, weak](Shim& sh, const std::string& payload) {
    task::CreateTaskResponse r;
    (void)r.ParseFromString(payload);
    sh.pids[""] = r.pid();
    if (auto s = weak.lock()) m.watch_exit(s, "");
  });
  if (!created) return fail(std::move(created).error());
  auto resp = parse<task::CreateTaskResponse>(*created, "Create");
  if (!resp) return fail(std::move(resp).error());
  return resp->pid();
}

Result<uint32_t> ShimTaskRuntime::start(std::string_view ns, std::string_view id,
                                        std::string_view exec_id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::StartRequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  std::string eid(exec_id);
  auto payload = BERTH_VALUE(impl_->call(s, "Start", req, [eid](Shim& sh, const std::string& p) {
    task::StartResponse r;
    // Recorded on the loop before the process's Wait can answer.
    if (r.ParseFromString(p)) sh.pids[eid] = r.pid();
  }));
  return BERTH_VALUE(parse<task::StartResponse>(payload, "Start")).pid();
}

Status ShimTaskRuntime::kill(std::string_view ns, std::string_view id, std::string_view exec_id,
                             int signal, bool all) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::KillRequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  req.set_signal(static_cast<uint32_t>(signal));
  req.set_all(all);
  return done(impl_->call(s, "Kill", req));
}

Result<core::TaskExit> ShimTaskRuntime::remove(std::string_view ns, std::string_view id) {
  Impl& m = *impl_;
  auto s = BERTH_VALUE(m.find(ns, id));
  if (s->removing.exchange(true))
    return core::in_use("remove task `" + std::string(id) + "`: already being removed");
  core::TaskExit exit;
  if (!s->dead) {
    task::DeleteRequest del;
    del.set_id(s->id);
    auto deleted = m.call(s, "Delete", del);
    if (!deleted && !s->dead && deleted.error().code() != EHOSTUNREACH) {
      s->removing = false;
      // A shim that died meanwhile was left to this remove(): clean up now.
      if (s->dead) m.on_loop([&] { m.shim_died(s); });
      return std::move(deleted).error().wrap("remove task `" + s->id + "`");
    }
    if (deleted) {
      auto r = BERTH_VALUE(parse<task::DeleteResponse>(*deleted, "Delete"));
      exit.id = s->id;
      exit.pid = r.pid();
      exit.exit_status = r.exit_status();
      exit.exited_at_ns = to_ns(r.exited_at());
      task::ShutdownRequest shutdown;
      shutdown.set_id(s->id);
      // The shim may close the connection before it answers: not a failure.
      (void)m.call(s, "Shutdown", shutdown);
    }
  }
  m.on_loop([&] { m.drop_client(*s); });
  m.await_shim_exit(*s);
  if (exit.id.empty()) exit = m.cleanup_dead(*s);  // the shim was (or went) away
  sys::unlink_quiet(s->socket);
  m.forget(*s);
  return exit;
}

Result<core::TaskInfo> ShimTaskRuntime::state(std::string_view ns, std::string_view id,
                                              std::string_view exec_id) {
  auto s = BERTH_VALUE(impl_->find(ns, id));
  core::TaskInfo info;
  info.id = std::string(id);
  if (s->dead) {
    // What `shim delete` reported, once it has run.
    core::TaskExit exit = impl_->cleanup_dead(*s);
    info.status = core::TaskStatus::stopped;
    info.pid = exit.pid;
    info.exit_status = exit.exit_status;
    info.exited_at_ns = exit.exited_at_ns;
    return info;
  }
  task::StateRequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  auto r =
      BERTH_VALUE(parse<task::StateResponse>(BERTH_VALUE(impl_->call(s, "State", req)), "State"));
  info.status = status_of(r.status());
  info.pid = r.pid();
  info.exit_status = r.exit_status();
  info.exited_at_ns = to_ns(r.exited_at());
  info.terminal = r.terminal();
  return info;
}

Result<std::vector<uint32_t>> ShimTaskRuntime::pids(std::string_view ns, std::string_view id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::PidsRequest req;
  req.set_id(std::string(id));
  auto r = BERTH_VALUE(parse<task::PidsResponse>(BERTH_VALUE(impl_->call(s, "Pids", req)), "Pids"));
  std::vector<uint32_t> out;
  for (const auto& p : r.processes()) out.push_back(p.pid());
  return out;
}

Status ShimTaskRuntime::pause(std::string_view ns, std::string_view id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::PauseRequest req;
  req.set_id(std::string(id));
  return done(impl_->call(s, "Pause", req));
}

Status ShimTaskRuntime::resume(std::string_view ns, std::string_view id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::ResumeRequest req;
  req.set_id(std::string(id));
  return done(impl_->call(s, "Resume", req));
}

Status ShimTaskRuntime::update(std::string_view ns, std::string_view id,
                               std::string_view resources_json) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::UpdateTaskRequest req;
  req.set_id(std::string(id));
  // containerd's typeurl for specs.LinuxResources; the value is its JSON.
  req.mutable_resources()->set_type_url(
      "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources");
  req.mutable_resources()->set_value(std::string(resources_json));
  return done(impl_->call(s, "Update", req));
}

Result<core::TaskMetrics> ShimTaskRuntime::stats(std::string_view ns, std::string_view id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::StatsRequest req;
  req.set_id(std::string(id));
  auto r =
      BERTH_VALUE(parse<task::StatsResponse>(BERTH_VALUE(impl_->call(s, "Stats", req)), "Stats"));
  return core::TaskMetrics{r.stats().type_url(), r.stats().value()};
}

Status ShimTaskRuntime::exec(std::string_view ns, std::string_view id,
                             const core::ExecRequest& req) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  if (req.exec_id.empty())
    return core::invalid_argument("exec in task `" + std::string(id) + "`: exec id is required");
  task::ExecProcessRequest r;
  r.set_id(std::string(id));
  r.set_exec_id(req.exec_id);
  r.set_terminal(req.io.terminal);
  r.set_stdin(req.io.stdin_path);
  r.set_stdout(req.io.stdout_path);
  r.set_stderr(req.io.stderr_path);
  // containerd's typeurl for specs.Process; the value is its JSON.
  r.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  r.mutable_spec()->set_value(req.process_json);
  Impl& m = *impl_;
  std::weak_ptr<Shim> weak = s;
  std::string eid = req.exec_id;
  BERTH_TRY(m.call(s, "Exec", r, [&m, weak, eid](Shim&, const std::string&) {
    // The shim holds the Wait until the exec, once started, exits.
    if (auto s = weak.lock()) m.watch_exit(s, eid);
  }));
  return {};
}

Result<core::TaskExit> ShimTaskRuntime::remove_exec(std::string_view ns, std::string_view id,
                                                    std::string_view exec_id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::DeleteRequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  auto r = BERTH_VALUE(
      parse<task::DeleteResponse>(BERTH_VALUE(impl_->call(s, "Delete", req)), "Delete"));
  return core::TaskExit{std::string(id), std::string(exec_id), r.pid(), r.exit_status(),
                        to_ns(r.exited_at())};
}

Status ShimTaskRuntime::resize(std::string_view ns, std::string_view id, std::string_view exec_id,
                               uint32_t width, uint32_t height) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::ResizePtyRequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  req.set_width(width);
  req.set_height(height);
  return done(impl_->call(s, "ResizePty", req));
}

Status ShimTaskRuntime::close_stdin(std::string_view ns, std::string_view id,
                                    std::string_view exec_id) {
  auto s = BERTH_VALUE(live(*impl_, ns, id));
  task::CloseIORequest req;
  req.set_id(std::string(id));
  req.set_exec_id(std::string(exec_id));
  req.set_stdin(true);
  return done(impl_->call(s, "CloseIO", req));
}

}  // namespace berth::tasks

namespace berth::tasks {

Result<std::vector<core::TaskRuntime::Recovered>> ShimTaskRuntime::recover(
    std::string_view ns, const std::vector<std::pair<std::string, std::string>>& id_bundles) {
  Impl& m = *impl_;
  std::vector<Recovered> out;
  for (const auto& [id, bundle] : id_bundles) {
    Recovered rec{id, std::nullopt};
    if (m.find(ns, id)) {
      auto info = state(ns, id);
      if (info) rec.info = std::move(*info);
      out.push_back(std::move(rec));
      continue;
    }
    // The shim's `start` wrote its address into the bundle: none, no shim.
    auto address = sys::read_file(bundle + "/address", 4096);
    if (!address || !std::string_view(*address).starts_with("unix://")) {
      out.push_back(std::move(rec));
      continue;
    }
    auto s = std::make_shared<Shim>();
    s->ns = ns;
    s->id = id;
    s->bundle = bundle;
    s->socket = address->substr(7);
    while (!s->socket.empty() && (s->socket.back() == '\n' || s->socket.back() == ' '))
      s->socket.pop_back();
    {
      std::lock_guard lock(m.mu);
      m.shims.emplace(Impl::key(ns, id), s);
    }
    m.on_loop([&] { m.connect_client(*s); });
    task::ConnectRequest connect;
    connect.set_id(id);
    auto connected = m.call(s, "Connect", connect, {}, std::chrono::milliseconds(5000));
    std::optional<task::ConnectResponse> conn;
    if (connected) {
      if (auto c = parse<task::ConnectResponse>(*connected, "Connect")) conn = std::move(*c);
    }
    if (conn) {
      s->shim_pid = static_cast<pid_t>(conn->shim_pid());
      if (auto fd = sys::pidfd_open(s->shim_pid)) s->pidfd = std::move(*fd);
      task::StateRequest sreq;
      sreq.set_id(id);
      auto st = m.call(s, "State", sreq);
      auto resp = st ? parse<task::StateResponse>(*st, "State")
                     : Result<task::StateResponse>(std::move(st).error());
      if (resp) {
        core::TaskInfo info;
        info.id = id;
        info.status = status_of(resp->status());
        info.pid = resp->pid();
        info.exit_status = resp->exit_status();
        info.exited_at_ns = to_ns(resp->exited_at());
        info.terminal = resp->terminal();
        // A Wait again: an exit that happened while berthd was down is
        // answered at once and reaches the ExitHandler like any other.
        m.on_loop([&] {
          s->pids[""] = info.pid;
          m.watch_shim(s);
          m.watch_exit(s, "");
        });
        rec.info = std::move(info);
        out.push_back(std::move(rec));
        continue;
      }
      if (!core::is_not_found(resp.error())) {
        // A live shim that does not answer: leave it for a later recover
        // rather than kill what may still be a running container.
        m.on_loop([&] { m.drop_client(*s); });
        m.forget(*s);
        return std::move(resp).error().wrap("recover task `" + id + "`");
      }
      // A live shim without the task: it has nothing to serve.
      task::ShutdownRequest shutdown;
      shutdown.set_id(id);
      (void)m.call(s, "Shutdown", shutdown, {}, std::chrono::milliseconds(2000));
      s->removing = true;
      m.on_loop([&] { m.drop_client(*s); });
      m.await_shim_exit(*s);
      (void)m.cleanup_dead(*s);
      sys::unlink_quiet(bundle + "/address");
      m.forget(*s);
      out.push_back(std::move(rec));
      continue;
    }
    // Nobody answers on the socket: the shim died while berthd was away.
    s->dead = true;
    s->removing = true;
    m.on_loop([&] { m.drop_client(*s); });
    core::TaskExit exit = m.cleanup_dead(*s);
    sys::unlink_quiet(bundle + "/address");
    m.forget(*s);
    core::TaskInfo info;
    info.id = id;
    info.status = core::TaskStatus::stopped;
    info.pid = exit.pid;
    info.exit_status = exit.exit_status;
    info.exited_at_ns = exit.exited_at_ns;
    rec.info = std::move(info);
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace berth::tasks
