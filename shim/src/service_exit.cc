// Exits: a reaped pid matched to its process (or kept while a runtime
// command whose pid file may name it is running), then reported once its io
// is drained: Waits answered, TaskExit published, the init's exit recorded in
// the bundle (for `delete` after a shim crash).
#include <signal.h>

#include "berth/base/log.h"
#include "berth/base/sys.h"
#include "bundle.h"
#include "containerd/events/task.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "service.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;

void TaskService::record_exit(Process& p, int wait_status) {
  p.exit_status = static_cast<uint32_t>(sys::exit_code_of(wait_status));
  p.exited_at = sys::wall_now();
}

void TaskService::on_exit(pid_t pid, int wait_status) {
  for (auto& [id, c] : containers_) {
    std::vector<std::shared_ptr<Process>> procs = {c->init};
    for (auto& [eid, e] : c->execs) procs.push_back(e);
    for (auto& p : procs) {
      if (p->pid != pid || p->state.has_exited()) continue;
      record_exit(*p, wait_status);
      shim_log::debug("pid " + std::to_string(pid) + " exited with " +
                      std::to_string(p->exit_status));
      process_exited(c, p);
      return;
    }
  }
  // Not known (yet): the pid file of a running command may name it.
  if (runner_.in_flight() > 0 && early_exits_.size() < 4096) early_exits_[pid] = wait_status;
}

void TaskService::process_exited(std::shared_ptr<Container> c, std::shared_ptr<Process> p) {
  if (p != c->init) {
    if (p->state.set_exited()) report_exit(c, p);
    return;
  }
  const ProcessStateId before = p->state.id();
  // A frozen cgroup would keep the rest of the container stuck.
  auto thaw = [c, before] {
    if (before == ProcessStateId::kPaused || before == ProcessStateId::kPausing)
      c->runtime->resume(c->id, [](const Status&, const CommandResult&) {});
  };
  // An OOM kill of the init: its TaskOOM goes out before its TaskExit.
  oom_.poll(c->id);
  if (!c->kill_all_on_exit) {
    if (p->state.set_exited()) report_exit(c, p);
    return thaw();
  }
  // No pid namespace of its own: the init's exit killed nothing else. As
  // containerd-shim-runc-v2, kill what is left in the container (`kill
  // --all`: its cgroup) before the exit is reported, so that nothing
  // outlives a container that containerd sees stopped.
  c->runtime->kill(
      c->id, SIGKILL, true, [this, c, p, thaw](const Status& st, const CommandResult&) {
        if (!st && !looks_gone(st.error()))
          shim_log::warn("container " + c->id +
                         ": kill the processes left after its init: " + st.error().to_string());
        if (p->state.set_exited()) report_exit(c, p);
        thaw();
      });
}

void TaskService::claim_early_exit(const std::shared_ptr<Container>& c,
                                   const std::shared_ptr<Process>& p) {
  auto it = early_exits_.find(p->pid);
  if (it != early_exits_.end()) {
    int status = it->second;
    early_exits_.erase(it);
    record_exit(*p, status);
    process_exited(c, p);
  }
  forget_early_exits();
}

void TaskService::forget_early_exits() {
  // With no command running, no pid file can name these pids any more.
  if (runner_.in_flight() == 0) early_exits_.clear();
}

void TaskService::report_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p) {
  auto done = [this, c, p] {
    if (p->exit_reported) return;
    p->exit_reported = true;
    task::WaitResponse w;
    w.set_exit_status(p->exit_status);
    set_time(w.mutable_exited_at(), p->exited_at);
    for (auto& waiter : p->waiters) reply(waiter, w);
    p->waiters.clear();
    events::TaskExit ev;
    ev.set_container_id(c->id);
    ev.set_id(p->exec_id.empty() ? c->id : p->exec_id);
    ev.set_pid(static_cast<uint32_t>(p->pid));
    ev.set_exit_status(p->exit_status);
    set_time(ev.mutable_exited_at(), p->exited_at);
    publisher_.publish("/tasks/exit", ev);
    if (p == c->init) {
      if (auto st = write_exit_record(c->bundle, {p->exit_status, p->exited_at}); !st)
        shim_log::warn(st.error().to_string());
      shim_log::info("container " + c->id + " exited with status " +
                     std::to_string(p->exit_status));
    }
  };
  if (p->io) {
    p->io->finish(config_.io_drain_limit, done);
  } else {
    loop_.defer(done);
  }
}

}  // namespace berth::shim
