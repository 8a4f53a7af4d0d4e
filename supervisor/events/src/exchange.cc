// The event exchange (see exchange.h).

#include "berth/events/exchange.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace berth::events {

struct Exchange::Queue {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<core::Event> events;
  size_t capacity = 0;
  uint64_t dropped = 0;
  bool closed = false;        // by either side: next() stops waiting
  bool unsubscribed = false;  // by the subscriber: next() returns false at once

  void push(const core::Event& event) {
    {
      std::lock_guard lock(mu);
      if (closed) return;
      if (events.size() >= capacity) {
        events.pop_front();
        ++dropped;
      }
      events.push_back(event);
    }
    ready.notify_one();
  }

  void close(bool by_subscriber) {
    {
      std::lock_guard lock(mu);
      closed = true;
      if (by_subscriber) unsubscribed = true;
    }
    ready.notify_all();
  }
};

struct Exchange::Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<Queue>> queues;
};

namespace {

class Subscription final : public core::EventSubscription {
 public:
  Subscription(std::weak_ptr<Exchange::Registry> registry, std::shared_ptr<Exchange::Queue> queue)
      : registry_(std::move(registry)), queue_(std::move(queue)) {}
  ~Subscription() override { close(); }

  // After the exchange closes, what is already queued is still delivered;
  // after the subscriber's own close(), nothing is.
  bool next(core::Event& out) override {
    std::unique_lock lock(queue_->mu);
    queue_->ready.wait(lock, [&] { return !queue_->events.empty() || queue_->closed; });
    if (queue_->unsubscribed || queue_->events.empty()) return false;
    out = std::move(queue_->events.front());
    queue_->events.pop_front();
    return true;
  }

  void close() override {
    queue_->close(/*by_subscriber=*/true);
    if (auto registry = registry_.lock()) {
      std::lock_guard lock(registry->mu);
      std::erase(registry->queues, queue_);
    }
    registry_.reset();
  }

  uint64_t dropped() const {
    std::lock_guard lock(queue_->mu);
    return queue_->dropped;
  }

 private:
  std::weak_ptr<Exchange::Registry> registry_;
  std::shared_ptr<Exchange::Queue> queue_;
};

}  // namespace

Exchange::Exchange(size_t queue_size)
    : queue_size_(std::max<size_t>(queue_size, 1)), registry_(std::make_shared<Registry>()) {}

Exchange::~Exchange() {
  std::vector<std::shared_ptr<Queue>> queues;
  {
    std::lock_guard lock(registry_->mu);
    queues.swap(registry_->queues);
  }
  for (auto& q : queues) q->close(/*by_subscriber=*/false);
}

void Exchange::publish(core::Event event) {
  if (event.timestamp_ns == 0)
    event.timestamp_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  // The registry lock covers only the copy of the list; each queue has its
  // own, so a subscriber reading never holds up publishing to the others.
  std::vector<std::shared_ptr<Queue>> queues;
  {
    std::lock_guard lock(registry_->mu);
    queues = registry_->queues;
  }
  for (auto& q : queues) q->push(event);
}

std::unique_ptr<core::EventSubscription> Exchange::subscribe() {
  auto queue = std::make_shared<Queue>();
  queue->capacity = queue_size_;
  {
    std::lock_guard lock(registry_->mu);
    registry_->queues.push_back(queue);
  }
  return std::make_unique<Subscription>(registry_, std::move(queue));
}

uint64_t dropped_events(const core::EventSubscription& subscription) {
  const auto* sub = dynamic_cast<const Subscription*>(&subscription);
  return sub ? sub->dropped() : 0;
}

}  // namespace berth::events
