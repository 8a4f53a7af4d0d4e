#pragma once
// Reaps every child of the shim (it is a child subreaper, so container
// processes re-parented to it land here too) from SIGCHLD on the loop.
// Exits of processes someone watch()es go to that callback (the runtime
// commands the shim runs); all others go to the fallback (container inits
// and execs, and orphans re-parented to the shim).

#include <sys/types.h>

#include <functional>
#include <unordered_map>

#include "berth/base/error.h"
#include "berth/loop/loop.h"

namespace berth::shim {

class Reaper {
 public:
  using ExitCallback = std::function<void(int wait_status)>;
  using OtherExit = std::function<void(pid_t pid, int wait_status)>;

  explicit Reaper(loop::Loop& loop) : loop_(loop) {}
  Status start(OtherExit other);
  // Must be called before the loop runs again after the spawn, so that the
  // exit cannot be reaped unwatched (SIGCHLD is only handled on the loop).
  void watch(pid_t pid, ExitCallback cb) { watched_[pid] = std::move(cb); }
  size_t watched() const { return watched_.size(); }
  // Reaps whatever has exited (also called from the SIGCHLD callback).
  void reap();

 private:
  loop::Loop& loop_;
  std::unordered_map<pid_t, ExitCallback> watched_;
  OtherExit other_;
};

}  // namespace berth::shim
