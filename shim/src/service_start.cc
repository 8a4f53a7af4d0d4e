// Exec (a process spec kept until its Start) and Start, of the init or of an
// exec: the runtime's start or `exec --detach`, then the reply and the event.
// An exit reaped meanwhile is held by the ProcessState until this Start has
// published its event, so that TaskExit never precedes TaskStart.
#include "berth/base/log.h"
#include "bundle.h"
#include "containerd/events/task.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "service.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;
using ttrpc::Code;
using ttrpc::RpcStatus;

void TaskService::exec(const task::ExecProcessRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  if (auto st = c->init->state.begin(Op::kExec); !st) return r.fail(refused(st.error()));
  if (!valid_identifier(req.exec_id()))
    return r.fail(Code::kInvalidArgument, "exec: invalid exec id `" + req.exec_id() + "`");
  if (c->execs.count(req.exec_id()))
    return r.fail(Code::kAlreadyExists,
                  "exec " + req.exec_id() + " in container " + c->id + ": already exists");
  if (req.spec().value().empty())
    return r.fail(Code::kInvalidArgument, "exec " + req.exec_id() + ": no process spec");
  auto p = std::make_shared<Process>(ProcessKind::kExec);
  p->exec_id = req.exec_id();
  p->stdio = StdioPaths{req.stdin(), req.stdout(), req.stderr(), req.terminal()};
  p->spec_json = req.spec().value();
  c->execs[p->exec_id] = p;
  reply_empty(r);
  events::TaskExecAdded ev;
  ev.set_container_id(c->id);
  ev.set_exec_id(p->exec_id);
  publisher_.publish("/tasks/exec-added", ev);
}

void TaskService::start(const task::StartRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  if (auto st = found->process->state.begin(Op::kStart); !st) return r.fail(refused(st.error()));
  if (req.exec_id().empty()) return start_init(found->container, r);
  start_exec(found->container, found->process, r);
}

void TaskService::start_init(std::shared_ptr<Container> c, Responder r) {
  c->runtime->start(c->id, [this, c, r](const Status& st, const CommandResult&) {
    auto p = c->init;
    bool exit_now = p->state.complete(Op::kStart, st.ok());
    if (!st) {
      r.fail(runtime_failed(st.error()));
    } else {
      task::StartResponse resp;
      resp.set_pid(static_cast<uint32_t>(p->pid));
      reply(r, resp);
      events::TaskStart ev;
      ev.set_container_id(c->id);
      ev.set_pid(static_cast<uint32_t>(p->pid));
      publisher_.publish("/tasks/start", ev);
    }
    if (exit_now) report_exit(c, p);
  });
}

void TaskService::start_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p,
                             Responder r) {
  auto fail_start = [this, c, p, r](const RpcStatus& why) {
    bool exit_now = p->state.complete(Op::kStart, false);
    p->io.reset();
    r.fail(why);
    if (exit_now) report_exit(c, p);
  };
  const std::string spec_path = c->bundle + "/" + p->exec_id + ".process.json";
  if (auto st = write_private_file(spec_path, p->spec_json); !st)
    return fail_start(failed("exec " + p->exec_id, st.error()));
  auto io = ProcessIO::open(loop_, p->stdio, IoContext{p->exec_id, config_.ns, config_.reaper});
  if (!io) {
    sys::unlink_quiet(spec_path);
    return fail_start(stdio_failed("exec " + p->exec_id, io.error()));
  }
  p->io = std::move(*io);
  p->io->when_ready(config_.logger_ready_limit,
                    [this, c, p, r, spec_path, fail_start](Status ready) {
                      if (!ready) {
                        sys::unlink_quiet(spec_path);
                        return fail_start(failed("exec " + p->exec_id, ready.error()));
                      }
                      run_exec(c, p, r, spec_path, fail_start);
                    });
}

void TaskService::run_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p, Responder r,
                           const std::string& spec_path,
                           std::function<void(const RpcStatus&)> fail_start) {
  std::shared_ptr<ConsoleSocket> console;
  if (p->stdio.terminal) {
    auto cs = ConsoleSocket::create(loop_);
    if (!cs) {
      sys::unlink_quiet(spec_path);
      return fail_start(failed("exec " + p->exec_id + ": console socket", cs.error()));
    }
    console = std::move(*cs);
  }
  const std::string pid_file = c->bundle + "/" + p->exec_id + ".pid";
  c->runtime->exec(
      c->id, spec_path, pid_file, console ? console->path() : "", p->io->runtime_stdio(),
      [this, c, p, r, console, spec_path, pid_file, fail_start](const Status& st,
                                                                const CommandResult&) {
        sys::unlink_quiet(spec_path);
        if (!st) {
          forget_early_exits();
          return fail_start(runtime_failed(st.error()));
        }
        auto pid = read_pid_file(pid_file);
        if (!pid) {
          forget_early_exits();
          return fail_start(failed("exec " + p->exec_id, pid.error()));
        }
        p->pid = *pid;
        if (console) {
          auto master = console->take_master();
          Status attached =
              master ? p->io->attach_console(std::move(*master)) : Status(master.error());
          if (!attached)
            shim_log::error("exec " + p->exec_id + ": " + attached.error().to_string());
        }
        // An exec may be gone before `exec --detach` returned.
        claim_early_exit(c, p);
        bool exit_now = p->state.complete(Op::kStart, true);
        task::StartResponse resp;
        resp.set_pid(static_cast<uint32_t>(p->pid));
        reply(r, resp);
        events::TaskExecStarted ev;
        ev.set_container_id(c->id);
        ev.set_exec_id(p->exec_id);
        ev.set_pid(static_cast<uint32_t>(p->pid));
        publisher_.publish("/tasks/exec-started", ev);
        if (exit_now) report_exit(c, p);
      });
  p->io->release_runtime_ends();
}

}  // namespace berth::shim
