#pragma once
// What the container service's files share.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "berth/base/unique_fd.h"
#include "berth/containers/service.h"

namespace berth::containers {

struct ContainerService::Entry {
  std::mutex mu;               // serialises the container's transitions
  std::condition_variable cv;  // exits, removal
  uint64_t exits = 0;          // bumped on every exit of the init
  int last_exit = 0;           // its code (still known after --rm removed the record)
  bool removed = false;
  // Restart policy: the next delay (docker: 100 ms doubling, reset after
  // 10 s of running) and when the current run started.
  std::chrono::milliseconds backoff{0};
  std::chrono::steady_clock::time_point started_at{};
  // Set by the /tasks/oom event (which precedes the exit), read at the exit.
  std::mutex oom_mu;
  bool oom = false;
  // A write end of the init's stdin FIFO while the task lives (`-i`): the
  // shim passes EOF on when the last writer closes, so without it the first
  // attach that detached would end the container's stdin for good, and no
  // later attach could type into it (docker's daemon holds its end alike).
  UniqueFd stdin_keep;
};

inline bool is_active(core::ContainerStatus s) {
  return s == core::ContainerStatus::running || s == core::ContainerStatus::paused ||
         s == core::ContainerStatus::restarting;
}

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// docker's adjective_surname names, picked by the id's bytes.
std::string generate_name(const std::string& id);
// docker's rule for container and volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+
// (volume names are directory names here too, so nothing else may get in).
bool is_valid_name(std::string_view name);
// n random lowercase hex digits (ids, anonymous volume names).
std::string random_hex(size_t n);

}  // namespace berth::containers
