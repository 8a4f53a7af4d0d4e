#include "reaper.h"

#include <signal.h>

#include "berth/base/sys.h"

namespace berth::shim {

Status Reaper::start(OtherExit other) {
  other_ = std::move(other);
  return loop_.watch_signal(SIGCHLD, [this](const struct signalfd_siginfo&) { reap(); });
}

void Reaper::reap() {
  // SIGCHLD coalesces: one signal may stand for many exits.
  for (;;) {
    auto r = sys::reap_one();
    if (!r || r->pid <= 0) return;
    auto it = watched_.find(r->pid);
    if (it != watched_.end()) {
      auto cb = std::move(it->second);
      watched_.erase(it);
      cb(r->status);
    } else if (other_) {
      other_(r->pid, r->status);
    }
  }
}

}  // namespace berth::shim
