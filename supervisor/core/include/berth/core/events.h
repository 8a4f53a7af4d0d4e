#pragma once
// The event bus: what berthd tells subscribers (`berthctl events`, CRI,
// later containers and tasks). Topics follow containerd's
// ("/images/create", "/images/update", "/images/delete",
// "/content/delete", "/snapshot/remove"); the payload is a small JSON object.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace berth::core {

struct Event {
  int64_t timestamp_ns = 0;
  std::string ns;
  std::string topic;
  std::string payload_json;
};

class EventSubscription {
 public:
  virtual ~EventSubscription() = default;
  // Blocks until an event or close(); false when closed.
  virtual bool next(Event& out) = 0;
  virtual void close() = 0;
};

class EventBus {
 public:
  virtual ~EventBus() = default;
  virtual void publish(Event event) = 0;
  virtual std::unique_ptr<EventSubscription> subscribe() = 0;
};

}  // namespace berth::core
