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
#include <tuple>
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
  do { n = sys::write(report_fd, &f, sizeof f); } while (n < 0 && errno == EINTR);
  sys::exit_immediately(127);
}

// Runs in the forked child: allocates nothing but what cloexec_from's
// fallback may need.
[[noreturn]] void exec_hook(int stdin_fd, int report_fd, const char* path, char* const* argv,
                            char* const* envp) {
  // Ignored signals and the mask survive exec: the hook gets a clean state
  // whatever the runtime blocked or ignored (SIGPIPE especially).
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) sys::signal(sig, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  sys::sigprocmask(SIG_SETMASK, &none, nullptr);

  // If the runtime ran with 0-2 closed, the pipes may sit there: move them
  // up before dup2 puts stdin in place.
  if (report_fd < 3) report_fd = sys::fcntl(report_fd, F_DUPFD_CLOEXEC, 3);
  if (report_fd < 0) sys::exit_immediately(127);
  if (stdin_fd < 3) stdin_fd = sys::fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
  if (stdin_fd < 0 || sys::dup2(stdin_fd, 0) < 0) child_fail(report_fd, kStageSetup);
  // Nothing of the runtime's beyond stdio reaches the hook.
  if (!sys::cloexec_from(3).ok()) child_fail(report_fd, kStageSetup);
  sys::execve(path, argv, envp);
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
    sys::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
    sys::sigprocmask(SIG_BLOCK, &pipe_only, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pipe_only;
      ::sigemptyset(&pipe_only);
      ::sigaddset(&pipe_only, SIGPIPE);
      struct timespec zero {};
      while (sys::sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE) {}
    }
    sys::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

int64_t now_ms() {
  struct timespec ts {};
  sys::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe(std::string_view what) {
  int fds[2];
  if (sys::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe2").wrap(what);
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

// --- the steps of run_hook, in order ----------------------------------------

std::string describe(const spec::Hook& hook, std::string_view kind, size_t index) {
  return std::string(kind) + " hook " + std::to_string(index) + " (`" + hook.path + "`)";
}

// argv and envp are built before the fork so that the child allocates
// nothing. They point into `hook`, which outlives them.
struct HookArgv {
  std::vector<char*> argv;
  std::vector<char*> envp;
};

HookArgv build_argv(const spec::Hook& hook) {
  HookArgv a;
  if (hook.args.empty()) {
    a.argv.push_back(const_cast<char*>(hook.path.c_str()));
  } else {
    for (const auto& arg : hook.args) a.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  a.argv.push_back(nullptr);
  for (const auto& e : hook.env) a.envp.push_back(const_cast<char*>(e.c_str()));
  a.envp.push_back(nullptr);
  return a;
}

// The hook's stdin and the pipe its child reports a failure before exec on.
struct HookPipes {
  UniqueFd stdin_read, stdin_write;
  UniqueFd report_read, report_write;
};

Result<HookPipes> open_pipes(const std::string& what) {
  HookPipes p;
  std::tie(p.stdin_read, p.stdin_write) = BERTH_VALUE(make_pipe(what));
  std::tie(p.report_read, p.report_write) = BERTH_VALUE(make_pipe(what));
  return p;
}

// Forks the hook process. The handle kills and reaps it on every way out
// until it is waited for.
Result<ChildProcess> spawn(const spec::Hook& hook, const HookArgv& a, HookPipes& pipes,
                           const std::string& what) {
  auto forked = ChildProcess::clone(0);
  if (!forked) return std::move(forked).error().wrap(what);
  ChildProcess child = std::move(*forked);
  if (child.in_child())
    exec_hook(pipes.stdin_read.get(), pipes.report_write.get(), hook.path.c_str(), a.argv.data(),
              a.envp.data());
  pipes.stdin_read.reset();
  pipes.report_write.reset();
  return child;
}

// Blocks until execve closed the report pipe, or the child wrote to it.
Status await_exec(ChildProcess& child, HookPipes& pipes, const std::string& what) {
  ChildFailure failure{};
  ssize_t n;
  do {
    n = sys::read(pipes.report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read exec status").wrap(what);
  if (n == sizeof failure) {
    (void)child.wait();
    if (failure.stage == kStageExec) return sys_error(failure.error, what + ": exec failed");
    return sys_error(failure.error, what + ": set up the hook process");
  }
  return {};
}

// Writes the state to the hook's stdin while watching its pidfd, until it
// exits or its timeout expires.
Status feed_state_until_exit(const spec::Hook& hook, const ChildProcess& child,
                             UniqueFd& stdin_write, std::string_view state_json,
                             const std::string& what) {
  const bool has_timeout = hook.timeout && *hook.timeout > 0;
  const int64_t deadline = has_timeout ? now_ms() + int64_t{*hook.timeout} * 1000 : 0;
  if (sys::fcntl(stdin_write.get(), F_SETFL, O_NONBLOCK) != 0)
    return sys_error("fcntl O_NONBLOCK").wrap(what);
  std::string_view pending = state_json;
  if (pending.empty()) stdin_write.reset();  // EOF right away
  SigpipeBlock no_sigpipe;
  for (;;) {
    struct pollfd fds[2] = {{child.pidfd().get(), POLLIN, 0}, {stdin_write.get(), POLLOUT, 0}};
    int wait_ms = -1;
    if (has_timeout) {
      int64_t left = deadline - now_ms();
      wait_ms = left > 0 ? static_cast<int>(left) : 0;
    }
    int ready = sys::poll(fds, stdin_write ? 2 : 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll").wrap(what);
    }
    if (ready == 0) {
      // The caller's handle kills it: a hook that hangs must not hang the
      // runtime.
      const int secs = *hook.timeout;
      return make_error(
          what + ": timed out after " + std::to_string(secs) + (secs == 1 ? " second" : " seconds"),
          ETIMEDOUT);
    }
    const bool exited = (fds[0].revents & POLLIN) != 0;
    if (stdin_write && fds[1].revents != 0) {
      ssize_t w = sys::write(stdin_write.get(), pending.data(), pending.size());
      if (w >= 0) {
        pending.remove_prefix(static_cast<size_t>(w));
        if (pending.empty()) stdin_write.reset();
      } else if (errno == EPIPE) {
        stdin_write.reset();  // the hook does not read its stdin: its choice
      } else if (errno != EAGAIN && errno != EINTR) {
        return sys_error("write the state to its stdin").wrap(what);
      }
    }
    if (exited) return {};
  }
}

Status check_exit(ChildProcess& child, const std::string& what) {
  auto status = child.wait();
  if (!status) return std::move(status).error().wrap(what);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return make_error(what + ": " + exit_text(*status), 0);
  return {};
}

}  // namespace

Status run_hook(const spec::Hook& hook, std::string_view kind, size_t index,
                std::string_view state_json) {
  const std::string what = describe(hook, kind, index);
  if (hook.path.empty()) return make_error(what + ": path is empty");
  const HookArgv argv = build_argv(hook);
  auto pipes = BERTH_VALUE(open_pipes(what));
  auto child = BERTH_VALUE(spawn(hook, argv, pipes, what));
  BERTH_TRY(await_exec(child, pipes, what));
  BERTH_TRY(feed_state_until_exit(hook, child, pipes.stdin_write, state_json, what));
  return check_exit(child, what);
}

Status run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                 std::string_view state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) BERTH_TRY(run_hook(hooks[i], kind, i, state_json));
  return {};
}

}  // namespace berth::os
