#pragma once
// ChildProcess: the one owner of a child process, as UniqueFd is of a
// descriptor. Move-only; its destructor kills (SIGKILL through the pidfd)
// and reaps the child unless it was waited for or release()d, so a failed
// create, exec or hook never leaves a process or a zombie behind.
//
// Signals go through the pidfd, never kill(pid): once the child has been
// reaped its pid may name another process, its pidfd never does.

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Takes a child of ours and a pidfd of it.
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess() { kill_and_reap(); }

  // clone(2) like fork() with `flags` (CLONE_NEW*), the pidfd taken by the
  // same syscall. Returns twice: in the parent the child's handle, in the
  // child an empty handle with in_child() true. The child runs on a copy of
  // the caller's stack and must leave by exec or _exit.
  static Result<ChildProcess> clone(uint64_t flags);
  // A process that is already our child (forked elsewhere, or re-parented to
  // us as a subreaper): opens its pidfd. The pid cannot have been reused:
  // an unreaped child keeps it.
  static Result<ChildProcess> adopt(pid_t pid);

  bool in_child() const { return in_child_; }
  bool valid() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  BorrowedFd pidfd() const { return BorrowedFd(pidfd_); }

  Status signal(int sig) const;
  // Blocks until the child exits and reaps it; returns the raw wait status
  // (sys::exit_code_of turns it into 0-255, 128 + signal when killed). The
  // handle is empty afterwards.
  Result<int> wait();
  // The wait status if the child has exited (and reaps it), nullopt while it
  // runs.
  Result<std::optional<int>> try_wait();
  // Gives the process up: it keeps running and someone else reaps it.
  pid_t release();

 private:
  void kill_and_reap();
  void forget();

  pid_t pid_ = 0;
  UniqueFd pidfd_;
  bool in_child_ = false;
};

}  // namespace berth
