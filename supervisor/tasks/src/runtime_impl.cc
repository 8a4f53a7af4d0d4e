#include "runtime_impl.h"

#include <poll.h>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "containerd/events/task.pb.h"
#include "containerd/services/events/ttrpc/v1/events.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "rpc.h"

namespace berth::tasks {

namespace task = containerd::task::v2;
using ttrpc::Code;
using Reply = ttrpc::Client::Reply;

Worker::Worker() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  });
}

Worker::~Worker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Worker::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

namespace {

// A reply handed from the loop thread to a caller blocked on it.
class ReplySlot {
 public:
  void set(Reply reply) {
    std::lock_guard lock(mu_);
    if (reply_) return;
    reply_ = std::move(reply);
    cv_.notify_all();
  }
  std::optional<Reply> wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return reply_.has_value(); });
    return reply_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Reply> reply_;
};

// Rides in the client's callback: a callback the client drops uncalled
// (the client destroyed under it) still wakes the caller.
struct SlotGuard {
  std::shared_ptr<ReplySlot> slot = std::make_shared<ReplySlot>();
  ~SlotGuard() { slot->set(Reply{{Code::kUnavailable, "the shim connection was closed"}, {}}); }
};

const ttrpc::Metadata& metadata_for(const Shim& s, ttrpc::Metadata& md) {
  md = {{"containerd-namespace-ttrpc", s.ns}};
  return md;
}

}  // namespace

Result<std::shared_ptr<Shim>> ShimTaskRuntime::Impl::find(std::string_view ns,
                                                          std::string_view id) {
  std::lock_guard lock(mu);
  auto it = shims.find(key(ns, id));
  if (it == shims.end())
    return core::not_found("task `" + std::string(id) + "`: not found in namespace " +
                           std::string(ns));
  return it->second;
}

void ShimTaskRuntime::Impl::forget(const Shim& s) {
  std::lock_guard lock(mu);
  auto it = shims.find(key(s.ns, s.id));
  if (it != shims.end() && it->second.get() == &s) shims.erase(it);
}

Status ShimTaskRuntime::Impl::start_threads() {
  loop = BERTH_VALUE(loop::Loop::create());
  poster = BERTH_VALUE(loop::Poster::create(*loop));
  BERTH_TRY(serve_events());
  worker = std::make_unique<Worker>();
  loop_thread = std::thread([this] { (void)loop->run(); });
  return {};
}

void ShimTaskRuntime::Impl::stop_threads() {
  // The worker first: its jobs post to the loop.
  worker.reset();
  if (loop_thread.joinable()) {
    poster->post([this] { loop->stop(); });
    loop_thread.join();
  }
  // The loop has stopped: its objects may go from this thread.
  std::lock_guard lock(mu);
  for (auto& [k, s] : shims) drop_client(*s);
  shims.clear();
  events_server.reset();
  poster.reset();
  loop.reset();
}

Status ShimTaskRuntime::Impl::serve_events() {
  BERTH_TRY(sys::mkdir_p(options.state_dir, 0711));
  const std::string path = options.state_dir + "/tasks.ttrpc";
  // A socket left by a previous berthd: nobody can be serving it (berthd
  // holds its root's lock), and bind needs the name free.
  sys::unlink_quiet(path);
  auto listener = BERTH_VALUE(sys::listen_unix(path, 128));
  // Shims run as root; nobody else may forge their events.
  BERTH_TRY(sys::chmod(path, 0600));
  events_server = std::make_unique<ttrpc::Server>(*loop);
  events_server->register_method(
      "containerd.services.events.ttrpc.v1.Events", "Forward",
      [this](const ttrpc::IncomingRequest& req, ttrpc::Responder r) { forward(req, r); });
  return events_server->serve(std::move(listener));
}

void ShimTaskRuntime::Impl::forward(const ttrpc::IncomingRequest& req, ttrpc::Responder r) {
  containerd::services::events::ttrpc::v1::ForwardRequest fwd;
  if (!fwd.ParseFromString(req.payload))
    return r.fail(Code::kInvalidArgument, "forward: invalid ForwardRequest");
  const auto& env = fwd.envelope();
  // Every containerd task event (TaskCreate ... TaskOOM) has container_id
  // as field 1: read through the smallest of them, the rest is skipped.
  containerd::events::TaskOOM probe;
  (void)probe.ParseFromString(env.event().value());
  EventHandler handler;
  {
    std::lock_guard lock(mu);
    handler = on_event;
  }
  if (handler) handler(env.namespace_(), env.topic(), probe.container_id());
  r.reply("");
}

void ShimTaskRuntime::Impl::on_loop(std::function<void()> fn) {
  auto slot = std::make_shared<ReplySlot>();
  poster->post([fn = std::move(fn), slot] {
    fn();
    slot->set({});
  });
  (void)slot->wait_until(std::chrono::steady_clock::time_point::max());
}

Result<std::string> ShimTaskRuntime::Impl::call(const std::shared_ptr<Shim>& s, const char* method,
                                                const google::protobuf::MessageLite& request,
                                                OnReply on_reply,
                                                std::optional<std::chrono::milliseconds> timeout) {
  const auto limit = timeout.value_or(options.call_timeout);
  auto guard = std::make_shared<SlotGuard>();
  auto slot = guard->slot;
  std::string name = method;
  poster->post([this, s, name, payload = request.SerializeAsString(), guard, on_reply, limit] {
    if (!s->client)
      return guard->slot->set(Reply{{Code::kUnavailable, "the shim is not connected"}, {}});
    ttrpc::Metadata md;
    s->client->call(kTaskService, name, payload, metadata_for(*s, md), limit,
                    [s, guard, on_reply](Reply reply) {
                      if (reply.status.ok() && on_reply) on_reply(*s, reply.payload);
                      guard->slot->set(std::move(reply));
                    });
  });
  guard.reset();
  // The client's own deadline answers first; this one only guards against
  // a wedged loop.
  auto reply = slot->wait_until(std::chrono::steady_clock::now() + limit + std::chrono::seconds(5));
  const std::string what = "shim " + name + " `" + s->id + "`";
  if (!reply) return make_error(what + ": the task runtime's loop did not answer", ETIMEDOUT);
  if (!reply->status.ok()) return rpc_failure(what, reply->status);
  return std::move(reply->payload);
}

void ShimTaskRuntime::Impl::connect_client(Shim& s) {
  s.client = std::make_unique<ttrpc::Client>(*loop, s.socket);
}

void ShimTaskRuntime::Impl::watch_shim(const std::shared_ptr<Shim>& s) {
  if (!s->pidfd.valid() || s->pid_watch != 0) return;
  std::weak_ptr<Shim> weak = s;
  auto h = loop->add(s->pidfd.get(), EPOLLIN, [this, weak](uint32_t) {
    if (auto s = weak.lock()) shim_died(s);
  });
  if (h) s->pid_watch = *h;
}

void ShimTaskRuntime::Impl::drop_client(Shim& s) {
  if (s.pid_watch != 0) loop->remove(s.pid_watch);
  s.pid_watch = 0;
  if (s.client) s.client->close("the shim of `" + s.id + "` went away");
  s.client.reset();
}

void ShimTaskRuntime::Impl::watch_exit(const std::shared_ptr<Shim>& s, const std::string& exec_id) {
  if (s->dead || s->removing || !s->client) return;
  if (s->delivered.count(exec_id) || !s->waiting.insert(exec_id).second) return;
  task::WaitRequest req;
  req.set_id(s->id);
  req.set_exec_id(exec_id);
  std::weak_ptr<Shim> weak = s;
  ttrpc::Metadata md;
  // No deadline: a Wait is answered when the process exits, however late.
  s->client->call(kTaskService, "Wait", req.SerializeAsString(), metadata_for(*s, md),
                  std::chrono::nanoseconds(0), [this, weak, exec_id](Reply reply) {
                    auto s = weak.lock();
                    if (!s) return;
                    s->waiting.erase(exec_id);
                    if (s->dead || s->removing) return;
                    if (reply.status.ok()) {
                      task::WaitResponse w;
                      (void)w.ParseFromString(reply.payload);
                      deliver_exit(*s, exec_id, w.exit_status(),
                                   w.exited_at().seconds() * 1000000000LL + w.exited_at().nanos());
                    } else if (reply.status.code == Code::kUnavailable) {
                      // The connection broke. A dying shim's pidfd fires (shim_died);
                      // a live one is asked again on a new connection.
                      loop->add_timer(std::chrono::milliseconds(200), [this, weak, exec_id] {
                        if (auto s = weak.lock()) watch_exit(s, exec_id);
                      });
                    }
                    // NotFound: the process was deleted; nothing exits any more.
                  });
}

void ShimTaskRuntime::Impl::deliver_exit(Shim& s, const std::string& exec_id, uint32_t status,
                                         int64_t at_ns) {
  if (!s.delivered.insert(exec_id).second) return;
  core::TaskExit exit;
  exit.id = s.id;
  exit.exec_id = exec_id;
  auto pid = s.pids.find(exec_id);
  exit.pid = pid == s.pids.end() ? 0 : pid->second;
  exit.exit_status = status;
  exit.exited_at_ns = at_ns;
  ExitHandler handler;
  {
    std::lock_guard lock(mu);
    handler = on_exit;
  }
  if (handler) handler(s.ns, exit);
}

void ShimTaskRuntime::Impl::shim_died(const std::shared_ptr<Shim>& s) {
  drop_client(*s);
  s->dead = true;
  if (s->removing) return;
  // containerd 1.6's cleanupAfterDeadShim: the `delete` action, then the
  // init's exit as it reports it.
  worker->post([this, s] {
    core::TaskExit exit = cleanup_dead(*s);
    poster->post([this, s, exit] {
      if (s->removing) return;
      if (exit.pid != 0) s->pids.emplace("", exit.pid);
      deliver_exit(*s, "", exit.exit_status, exit.exited_at_ns);
      // Execs died with the container; their statuses died with the shim.
      for (const auto& [exec_id, pid] : s->pids)
        if (!exec_id.empty()) deliver_exit(*s, exec_id, 255, exit.exited_at_ns);
    });
  });
}

core::TaskExit ShimTaskRuntime::Impl::cleanup_dead(Shim& s) {
  std::lock_guard lock(s.cleanup_mu);
  if (s.final_exit) return *s.final_exit;
  auto removed = binary.remove(s.ns, s.id, s.bundle);
  core::TaskExit exit;
  if (removed) {
    exit = std::move(*removed);
  } else {
    // containerd reports 255 when even `delete` failed.
    auto now = sys::wall_now();
    exit.id = s.id;
    exit.exit_status = 255;
    exit.exited_at_ns = now.seconds * 1000000000LL + now.nanos;
  }
  // The server unlinks its socket on Shutdown; a killed one cannot.
  sys::unlink_quiet(s.socket);
  s.final_exit = exit;
  return exit;
}

void ShimTaskRuntime::Impl::await_shim_exit(Shim& s) {
  if (!s.pidfd.valid()) return;
  auto readable = [&](std::chrono::milliseconds limit) {
    struct pollfd p {
      s.pidfd.get(), POLLIN, 0
    };
    return sys::poll(&p, 1, static_cast<int>(limit.count())) == 1;
  };
  if (readable(options.shim_exit_timeout)) return;
  (void)sys::pidfd_send_signal(s.pidfd, SIGKILL);
  (void)readable(std::chrono::milliseconds(2000));
}

}  // namespace berth::tasks
