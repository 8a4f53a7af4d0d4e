// Acting on a live process: Kill, Delete, Pause, Resume, Update, and its
// stdio (CloseIO, ResizePty).
#include <signal.h>

#include "berth/base/log.h"
#include "containerd/events/task.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "mounts.h"
#include "service.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;
using ttrpc::Code;

void TaskService::kill(const task::KillRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  auto p = found->process;
  const int sig = static_cast<int>(req.signal());
  if (sig <= 0 || sig >= NSIG)
    return r.fail(Code::kInvalidArgument, "kill: invalid signal " + std::to_string(sig));
  auto st = p->state.begin(Op::kKill);
  if (!st.ok()) {
    // `kill --all` after the init exited still reaches processes that
    // outlived it (shared pid namespace); runc's shim answers OK here.
    if (p == c->init && req.all() && p->state.is_stopped()) {
      c->runtime->kill(c->id, sig, true,
                       [r](const Status&, const CommandResult&) { reply_empty(r); });
      return;
    }
    return r.fail(refused(st.error()));
  }
  if (p != c->init) {
    // The exec is our (re-parented) child and not reaped yet: its pid is
    // still its own.
    if (auto killed = sys::send_signal(p->pid, sig); !killed) {
      if (killed.error().code() == ESRCH)
        return r.fail(Code::kNotFound, "process already finished: not found");
      return r.fail(Code::kUnknown, "kill exec " + p->exec_id + ": " + killed.error().to_string());
    }
    return reply_empty(r);
  }
  c->runtime->kill(c->id, sig, req.all(), [r, p](const Status& st, const CommandResult&) {
    if (st.ok()) return reply_empty(r);
    if (p->state.has_exited() || looks_gone(st.error()))
      return r.fail(Code::kNotFound, "process already finished: not found");
    r.fail(runtime_failed(st.error()));
  });
}

void TaskService::remove(const task::DeleteRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  auto p = found->process;
  if (auto st = p->state.begin(Op::kDelete); !st.ok()) return r.fail(refused(st.error()));
  auto finish = [this, c, p, r] {
    p->state.complete(Op::kDelete, true);
    task::DeleteResponse resp;
    resp.set_pid(static_cast<uint32_t>(p->pid));
    resp.set_exit_status(p->exit_status);
    if (p->state.has_exited()) set_time(resp.mutable_exited_at(), p->exited_at);
    events::TaskDelete ev;
    ev.set_container_id(c->id);
    ev.set_pid(static_cast<uint32_t>(p->pid));
    ev.set_exit_status(p->exit_status);
    if (p->state.has_exited()) set_time(ev.mutable_exited_at(), p->exited_at);
    if (p != c->init) ev.set_id(p->exec_id);
    p->io.reset();
    // Waits still pending see the process gone.
    for (auto& w : p->waiters) w.fail(Code::kNotFound, "process deleted: not found");
    p->waiters.clear();
    reply(r, resp);
    publisher_.publish("/tasks/delete", ev);
  };
  if (p != c->init) {
    c->execs.erase(p->exec_id);
    return finish();
  }
  c->runtime->remove(c->id, false, [this, c, p, r, finish](const Status& st, const CommandResult&) {
    if (!st.ok() && !looks_gone(st.error())) {
      p->state.complete(Op::kDelete, false);
      return r.fail(runtime_failed(st.error()));
    }
    for (auto it = c->rootfs_mounts.rbegin(); it != c->rootfs_mounts.rend(); ++it)
      if (auto u = unmount_all(*it); !u)
        shim_log::warn("delete " + c->id + ": " + u.error().to_string());
    c->rootfs_mounts.clear();
    for (auto& [eid, e] : c->execs) e->io.reset();
    oom_.unwatch(c->id);
    containers_.erase(c->id);
    finish();
    shim_log::info("deleted container " + c->id);
  });
}

void TaskService::pause(const task::PauseRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kPause); !st.ok()) return r.fail(refused(st.error()));
  c->runtime->pause(c->id, [this, c, r](const Status& st, const CommandResult&) {
    c->init->state.complete(Op::kPause, st.ok());
    if (!st.ok()) return r.fail(runtime_failed(st.error()));
    reply_empty(r);
    events::TaskPaused ev;
    ev.set_container_id(c->id);
    publisher_.publish("/tasks/paused", ev);
  });
}

void TaskService::resume(const task::ResumeRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kResume); !st.ok()) return r.fail(refused(st.error()));
  c->runtime->resume(c->id, [this, c, r](const Status& st, const CommandResult&) {
    c->init->state.complete(Op::kResume, st.ok());
    if (!st.ok()) return r.fail(runtime_failed(st.error()));
    reply_empty(r);
    events::TaskResumed ev;
    ev.set_container_id(c->id);
    publisher_.publish("/tasks/resumed", ev);
  });
}

void TaskService::update(const task::UpdateTaskRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kUpdate); !st.ok()) return r.fail(refused(st.error()));
  // containerd sends the runtime-spec LinuxResources as JSON.
  static uint64_t serial = 0;
  const std::string path = c->bundle + "/update-resources-" + std::to_string(++serial) + ".json";
  if (auto st = write_private_file(path, req.resources().value()); !st)
    return r.fail(Code::kUnknown, "update " + c->id + ": " + st.error().to_string());
  CommandSpec spec;
  spec.argv = c->runtime->command({"update", "--resources", path, c->id});
  runner_.run(spec, [r, path, c](Result<CommandResult> res) {
    sys::unlink_quiet(path);
    if (!res) return r.fail(Code::kUnknown, "update " + c->id + ": " + res.error().to_string());
    if (res->exit_code != 0)
      return r.fail(
          Code::kUnknown,
          "update " + c->id + " failed: " +
              (res->err.empty() ? "exit status " + std::to_string(res->exit_code) : res->err));
    reply_empty(r);
  });
}

void TaskService::close_io(const task::CloseIORequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  if (req.stdin() && found->process->io) found->process->io->close_stdin();
  reply_empty(r);
}

void TaskService::resize_pty(const task::ResizePtyRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  auto& io = found->process->io;
  if (!io) return r.fail(Code::kFailedPrecondition, "resize: process has no terminal");
  if (auto st = io->resize(req.width(), req.height()); !st)
    return r.fail(Code::kFailedPrecondition, st.error().to_string());
  reply_empty(r);
}

}  // namespace berth::shim
