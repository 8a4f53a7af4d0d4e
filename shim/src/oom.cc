#include "oom.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "berth/base/sys.h"
#include "berth/base/log.h"
#include "berth/base/sys.h"
#include "berth/cgroups/stats.h"

namespace berth::shim {

namespace {

// memory.events' oom_kill through the one OOM counter berth events uses too;
// 0 when unreadable (the cgroup may be going away under the watch).
uint64_t oom_kills(const std::string& dir) {
  auto count = cgroups::oom_kill_count(dir);
  return count ? *count : 0;
}

}  // namespace

OomWatcher::~OomWatcher() {
  for (auto& [id, e] : entries_)
    if (e->watch != 0) loop_.remove(e->watch);
}

Status OomWatcher::watch(const std::string& id, const CgroupSet& cgroups) {
  unwatch(id);
  auto e = std::make_unique<Entry>();
  e->v2 = cgroups.unified;
  e->dir = cgroups.memory_dir();
  if (e->dir.empty()) return make_error("oom watch: no memory cgroup", ENOENT);
  BERTH_TRY(e->v2 ? watch_v2(*e) : watch_v1(*e));
  e->watch = BERTH_VALUE(loop_.add(e->fd.get(), EPOLLIN, [this, id](uint32_t) { on_ready(id); }));
  entries_[id] = std::move(e);
  return {};
}

Status OomWatcher::watch_v1(Entry& e) {
  int efd = sys::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return sys_error("eventfd");
  e.fd = UniqueFd(efd);
  auto control = BERTH_VALUE(sys::open(e.dir + "/memory.oom_control", O_RDONLY | O_CLOEXEC));
  // "<event fd> <control fd>": the kernel takes its own references, so the
  // control file need not stay open.
  std::string line = std::to_string(efd) + " " + std::to_string(control.get());
  auto ec = BERTH_VALUE(sys::open(e.dir + "/cgroup.event_control", O_WRONLY | O_CLOEXEC));
  BERTH_TRY(sys::write_all(ec, line, e.dir + "/cgroup.event_control"));
  return {};
}

Status OomWatcher::watch_v2(Entry& e) {
  int ifd = sys::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) return sys_error("inotify_init1");
  e.fd = UniqueFd(ifd);
  const std::string events = e.dir + "/memory.events";
  if (sys::inotify_add_watch(ifd, events.c_str(), IN_MODIFY) < 0)
    return sys_error("inotify_add_watch", events);
  e.last_oom_kill = oom_kills(e.dir);
  return {};
}

void OomWatcher::unwatch(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second->watch != 0) loop_.remove(it->second->watch);
  entries_.erase(it);
}

void OomWatcher::poll(const std::string& id) {
  if (entries_.count(id)) on_ready(id);
}

void OomWatcher::on_ready(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  bool fired = false, gone = false;
  if (!e.v2) {
    uint64_t count = 0;
    auto r = sys::read_some(e.fd, &count, sizeof count);
    if (r.would_block()) return;
    fired = r.n == static_cast<ssize_t>(sizeof count);
    // The kernel signals the eventfd when the cgroup is removed, too.
    gone = !sys::exists(e.dir + "/memory.oom_control");
  } else {
    alignas(struct inotify_event) char buf[4096];
    bool any = false;
    for (;;) {
      auto r = sys::read_some(e.fd, buf, sizeof buf);
      if (r.n <= 0) break;
      any = true;
      for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(struct inotify_event)) <= r.n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(buf + off);
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) gone = true;
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
      }
    }
    if (!any) return;
    uint64_t now = oom_kills(e.dir);
    fired = now > e.last_oom_kill;
    e.last_oom_kill = now;
  }
  if (gone) {
    shim_log::debug("oom watch of " + id + ": the memory cgroup is gone");
    unwatch(id);
    return;
  }
  if (fired) {
    shim_log::info("container " + id + ": out of memory (OOM killer in its cgroup)");
    on_oom_(id);
  }
}

}  // namespace berth::shim
