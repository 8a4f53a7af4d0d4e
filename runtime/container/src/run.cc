// run: create + start, then (unless detached) wait for the container's
// process while forwarding signals to it, delete it, and return its exit
// code the way a shell reports it.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "console_relay.h"
#include "create_internal.h"

namespace berth::container {

namespace {

constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGPIPE, SIGALRM, SIGCONT, SIGWINCH};

class SignalWatch {
 public:
  Status open() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (int sig : kForwarded) sigaddset(&set, sig);
    if (sys::sigprocmask(SIG_BLOCK, &set, &old_) != 0) return sys_error("sigprocmask");
    blocked_ = true;
    int fd = sys::signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) return sys_error("signalfd");
    fd_.reset(fd);
    return {};
  }
  ~SignalWatch() { restore(); }
  void restore() {
    if (blocked_) sys::sigprocmask(SIG_SETMASK, &old_, nullptr);
    blocked_ = false;
  }
  BorrowedFd fd() const { return BorrowedFd(fd_); }

 private:
  UniqueFd fd_;
  sigset_t old_{};
  bool blocked_ = false;
};

// Reaps every exited child (as a subreaper we also inherit orphans of the
// container when it shares our pid namespace); returns the init's status
// once it has exited.
std::optional<int> reap(pid_t init) {
  std::optional<int> init_status;
  for (;;) {
    int status = 0;
    pid_t pid = sys::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    if (pid == init) init_status = status;
  }
  return init_status;
}

}  // namespace

Result<int> run(const Globals& globals, const CreateOptions& run_options, bool detach) {
  CreateOptions options = run_options;
  options.relay_console = !detach && options.console_socket.empty();
  SignalWatch signals;
  if (!detach) BERTH_TRY(signals.open());
  pid_t init = 0;
  UniqueFd console;
  {
    auto created = BERTH_VALUE(create_container(globals, options));
    console = std::move(created.console_master);
    init = created.state.pid;
    auto started = start_locked(created.dir, created.state, created.spec);
    if (!started) {
      signals.restore();
      // From the state in hand: a remove() by id after the state dir is
      // gone found nothing and left every cgroup directory behind.
      (void)destroy_locked(created.dir, created.state);
      (void)sys::wait_pid(init, WNOHANG);
      return std::move(started).error();
    }
    // Leaving this scope unlocks the state dir for `state`, `kill`, ...
  }
  if (detach) return 0;
  // A foreground run that cannot follow its container any more (relay or
  // signalfd failure) takes it down rather than leave it without a caller.
  ScopeGuard destroy_on_error([&] { (void)remove(globals, options.id, true); });

  std::optional<int> status;
  if (console.valid()) {
    status = BERTH_VALUE(relay_console(console, signals.fd(), init));
  } else {
    status = reap(init);
  }
  while (!status) {
    struct signalfd_siginfo info {};
    ssize_t n = sys::read(signals.fd().get(), &info, sizeof info);
    if (n != sizeof info) {
      if (n < 0 && errno == EINTR) continue;
      return sys_error("read signalfd");
    }
    if (info.ssi_signo == SIGCHLD) {
      status = reap(init);
    } else if (info.ssi_signo != SIGWINCH) {
      sys::kill(init, static_cast<int>(info.ssi_signo));
    }
  }
  signals.restore();
  destroy_on_error.dismiss();
  BERTH_TRY(remove(globals, options.id, true));
  return sys::exit_code_of(*status);
}

}  // namespace berth::container
