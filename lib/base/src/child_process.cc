#include "berth/base/child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <utility>

#include "berth/base/sys.h"

namespace berth {

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      pidfd_(std::move(other.pidfd_)),
      in_child_(std::exchange(other.in_child_, false)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::move(other.pidfd_);
    in_child_ = std::exchange(other.in_child_, false);
  }
  return *this;
}

Result<ChildProcess> ChildProcess::clone(uint64_t flags) {
  auto cloned = BERTH_VALUE(sys::clone_with_pidfd(flags));
  if (cloned.pid == 0) {
    ChildProcess self;
    self.in_child_ = true;
    return self;
  }
  return ChildProcess(cloned.pid, std::move(cloned.pidfd));
}

Result<ChildProcess> ChildProcess::adopt(pid_t pid) {
  auto pidfd = BERTH_VALUE(sys::pidfd_open(pid));
  return ChildProcess(pid, std::move(pidfd));
}

Status ChildProcess::signal(int sig) const {
  if (!valid()) return make_error("signal: no child process", ESRCH);
  return sys::pidfd_send_signal(pidfd_, sig);
}

Result<int> ChildProcess::wait() {
  if (!valid()) return make_error("wait: no child process", ECHILD);
  auto status = BERTH_VALUE(sys::wait_pid(pid_));
  forget();
  return status;
}

Result<std::optional<int>> ChildProcess::try_wait() {
  if (!valid()) return make_error("wait: no child process", ECHILD);
  auto status = sys::wait_pid(pid_, WNOHANG);
  // wait_pid reports "still running" (waitpid returned 0) as EAGAIN, which
  // waitpid itself never sets.
  if (!status && status.error().code() == EAGAIN) return std::optional<int>();
  if (!status) return std::move(status).error();
  forget();
  return std::optional<int>(*status);
}

pid_t ChildProcess::release() {
  pid_t pid = pid_;
  forget();
  return pid;
}

void ChildProcess::kill_and_reap() {
  if (!valid()) return;
  (void)sys::pidfd_send_signal(pidfd_, SIGKILL);
  (void)sys::wait_pid(pid_);
  forget();
}

void ChildProcess::forget() {
  pid_ = 0;
  pidfd_.reset();
}

}  // namespace berth
