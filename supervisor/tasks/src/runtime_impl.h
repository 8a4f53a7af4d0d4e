#pragma once
// ShimTaskRuntime's insides, shared by its two files: runtime_impl.cc (the
// loop thread, calls into it, exits, dead shims, the events server) and
// shim_task_runtime.cc (the TaskRuntime calls).
//
// Ownership by thread: a Shim's client, pid watch and Wait bookkeeping are
// touched only on the loop thread; `dead`/`removing` are atomics any thread
// reads; the table of shims is under `mu`; `cleanup_mu` serialises the one
// `shim delete` of a shim that is gone (the worker's or a caller's).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "berth/base/unique_fd.h"
#include "berth/loop/loop.h"
#include "berth/loop/poster.h"
#include "berth/tasks/shim_task_runtime.h"
#include "berth/ttrpc/client.h"
#include "berth/ttrpc/server.h"
#include "shim_binary.h"

namespace google::protobuf {
class MessageLite;
}

namespace berth::tasks {

constexpr const char* kTaskService = "containerd.task.v2.Task";

struct Shim {
  std::string ns, id, bundle, socket;
  pid_t shim_pid = 0;
  UniqueFd pidfd;
  std::atomic<bool> dead{false};      // its process is gone
  std::atomic<bool> removing{false};  // remove() or a failed create owns its end
  // Loop thread only.
  std::unique_ptr<ttrpc::Client> client;
  loop::Loop::Handle pid_watch = 0;
  std::map<std::string, uint32_t> pids;  // exec id ("" the init) → pid
  std::set<std::string> waiting;         // processes with a Wait outstanding
  std::set<std::string> delivered;       // processes whose exit went out
  // After the shim died: the init's exit from `shim delete`.
  std::mutex cleanup_mu;
  std::optional<core::TaskExit> final_exit;
};

// One thread running jobs in order (`shim delete` of dead shims).
class Worker {
 public:
  Worker();
  ~Worker();  // runs what is queued, then joins
  void post(std::function<void()> job);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

struct ShimTaskRuntime::Impl {
  ShimTaskRuntimeOptions options;
  ShimBinary binary;
  std::unique_ptr<loop::Loop> loop;
  std::unique_ptr<loop::Poster> poster;
  std::unique_ptr<ttrpc::Server> events_server;
  std::thread loop_thread;
  std::unique_ptr<Worker> worker;

  std::mutex mu;                                       // shims, handlers
  std::map<std::string, std::shared_ptr<Shim>> shims;  // "ns/id"
  ExitHandler on_exit;
  EventHandler on_event;

  static std::string key(std::string_view ns, std::string_view id) {
    return std::string(ns) + "/" + std::string(id);
  }
  Result<std::shared_ptr<Shim>> find(std::string_view ns, std::string_view id);
  void forget(const Shim& s);

  Status start_threads();
  void stop_threads();
  Status serve_events();
  void forward(const ttrpc::IncomingRequest& req, ttrpc::Responder r);

  // One Task call: blocks until its reply or the timeout. `on_reply` runs
  // on the loop with a successful reply's payload before the caller wakes
  // (bookkeeping that must precede any later event, e.g. the first Wait).
  using OnReply = std::function<void(Shim&, const std::string& payload)>;
  Result<std::string> call(const std::shared_ptr<Shim>& s, const char* method,
                           const google::protobuf::MessageLite& request, OnReply on_reply = {},
                           std::optional<std::chrono::milliseconds> timeout = {});
  // Runs fn on the loop and waits for it.
  void on_loop(std::function<void()> fn);

  // Loop thread: dials the shim; watches its pidfd once it is known.
  void connect_client(Shim& s);
  void watch_shim(const std::shared_ptr<Shim>& s);
  void drop_client(Shim& s);
  // Loop thread: keeps one Wait outstanding for the process.
  void watch_exit(const std::shared_ptr<Shim>& s, const std::string& exec_id);
  void deliver_exit(Shim& s, const std::string& exec_id, uint32_t status, int64_t at_ns);
  // Loop thread: the shim's pidfd fired.
  void shim_died(const std::shared_ptr<Shim>& s);
  // Any thread but the loop's: `shim delete` once, its exit kept.
  core::TaskExit cleanup_dead(Shim& s);
  // Any thread but the loop's: the shim gone (pidfd readable) within the
  // timeout, else SIGKILLed.
  void await_shim_exit(Shim& s);
};

}  // namespace berth::tasks
