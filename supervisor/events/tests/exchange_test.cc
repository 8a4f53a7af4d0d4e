// The event exchange: fan-out, bounded queues that drop the oldest, and
// close() waking a blocked next().

#include "berth/events/exchange.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace berth;
using berth::events::Exchange;

namespace {

core::Event event(std::string topic) { return core::Event{0, "default", std::move(topic), "{}"}; }

}  // namespace

TEST_CASE("every subscriber gets every event published after it subscribed, in order") {
  Exchange exchange;
  exchange.publish(event("/before"));
  auto a = exchange.subscribe();
  auto b = exchange.subscribe();
  exchange.publish(event("/images/create"));
  exchange.publish(event("/images/delete"));
  for (auto* sub : {a.get(), b.get()}) {
    core::Event e;
    REQUIRE(sub->next(e));
    CHECK(e.topic == "/images/create");
    CHECK(e.ns == "default");
    CHECK(e.timestamp_ns > 0);
    REQUIRE(sub->next(e));
    CHECK(e.topic == "/images/delete");
  }
}

TEST_CASE("a slow subscriber drops its oldest events and publishers never wait") {
  Exchange exchange(4);
  auto slow = exchange.subscribe();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) exchange.publish(event("/e" + std::to_string(i)));
  // 10000 publishes into a queue of 4 that nobody reads: no blocking.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(events::dropped_events(*slow) == 9996);
  for (int i = 9996; i < 10000; ++i) {
    core::Event e;
    REQUIRE(slow->next(e));
    CHECK(e.topic == "/e" + std::to_string(i));
  }
}

TEST_CASE("close() wakes a next() blocked in another thread") {
  Exchange exchange;
  auto sub = exchange.subscribe();
  auto waiting = std::async(std::launch::async, [&] {
    core::Event e;
    return sub->next(e);
  });
  CHECK(waiting.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);
  sub->close();
  REQUIRE(waiting.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(waiting.get() == false);
  // Closed subscriptions get nothing more, and publishing to none is fine.
  exchange.publish(event("/after"));
  core::Event e;
  CHECK(!sub->next(e));
}

TEST_CASE("a next() blocked in another thread gets an event published later") {
  Exchange exchange;
  auto sub = exchange.subscribe();
  auto waiting = std::async(std::launch::async, [&] {
    core::Event e;
    return sub->next(e) ? e.topic : std::string("closed");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  exchange.publish(event("/content/delete"));
  REQUIRE(waiting.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(waiting.get() == "/content/delete");
}

TEST_CASE("a subscription outliving its exchange drains, then ends") {
  std::unique_ptr<core::EventSubscription> sub;
  {
    Exchange exchange;
    sub = exchange.subscribe();
    exchange.publish(event("/last"));
  }
  core::Event e;
  REQUIRE(sub->next(e));
  CHECK(e.topic == "/last");
  CHECK(!sub->next(e));
  sub->close();  // after the exchange is gone: nothing to unregister from
}

TEST_CASE("publishers on many threads and a reader at once") {
  Exchange exchange(1 << 16);
  auto sub = exchange.subscribe();
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t)
    publishers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) exchange.publish(event("/x"));
    });
  int received = 0;
  core::Event e;
  while (received < 4000 && sub->next(e)) ++received;
  for (auto& p : publishers) p.join();
  CHECK(received == 4000);
  CHECK(events::dropped_events(*sub) == 0);
}
