#pragma once
// Processes: creating, signalling and reaping them.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

// raw clone(2) with flags (SIGCHLD added): returns 0 in the child. The child
// runs on a copy of the parent's stack like fork(); no stack argument.
Result<pid_t> clone_process(uint64_t flags);
// fork(2) for the shim's daemonizing `start` (single-threaded: safe).
Result<pid_t> fork_process();
Result<UniqueFd> pidfd_open(pid_t pid);
Status pidfd_send_signal(BorrowedFd pidfd, int sig);
// kill(2): Error code ESRCH when the process is gone.
Status send_signal(pid_t pid, int sig);
// waitpid retrying EINTR; returns the raw wait status.
Result<int> wait_pid(pid_t pid, int options = 0);
// Reaps one exited child without blocking: pid 0 when none is ready, -1 with
// Error ECHILD when there are no children at all.
struct Reaped {
  pid_t pid = 0;
  int status = 0;
};
Result<Reaped> reap_one();
// exit code as a shell reports it: status, or 128 + signal.
int exit_code_of(int wait_status);
// Start time of a process in clock ticks since boot (/proc/pid/stat field
// 22): with the pid it names one process, whatever the pid is reused for.
Result<uint64_t> process_start_time(pid_t pid);
// Process state letter from /proc/pid/stat ('R', 'S', 'Z', ...), 0 if gone.
char process_state(pid_t pid);

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the path to execute
  // Descriptors for the child's 0, 1, 2 (-1: /dev/null).
  int stdio[3] = {-1, -1, -1};
  // Extra descriptors: extra_fds[i] becomes the child's fd 3 + i.
  std::vector<int> extra_fds;
  std::string cwd;  // empty: inherit
  // The child's whole environment ("K=V" entries) when set; else the caller's.
  bool replace_env = false;
  std::vector<std::string> env;
};
// posix_spawn with an empty signal mask and default dispositions (the shim
// blocks SIGCHLD for its signalfd and ignores SIGPIPE; neither may leak into
// the runtime or a logging binary).
Result<pid_t> spawn(const SpawnOptions& options);

Status set_child_subreaper();
// The detached server: a new session, stdio on /dev/null (containerd reads
// `start`'s stdout and stderr until EOF, so the server must not hold them).
Status detach_from_caller();

}  // namespace berth::sys
