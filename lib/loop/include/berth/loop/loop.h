#pragma once
// The shim's one event loop: epoll over descriptors, a signalfd for signals
// (SIGCHLD above all) and one timerfd multiplexing every timer. No threads:
// every callback runs on the loop, one at a time, and must not block.
//
// Callbacks may add or remove any registration (their own included) while
// the loop dispatches; a registration removed during a dispatch round is
// never called again, even if it had an event pending in that round.

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::loop {

class Loop {
 public:
  using IoCallback = std::function<void(uint32_t events)>;
  using SignalCallback = std::function<void(const struct signalfd_siginfo&)>;
  using Task = std::function<void()>;
  using Handle = uint64_t;  // 0 is never a valid handle
  using Duration = std::chrono::nanoseconds;

  static Result<std::unique_ptr<Loop>> create();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Watches fd (owned by the caller, which must remove() it before closing).
  // events: EPOLLIN / EPOLLOUT (level-triggered); EPOLLHUP/ERR always reported.
  Result<Handle> add(int fd, uint32_t events, IoCallback cb);
  Status modify(Handle h, uint32_t events);
  void remove(Handle h);

  // One-shot timer; returns a handle for cancel_timer.
  Handle add_timer(Duration delay, Task cb);
  void cancel_timer(Handle h);

  // Routes `signo` to cb (blocks it for the process). One callback a signal.
  Status watch_signal(int signo, SignalCallback cb);

  // Runs cb on the loop after the current callback returns.
  void defer(Task cb);

  // Dispatches until stop(); returns an error only if epoll itself fails.
  Status run();
  // One round: waits up to timeout (negative: forever), dispatches what is
  // ready. Returns false after stop(). For tests and run().
  Result<bool> run_once(Duration timeout);
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

 private:
  struct Watch {
    int fd;
    IoCallback cb;
  };
  Loop(UniqueFd epoll, UniqueFd timer);
  void fire_timers();
  void rearm_timer();
  void read_signals();
  Status rebuild_signalfd();

  UniqueFd epoll_;
  UniqueFd timer_fd_;
  UniqueFd signal_fd_;
  Handle next_handle_ = 1;
  std::unordered_map<Handle, Watch> watches_;
  // Timers by deadline (monotonic ns), then handle; handle → deadline.
  std::map<std::pair<uint64_t, Handle>, Task> timers_;
  std::unordered_map<Handle, uint64_t> timer_deadline_;
  uint64_t armed_deadline_ = 0;
  std::unordered_map<int, SignalCallback> signals_;
  Handle signal_watch_ = 0;
  std::vector<Task> deferred_;
  bool stopped_ = false;
};

}  // namespace berth::loop
