#pragma once
// Publishes task events to containerd: ttrpc
// containerd.services.events.ttrpc.v1.Events/Forward on $TTRPC_ADDRESS,
// with metadata containerd-namespace-ttrpc=<namespace>, each event in an
// Envelope{timestamp, namespace, topic, Any{"containerd.events.<Type>"}}.
//
// One event in flight at a time, in the order published (so TaskStart is
// delivered before TaskExit); each call has a 5 s deadline and is retried
// with backoff a few times, then dropped with an error in the log: a slow
// or absent receiver costs memory for a bounded queue, never a wedged shim.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "berth/base/sys.h"
#include "berth/loop/loop.h"
#include "berth/ttrpc/client.h"

namespace google::protobuf {
class MessageLite;
}

namespace berth::shim {

class Publisher {
 public:
  struct Options {
    std::chrono::milliseconds timeout{5000};
    // 100 ms doubling to 2 s: about 10 s of retries, enough to ride out a
    // containerd restart.
    int attempts = 8;
    std::chrono::milliseconds first_backoff{100};
    std::chrono::milliseconds max_backoff{2000};
    size_t max_queue = 4096;
  };

  Publisher(loop::Loop& loop, std::string ttrpc_address, std::string ns);
  Publisher(loop::Loop& loop, std::string ttrpc_address, std::string ns, Options options);
  ~Publisher();

  // topic: "/tasks/exit"; the type URL is the message's full name.
  void publish(const std::string& topic, const google::protobuf::MessageLite& event);
  // cb runs when the queue is empty, or after `limit` (shutdown).
  void flush(std::chrono::milliseconds limit, std::function<void()> cb);
  size_t queued() const { return queue_.size(); }
  uint64_t delivered() const { return delivered_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Event {
    std::string topic, type_url, bytes;
    sys::WallTime when;
    int attempts = 0;
  };
  void send_next();
  void on_reply(const ttrpc::Client::Reply& reply);
  void check_flush();

  loop::Loop& loop_;
  std::string address_, namespace_;
  Options options_;
  std::unique_ptr<ttrpc::Client> client_;
  std::deque<Event> queue_;
  bool in_flight_ = false;
  loop::Loop::Handle retry_timer_ = 0;
  std::function<void()> flush_cb_;
  loop::Loop::Handle flush_timer_ = 0;
  uint64_t delivered_ = 0, dropped_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace berth::shim
