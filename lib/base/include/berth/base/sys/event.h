#pragma once
// Event sources for an epoll loop (epoll, signalfd, timerfd) and the clocks
// they are armed against.

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

}  // namespace berth::sys
