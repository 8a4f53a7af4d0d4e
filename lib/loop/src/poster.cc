#include "berth/loop/poster.h"

#include "berth/base/sys.h"

namespace berth::loop {

Result<std::unique_ptr<Poster>> Poster::create(Loop& loop) {
  auto event = BERTH_VALUE(sys::eventfd_create());
  std::unique_ptr<Poster> p(new Poster(loop, std::move(event)));
  Poster* self = p.get();
  p->watch_ = BERTH_VALUE(loop.add(p->event_.get(), EPOLLIN, [self](uint32_t) { self->drain(); }));
  return p;
}

Poster::~Poster() { loop_.remove(watch_); }

void Poster::post(Loop::Task task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  // The counter only saturates after 2^64-2 unread posts; a failed write
  // could only mean that, and the loop then has a wakeup pending anyway.
  uint64_t one = 1;
  (void)sys::write_some(event_, &one, sizeof one);
}

void Poster::drain() {
  uint64_t count;
  (void)sys::read_some(event_, &count, sizeof count);
  std::vector<Loop::Task> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(queue_);
  }
  for (auto& t : tasks) t();
}

}  // namespace berth::loop
