#include "berth/loop/poster.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace berth;

TEST_CASE("tasks posted from other threads run on the loop, each once, in order per thread") {
  auto loop = loop::Loop::create();
  REQUIRE(loop.ok());
  auto poster = loop::Poster::create(**loop);
  REQUIRE(poster.ok());
  constexpr int kThreads = 4, kEach = 1000;
  std::vector<std::vector<int>> seen(kThreads);  // touched on the loop thread only
  const auto loop_thread = std::this_thread::get_id();
  bool all_on_loop = true;
  int done = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        (*poster)->post([&, t, i] {
          all_on_loop &= std::this_thread::get_id() == loop_thread;
          seen[t].push_back(i);
          if (++done == kThreads * kEach) (*loop)->stop();
        });
    });
  REQUIRE((*loop)->run().ok());
  for (auto& th : threads) th.join();
  CHECK(all_on_loop);
  for (const auto& s : seen) {
    REQUIRE(s.size() == kEach);
    for (int i = 0; i < kEach; ++i) CHECK(s[i] == i);
  }
}

TEST_CASE("tasks still queued when the poster goes are dropped, not run") {
  auto loop = loop::Loop::create();
  REQUIRE(loop.ok());
  auto poster = loop::Poster::create(**loop);
  REQUIRE(poster.ok());
  bool ran = false;
  (*poster)->post([&] { ran = true; });
  poster->reset();
  REQUIRE((*loop)->run_once(std::chrono::milliseconds(0)).ok());
  CHECK_FALSE(ran);
}
