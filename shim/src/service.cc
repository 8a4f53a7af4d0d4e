#include "service.h"

#include <malloc.h>
#include <unistd.h>

#include "berth/base/log.h"
#include "berth/base/sys.h"
#include "containerd/events/task.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "service_edge.h"

namespace berth::shim {

namespace task = containerd::task::v2;
namespace events = containerd::events;
using ttrpc::Code;
using ttrpc::RpcStatus;

void reply(const ttrpc::Responder& r, const google::protobuf::MessageLite& m) {
  r.reply(m.SerializeAsString());
}

void reply_empty(const ttrpc::Responder& r) { reply(r, google::protobuf::Empty()); }

void set_time(google::protobuf::Timestamp* t, const sys::WallTime& w) {
  t->set_seconds(w.seconds);
  t->set_nanos(w.nanos);
}

RpcStatus refused(const Error& e) {
  return RpcStatus{e.code() == ENOENT ? Code::kNotFound : Code::kFailedPrecondition, e.to_string()};
}

RpcStatus stdio_failed(const std::string& context, const Error& e) {
  return RpcStatus{e.code() == ENOTSUP ? Code::kUnimplemented : Code::kUnknown,
                   context + ": open stdio: " + e.to_string()};
}

RpcStatus runtime_failed(const Error& e) { return RpcStatus{Code::kUnknown, e.to_string()}; }

RpcStatus failed(const std::string& context, const Error& e) {
  return RpcStatus{Code::kUnknown, context + ": " + e.to_string()};
}

bool looks_gone(const Error& e) {
  const std::string message = e.to_string();
  for (const char* s :
       {"does not exist", "not found", "no such", "not running", "container not running"})
    if (message.find(s) != std::string::npos) return true;
  return false;
}

Status write_private_file(const std::string& path, const std::string& data) {
  return sys::write_file_atomic(path, data, 0600);
}

TaskService::TaskService(loop::Loop& loop, ttrpc::Server& server, Publisher& publisher,
                         CommandRunner& runner, ServiceConfig config)
    : loop_(loop),
      server_(server),
      publisher_(publisher),
      runner_(runner),
      config_(std::move(config)),
      oom_(loop, [this](const std::string& id) {
        events::TaskOOM ev;
        ev.set_container_id(id);
        publisher_.publish("/tasks/oom", ev);
      }) {}

TaskService::~TaskService() {
  if (trim_timer_ != 0) loop_.cancel_timer(trim_timer_);
}

template <class Req>
void TaskService::route(const char* method, void (TaskService::*fn)(const Req&, Responder)) {
  server_.register_method(
      kTaskService, method, [this, fn, method](const ttrpc::IncomingRequest& in, Responder r) {
        Req req;
        if (!req.ParseFromString(in.payload))
          return r.fail(Code::kInvalidArgument, std::string(method) + ": invalid request message");
        (this->*fn)(req, r);
        trim_when_idle();
      });
}

void TaskService::trim_when_idle() {
  // malloc keeps what a burst of requests freed (a Create parses config.json,
  // builds messages, reads cgroup files) in its free lists, resident. A shim
  // spends its life idle: a second after the last request, hand that memory
  // back (free pages inside the heap too, not only its top).
  if (trim_timer_ != 0) loop_.cancel_timer(trim_timer_);
  trim_timer_ = loop_.add_timer(std::chrono::seconds(1), [this] {
    trim_timer_ = 0;
    ::malloc_trim(0);
  });
}

void TaskService::register_methods() {
  route<task::CreateTaskRequest>("Create", &TaskService::create);
  route<task::StartRequest>("Start", &TaskService::start);
  route<task::StateRequest>("State", &TaskService::state);
  route<task::WaitRequest>("Wait", &TaskService::wait);
  route<task::KillRequest>("Kill", &TaskService::kill);
  route<task::DeleteRequest>("Delete", &TaskService::remove);
  route<task::ExecProcessRequest>("Exec", &TaskService::exec);
  route<task::PidsRequest>("Pids", &TaskService::pids);
  route<task::PauseRequest>("Pause", &TaskService::pause);
  route<task::ResumeRequest>("Resume", &TaskService::resume);
  route<task::UpdateTaskRequest>("Update", &TaskService::update);
  route<task::CloseIORequest>("CloseIO", &TaskService::close_io);
  route<task::ResizePtyRequest>("ResizePty", &TaskService::resize_pty);
  route<task::ConnectRequest>("Connect", &TaskService::connect);
  route<task::ShutdownRequest>("Shutdown", &TaskService::shutdown);
  route<task::StatsRequest>("Stats", &TaskService::stats);
  server_.register_method(
      kTaskService, "Checkpoint", [](const ttrpc::IncomingRequest&, Responder r) {
        r.fail(Code::kUnimplemented, "Checkpoint is not implemented by berth-shim");
      });
}

Result<TaskService::Found> TaskService::find(const std::string& id, const std::string& exec_id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return make_error("container " + id + ": not found", ENOENT);
  if (exec_id.empty()) return Found{it->second, it->second->init};
  auto e = it->second->execs.find(exec_id);
  if (e == it->second->execs.end())
    return make_error("exec " + exec_id + " in container " + id + ": not found", ENOENT);
  return Found{it->second, e->second};
}

// --- Connect, Shutdown --------------------------------------------------------

void TaskService::connect(const task::ConnectRequest& req, Responder r) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(getpid()));
  auto it = containers_.find(req.id());
  if (it != containers_.end()) resp.set_task_pid(static_cast<uint32_t>(it->second->init->pid));
  reply(r, resp);
}

void TaskService::shutdown(const task::ShutdownRequest&, Responder r) {
  // Another container (or one being created) still lives here.
  if (!containers_.empty() || !creating_.empty()) return reply_empty(r);
  reply_empty(r);
  shim_log::info("shutdown: no container left");
  if (on_shutdown_) loop_.defer(on_shutdown_);
}

}  // namespace berth::shim
