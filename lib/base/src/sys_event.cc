#include "berth/base/sys.h"

#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>

namespace berth::sys {

Result<UniqueFd> epoll_create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return sys_error("epoll_create1");
  return UniqueFd(fd);
}

Status epoll_ctl(BorrowedFd ep, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.u64 = data;
  if (::epoll_ctl(ep.get(), op, fd, &ev) != 0)
    return sys_error("epoll_ctl", "fd " + std::to_string(fd));
  return {};
}

Result<int> epoll_wait(BorrowedFd ep, std::span<struct epoll_event> out, int timeout_ms) {
  int n = ::epoll_wait(ep.get(), out.data(), static_cast<int>(out.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return sys_error("epoll_wait");
  }
  return n;
}

Result<UniqueFd> signalfd_for(std::span<const int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return sys_error("sigprocmask");
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return sys_error("signalfd");
  return UniqueFd(fd);
}

Result<UniqueFd> timerfd_create() {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return sys_error("timerfd_create");
  return UniqueFd(fd);
}

Result<UniqueFd> eventfd_create() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return sys_error("eventfd");
  return UniqueFd(fd);
}

Status timerfd_arm(BorrowedFd fd, uint64_t deadline_ns) {
  struct itimerspec spec {};
  spec.it_value.tv_sec = static_cast<time_t>(deadline_ns / 1000000000ULL);
  spec.it_value.tv_nsec = static_cast<long>(deadline_ns % 1000000000ULL);
  if (::timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
    return sys_error("timerfd_settime");
  return {};
}

uint64_t monotonic_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

WallTime wall_now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return WallTime{static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
}

}  // namespace berth::sys
