// exec: a new process in a running container.
//
// P (this process) opens a pidfd of the container's init (checked against
// its recorded start time), joins its pid and time namespaces for its
// children only, and forks the process X. X joins every other namespace of
// the init in one setns(pidfd) call (the kernel orders user first), waits
// until P has put it into the container's cgroup, and then gets the same
// treatment as the init: console, rlimits, identity, capabilities, no new
// privileges, no host fd, exec. X reports a failure before exec over a
// close-on-exec pipe; EOF there means the exec happened.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/child_process.h"
#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/cgroups/cgroups.h"
#include "berth/linux/console.h"
#include "berth/linux/lsm.h"
#include "berth/linux/process_attrs.h"
#include "berth/spec/spec.h"
#include "prepared.h"
#include "process_exec.h"
#include "state_store.h"
#include "sync_protocol.h"

namespace berth::container {

namespace {

// The namespaces of `pid` that differ from ours, as CLONE_NEW* flags.
int differing_namespaces(pid_t pid) {
  static constexpr std::pair<const char*, int> kTypes[] = {
      {"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},   {"pid", CLONE_NEWPID},
      {"net", CLONE_NEWNET},       {"ipc", CLONE_NEWIPC},  {"uts", CLONE_NEWUTS},
      {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};
  int flags = 0;
  for (const auto& [name, flag] : kTypes) {
    struct stat theirs {
    }, ours{};
    std::string p = "/proc/" + std::to_string(pid) + "/ns/" + name;
    std::string s = std::string("/proc/self/ns/") + name;
    if (sys::fstatat(sys::kAtFdcwd, p.c_str(), &theirs, 0) != 0 ||
        sys::fstatat(sys::kAtFdcwd, s.c_str(), &ours, 0) != 0)
      continue;
    if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) flags |= flag;
  }
  return flags;
}

Result<uint32_t> parse_u32(const std::string& text, std::string_view what) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v > 0xffffffffUL)
    return make_error(std::string(what) + ": not a number: `" + text + "`");
  return static_cast<uint32_t>(v);
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
  auto eq = entry.find('=');
  std::string name = entry.substr(0, eq);
  for (auto& e : env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

// The process to run: --process file, else the container's process with
// the command-line overrides.
Result<spec::Process> exec_process_spec(const ExecOptions& o, const spec::Spec& container) {
  if (!o.process_file.empty()) {
    auto text = BERTH_VALUE(sys::read_file(o.process_file, spec::kMaxConfigSize));
    return spec::parse_process(text, o.process_file);
  }
  if (o.args.empty()) return make_error("exec: a command is required (or --process)");
  spec::Process p = *container.process;
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (p.cwd.empty() || p.cwd[0] != '/') return make_error("--cwd: must be an absolute path");
  for (const auto& e : o.env) {
    if (e.find('=') == std::string::npos || e[0] == '=')
      return make_error("--env: `" + e + "` is not NAME=value");
    set_env(p.env, e);
  }
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    p.user.uid = BERTH_VALUE(parse_u32(o.user.substr(0, colon), "--user"));
    if (colon != std::string::npos)
      p.user.gid = BERTH_VALUE(parse_u32(o.user.substr(colon + 1), "--user"));
    p.user.additional_gids.clear();
  }
  for (uint32_t g : o.additional_gids) p.user.additional_gids.push_back(g);
  if (o.no_new_privs) p.no_new_privileges = true;
  if (!o.capabilities.empty()) {
    if (!p.capabilities) p.capabilities = spec::Capabilities{};
    for (const auto& c : o.capabilities) {
      for (auto* set :
           {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
        set->push_back(c);
    }
  }
  return p;
}

// --- the steps of exec, in order ------------------------------------------

Status check_options(const ExecOptions& options) {
  if (!options.apparmor.empty())
    return make_error("--apparmor: AppArmor is not supported by berth on this host", ENOTSUP);
  if (options.tty && options.console_socket.empty())
    return make_error("--tty: --console-socket is required", EINVAL);
  if (options.preserve_fds < 0) return make_error("--preserve-fds: must not be negative");
  return {};
}

// The container, locked, with its config: exec only into a created or
// running one.
struct Target {
  StateDir dir;
  StoredState stored;
  ContainerStatus status;
  spec::Spec container;
};

Result<Target> resolve_target(const Globals& globals, const ExecOptions& options) {
  auto dir = BERTH_VALUE(StateDir::open(globals.root, options.id));
  auto stored = BERTH_VALUE(dir.load());
  auto status = current_status(stored, dir);
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated)
    return refused_in_state("exec in", options.id, status);
  auto config = BERTH_VALUE(dir.load_config());
  auto container = BERTH_VALUE(spec::parse_spec(config, dir.path() + "/config.json"));
  return Target{std::move(dir), std::move(stored), status, std::move(container)};
}

// Everything about the new process that can be checked before the fork.
struct ExecPlan {
  spec::Process proc;
  os::CapabilitySets caps;
  std::optional<os::SeccompProgram> seccomp;
  UniqueFd seccomp_conn;
  std::string seccomp_message;
};

Result<ExecPlan> plan_process(const ExecOptions& options, const Target& target) {
  const auto& container = target.container;
  ExecPlan plan;
  plan.proc = BERTH_VALUE(exec_process_spec(options, container));
  BERTH_TRY(os::check_lsm(plan.proc, os::detect_lsm(),
                          options.process_file.empty() ? std::string("config.json: process.")
                                                       : options.process_file + ": "));
  if (plan.proc.capabilities)
    plan.caps = BERTH_VALUE(os::resolve_capabilities(*plan.proc.capabilities));
  BERTH_TRY(os::check_rlimits(plan.proc.rlimits));
  if (container.linux_ && container.linux_->seccomp)
    plan.seccomp = BERTH_VALUE(os::compile_seccomp(*container.linux_->seccomp));
  plan.seccomp_conn =
      BERTH_VALUE(connect_seccomp_listener(container, plan.seccomp ? &*plan.seccomp : nullptr));
  if (plan.seccomp_conn.valid()) {
    State st = public_state(target.stored, target.status);
    plan.seccomp_message = BERTH_VALUE(os::seccomp_listener_message(
        state_json(st, false), container.linux_->seccomp->listener_metadata));
  }
  return plan;
}

// The init's namespaces that differ from ours, through a pidfd of the init.
struct InitNamespaces {
  UniqueFd pidfd;
  int flags = 0;         // every namespace X must be in
  int for_children = 0;  // of those, the ones P joins for its children only
  bool user() const { return (flags & CLONE_NEWUSER) != 0; }
  int joined_by_child() const { return flags & ~for_children; }
  // A container without a mount namespace of its own is only chrooted into
  // its rootfs: joining its namespaces would leave the process at the
  // host's root, so it enters the init's root instead.
  UniqueFd root;
};

Result<InitNamespaces> open_init_namespaces(const ExecOptions& options, const Target& target) {
  InitNamespaces ns;
  ns.pidfd = BERTH_VALUE(sys::pidfd_open(target.stored.pid));
  if (!init_alive(target.stored))
    return refused_in_state("exec in", options.id, ContainerStatus::kStopped);
  ns.flags = differing_namespaces(target.stored.pid);
  ns.for_children = ns.flags & (CLONE_NEWPID | CLONE_NEWTIME);
  if (!(ns.flags & CLONE_NEWNS)) {
    ns.root = BERTH_VALUE(
        sys::open("/proc/" + std::to_string(target.stored.pid) + "/root", O_PATH | O_DIRECTORY));
    // The pid must still be the init it was (its start time) after the open.
    if (!init_alive(target.stored))
      return refused_in_state("exec in", options.id, ContainerStatus::kStopped);
  }
  return ns;
}

// Only children are affected: this process stays on the host.
Status enter_namespaces_for_children(const InitNamespaces& ns) {
  if (ns.for_children) BERTH_TRY(sys::setns(ns.pidfd, ns.for_children, "init pid/time namespace"));
  return {};
}

// P ↔ X: the sync socket (go, console) and X's close-on-exec error pipe.
struct Channels {
  sys::SocketPair sync;  // first: P's end, second: X's
  UniqueFd err_read;
  UniqueFd err_write;
};

Result<Channels> open_channels() {
  Channels ch;
  ch.sync = BERTH_VALUE(sys::socket_pair(SOCK_SEQPACKET));
  int errpipe[2];
  if (sys::pipe2(errpipe, O_CLOEXEC) != 0) return sys_error("pipe");
  ch.err_read.reset(errpipe[0]);
  ch.err_write.reset(errpipe[1]);
  return ch;
}

// The signals a foreground exec forwards, blocked before the fork so none
// is lost before we forward; restored on every way out.
class ForwardedSignals {
 public:
  explicit ForwardedSignals(bool block) : blocked_(block) {
    sigemptyset(&set_);
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
      sigaddset(&set_, sig);
    if (blocked_) sys::sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~ForwardedSignals() {
    if (blocked_) sys::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_{}, old_{};
  bool blocked_;
};

// X's failure before exec, for P to read from the error pipe.
[[noreturn]] void report_and_exit(BorrowedFd err_write, const Error& e) {
  std::string text = e.to_string();
  (void)sys::write_all(err_write, text, "exec error pipe");
  sys::exit_immediately(127);
}

// X, between fork and exec: nothing here may return into P's frames.
[[noreturn]] void run_exec_child(const ExecOptions& options, const ExecPlan& plan,
                                 const InitNamespaces& ns, Channels& ch) {
  const auto& proc = plan.proc;
  ch.sync.first.reset();
  ch.err_read.reset();
  auto report = [&](const Error& e) { report_and_exit(ch.err_write, e); };
  // Not dumpable until exec: a process in the container must not ptrace
  // or read /proc of this one while it still holds host state.
  sys::prctl(PR_SET_DUMPABLE, 0);
  sys::prctl(PR_SET_NAME, "berth:[2:EXEC]");
  if (ns.joined_by_child()) {
    if (auto st = sys::setns(ns.pidfd, ns.joined_by_child(), "init namespaces"); !st)
      report(st.error());
  }
  if (ns.root.valid()) {
    if (auto st = sys::chroot_into(ns.root, "container root"); !st) report(st.error());
  }
  auto go = sync::receive(ch.sync.second);
  if (!go || go->type != sync::Type::kGo) sys::exit_immediately(1);
  if (ns.user()) {
    sys::setresgid(0, 0, 0);
    sys::setresuid(0, 0, 0);
  }
  if (proc.terminal) {
    const char* ptmx = sys::access("/dev/pts/ptmx", F_OK) == 0 ? "/dev/pts/ptmx" : "/dev/ptmx";
    auto pty = os::open_pty(ptmx, proc.console_size);
    if (!pty) report(pty.error());
    int fd = pty->master.get();
    if (auto st = sync::send(ch.sync.second, sync::Type::kConsole, pty->slave_path,
                             std::span<const int>(&fd, 1));
        !st)
      report(st.error());
    pty->master.reset();
    if (auto st = os::make_controlling_terminal(pty->slave); !st) report(st.error());
  }
  if (proc.oom_score_adj) {
    if (auto st = os::apply_oom_score_adj(*proc.oom_score_adj); !st) report(st.error());
  }
  if (auto st = os::apply_rlimits(proc.rlimits); !st) report(st.error());
  auto path = find_executable(proc.args[0], proc.env);
  if (!path) report(path.error());
  ExecSecurity security;
  security.capabilities = proc.capabilities ? &plan.caps : nullptr;
  security.in_user_namespace = ns.user();
  security.preserve_fds = options.preserve_fds;
  security.seccomp = plan.seccomp ? &*plan.seccomp : nullptr;
  security.seccomp_listener_conn = plan.seccomp_conn.get();
  security.seccomp_listener_message = plan.seccomp_message;
  security.keep_fds = {ch.err_write.get()};
  report_and_exit(ch.err_write, exec_process(proc, security, *path).error());
}

// Forks X. The returned handle kills and reaps X on every way out until the
// exec succeeded.
Result<ChildProcess> spawn(const ExecOptions& options, ExecPlan& plan, const InitNamespaces& ns,
                           Channels& ch) {
  auto child = BERTH_VALUE(ChildProcess::clone(0));
  if (child.in_child()) run_exec_child(options, plan, ns, ch);
  ch.sync.second.reset();
  ch.err_write.reset();
  plan.seccomp_conn.reset();  // the process sends on its own copy; the agent must see EOF after it
  return child;
}

Status join_cgroup(const Target& target, const ChildProcess& child) {
  cgroups::Placement placement;
  placement.dirs = target.stored.cgroup_dirs;
  BERTH_TRY_CTX(cgroups::join(placement, child.pid()), "join container cgroup");
  return {};
}

// X is in the cgroup: let it go on, and pass its pty on to --console-socket.
Status release_child(const ExecOptions& options, const ExecPlan& plan, const Channels& ch) {
  BERTH_TRY(sync::send(ch.sync.first, sync::Type::kGo));
  if (plan.proc.terminal) {
    auto msg = sync::receive(ch.sync.first);
    if (msg && msg->type == sync::Type::kConsole && !msg->fds.empty())
      BERTH_TRY_CTX(os::send_console(options.console_socket, msg->fds[0], msg->payload),
                    "--console-socket");
  }
  return {};
}

// EOF on the error pipe: X's exec happened; text: why it did not.
Status await_exec(const Channels& ch) {
  auto failure = BERTH_VALUE(sys::read_all(ch.err_read, 64 << 10, "exec error pipe"));
  if (!failure.empty()) return make_error(failure, EIO);
  return {};
}

Status write_pid_file(const ExecOptions& options, const ChildProcess& child) {
  if (!options.pid_file.empty())
    BERTH_TRY_CTX(sys::write_file_atomic(options.pid_file, std::to_string(child.pid()), 0644),
                  "--pid-file");
  return {};
}

// Forwards signals until the process exits; returns its exit code. The
// process runs the caller's command now: failing to watch it is reported,
// but does not kill it.
Result<int> forward_signals_until_exit(ChildProcess& child, const ForwardedSignals& signals) {
  UniqueFd sigfd(sys::signalfd(-1, &signals.set(), SFD_CLOEXEC));
  if (!sigfd.valid()) {
    auto err = sys_error("signalfd");
    child.release();
    return err;
  }
  for (;;) {
    auto exited = child.try_wait();
    if (exited && *exited) return sys::exit_code_of(**exited);
    struct signalfd_siginfo info {};
    ssize_t n = sys::read(sigfd.get(), &info, sizeof info);
    if (n != sizeof info) {
      if (n < 0 && errno == EINTR) continue;
      auto err = sys_error("read signalfd");
      child.release();
      return err;
    }
    if (info.ssi_signo != SIGCHLD) (void)child.signal(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace

Result<int> exec(const Globals& globals, const ExecOptions& options) {
  BERTH_TRY(check_options(options));
  auto target = BERTH_VALUE(resolve_target(globals, options));
  auto plan = BERTH_VALUE(plan_process(options, target));
  auto ns = BERTH_VALUE(open_init_namespaces(options, target));
  BERTH_TRY(enter_namespaces_for_children(ns));
  auto channels = BERTH_VALUE(open_channels());
  ForwardedSignals signals(!options.detach);
  auto child = BERTH_VALUE(spawn(options, plan, ns, channels));
  BERTH_TRY(join_cgroup(target, child));
  BERTH_TRY(release_child(options, plan, channels));
  BERTH_TRY(await_exec(channels));
  BERTH_TRY(write_pid_file(options, child));
  target.dir.release_lock();
  if (options.detach) {
    child.release();
    return 0;
  }
  return forward_signals_until_exit(child, signals);
}

}  // namespace berth::container
