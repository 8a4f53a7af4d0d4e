// Questions about a process or container: State, Wait, Pids, Stats.
#include <cstdlib>

#include "containerd/runc/v1/options.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "service.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
using ttrpc::Code;

void TaskService::state(const task::StateRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  const Process& p = *found->process;
  task::StateResponse resp;
  resp.set_id(req.exec_id().empty() ? found->container->id : p.exec_id);
  resp.set_bundle(found->container->bundle);
  resp.set_pid(static_cast<uint32_t>(p.pid));
  resp.set_status(static_cast<containerd::v1::types::Status>(p.state.status()));
  resp.set_stdin(p.stdio.in);
  resp.set_stdout(p.stdio.out);
  resp.set_stderr(p.stdio.err);
  resp.set_terminal(p.stdio.terminal);
  if (p.state.is_stopped()) {
    resp.set_exit_status(p.exit_status);
    set_time(resp.mutable_exited_at(), p.exited_at);
  }
  resp.set_exec_id(p.exec_id);
  reply(r, resp);
}

void TaskService::wait(const task::WaitRequest& req, Responder r) {
  auto found = find(req.id(), req.exec_id());
  if (!found) return r.fail(refused(found.error()));
  Process& p = *found->process;
  if (!p.exit_reported) {
    p.waiters.push_back(r);
    return;
  }
  task::WaitResponse w;
  w.set_exit_status(p.exit_status);
  set_time(w.mutable_exited_at(), p.exited_at);
  reply(r, w);
}

namespace {
// `ps --format json` prints a JSON array of pids.
std::vector<pid_t> parse_pid_array(const std::string& text) {
  std::vector<pid_t> pids;
  const char* s = text.c_str();
  while (*s) {
    if (*s >= '0' && *s <= '9') {
      char* end = nullptr;
      long v = std::strtol(s, &end, 10);
      if (v > 0) pids.push_back(static_cast<pid_t>(v));
      s = end;
    } else {
      ++s;
    }
  }
  return pids;
}
}  // namespace

void TaskService::pids(const task::PidsRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto c = found->container;
  c->runtime->ps(c->id, [c, r](const Status& st, const CommandResult& res) {
    if (!st.ok()) return r.fail(runtime_failed(st.error()));
    task::PidsResponse resp;
    for (pid_t pid : parse_pid_array(res.out)) {
      auto* info = resp.add_processes();
      info->set_pid(static_cast<uint32_t>(pid));
      for (const auto& [eid, e] : c->execs) {
        if (e->pid != pid) continue;
        containerd::runc::v1::ProcessDetails d;
        d.set_exec_id(eid);
        info->mutable_info()->set_type_url("containerd.runc.v1.ProcessDetails");
        info->mutable_info()->set_value(d.SerializeAsString());
      }
    }
    reply(r, resp);
  });
}

void TaskService::stats(const task::StatsRequest& req, Responder r) {
  auto found = find(req.id(), "");
  if (!found) return r.fail(refused(found.error()));
  auto& c = *found->container;
  if (c.cgroups.empty())
    return r.fail(Code::kNotFound, "stats " + c.id + ": the container's cgroups are not known");
  auto metrics = read_metrics(c.cgroups);
  if (!metrics) {
    Code code = metrics.error().code() == ENOENT ? Code::kNotFound : Code::kUnknown;
    return r.fail(code, "stats " + c.id + ": " + metrics.error().to_string());
  }
  task::StatsResponse resp;
  resp.mutable_stats()->set_type_url(metrics->type_url);
  resp.mutable_stats()->set_value(std::move(metrics->value));
  reply(r, resp);
}

}  // namespace berth::shim
