#include "service.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/sys.h"
#include "bundle.h"
#include "berth/base/log.h"
#include "containerd/events/task.pb.h"
#include "containerd/runc/v1/options.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "mounts.h"
#include "runtimeoptions/v1/options.pb.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;
using ttrpc::Code;
using ttrpc::RpcStatus;

namespace {

void reply(const ttrpc::Responder& r, const google::protobuf::MessageLite& m) { r.reply(m.SerializeAsString()); }

void set_time(google::protobuf::Timestamp* t, const sys::WallTime& w) {
  t->set_seconds(w.seconds);
  t->set_nanos(w.nanos);
}

std::string bare_type(const std::string& type_url) { return type_url.substr(type_url.rfind('/') + 1); }

struct RuntimeChoice {
  std::string binary_name;
  std::string root;
  bool systemd_cgroup = false;
};

// Reads the options Any (from Create, else from `start`'s stdin).
RuntimeChoice parse_options(const google::protobuf::Any& any) {
  RuntimeChoice c;
  std::string type = bare_type(any.type_url());
  if (type == "containerd.runc.v1.Options") {
    containerd::runc::v1::Options o;
    if (o.ParseFromString(any.value())) {
      c.binary_name = o.binary_name();
      c.root = o.root();
      c.systemd_cgroup = o.systemd_cgroup();
    } else {
      shim_log::warn("runtime options: cannot parse containerd.runc.v1.Options; using defaults");
    }
  } else if (type == "runtimeoptions.v1.Options") {
    runtimeoptions::v1::Options o;
    if (o.ParseFromString(any.value()) && !o.config_path().empty())
      shim_log::info("runtime options: config file `" + o.config_path() + "` (" + o.type_url() +
                     ") is not read yet; using defaults");
  } else if (!type.empty()) {
    shim_log::warn("runtime options of unknown type `" + any.type_url() + "` ignored");
  }
  return c;
}

bool looks_gone(const std::string& message) {
  for (const char* s : {"does not exist", "not found", "no such", "not running", "container not running"})
    if (message.find(s) != std::string::npos) return true;
  return false;
}

Status write_private_file(const std::string& path, const std::string& data) {
  return sys::write_file_atomic(path, data, 0600);
}

}  // namespace

TaskService::TaskService(loop::Loop& loop, ttrpc::Server& server, Publisher& publisher, CommandRunner& runner,
                         ServiceConfig config)
    : loop_(loop),
      server_(server),
      publisher_(publisher),
      runner_(runner),
      config_(std::move(config)),
      oom_(loop, [this](const std::string& id) {
        events::TaskOOM ev;
        ev.set_container_id(id);
        publisher_.publish("/tasks/oom", ev);
      }) {}

TaskService::~TaskService() {
  if (trim_timer_ != 0) loop_.cancel_timer(trim_timer_);
}

template <class Req>
void TaskService::route(const char* method, void (TaskService::*fn)(const Req&, Responder)) {
  server_.register_method(kTaskService, method, [this, fn, method](const ttrpc::IncomingRequest& in, Responder r) {
    Req req;
    if (!req.ParseFromString(in.payload))
      return r.fail(Code::kInvalidArgument, std::string(method) + ": invalid request message");
    (this->*fn)(req, r);
    trim_when_idle();
  });
}

void TaskService::trim_when_idle() {
  // malloc keeps what a burst of requests freed (a Create parses config.json,
  // builds messages, reads cgroup files) in its free lists, resident. A shim
  // spends its life idle: a second after the last request, hand that memory
  // back (free pages inside the heap too, not only its top).
  if (trim_timer_ != 0) loop_.cancel_timer(trim_timer_);
  trim_timer_ = loop_.add_timer(std::chrono::seconds(1), [this] {
    trim_timer_ = 0;
    ::malloc_trim(0);
  });
}

void TaskService::register_methods() {
  route<task::CreateTaskRequest>("Create", &TaskService::create);
  route<task::StartRequest>("Start", &TaskService::start);
  route<task::StateRequest>("State", &TaskService::state);
  route<task::WaitRequest>("Wait", &TaskService::wait);
  route<task::KillRequest>("Kill", &TaskService::kill);
  route<task::DeleteRequest>("Delete", &TaskService::remove);
  route<task::ExecProcessRequest>("Exec", &TaskService::exec);
  route<task::PidsRequest>("Pids", &TaskService::pids);
  route<task::PauseRequest>("Pause", &TaskService::pause);
  route<task::ResumeRequest>("Resume", &TaskService::resume);
  route<task::UpdateTaskRequest>("Update", &TaskService::update);
  route<task::CloseIORequest>("CloseIO", &TaskService::close_io);
  route<task::ResizePtyRequest>("ResizePty", &TaskService::resize_pty);
  route<task::ConnectRequest>("Connect", &TaskService::connect);
  route<task::ShutdownRequest>("Shutdown", &TaskService::shutdown);
  route<task::StatsRequest>("Stats", &TaskService::stats);
  server_.register_method(kTaskService, "Checkpoint", [](const ttrpc::IncomingRequest&, Responder r) {
    r.fail(Code::kUnimplemented, "Checkpoint is not implemented by berth-shim");
  });
}

Result<TaskService::Found> TaskService::find(const std::string& id, const std::string& exec_id, RpcStatus* why) {
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    *why = RpcStatus{Code::kNotFound, "container " + id + ": not found"};
    return make_error(why->message, ENOENT);
  }
  if (exec_id.empty()) return Found{it->second, it->second->init};
  auto e = it->second->execs.find(exec_id);
  if (e == it->second->execs.end()) {
    *why = RpcStatus{Code::kNotFound, "exec " + exec_id + " in container " + id + ": not found"};
    return make_error(why->message, ENOENT);
  }
  return Found{it->second, e->second};
}

// --- Create ----------------------------------------------------------------

void TaskService::create(const task::CreateTaskRequest& req, Responder r) {
  const std::string id = req.id();
  if (!valid_identifier(id)) return r.fail(Code::kInvalidArgument, "create: invalid container id `" + id + "`");
  if (containers_.count(id) || creating_.count(id))
    return r.fail(Code::kAlreadyExists, "container " + id + ": already exists");
  if (!req.checkpoint().empty()) return r.fail(Code::kUnimplemented, "create from a checkpoint is not supported");
  if (req.bundle().empty() || req.bundle()[0] != '/')
    return r.fail(Code::kInvalidArgument, "create " + id + ": bundle must be an absolute path");

  RuntimeChoice choice;
  if (req.has_options()) {
    choice = parse_options(req.options());
  } else if (!config_.start_options.empty()) {
    google::protobuf::Any any;
    if (any.ParseFromString(config_.start_options)) choice = parse_options(any);
  }
  auto binary = resolve_runtime_binary(choice.binary_name.empty() ? config_.default_runtime : choice.binary_name);
  if (!binary) return r.fail(Code::kFailedPrecondition, "create " + id + ": " + binary.error().to_string());
  // As containerd's runc shim: the root option is joined with the namespace.
  std::string root = (choice.root.empty() ? config_.default_root : choice.root) + "/" + config_.ns;

  auto c = std::make_shared<Container>();
  c->id = id;
  c->bundle = req.bundle();
  c->runtime = std::make_unique<Runtime>(runner_, RuntimeConfig{*binary, root, c->bundle + "/log.json", choice.systemd_cgroup});
  if (auto st = write_runtime_record(c->bundle, {*binary, root, choice.systemd_cgroup}); !st)
    shim_log::warn("create " + id + ": " + st.error().to_string());

  // Rootfs: the snapshotter's mounts stacked on <bundle>/rootfs.
  const std::string rootfs = c->bundle + "/rootfs";
  auto undo_mounts = [c] {
    for (auto it = c->rootfs_mounts.rbegin(); it != c->rootfs_mounts.rend(); ++it)
      if (auto st = unmount_all(*it); !st) shim_log::warn(st.error().to_string());
    c->rootfs_mounts.clear();
  };
  for (const auto& m : req.rootfs()) {
    MountSpec spec{m.type(), m.source(), {m.options().begin(), m.options().end()}};
    auto plan = plan_mount(spec, rootfs);
    Status st = plan ? apply_mount(*plan) : Status(plan.error());
    if (!st) {
      undo_mounts();
      return r.fail(Code::kUnknown, "create " + id + ": mount rootfs: " + st.error().to_string());
    }
    if (c->rootfs_mounts.empty()) c->rootfs_mounts.push_back(rootfs);
  }

  // What config.json says about the pid namespace (for the exit of the init).
  if (auto spec = read_bundle_spec(c->bundle)) {
    c->kill_all_on_exit = !spec->own_pid_namespace;
  } else {
    shim_log::warn("create " + id + ": " + spec.error().to_string() + "; processes left when the init exits will be killed");
  }

  auto init = std::make_shared<Process>(ProcessKind::kInit);
  init->stdio = StdioPaths{req.stdin(), req.stdout(), req.stderr(), req.terminal()};
  auto io = ProcessIO::open(loop_, init->stdio, IoContext{id, config_.ns, config_.reaper});
  if (!io) {
    undo_mounts();
    Code code = io.error().code() == ENOTSUP ? Code::kUnimplemented : Code::kUnknown;
    return r.fail(code, "create " + id + ": open stdio: " + io.error().to_string());
  }
  init->io = std::move(*io);
  c->init = init;
  // From here on the id is taken (a binary logger may take a moment).
  creating_.insert(id);
  task::CreateTaskRequest event_src = req;
  init->io->when_ready(config_.logger_ready_limit, [this, c, r, undo_mounts, event_src](Status ready) {
    if (!ready) {
      creating_.erase(c->id);
      c->init->io.reset();
      undo_mounts();
      return r.fail(Code::kUnknown, "create " + c->id + ": " + ready.error().to_string());
    }
    create_container(c, r, undo_mounts, event_src);
  });
}

void TaskService::create_container(std::shared_ptr<Container> c, Responder r, std::function<void()> undo_mounts,
                                   const task::CreateTaskRequest& event_src) {
  auto init = c->init;
  std::shared_ptr<ConsoleSocket> console;
  if (event_src.terminal()) {
    auto cs = ConsoleSocket::create(loop_);
    if (!cs) {
      creating_.erase(c->id);
      init->io.reset();
      undo_mounts();
      return r.fail(Code::kUnknown, "create " + c->id + ": console socket: " + cs.error().to_string());
    }
    console = std::move(*cs);
  }

  // Everything but the reply and the events, so the TaskCreate is published
  // before any exit an early-dying init produces.
  c->runtime->create(c->id, c->bundle, c->bundle + "/" + kInitPidFile, console ? console->path() : "",
                     init->io->runtime_stdio(),
                     [this, c, init, console, r, undo_mounts, event_src](const RpcStatus& st, const CommandResult&) {
                       creating_.erase(c->id);
                       auto fail = [&](RpcStatus why) {
                         init->io.reset();
                         undo_mounts();
                         forget_early_exits();
                         r.fail(why);
                       };
                       if (!st.ok()) return fail(st);
                       auto pid = read_pid_file(c->bundle + "/" + kInitPidFile);
                       if (!pid) {
                         c->runtime->remove(c->id, true, [](const RpcStatus&, const CommandResult&) {});
                         return fail(RpcStatus{Code::kUnknown, "create " + c->id + ": " + pid.error().to_string()});
                       }
                       init->pid = *pid;
                       if (console) {
                         auto master = console->take_master();
                         Status attached = master ? init->io->attach_console(std::move(*master)) : Status(master.error());
                         if (!attached) {
                           (void)sys::send_signal(init->pid, SIGKILL);
                           c->runtime->remove(c->id, true, [](const RpcStatus&, const CommandResult&) {});
                           return fail(RpcStatus{Code::kUnknown, "create " + c->id + ": " + attached.error().to_string()});
                         }
                       }
                       // The runtime has placed the init in its cgroups: they
                       // are the container's, for Stats and the OOM watch.
                       watch_cgroups(*c);
                       containers_[c->id] = c;
                       task::CreateTaskResponse resp;
                       resp.set_pid(static_cast<uint32_t>(init->pid));
                       reply(r, resp);
                       events::TaskCreate ev;
                       ev.set_container_id(c->id);
                       ev.set_bundle(c->bundle);
                       *ev.mutable_rootfs() = event_src.rootfs();
                       ev.mutable_io()->set_stdin(event_src.stdin());
                       ev.mutable_io()->set_stdout(event_src.stdout());
                       ev.mutable_io()->set_stderr(event_src.stderr());
                       ev.mutable_io()->set_terminal(event_src.terminal());
                       ev.set_pid(static_cast<uint32_t>(init->pid));
                       publisher_.publish("/tasks/create", ev);
                       shim_log::info("created container " + c->id + ", init pid " + std::to_string(init->pid));
                       claim_early_exit(c, init);
                     });
  // posix_spawn has returned: the runtime holds its copies of the stdio.
  init->io->release_runtime_ends();
}

void TaskService::watch_cgroups(Container& c) {
  auto set = config_.cgroups_of ? config_.cgroups_of(c.init->pid) : cgroups_of_pid(c.init->pid);
  if (!set) {
    shim_log::warn("container " + c.id + ": its cgroups: " + set.error().to_string() + "; no Stats, no OOM events");
    return;
  }
  c.cgroups = std::move(*set);
  if (auto st = oom_.watch(c.id, c.cgroups); !st)
    shim_log::warn("container " + c.id + ": no OOM events: " + st.error().to_string());
}

// --- Start -----------------------------------------------------------------

void TaskService::start(const task::StartRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  if (auto st = found->process->state.begin(Op::kStart); !st.ok()) return r.fail(st);
  if (req.exec_id().empty()) return start_init(found->container, r);
  start_exec(found->container, found->process, r);
}

void TaskService::start_init(std::shared_ptr<Container> c, Responder r) {
  c->runtime->start(c->id, [this, c, r](const RpcStatus& st, const CommandResult&) {
    auto p = c->init;
    bool exit_now = p->state.complete(Op::kStart, st.ok());
    if (!st.ok()) {
      r.fail(st);
    } else {
      task::StartResponse resp;
      resp.set_pid(static_cast<uint32_t>(p->pid));
      reply(r, resp);
      events::TaskStart ev;
      ev.set_container_id(c->id);
      ev.set_pid(static_cast<uint32_t>(p->pid));
      publisher_.publish("/tasks/start", ev);
    }
    if (exit_now) report_exit(c, p);
  });
}

void TaskService::start_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p, Responder r) {
  auto fail_start = [this, c, p, r](RpcStatus why) {
    bool exit_now = p->state.complete(Op::kStart, false);
    p->io.reset();
    r.fail(why);
    if (exit_now) report_exit(c, p);
  };
  const std::string spec_path = c->bundle + "/" + p->exec_id + ".process.json";
  if (auto st = write_private_file(spec_path, p->spec_json); !st)
    return fail_start(RpcStatus{Code::kUnknown, "exec " + p->exec_id + ": " + st.error().to_string()});
  auto io = ProcessIO::open(loop_, p->stdio, IoContext{p->exec_id, config_.ns, config_.reaper});
  if (!io) {
    sys::unlink_quiet(spec_path);
    Code code = io.error().code() == ENOTSUP ? Code::kUnimplemented : Code::kUnknown;
    return fail_start(RpcStatus{code, "exec " + p->exec_id + ": open stdio: " + io.error().to_string()});
  }
  p->io = std::move(*io);
  p->io->when_ready(config_.logger_ready_limit, [this, c, p, r, spec_path, fail_start](Status ready) {
    if (!ready) {
      sys::unlink_quiet(spec_path);
      return fail_start(RpcStatus{Code::kUnknown, "exec " + p->exec_id + ": " + ready.error().to_string()});
    }
    run_exec(c, p, r, spec_path, fail_start);
  });
}

void TaskService::run_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p, Responder r,
                           const std::string& spec_path, std::function<void(RpcStatus)> fail_start) {
  std::shared_ptr<ConsoleSocket> console;
  if (p->stdio.terminal) {
    auto cs = ConsoleSocket::create(loop_);
    if (!cs) {
      sys::unlink_quiet(spec_path);
      return fail_start(RpcStatus{Code::kUnknown, "exec " + p->exec_id + ": console socket: " + cs.error().to_string()});
    }
    console = std::move(*cs);
  }
  const std::string pid_file = c->bundle + "/" + p->exec_id + ".pid";
  c->runtime->exec(c->id, spec_path, pid_file, console ? console->path() : "", p->io->runtime_stdio(),
                   [this, c, p, r, console, spec_path, pid_file, fail_start](const RpcStatus& st, const CommandResult&) {
                     sys::unlink_quiet(spec_path);
                     if (!st.ok()) {
                       forget_early_exits();
                       return fail_start(st);
                     }
                     auto pid = read_pid_file(pid_file);
                     if (!pid) {
                       forget_early_exits();
                       return fail_start(RpcStatus{Code::kUnknown, "exec " + p->exec_id + ": " + pid.error().to_string()});
                     }
                     p->pid = *pid;
                     if (console) {
                       auto master = console->take_master();
                       Status attached = master ? p->io->attach_console(std::move(*master)) : Status(master.error());
                       if (!attached) shim_log::error("exec " + p->exec_id + ": " + attached.error().to_string());
                     }
                     // An exec may be gone before `exec --detach` returned.
                     claim_early_exit(c, p);
                     bool exit_now = p->state.complete(Op::kStart, true);
                     task::StartResponse resp;
                     resp.set_pid(static_cast<uint32_t>(p->pid));
                     reply(r, resp);
                     events::TaskExecStarted ev;
                     ev.set_container_id(c->id);
                     ev.set_exec_id(p->exec_id);
                     ev.set_pid(static_cast<uint32_t>(p->pid));
                     publisher_.publish("/tasks/exec-started", ev);
                     if (exit_now) report_exit(c, p);
                   });
  p->io->release_runtime_ends();
}

// --- exits -------------------------------------------------------------------

void TaskService::record_exit(Process& p, int wait_status) {
  p.exit_status = static_cast<uint32_t>(sys::exit_code_of(wait_status));
  p.exited_at = sys::wall_now();
}

void TaskService::on_exit(pid_t pid, int wait_status) {
  for (auto& [id, c] : containers_) {
    std::vector<std::shared_ptr<Process>> procs = {c->init};
    for (auto& [eid, e] : c->execs) procs.push_back(e);
    for (auto& p : procs) {
      if (p->pid != pid || p->state.has_exited()) continue;
      record_exit(*p, wait_status);
      shim_log::debug("pid " + std::to_string(pid) + " exited with " + std::to_string(p->exit_status));
      process_exited(c, p);
      return;
    }
  }
  // Not known (yet): the pid file of a running command may name it.
  if (runner_.in_flight() > 0 && early_exits_.size() < 4096) early_exits_[pid] = wait_status;
}

void TaskService::process_exited(std::shared_ptr<Container> c, std::shared_ptr<Process> p) {
  if (p != c->init) {
    if (p->state.set_exited()) report_exit(c, p);
    return;
  }
  const ProcessStateId before = p->state.id();
  // A frozen cgroup would keep the rest of the container stuck.
  auto thaw = [c, before] {
    if (before == ProcessStateId::kPaused || before == ProcessStateId::kPausing)
      c->runtime->resume(c->id, [](const RpcStatus&, const CommandResult&) {});
  };
  // An OOM kill of the init: its TaskOOM goes out before its TaskExit.
  oom_.poll(c->id);
  if (!c->kill_all_on_exit) {
    if (p->state.set_exited()) report_exit(c, p);
    return thaw();
  }
  // No pid namespace of its own: the init's exit killed nothing else. As
  // containerd-shim-runc-v2, kill what is left in the container (`kill
  // --all`: its cgroup) before the exit is reported, so that nothing
  // outlives a container that containerd sees stopped.
  c->runtime->kill(c->id, SIGKILL, true, [this, c, p, thaw](const RpcStatus& st, const CommandResult&) {
    if (!st.ok() && !looks_gone(st.message))
      shim_log::warn("container " + c->id + ": kill the processes left after its init: " + st.message);
    if (p->state.set_exited()) report_exit(c, p);
    thaw();
  });
}

void TaskService::claim_early_exit(const std::shared_ptr<Container>& c, const std::shared_ptr<Process>& p) {
  auto it = early_exits_.find(p->pid);
  if (it != early_exits_.end()) {
    int status = it->second;
    early_exits_.erase(it);
    record_exit(*p, status);
    process_exited(c, p);
  }
  forget_early_exits();
}

void TaskService::forget_early_exits() {
  // With no command running, no pid file can name these pids any more.
  if (runner_.in_flight() == 0) early_exits_.clear();
}

void TaskService::report_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p) {
  auto done = [this, c, p] {
    if (p->exit_reported) return;
    p->exit_reported = true;
    task::WaitResponse w;
    w.set_exit_status(p->exit_status);
    set_time(w.mutable_exited_at(), p->exited_at);
    for (auto& waiter : p->waiters) reply(waiter, w);
    p->waiters.clear();
    events::TaskExit ev;
    ev.set_container_id(c->id);
    ev.set_id(p->exec_id.empty() ? c->id : p->exec_id);
    ev.set_pid(static_cast<uint32_t>(p->pid));
    ev.set_exit_status(p->exit_status);
    set_time(ev.mutable_exited_at(), p->exited_at);
    publisher_.publish("/tasks/exit", ev);
    if (p == c->init) {
      if (auto st = write_exit_record(c->bundle, {p->exit_status, p->exited_at}); !st)
        shim_log::warn(st.error().to_string());
      shim_log::info("container " + c->id + " exited with status " + std::to_string(p->exit_status));
    }
  };
  if (p->io) {
    p->io->finish(config_.io_drain_limit, done);
  } else {
    loop_.defer(done);
  }
}

// --- State, Wait, Kill, Delete -----------------------------------------------

void TaskService::state(const task::StateRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  const Process& p = *found->process;
  task::StateResponse resp;
  resp.set_id(req.exec_id().empty() ? found->container->id : p.exec_id);
  resp.set_bundle(found->container->bundle);
  resp.set_pid(static_cast<uint32_t>(p.pid));
  resp.set_status(static_cast<containerd::v1::types::Status>(p.state.status()));
  resp.set_stdin(p.stdio.in);
  resp.set_stdout(p.stdio.out);
  resp.set_stderr(p.stdio.err);
  resp.set_terminal(p.stdio.terminal);
  if (p.state.is_stopped()) {
    resp.set_exit_status(p.exit_status);
    set_time(resp.mutable_exited_at(), p.exited_at);
  }
  resp.set_exec_id(p.exec_id);
  reply(r, resp);
}

void TaskService::wait(const task::WaitRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  Process& p = *found->process;
  if (!p.exit_reported) {
    p.waiters.push_back(r);
    return;
  }
  task::WaitResponse w;
  w.set_exit_status(p.exit_status);
  set_time(w.mutable_exited_at(), p.exited_at);
  reply(r, w);
}

void TaskService::kill(const task::KillRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  auto p = found->process;
  const int sig = static_cast<int>(req.signal());
  if (sig <= 0 || sig >= NSIG) return r.fail(Code::kInvalidArgument, "kill: invalid signal " + std::to_string(sig));
  auto st = p->state.begin(Op::kKill);
  if (!st.ok()) {
    // `kill --all` after the init exited still reaches processes that
    // outlived it (shared pid namespace); runc's shim answers OK here.
    if (p == c->init && req.all() && p->state.is_stopped()) {
      c->runtime->kill(c->id, sig, true, [r](const RpcStatus&, const CommandResult&) { reply(r, google::protobuf::Empty()); });
      return;
    }
    return r.fail(st);
  }
  if (p != c->init) {
    // The exec is our (re-parented) child and not reaped yet: its pid is
    // still its own.
    if (auto killed = sys::send_signal(p->pid, sig); !killed) {
      if (killed.error().code() == ESRCH) return r.fail(Code::kNotFound, "process already finished: not found");
      return r.fail(Code::kUnknown, "kill exec " + p->exec_id + ": " + killed.error().to_string());
    }
    return reply(r, google::protobuf::Empty());
  }
  c->runtime->kill(c->id, sig, req.all(), [r, p](const RpcStatus& st, const CommandResult&) {
    if (st.ok()) return reply(r, google::protobuf::Empty());
    if (p->state.has_exited() || looks_gone(st.message))
      return r.fail(Code::kNotFound, "process already finished: not found");
    r.fail(st);
  });
}

void TaskService::remove(const task::DeleteRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  auto p = found->process;
  if (auto st = p->state.begin(Op::kDelete); !st.ok()) return r.fail(st);
  auto finish = [this, c, p, r] {
    p->state.complete(Op::kDelete, true);
    task::DeleteResponse resp;
    resp.set_pid(static_cast<uint32_t>(p->pid));
    resp.set_exit_status(p->exit_status);
    if (p->state.has_exited()) set_time(resp.mutable_exited_at(), p->exited_at);
    events::TaskDelete ev;
    ev.set_container_id(c->id);
    ev.set_pid(static_cast<uint32_t>(p->pid));
    ev.set_exit_status(p->exit_status);
    if (p->state.has_exited()) set_time(ev.mutable_exited_at(), p->exited_at);
    if (p != c->init) ev.set_id(p->exec_id);
    p->io.reset();
    // Waits still pending see the process gone.
    for (auto& w : p->waiters) w.fail(Code::kNotFound, "process deleted: not found");
    p->waiters.clear();
    reply(r, resp);
    publisher_.publish("/tasks/delete", ev);
  };
  if (p != c->init) {
    c->execs.erase(p->exec_id);
    return finish();
  }
  c->runtime->remove(c->id, false, [this, c, p, r, finish](const RpcStatus& st, const CommandResult&) {
    if (!st.ok() && !looks_gone(st.message)) {
      p->state.complete(Op::kDelete, false);
      return r.fail(st);
    }
    for (auto it = c->rootfs_mounts.rbegin(); it != c->rootfs_mounts.rend(); ++it)
      if (auto u = unmount_all(*it); !u) shim_log::warn("delete " + c->id + ": " + u.error().to_string());
    c->rootfs_mounts.clear();
    for (auto& [eid, e] : c->execs) e->io.reset();
    oom_.unwatch(c->id);
    containers_.erase(c->id);
    finish();
    shim_log::info("deleted container " + c->id);
  });
}

// --- Exec, Pids, Pause, Resume, Update ---------------------------------------

void TaskService::exec(const task::ExecProcessRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kExec); !st.ok()) return r.fail(st);
  if (!valid_identifier(req.exec_id()))
    return r.fail(Code::kInvalidArgument, "exec: invalid exec id `" + req.exec_id() + "`");
  if (c->execs.count(req.exec_id()))
    return r.fail(Code::kAlreadyExists, "exec " + req.exec_id() + " in container " + c->id + ": already exists");
  if (req.spec().value().empty()) return r.fail(Code::kInvalidArgument, "exec " + req.exec_id() + ": no process spec");
  auto p = std::make_shared<Process>(ProcessKind::kExec);
  p->exec_id = req.exec_id();
  p->stdio = StdioPaths{req.stdin(), req.stdout(), req.stderr(), req.terminal()};
  p->spec_json = req.spec().value();
  c->execs[p->exec_id] = p;
  reply(r, google::protobuf::Empty());
  events::TaskExecAdded ev;
  ev.set_container_id(c->id);
  ev.set_exec_id(p->exec_id);
  publisher_.publish("/tasks/exec-added", ev);
}

namespace {
// `ps --format json` prints a JSON array of pids.
std::vector<pid_t> parse_pid_array(const std::string& text) {
  std::vector<pid_t> pids;
  const char* s = text.c_str();
  while (*s) {
    if (*s >= '0' && *s <= '9') {
      char* end = nullptr;
      long v = std::strtol(s, &end, 10);
      if (v > 0) pids.push_back(static_cast<pid_t>(v));
      s = end;
    } else {
      ++s;
    }
  }
  return pids;
}
}  // namespace

void TaskService::pids(const task::PidsRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  c->runtime->ps(c->id, [c, r](const RpcStatus& st, const CommandResult& res) {
    if (!st.ok()) return r.fail(st);
    task::PidsResponse resp;
    for (pid_t pid : parse_pid_array(res.out)) {
      auto* info = resp.add_processes();
      info->set_pid(static_cast<uint32_t>(pid));
      for (const auto& [eid, e] : c->execs) {
        if (e->pid != pid) continue;
        containerd::runc::v1::ProcessDetails d;
        d.set_exec_id(eid);
        info->mutable_info()->set_type_url("containerd.runc.v1.ProcessDetails");
        info->mutable_info()->set_value(d.SerializeAsString());
      }
    }
    reply(r, resp);
  });
}

void TaskService::pause(const task::PauseRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kPause); !st.ok()) return r.fail(st);
  c->runtime->pause(c->id, [this, c, r](const RpcStatus& st, const CommandResult&) {
    c->init->state.complete(Op::kPause, st.ok());
    if (!st.ok()) return r.fail(st);
    reply(r, google::protobuf::Empty());
    events::TaskPaused ev;
    ev.set_container_id(c->id);
    publisher_.publish("/tasks/paused", ev);
  });
}

void TaskService::resume(const task::ResumeRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kResume); !st.ok()) return r.fail(st);
  c->runtime->resume(c->id, [this, c, r](const RpcStatus& st, const CommandResult&) {
    c->init->state.complete(Op::kResume, st.ok());
    if (!st.ok()) return r.fail(st);
    reply(r, google::protobuf::Empty());
    events::TaskResumed ev;
    ev.set_container_id(c->id);
    publisher_.publish("/tasks/resumed", ev);
  });
}

void TaskService::update(const task::UpdateTaskRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kUpdate); !st.ok()) return r.fail(st);
  // containerd sends the runtime-spec LinuxResources as JSON.
  static uint64_t serial = 0;
  const std::string path = c->bundle + "/update-resources-" + std::to_string(++serial) + ".json";
  if (auto st = write_private_file(path, req.resources().value()); !st)
    return r.fail(Code::kUnknown, "update " + c->id + ": " + st.error().to_string());
  CommandSpec spec;
  spec.argv = c->runtime->command({"update", "--resources", path, c->id});
  runner_.run(spec, [r, path, c](Result<CommandResult> res) {
    sys::unlink_quiet(path);
    if (!res) return r.fail(Code::kUnknown, "update " + c->id + ": " + res.error().to_string());
    if (res->exit_code != 0)
      return r.fail(Code::kUnknown, "update " + c->id + " failed: " +
                                        (res->err.empty() ? "exit status " + std::to_string(res->exit_code) : res->err));
    reply(r, google::protobuf::Empty());
  });
}

// --- CloseIO, ResizePty, Connect, Shutdown ------------------------------------

void TaskService::close_io(const task::CloseIORequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  if (req.stdin() && found->process->io) found->process->io->close_stdin();
  reply(r, google::protobuf::Empty());
}

void TaskService::resize_pty(const task::ResizePtyRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), req.exec_id(), &why);
  if (!found) return r.fail(why);
  auto& io = found->process->io;
  if (!io) return r.fail(Code::kFailedPrecondition, "resize: process has no terminal");
  if (auto st = io->resize(req.width(), req.height()); !st)
    return r.fail(Code::kFailedPrecondition, st.error().to_string());
  reply(r, google::protobuf::Empty());
}

void TaskService::connect(const task::ConnectRequest& req, Responder r) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(getpid()));
  auto it = containers_.find(req.id());
  if (it != containers_.end()) resp.set_task_pid(static_cast<uint32_t>(it->second->init->pid));
  reply(r, resp);
}

void TaskService::stats(const task::StatsRequest& req, Responder r) {
  RpcStatus why;
  auto found = find(req.id(), "", &why);
  if (!found) return r.fail(why);
  auto& c = *found->container;
  if (c.cgroups.empty()) return r.fail(Code::kNotFound, "stats " + c.id + ": the container's cgroups are not known");
  auto metrics = read_metrics(c.cgroups);
  if (!metrics) {
    Code code = metrics.error().code() == ENOENT ? Code::kNotFound : Code::kUnknown;
    return r.fail(code, "stats " + c.id + ": " + metrics.error().to_string());
  }
  task::StatsResponse resp;
  resp.mutable_stats()->set_type_url(metrics->type_url);
  resp.mutable_stats()->set_value(std::move(metrics->value));
  reply(r, resp);
}

void TaskService::shutdown(const task::ShutdownRequest&, Responder r) {
  // Another container (or one being created) still lives here.
  if (!containers_.empty() || !creating_.empty()) return reply(r, google::protobuf::Empty());
  reply(r, google::protobuf::Empty());
  shim_log::info("shutdown: no container left");
  if (on_shutdown_) loop_.defer(on_shutdown_);
}

}  // namespace berth::shim
