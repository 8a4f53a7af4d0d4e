// berth.v1.Containers over containers::ContainerService (the verbs) and the
// task runtime and log files (logs, attach, exec: containers_stream.cc).

#include "containers_service.h"

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"

namespace berth::services {

namespace v1 = berth::v1;
using grpc::ServerContext;
using grpc::Status;

void fill_container_summary(const core::Container& c, v1::ContainerSummary* out) {
  out->set_id(c.id);
  out->set_name(c.name);
  out->set_image(c.config.image);
  out->set_image_id(c.image_id);
  std::vector<std::string> args = c.config.entrypoint.value_or(std::vector<std::string>{});
  args.insert(args.end(), c.config.cmd.begin(), c.config.cmd.end());
  std::string command;
  for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
  out->set_command(command);
  out->set_created(c.created_at_ns / 1000000000);
  out->set_state(std::string(core::to_string(c.state.status)));
  for (const auto& [k, v] : c.config.labels) (*out->mutable_labels())[k] = v;
  std::string mounts;
  for (const auto& m : c.config.mounts)
    if (m.type != "tmpfs") mounts += (mounts.empty() ? "" : ",") + m.source;
  out->set_mounts(mounts);
  out->set_networks(c.config.network_mode);
  out->set_exit_code(c.state.exit_code);
  out->set_started_at_ns(c.state.started_at_ns);
  out->set_finished_at_ns(c.state.finished_at_ns);
  out->set_restart_count(c.state.restart_count);
  out->set_pid(c.state.pid);
}

namespace {

std::optional<int> timeout_of(const v1::StopContainerRequest& req) {
  if (!req.has_timeout()) return std::nullopt;
  return req.timeout();
}

}  // namespace

Status ContainersService::Create(ServerContext* ctx, const v1::CreateContainerRequest* req,
                                 v1::CreateContainerResponse* resp) {
  auto config = core::container_config_from_json(req->config_json(), "container config");
  if (!config) return to_status(core::invalid_argument(config.error().message()));
  auto id = svc_.create(namespace_of(ctx), req->name(), std::move(*config));
  if (!id) return to_status(id.error());
  resp->set_id(*id);
  return Status::OK;
}

Status ContainersService::Start(ServerContext* ctx, const v1::ContainerRef* req, v1::Empty*) {
  auto st = svc_.start(namespace_of(ctx), req->ref());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Stop(ServerContext* ctx, const v1::StopContainerRequest* req,
                               v1::Empty*) {
  auto st = svc_.stop(namespace_of(ctx), req->ref(), timeout_of(*req));
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Restart(ServerContext* ctx, const v1::StopContainerRequest* req,
                                  v1::Empty*) {
  auto st = svc_.restart(namespace_of(ctx), req->ref(), timeout_of(*req));
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Kill(ServerContext* ctx, const v1::KillContainerRequest* req,
                               v1::Empty*) {
  auto st = svc_.kill(namespace_of(ctx), req->ref(), req->signal());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Pause(ServerContext* ctx, const v1::ContainerRef* req, v1::Empty*) {
  auto st = svc_.pause(namespace_of(ctx), req->ref());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Unpause(ServerContext* ctx, const v1::ContainerRef* req, v1::Empty*) {
  auto st = svc_.unpause(namespace_of(ctx), req->ref());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Remove(ServerContext* ctx, const v1::RemoveContainerRequest* req,
                                 v1::Empty*) {
  auto st = svc_.remove(namespace_of(ctx), req->ref(), req->force(), req->volumes());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Wait(ServerContext* ctx, const v1::WaitContainerRequest* req,
                               v1::WaitContainerResponse* resp) {
  auto code = svc_.wait(namespace_of(ctx), req->ref(), req->condition(),
                        [ctx] { return ctx->IsCancelled(); });
  if (!code) return to_status(code.error());
  resp->set_status_code(*code);
  return Status::OK;
}

Status ContainersService::List(ServerContext* ctx, const v1::ListContainersRequest* req,
                               v1::ListContainersResponse* resp) {
  std::vector<containers::ListFilter> filters;
  for (const auto& f : req->filters()) filters.push_back({f.key(), f.value()});
  auto list = svc_.list(namespace_of(ctx), req->all() || req->limit() > 0, filters);
  if (!list) return to_status(list.error());
  int n = 0;
  for (const auto& c : *list) {
    if (req->limit() > 0 && n++ >= req->limit()) break;
    fill_container_summary(c, resp->add_containers());
  }
  return Status::OK;
}

Status ContainersService::Inspect(ServerContext* ctx, const v1::ContainerRef* req,
                                  v1::InspectContainerResponse* resp) {
  auto ns = namespace_of(ctx);
  auto c = svc_.find(ns, req->ref());
  if (!c) return to_status(c.error());
  auto json = svc_.inspect_json(ns, *c);
  if (!json) return to_status(json.error());
  resp->set_json(*json);
  fill_container_summary(*c, resp->mutable_summary());
  return Status::OK;
}

Status ContainersService::Rename(ServerContext* ctx, const v1::RenameContainerRequest* req,
                                 v1::Empty*) {
  auto st = svc_.rename(namespace_of(ctx), req->ref(), req->new_name());
  return st ? Status::OK : to_status(st.error());
}

Status ContainersService::Top(ServerContext* ctx, const v1::TopRequest* req,
                              v1::TopResponse* resp) {
  auto pids = svc_.pids(namespace_of(ctx), req->ref());
  if (!pids) return to_status(pids.error());
  // docker's default columns, read from /proc rather than by running ps.
  for (const char* t : {"UID", "PID", "PPID", "CMD"}) resp->add_titles(t);
  for (uint32_t pid : *pids) {
    std::string proc = "/proc/" + std::to_string(pid);
    auto status = sys::read_file(proc + "/status", 1 << 16);
    auto cmdline = sys::read_file(proc + "/cmdline", 1 << 16);
    if (!status) continue;
    auto field = [&](std::string_view name) -> std::string {
      auto at = status->find(std::string(name) + ":\t");
      if (at == std::string::npos) return "";
      at += name.size() + 2;
      auto end = status->find_first_of("\t\n", at);
      return status->substr(at, end - at);
    };
    std::string cmd = cmdline ? *cmdline : "";
    for (auto& ch : cmd)
      if (ch == '\0') ch = ' ';
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    auto* row = resp->add_rows();
    row->add_cells(field("Uid"));
    row->add_cells(std::to_string(pid));
    row->add_cells(field("PPid"));
    row->add_cells(cmd.empty() ? "[" + field("Name") + "]" : cmd);
  }
  return Status::OK;
}

Status ContainersService::Prune(ServerContext* ctx, const v1::PruneContainersRequest* req,
                                v1::PruneReport* resp) {
  auto ns = namespace_of(ctx);
  std::vector<containers::ListFilter> filters;
  for (const auto& f : req->filters()) filters.push_back({f.key(), f.value()});
  auto list = svc_.list(ns, true, filters);
  if (!list) return to_status(list.error());
  for (const auto& c : *list) {
    if (c.state.status != core::ContainerStatus::exited &&
        c.state.status != core::ContainerStatus::created &&
        c.state.status != core::ContainerStatus::dead)
      continue;
    if (svc_.remove(ns, c.id, false, false)) resp->add_deleted(c.id);
  }
  return Status::OK;
}

Status ContainersService::Update(ServerContext* ctx, const v1::UpdateContainerRequest* req,
                                 v1::Empty*) {
  containers::ContainerService::Update u;
  if (req->has_memory()) u.memory = req->memory();
  if (req->has_nano_cpus()) u.nano_cpus = req->nano_cpus();
  if (req->has_pids_limit()) u.pids_limit = req->pids_limit();
  if (!req->restart().empty())
    u.restart = core::RestartPolicy{req->restart(), req->restart_max_retries()};
  auto st = svc_.update(namespace_of(ctx), req->ref(), u);
  return st ? Status::OK : to_status(st.error());
}

std::unique_ptr<grpc::Service> make_containers_service(Context& ctx) {
  return std::make_unique<ContainersService>(ctx);
}

}  // namespace berth::services
