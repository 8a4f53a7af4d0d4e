// OCI hooks: fork, exec the hook with the state JSON on its stdin, wait with
// an optional timeout.
//
// The parent never blocks on the hook alone: the state is written through a
// non-blocking pipe while a pidfd is polled, so a hook that neither reads
// its stdin nor exits is still killed when its timeout expires.

#include "berth/linux/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/child_process.h"
#include "berth/base/sys.h"

namespace berth::os {

namespace {

// What the child reports through its close-on-exec pipe when it fails
// before the hook runs; an empty read means execve succeeded.
struct ChildFailure {
  int stage;  // kStageSetup or kStageExec
  int error;
};
constexpr int kStageSetup = 0;
constexpr int kStageExec = 1;

[[noreturn]] void child_fail(int report_fd, int stage) {
  ChildFailure f{stage, errno};
  ssize_t n;
  do {
    n = ::write(report_fd, &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

// Runs in the forked child: allocates nothing but what cloexec_from's
// fallback may need.
[[noreturn]] void exec_hook(int stdin_fd, int report_fd, const char* path, char* const* argv,
                            char* const* envp) {
  // Ignored signals and the mask survive exec: the hook gets a clean state
  // whatever the runtime blocked or ignored (SIGPIPE especially).
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // If the runtime ran with 0-2 closed, the pipes may sit there: move them
  // up before dup2 puts stdin in place.
  if (report_fd < 3) report_fd = ::fcntl(report_fd, F_DUPFD_CLOEXEC, 3);
  if (report_fd < 0) ::_exit(127);
  if (stdin_fd < 3) stdin_fd = ::fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
  if (stdin_fd < 0 || ::dup2(stdin_fd, 0) < 0) child_fail(report_fd, kStageSetup);
  // Nothing of the runtime's beyond stdio reaches the hook.
  if (!sys::cloexec_from(3).ok()) child_fail(report_fd, kStageSetup);
  ::execve(path, argv, envp);
  child_fail(report_fd, kStageExec);
}

// Blocks SIGPIPE while the state is written to a hook that may have exited
// without reading it: the write then fails with EPIPE instead of killing
// the runtime. A SIGPIPE raised meanwhile is consumed, unless one was
// already pending before (that one is the caller's).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe_only;
    ::sigemptyset(&pipe_only);
    ::sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
    ::sigprocmask(SIG_BLOCK, &pipe_only, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pipe_only;
      ::sigemptyset(&pipe_only);
      ::sigaddset(&pipe_only, SIGPIPE);
      struct timespec zero {};
      while (::sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

int64_t now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe(std::string_view what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe2").wrap(what);
  return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (abbrev ? " (SIG" + std::string(abbrev) + ")" : std::string());
  }
  return "exited with status " + std::to_string(sys::exit_code_of(status));
}

}  // namespace

Status run_hook(const spec::Hook& hook, std::string_view kind, size_t index,
                std::string_view state_json) {
  const std::string what =
      std::string(kind) + " hook " + std::to_string(index) + " (`" + hook.path + "`)";
  if (hook.path.empty()) return make_error(what + ": path is empty");

  // argv and envp are built before the fork so that the child allocates
  // nothing.
  std::vector<char*> argv, envp;
  if (hook.args.empty()) {
    argv.push_back(const_cast<char*>(hook.path.c_str()));
  } else {
    for (const auto& a : hook.args) argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  for (const auto& e : hook.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  auto [stdin_read, stdin_write] = BERTH_VALUE(make_pipe(what));
  auto [report_read, report_write] = BERTH_VALUE(make_pipe(what));

  // Until it is waited for, the hook is killed and reaped on every way out.
  auto forked = ChildProcess::clone(0);
  if (!forked) return std::move(forked).error().wrap(what);
  ChildProcess child = std::move(*forked);
  if (child.in_child())
    exec_hook(stdin_read.get(), report_write.get(), hook.path.c_str(), argv.data(), envp.data());
  stdin_read.reset();
  report_write.reset();

  // Blocks until execve closed the report pipe, or the child wrote to it.
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read exec status").wrap(what);
  if (n == sizeof failure) {
    (void)child.wait();
    if (failure.stage == kStageExec) return sys_error(failure.error, what + ": exec failed");
    return sys_error(failure.error, what + ": set up the hook process");
  }

  const bool has_timeout = hook.timeout && *hook.timeout > 0;
  const int64_t deadline = has_timeout ? now_ms() + int64_t{*hook.timeout} * 1000 : 0;
  if (::fcntl(stdin_write.get(), F_SETFL, O_NONBLOCK) != 0)
    return sys_error("fcntl O_NONBLOCK").wrap(what);
  std::string_view pending = state_json;
  if (pending.empty()) stdin_write.reset();  // EOF right away
  bool exited = false;
  {
    SigpipeBlock no_sigpipe;
    while (!exited) {
      struct pollfd fds[2] = {{child.pidfd().get(), POLLIN, 0}, {stdin_write.get(), POLLOUT, 0}};
      int wait_ms = -1;
      if (has_timeout) {
        int64_t left = deadline - now_ms();
        wait_ms = left > 0 ? static_cast<int>(left) : 0;
      }
      int ready = ::poll(fds, stdin_write ? 2 : 1, wait_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return sys_error("poll").wrap(what);
      }
      if (ready == 0) {
        // child's destructor kills it: a hook that hangs must not hang the runtime.
        const int secs = *hook.timeout;
        return make_error(what + ": timed out after " + std::to_string(secs) +
                              (secs == 1 ? " second" : " seconds"),
                          ETIMEDOUT);
      }
      if (fds[0].revents & POLLIN) exited = true;
      if (stdin_write && fds[1].revents != 0) {
        ssize_t w = ::write(stdin_write.get(), pending.data(), pending.size());
        if (w >= 0) {
          pending.remove_prefix(static_cast<size_t>(w));
          if (pending.empty()) stdin_write.reset();
        } else if (errno == EPIPE) {
          stdin_write.reset();  // the hook does not read its stdin: its choice
        } else if (errno != EAGAIN && errno != EINTR) {
          return sys_error("write the state to its stdin").wrap(what);
        }
      }
    }
  }

  auto status = child.wait();
  if (!status) return std::move(status).error().wrap(what);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return make_error(what + ": " + exit_text(*status), 0);
  return {};
}

Status run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                 std::string_view state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) BERTH_TRY(run_hook(hooks[i], kind, i, state_json));
  return {};
}

}  // namespace berth::os
