#include "berth/base/child_process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "berth/base/sys.h"

using berth::ChildProcess;

namespace {

// A child that runs until it is killed, and dies with the test process.
ChildProcess sleeper() {
  auto child = ChildProcess::clone(0);
  REQUIRE(child.ok());
  if (child->in_child()) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // doctest's crash handlers are inherited: a signal must just end us.
    ::signal(SIGTERM, SIG_DFL);
    for (;;) ::pause();
  }
  REQUIRE(child->valid());
  return std::move(*child);
}

// Gone for good: no process and no zombie under that pid, and nothing left
// for us to reap.
bool gone(pid_t pid) {
  if (berth::sys::exists("/proc/" + std::to_string(pid))) return false;
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD;
}

bool running(pid_t pid) {
  char state = berth::sys::process_state(pid);
  return state != 0 && state != 'Z' && state != 'X';
}

}  // namespace

TEST_CASE("ChildProcess: killed and reaped on scope exit, no zombie left") {
  pid_t pid = 0;
  {
    ChildProcess child = sleeper();
    pid = child.pid();
    CHECK(running(pid));
  }
  CHECK(gone(pid));
}

TEST_CASE("ChildProcess: release leaves the process running") {
  ChildProcess child = sleeper();
  pid_t pid = child.release();
  CHECK_FALSE(child.valid());
  CHECK(running(pid));
  // adopt: the same guarantee for a pid we already had.
  {
    auto adopted = ChildProcess::adopt(pid);
    REQUIRE_MESSAGE(adopted.ok(), adopted.error().to_string());
    CHECK(adopted->pid() == pid);
    CHECK(running(pid));
  }
  CHECK(gone(pid));
}

TEST_CASE("ChildProcess: adopt a child forked without a pidfd") {
  auto forked = berth::sys::clone_process(0);
  REQUIRE(forked.ok());
  if (*forked == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) ::pause();
  }
  {
    auto adopted = ChildProcess::adopt(*forked);
    REQUIRE_MESSAGE(adopted.ok(), adopted.error().to_string());
  }
  CHECK(gone(*forked));
}

TEST_CASE("ChildProcess: wait returns the exit status and empties the handle") {
  auto child = ChildProcess::clone(0);
  REQUIRE(child.ok());
  if (child->in_child()) ::_exit(7);
  pid_t pid = child->pid();
  auto status = child->wait();
  REQUIRE_MESSAGE(status.ok(), status.error().to_string());
  CHECK(WIFEXITED(*status));
  CHECK(berth::sys::exit_code_of(*status) == 7);
  CHECK_FALSE(child->valid());
  CHECK(gone(pid));
  CHECK(child->wait().error().code() == ECHILD);
}

TEST_CASE("ChildProcess: a signalled child reports 128 + signal") {
  ChildProcess child = sleeper();
  REQUIRE(child.signal(SIGTERM).ok());
  auto status = child.wait();
  REQUIRE(status.ok());
  CHECK(WIFSIGNALED(*status));
  CHECK(berth::sys::exit_code_of(*status) == 128 + SIGTERM);
  // Reaped: signal() must not reach whatever process gets the pid next.
  auto late = child.signal(SIGKILL);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code() == ESRCH);
}

TEST_CASE("ChildProcess: try_wait is empty while the child runs") {
  ChildProcess child = sleeper();
  pid_t pid = child.pid();
  auto first = child.try_wait();
  REQUIRE(first.ok());
  CHECK_FALSE(first->has_value());
  CHECK(child.valid());
  REQUIRE(child.signal(SIGKILL).ok());
  std::optional<int> status;
  for (int i = 0; i < 500 && !status; ++i) {
    auto r = child.try_wait();
    REQUIRE(r.ok());
    status = *r;
    if (!status) {
      struct timespec ms10 {
        0, 10 * 1000 * 1000
      };
      ::nanosleep(&ms10, nullptr);
    }
  }
  REQUIRE(status.has_value());
  CHECK(berth::sys::exit_code_of(*status) == 128 + SIGKILL);
  CHECK(gone(pid));
}

TEST_CASE("ChildProcess: move assignment kills the process it replaces") {
  ChildProcess a = sleeper();
  pid_t first = a.pid();
  ChildProcess b = sleeper();
  pid_t second = b.pid();
  a = std::move(b);
  CHECK(gone(first));
  CHECK(a.pid() == second);
  CHECK_FALSE(b.valid());
  ChildProcess c(std::move(a));
  CHECK(c.pid() == second);
  CHECK_FALSE(a.valid());
}

TEST_CASE("ChildProcess: the pidfd is close-on-exec and only in the parent") {
  // The lowest free descriptor is where CLONE_PIDFD puts the pidfd.
  int expected = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
  REQUIRE(expected >= 0);
  ::close(expected);
  auto child = ChildProcess::clone(0);
  REQUIRE(child.ok());
  if (child->in_child()) ::_exit(::fcntl(expected, F_GETFD) == -1 && errno == EBADF ? 0 : 1);
  CHECK(child->pidfd().get() == expected);
  CHECK((::fcntl(child->pidfd().get(), F_GETFD) & FD_CLOEXEC) != 0);
  auto status = child->wait();
  REQUIRE(status.ok());
  CHECK(berth::sys::exit_code_of(*status) == 0);
}

TEST_CASE("ChildProcess: clone flags apply to the child") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: a new pid namespace needs root");
    return;
  }
  auto child = ChildProcess::clone(CLONE_NEWPID);
  REQUIRE_MESSAGE(child.ok(), child.error().to_string());
  if (child->in_child()) ::_exit(::getpid() == 1 ? 0 : 1);
  auto status = child->wait();
  REQUIRE(status.ok());
  CHECK(berth::sys::exit_code_of(*status) == 0);
}
