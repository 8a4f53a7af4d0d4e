// Create: the request checked, the runtime chosen, the rootfs mounted, the
// init's stdio opened (a binary:// logger may take a moment to get ready),
// then the runtime's create, the reply and TaskCreate.
#include <signal.h>

#include "berth/base/log.h"
#include "bundle.h"
#include "containerd/events/task.pb.h"
#include "containerd/runc/v1/options.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "mounts.h"
#include "runtimeoptions/v1/options.pb.h"
#include "service.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;
using ttrpc::Code;
using ttrpc::RpcStatus;

namespace {

std::string bare_type(const std::string& type_url) {
  return type_url.substr(type_url.rfind('/') + 1);
}

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

}  // namespace

// One Create, from the request to the reply. Its steps run across two
// asynchronous waits (the stdio getting ready, the runtime's create); each
// step that leaves something behind (mounts, stdio, the id taken, the
// runtime's container, the init) records how to undo it, and a failure
// anywhere unwinds what was recorded, newest first, exactly once.
class TaskCreation : public std::enable_shared_from_this<TaskCreation> {
 public:
  TaskCreation(TaskService& service, const task::CreateTaskRequest& req, ttrpc::Responder r)
      : service_(service), req_(req), r_(std::move(r)) {}

  // Checks, mounts the rootfs, opens the stdio; goes on once it is ready.
  void begin();

 private:
  // The runtime's create (stdio ready).
  void create_in_runtime();
  // The runtime's create returned.
  void created(const Status& st);
  void fail(const RpcStatus& why);
  void on_failure(std::function<void()> undo) { undo_.push_back(std::move(undo)); }

  TaskService& service_;
  const task::CreateTaskRequest req_;  // kept for the TaskCreate event
  const ttrpc::Responder r_;
  std::shared_ptr<Container> c_;
  std::shared_ptr<ConsoleSocket> console_;
  std::vector<std::function<void()>> undo_;
};

void TaskService::create(const task::CreateTaskRequest& req, Responder r) {
  std::make_shared<TaskCreation>(*this, req, std::move(r))->begin();
}

void TaskCreation::fail(const RpcStatus& why) {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
  undo_.clear();
  r_.fail(why);
}

void TaskCreation::begin() {
  TaskService& s = service_;
  const std::string id = req_.id();
  if (!valid_identifier(id))
    return fail({Code::kInvalidArgument, "create: invalid container id `" + id + "`"});
  if (s.containers_.count(id) || s.creating_.count(id))
    return fail({Code::kAlreadyExists, "container " + id + ": already exists"});
  if (!req_.checkpoint().empty())
    return fail({Code::kUnimplemented, "create from a checkpoint is not supported"});
  if (req_.bundle().empty() || req_.bundle()[0] != '/')
    return fail({Code::kInvalidArgument, "create " + id + ": bundle must be an absolute path"});

  RuntimeChoice choice;
  if (req_.has_options()) {
    choice = parse_options(req_.options());
  } else if (!s.config_.start_options.empty()) {
    google::protobuf::Any any;
    if (any.ParseFromString(s.config_.start_options)) choice = parse_options(any);
  }
  auto binary = resolve_runtime_binary(choice.binary_name.empty() ? s.config_.default_runtime
                                                                  : choice.binary_name);
  if (!binary)
    return fail({Code::kFailedPrecondition, "create " + id + ": " + binary.error().to_string()});
  // As containerd's runc shim: the root option is joined with the namespace.
  std::string root =
      (choice.root.empty() ? s.config_.default_root : choice.root) + "/" + s.config_.ns;

  auto c = c_ = std::make_shared<Container>();
  c->id = id;
  c->bundle = req_.bundle();
  c->runtime = std::make_unique<Runtime>(
      s.runner_, RuntimeConfig{*binary, root, c->bundle + "/log.json", choice.systemd_cgroup});
  if (auto st = write_runtime_record(c->bundle, {*binary, root, choice.systemd_cgroup}); !st)
    shim_log::warn("create " + id + ": " + st.error().to_string());

  // Rootfs: the snapshotter's mounts stacked on <bundle>/rootfs.
  const std::string rootfs = c->bundle + "/rootfs";
  on_failure([c] {
    for (auto it = c->rootfs_mounts.rbegin(); it != c->rootfs_mounts.rend(); ++it)
      if (auto st = unmount_all(*it); !st) shim_log::warn(st.error().to_string());
    c->rootfs_mounts.clear();
  });
  for (const auto& m : req_.rootfs()) {
    MountSpec spec{m.type(), m.source(), {m.options().begin(), m.options().end()}};
    auto plan = plan_mount(spec, rootfs);
    Status st = plan ? apply_mount(*plan) : Status(plan.error());
    if (!st) return fail(failed("create " + id + ": mount rootfs", st.error()));
    if (c->rootfs_mounts.empty()) c->rootfs_mounts.push_back(rootfs);
  }

  // What config.json says about the pid namespace (for the exit of the init).
  if (auto spec = read_bundle_spec(c->bundle)) {
    c->kill_all_on_exit = !spec->own_pid_namespace;
  } else {
    shim_log::warn("create " + id + ": " + spec.error().to_string() +
                   "; processes left when the init exits will be killed");
  }

  auto init = c->init = std::make_shared<Process>(ProcessKind::kInit);
  init->stdio = StdioPaths{req_.stdin(), req_.stdout(), req_.stderr(), req_.terminal()};
  auto io = ProcessIO::open(s.loop_, init->stdio, IoContext{id, s.config_.ns, s.config_.reaper});
  if (!io) return fail(stdio_failed("create " + id, io.error()));
  init->io = std::move(*io);
  on_failure([init] { init->io.reset(); });
  // From here on the id is taken (a binary logger may take a moment).
  s.creating_.insert(id);
  on_failure([&s, id] { s.creating_.erase(id); });
  init->io->when_ready(s.config_.logger_ready_limit, [self = shared_from_this()](Status ready) {
    if (!ready) return self->fail(failed("create " + self->c_->id, ready.error()));
    self->create_in_runtime();
  });
}

void TaskCreation::create_in_runtime() {
  TaskService& s = service_;
  auto& c = c_;
  if (req_.terminal()) {
    auto cs = ConsoleSocket::create(s.loop_);
    if (!cs) return fail(failed("create " + c->id + ": console socket", cs.error()));
    console_ = std::move(*cs);
  }
  // With the runtime's command in flight, exits of pids not known yet are
  // kept for its pid file; a failure has no pid to claim them.
  on_failure([&s] { s.forget_early_exits(); });
  c->runtime->create(
      c->id, c->bundle, c->bundle + "/" + kInitPidFile, console_ ? console_->path() : "",
      c->init->io->runtime_stdio(),
      [self = shared_from_this()](const Status& st, const CommandResult&) { self->created(st); });
  // posix_spawn has returned: the runtime holds its copies of the stdio.
  c->init->io->release_runtime_ends();
}

void TaskCreation::created(const Status& st) {
  TaskService& s = service_;
  auto c = c_;
  auto init = c->init;
  if (!st) return fail(runtime_failed(st.error()));
  on_failure([c] { c->runtime->remove(c->id, true, [](const Status&, const CommandResult&) {}); });
  auto pid = read_pid_file(c->bundle + "/" + kInitPidFile);
  if (!pid) return fail(failed("create " + c->id, pid.error()));
  init->pid = *pid;
  if (console_) {
    on_failure([init] { (void)sys::send_signal(init->pid, SIGKILL); });
    auto master = console_->take_master();
    Status attached =
        master ? init->io->attach_console(std::move(*master)) : Status(master.error());
    if (!attached) return fail(failed("create " + c->id, attached.error()));
  }
  undo_.clear();
  s.creating_.erase(c->id);
  // Everything but the reply and the events first, so that TaskCreate is
  // published before any exit an early-dying init produces.
  // The runtime has placed the init in its cgroups: they are the
  // container's, for Stats and the OOM watch.
  s.watch_cgroups(*c);
  s.containers_[c->id] = c;
  task::CreateTaskResponse resp;
  resp.set_pid(static_cast<uint32_t>(init->pid));
  reply(r_, resp);
  events::TaskCreate ev;
  ev.set_container_id(c->id);
  ev.set_bundle(c->bundle);
  *ev.mutable_rootfs() = req_.rootfs();
  ev.mutable_io()->set_stdin(req_.stdin());
  ev.mutable_io()->set_stdout(req_.stdout());
  ev.mutable_io()->set_stderr(req_.stderr());
  ev.mutable_io()->set_terminal(req_.terminal());
  ev.set_pid(static_cast<uint32_t>(init->pid));
  s.publisher_.publish("/tasks/create", ev);
  shim_log::info("created container " + c->id + ", init pid " + std::to_string(init->pid));
  s.claim_early_exit(c, init);
}

void TaskService::watch_cgroups(Container& c) {
  auto set = config_.cgroups_of ? config_.cgroups_of(c.init->pid) : cgroups_of_pid(c.init->pid);
  if (!set) {
    shim_log::warn("container " + c.id + ": its cgroups: " + set.error().to_string() +
                   "; no Stats, no OOM events");
    return;
  }
  c.cgroups = std::move(*set);
  if (auto st = oom_.watch(c.id, c.cgroups); !st)
    shim_log::warn("container " + c.id + ": no OOM events: " + st.error().to_string());
}

}  // namespace berth::shim
