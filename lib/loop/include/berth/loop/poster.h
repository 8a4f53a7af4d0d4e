#pragma once
// The one door into a Loop from other threads (berthd's callers; the shim
// never makes one): post() queues a task under a mutex and wakes the loop
// through an eventfd it watches; the loop runs the tasks in posting order.
// The loop itself stays single-threaded: every task runs on its thread.
//
// create() and the destructor run on the loop's thread (or before it runs /
// after it stopped); post() may run on any thread at any time in between.
// Tasks still queued at destruction are dropped, not run.

#include <memory>
#include <mutex>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/loop/loop.h"

namespace berth::loop {

class Poster {
 public:
  static Result<std::unique_ptr<Poster>> create(Loop& loop);
  ~Poster();
  Poster(const Poster&) = delete;
  Poster& operator=(const Poster&) = delete;

  void post(Loop::Task task);

 private:
  Poster(Loop& loop, UniqueFd event) : loop_(loop), event_(std::move(event)) {}
  void drain();

  Loop& loop_;
  UniqueFd event_;
  Loop::Handle watch_ = 0;
  std::mutex mu_;
  std::vector<Loop::Task> queue_;
};

}  // namespace berth::loop
