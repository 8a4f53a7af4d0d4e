#pragma once
// Event sources for an epoll loop (epoll, signalfd, timerfd) and the clocks
// they are armed against.

#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <cstdint>
#include <span>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

Result<UniqueFd> epoll_create();
Status epoll_ctl(BorrowedFd ep, int op, int fd, uint32_t events, uint64_t data);
// Returns the number of events (0 on timeout); EINTR reads as 0 events.
Result<int> epoll_wait(BorrowedFd ep, std::span<struct epoll_event> out, int timeout_ms);
// Blocks `signals` for the process (so they queue for the signalfd) and
// returns a non-blocking signalfd that reads them.
Result<UniqueFd> signalfd_for(std::span<const int> signals);
Result<UniqueFd> timerfd_create();
// A non-blocking eventfd (counter 0): one thread's wakeup of another's loop.
Result<UniqueFd> eventfd_create();
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

// --- thin wrappers: the libc call's own result and errno ---------------------
inline int signalfd(int fd, const sigset_t* set, int flags) {
  return ::signalfd(fd, set, flags | SFD_CLOEXEC);
}
inline int eventfd(unsigned int initval, int flags) {
  return ::eventfd(initval, flags | EFD_CLOEXEC);
}
inline int inotify_init1(int flags) { return ::inotify_init1(flags | IN_CLOEXEC); }
inline int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  return ::inotify_add_watch(fd, path, mask);
}
inline int clock_gettime(clockid_t clock, struct timespec* ts) {
  return ::clock_gettime(clock, ts);
}
inline int nanosleep(const struct timespec* request, struct timespec* remaining) {
  return ::nanosleep(request, remaining);
}

}  // namespace berth::sys
