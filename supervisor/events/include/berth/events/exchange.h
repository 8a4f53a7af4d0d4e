#pragma once
// The event bus of berthd (core::EventBus): every published event goes to
// every live subscription's own bounded queue.
//
// A slow subscriber (a `berthctl events` on a stalled terminal, a CRI client
// that stopped reading) drops its oldest events rather than blocking
// publishers: a publisher is a pull or a container exit, and none of them may
// wait on a reader. The subscription counts what it dropped.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "berth/core/events.h"

namespace berth::events {

class Exchange final : public core::EventBus {
 public:
  static constexpr size_t kDefaultQueueSize = 1024;
  explicit Exchange(size_t queue_size = kDefaultQueueSize);
  // Closes every subscription still open: their next() returns false.
  ~Exchange() override;

  // Stamps the event with the time now when it has none.
  void publish(core::Event event) override;
  std::unique_ptr<core::EventSubscription> subscribe() override;

  struct Queue;
  struct Registry;

 private:
  size_t queue_size_;
  // Shared with the subscriptions (weakly), so one that outlives the
  // exchange unregisters from nothing rather than from freed memory.
  std::shared_ptr<Registry> registry_;
};

// What a subscription of an Exchange tells beyond core::EventSubscription.
uint64_t dropped_events(const core::EventSubscription& subscription);

}  // namespace berth::events
