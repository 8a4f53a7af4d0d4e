#pragma once
// containerd.task.v2.Task, served over ttrpc: the containers this shim owns,
// their processes (init and execs, each with a ProcessState) and the events
// their life cycle publishes. Every method answers through its Responder,
// now or when the runtime call behind it completes; nothing blocks the loop.
//
//   method      runtime call            event(s)                   notes
//   Create      create (+ mounts, io)   /tasks/create              reply {pid}; a binary://
//                                                                  logger is ready first; the
//                                                                  init's cgroups are recorded
//   Start       start | exec            /tasks/start | exec-started exit held until after
//   State       -                       -                          status from ProcessState
//   Wait        -                       -                          answered after the exit is
//                                                                  reported (io drained)
//   Kill        kill [--all] | kill(2)  -                          finished: NotFound
//   Delete      delete (+ unmount)      /tasks/delete              init: container removed
//   Exec        -                       /tasks/exec-added          spec kept until Start
//   Pids        ps --format json        -
//   Pause       pause                   /tasks/paused
//   Resume      resume                  /tasks/resumed
//   Update      update --resources F    -
//   CloseIO     -                       -                          ends the process's stdin
//   ResizePty   -                       -                          TIOCSWINSZ on the master
//   Connect     -                       -                          {shim_pid, task_pid}
//   Shutdown    -                       -                          exits when no container is left
//   Stats       - (cgroup files)        -                          cgroups v1 or v2 Metrics Any
//   Checkpoint: Unimplemented
//   (any exit)                          /tasks/exit                after TaskStart, io drained;
//                                                                  an init without its own pid
//                                                                  namespace: kill --all 9 first
//   (OOM kill)                          /tasks/oom                 before the init's /tasks/exit
//
// Files, by concern: service.cc (routing, lookup, Connect, Shutdown),
// service_create.cc (Create: TaskCreation), service_start.cc (Exec, Start),
// service_control.cc (Kill, Delete, Pause, Resume, Update, CloseIO,
// ResizePty), service_query.cc (State, Wait, Pids, Stats), service_exit.cc
// (exits), service_edge.h (replies; Errors from below to ttrpc codes).

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cgroup_stats.h"
#include "command.h"
#include "berth/base/sys.h"
#include "berth/loop/loop.h"
#include "oom.h"
#include "process_io.h"
#include "process_state.h"
#include "publisher.h"
#include "reaper.h"
#include "runtime.h"
#include "berth/ttrpc/server.h"

namespace containerd::task::v2 {
class CreateTaskRequest;
class StartRequest;
class StateRequest;
class WaitRequest;
class KillRequest;
class DeleteRequest;
class ExecProcessRequest;
class PidsRequest;
class PauseRequest;
class ResumeRequest;
class UpdateTaskRequest;
class CloseIORequest;
class ResizePtyRequest;
class ConnectRequest;
class ShutdownRequest;
class StatsRequest;
}  // namespace containerd::task::v2

namespace berth::shim {

constexpr const char* kTaskService = "containerd.task.v2.Task";

struct ServiceConfig {
  std::string ns;             // -namespace: events and the default runtime root
  std::string start_options;  // google.protobuf.Any bytes `start` read from stdin
  // Defaults when the options name none.
  std::string default_runtime = "berth";
  std::string default_root = "/run/containerd/runc";
  std::chrono::milliseconds io_drain_limit{2000};
  // How long a binary:// logger may take to say it is ready.
  std::chrono::milliseconds logger_ready_limit{10000};
  // Runs binary:// loggers (their exits are theirs, not a container's).
  Reaper* reaper = nullptr;
  // The cgroups of a container's init (default: cgroups_of_pid; tests fake it).
  std::function<Result<CgroupSet>(pid_t)> cgroups_of;
};

struct Process {
  explicit Process(ProcessKind kind) : state(kind) {}
  std::string exec_id;  // empty for the init
  ProcessState state;
  pid_t pid = 0;
  StdioPaths stdio;
  std::string spec_json;  // exec: the runtime-spec Process to run
  std::unique_ptr<ProcessIO> io;
  uint32_t exit_status = 0;
  sys::WallTime exited_at;
  bool exit_reported = false;  // Waits answered, TaskExit published
  std::vector<ttrpc::Responder> waiters;
};

struct Container {
  std::string id;
  std::string bundle;
  std::vector<std::string> rootfs_mounts;  // targets mounted by Create, to unmount on Delete
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<Process> init;
  std::map<std::string, std::shared_ptr<Process>> execs;
  CgroupSet cgroups;             // found at Create; empty if not found
  bool kill_all_on_exit = true;  // no pid namespace of its own (config.json)
};

class TaskService {
 public:
  TaskService(loop::Loop& loop, ttrpc::Server& server, Publisher& publisher, CommandRunner& runner,
              ServiceConfig config);
  ~TaskService();
  void register_methods();
  // Every reaped child that no command runner claimed.
  void on_exit(pid_t pid, int wait_status);
  // Runs after Shutdown was answered with no container left.
  void on_shutdown(std::function<void()> cb) { on_shutdown_ = std::move(cb); }
  size_t container_count() const { return containers_.size(); }

 private:
  using Responder = ttrpc::Responder;
  template <class Req>
  void route(const char* method, void (TaskService::*fn)(const Req&, Responder));

  void create(const containerd::task::v2::CreateTaskRequest& req, Responder r);
  void start(const containerd::task::v2::StartRequest& req, Responder r);
  void state(const containerd::task::v2::StateRequest& req, Responder r);
  void wait(const containerd::task::v2::WaitRequest& req, Responder r);
  void kill(const containerd::task::v2::KillRequest& req, Responder r);
  void remove(const containerd::task::v2::DeleteRequest& req, Responder r);
  void exec(const containerd::task::v2::ExecProcessRequest& req, Responder r);
  void pids(const containerd::task::v2::PidsRequest& req, Responder r);
  void pause(const containerd::task::v2::PauseRequest& req, Responder r);
  void resume(const containerd::task::v2::ResumeRequest& req, Responder r);
  void update(const containerd::task::v2::UpdateTaskRequest& req, Responder r);
  void close_io(const containerd::task::v2::CloseIORequest& req, Responder r);
  void resize_pty(const containerd::task::v2::ResizePtyRequest& req, Responder r);
  void connect(const containerd::task::v2::ConnectRequest& req, Responder r);
  void shutdown(const containerd::task::v2::ShutdownRequest& req, Responder r);
  void stats(const containerd::task::v2::StatsRequest& req, Responder r);

  struct Found {
    std::shared_ptr<Container> container;
    std::shared_ptr<Process> process;
  };
  // ENOENT with a message naming the container or exec.
  Result<Found> find(const std::string& id, const std::string& exec_id);
  // Create, as one object with one rollback path (service_create.cc).
  friend class TaskCreation;
  void watch_cgroups(Container& c);
  void trim_when_idle();
  void start_init(std::shared_ptr<Container> c, Responder r);
  void start_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p, Responder r);
  void run_exec(std::shared_ptr<Container> c, std::shared_ptr<Process> p, Responder r,
                const std::string& spec_path,
                std::function<void(const ttrpc::RpcStatus&)> fail_start);
  // The exit of p became visible: drain io, answer Waits, publish TaskExit.
  void report_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p);
  void record_exit(Process& p, int wait_status);
  // The reaped exit of p: reported now, or (an init sharing a pid namespace)
  // once what is left of its container has been killed.
  void process_exited(std::shared_ptr<Container> c, std::shared_ptr<Process> p);
  // A pid learnt from a pid file may have exited already.
  void claim_early_exit(const std::shared_ptr<Container>& c, const std::shared_ptr<Process>& p);
  void forget_early_exits();

  loop::Loop& loop_;
  ttrpc::Server& server_;
  Publisher& publisher_;
  CommandRunner& runner_;
  ServiceConfig config_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
  std::set<std::string> creating_;
  // Exits of pids not known yet, kept while a runtime command runs (its pid
  // file is read only when it finishes).
  std::unordered_map<pid_t, int> early_exits_;
  std::function<void()> on_shutdown_;
  OomWatcher oom_;
  loop::Loop::Handle trim_timer_ = 0;
};

}  // namespace berth::shim
