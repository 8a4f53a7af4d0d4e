#pragma once
// TaskOOM: watches each container's memory cgroup on the loop and calls back
// when the kernel's OOM killer acted in it (the service publishes /tasks/oom).
//
//   cgroup   mechanism                                       fires when
//   v1       eventfd registered with cgroup.event_control    the memcg ran out (under_oom),
//            for memory.oom_control                           and on rmdir (ignored: the
//                                                             directory is gone then)
//   v2       inotify IN_MODIFY on memory.events               the file changed and its
//                                                             oom_kill count went up
//
// as containerd-shim-runc-v2 does (pkg/oom/v1, pkg/oom/v2). poll() reads a
// pending notification at once: the service calls it when a container's init
// has exited, so that TaskOOM is published before that TaskExit (CRI marks a
// container OOMKilled only when the OOM event came first).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "cgroup_stats.h"
#include "berth/loop/loop.h"

namespace berth::shim {

class OomWatcher {
 public:
  using Callback = std::function<void(const std::string& id)>;
  OomWatcher(loop::Loop& loop, Callback on_oom) : loop_(loop), on_oom_(std::move(on_oom)) {}
  ~OomWatcher();
  OomWatcher(const OomWatcher&) = delete;
  OomWatcher& operator=(const OomWatcher&) = delete;

  // Starts watching container `id`'s memory cgroup (replaces an earlier watch).
  Status watch(const std::string& id, const CgroupSet& cgroups);
  void unwatch(const std::string& id);
  // Handles a notification that is pending for `id` now, if any.
  void poll(const std::string& id);
  bool watching(const std::string& id) const { return entries_.count(id) > 0; }

 private:
  struct Entry {
    bool v2 = false;
    std::string dir;  // the memory cgroup
    UniqueFd fd;      // eventfd (v1) or inotify (v2)
    loop::Loop::Handle watch = 0;
    uint64_t last_oom_kill = 0;  // v2: memory.events oom_kill seen so far
  };
  Status watch_v1(Entry& e);
  Status watch_v2(Entry& e);
  void on_ready(const std::string& id);

  loop::Loop& loop_;
  Callback on_oom_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace berth::shim
