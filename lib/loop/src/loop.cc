#include "berth/loop/loop.h"

#include <unistd.h>

#include "berth/base/sys.h"

namespace berth::loop {

namespace {
// Reserved epoll data values for the loop's own descriptors (handles for
// callers start at 1 and count up, so they never reach these).
constexpr uint64_t kTimerTag = ~0ULL;
}  // namespace

Result<std::unique_ptr<Loop>> Loop::create() {
  auto ep = BERTH_VALUE(sys::epoll_create());
  auto timer = BERTH_VALUE(sys::timerfd_create());
  BERTH_TRY(sys::epoll_ctl(ep, EPOLL_CTL_ADD, timer.get(), EPOLLIN, kTimerTag));
  return std::unique_ptr<Loop>(new Loop(std::move(ep), std::move(timer)));
}

Loop::Loop(UniqueFd epoll, UniqueFd timer)
    : epoll_(std::move(epoll)), timer_fd_(std::move(timer)) {}

Result<Loop::Handle> Loop::add(int fd, uint32_t events, IoCallback cb) {
  Handle h = next_handle_++;
  BERTH_TRY(sys::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, events, h));
  watches_.emplace(h, Watch{fd, std::move(cb)});
  return h;
}

Status Loop::modify(Handle h, uint32_t events) {
  auto it = watches_.find(h);
  if (it == watches_.end()) return make_error("loop: modify of an unknown handle");
  return sys::epoll_ctl(epoll_, EPOLL_CTL_MOD, it->second.fd, events, h);
}

void Loop::remove(Handle h) {
  auto it = watches_.find(h);
  if (it == watches_.end()) return;
  // The fd may already be closed by a careless owner; EPOLL_CTL_DEL then
  // fails with EBADF, which is harmless (the kernel dropped it on close).
  (void)sys::epoll_ctl(epoll_, EPOLL_CTL_DEL, it->second.fd, 0, 0);
  watches_.erase(it);
}

Loop::Handle Loop::add_timer(Duration delay, Task cb) {
  Handle h = next_handle_++;
  uint64_t deadline =
      sys::monotonic_ns() + static_cast<uint64_t>(std::max<int64_t>(delay.count(), 0));
  timers_.emplace(std::make_pair(deadline, h), std::move(cb));
  timer_deadline_.emplace(h, deadline);
  rearm_timer();
  return h;
}

void Loop::cancel_timer(Handle h) {
  auto it = timer_deadline_.find(h);
  if (it == timer_deadline_.end()) return;
  timers_.erase(std::make_pair(it->second, h));
  timer_deadline_.erase(it);
  rearm_timer();
}

void Loop::rearm_timer() {
  uint64_t next = timers_.empty() ? 0 : timers_.begin()->first.first;
  if (next == armed_deadline_) return;
  // A deadline of 0 would disarm: the earliest possible time is 1 ns.
  if (sys::timerfd_arm(timer_fd_, next == 0 && !timers_.empty() ? 1 : next).ok())
    armed_deadline_ = next;
}

void Loop::fire_timers() {
  uint64_t expirations;
  (void)sys::read_some(timer_fd_, &expirations, sizeof expirations);
  armed_deadline_ = 0;  // the one-shot fired
  uint64_t now = sys::monotonic_ns();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadline_.erase(node.key().second);
    node.mapped()();
  }
  rearm_timer();
}

Status Loop::watch_signal(int signo, SignalCallback cb) {
  signals_[signo] = std::move(cb);
  return rebuild_signalfd();
}

Status Loop::rebuild_signalfd() {
  std::vector<int> sigs;
  for (const auto& [s, cb] : signals_) sigs.push_back(s);
  auto fd = BERTH_VALUE(sys::signalfd_for(sigs));
  if (signal_watch_ != 0) remove(signal_watch_);
  signal_fd_ = std::move(fd);
  signal_watch_ = BERTH_VALUE(add(signal_fd_.get(), EPOLLIN, [this](uint32_t) { read_signals(); }));
  return {};
}

void Loop::read_signals() {
  struct signalfd_siginfo info;
  for (;;) {
    auto r = sys::read_some(signal_fd_, &info, sizeof info);
    if (r.n != static_cast<ssize_t>(sizeof info)) return;
    auto it = signals_.find(static_cast<int>(info.ssi_signo));
    if (it != signals_.end()) it->second(info);
  }
}

void Loop::defer(Task cb) { deferred_.push_back(std::move(cb)); }

Result<bool> Loop::run_once(Duration timeout) {
  if (stopped_) return false;
  struct epoll_event events[32];
  int timeout_ms = -1;
  if (!deferred_.empty()) {
    timeout_ms = 0;
  } else if (timeout.count() >= 0) {
    timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(timeout).count());
  }
  int n = BERTH_VALUE(sys::epoll_wait(epoll_, events, timeout_ms));
  for (int i = 0; i < n && !stopped_; ++i) {
    uint64_t tag = events[i].data.u64;
    if (tag == kTimerTag) {
      fire_timers();
      continue;
    }
    auto it = watches_.find(tag);
    if (it == watches_.end()) continue;  // removed earlier in this round
    // Copy: the callback may remove itself (destroying the stored function).
    IoCallback cb = it->second.cb;
    cb(events[i].events);
  }
  while (!deferred_.empty() && !stopped_) {
    auto tasks = std::move(deferred_);
    deferred_.clear();
    for (auto& t : tasks) t();
  }
  return !stopped_;
}

Status Loop::run() {
  while (!stopped_) {
    auto r = run_once(Duration(-1));
    if (!r) return std::move(r).error();
  }
  return {};
}

}  // namespace berth::loop
