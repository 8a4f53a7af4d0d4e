#pragma once
// Syscall wrappers the shim needs beyond berth/base/sys.h: non-blocking
// descriptors, epoll/signalfd/timerfd, peer credentials, pipes, spawning.
// Same rules as base: EINTR retried, every descriptor CLOEXEC, errors name
// the operation. (Candidates to move into runtime/base once it settles.)
//
// Hot-path reads and writes return IoResult instead of Result so that the
// usual EAGAIN costs no allocation.

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::shim_sys {

// n >= 0: bytes transferred (0 on read = end of file); n < 0: err holds errno.
struct IoResult {
  ssize_t n = 0;
  int err = 0;
  bool would_block() const { return n < 0 && (err == EAGAIN || err == EWOULDBLOCK); }
};
IoResult read_some(BorrowedFd fd, void* buf, size_t len);
IoResult write_some(BorrowedFd fd, const void* buf, size_t len);

Status set_nonblocking(BorrowedFd fd, bool on);

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
Result<Pipe> pipe(int extra_flags = 0);  // O_CLOEXEC always

// --- event sources -----------------------------------------------------
Result<UniqueFd> epoll_create();
Status epoll_ctl(BorrowedFd ep, int op, int fd, uint32_t events, uint64_t data);
// Returns the number of events (0 on timeout); EINTR reads as 0 events.
Result<int> epoll_wait(BorrowedFd ep, std::span<struct epoll_event> out, int timeout_ms);
// Blocks `signals` for the process (so they queue for the signalfd) and
// returns a non-blocking signalfd that reads them.
Result<UniqueFd> signalfd_for(std::span<const int> signals);
Result<UniqueFd> timerfd_create();
// Arms a one-shot timer at an absolute CLOCK_MONOTONIC time in nanoseconds;
// 0 disarms.
Status timerfd_arm(BorrowedFd fd, uint64_t deadline_ns);
uint64_t monotonic_ns();
// CLOCK_REALTIME as seconds + nanoseconds (for protobuf Timestamps).
struct WallTime {
  int64_t seconds = 0;
  int32_t nanos = 0;
};
WallTime wall_now();

// --- sockets -------------------------------------------------------------
// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; Error code EAGAIN when no
// connection is pending.
Result<UniqueFd> accept_nonblocking(BorrowedFd listener);
struct PeerCred {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};
Result<PeerCred> peer_credentials(BorrowedFd sock);
// A non-blocking connected AF_UNIX stream socket. A unix-socket connect
// completes at once or fails (EAGAIN when the listener's backlog is full).
Result<UniqueFd> connect_unix_nonblocking(std::string_view path);
// shutdown(SHUT_WR): the peer reads end of stream, the reverse direction
// stays open (a client that has sent its last request).
Status shutdown_write(BorrowedFd sock);

// --- processes -------------------------------------------------------------
// Reaps one exited child without blocking: pid 0 when none is ready, -1 with
// Error ECHILD when there are no children at all.
struct Reaped {
  pid_t pid = 0;
  int status = 0;
};
Result<Reaped> reap_one();

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the path to execute
  // Descriptors for the child's 0, 1, 2 (-1: /dev/null).
  int stdio[3] = {-1, -1, -1};
  // Extra descriptors: extra_fds[i] becomes the child's fd 3 + i.
  std::vector<int> extra_fds;
  std::string cwd;  // empty: inherit
  // The child's whole environment ("K=V" entries) when set; else the shim's.
  bool replace_env = false;
  std::vector<std::string> env;
};
// posix_spawn with an empty signal mask and default dispositions (the shim
// blocks SIGCHLD for its signalfd and ignores SIGPIPE; neither may leak into
// the runtime or a logging binary).
Result<pid_t> spawn(const SpawnOptions& options);

Status set_child_subreaper();
bool is_executable(const std::string& path);
// kill(2): Error code ESRCH when the process is gone.
Status send_signal(pid_t pid, int sig);
// fork(2) for the daemonizing `start` (single-threaded: safe).
Result<pid_t> fork_process();
// The detached server: a new session, stdio on /dev/null (containerd reads
// `start`'s stdout and stderr until EOF, so the server must not hold them).
Status detach_from_caller();

// --- files -------------------------------------------------------------------
Result<UniqueFd> dup_cloexec(BorrowedFd fd, std::string_view what);
Status set_window_size(BorrowedFd tty, uint32_t width, uint32_t height);
// mkdtemp(3) under /tmp: a fresh directory, mode 0700.
Result<std::string> make_temp_dir(std::string_view prefix);
// Removal that is fine when the path is already gone.
void unlink_quiet(const std::string& path);
Status chmod(const std::string& path, mode_t mode);
void rmdir_quiet(const std::string& path);
std::string current_dir();
bool stdin_is_terminal();

}  // namespace berth::shim_sys
