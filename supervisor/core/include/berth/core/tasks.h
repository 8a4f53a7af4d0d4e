#pragma once
// Tasks: the running processes of containers, each container's under its
// own berth-shim, driven over ttrpc with containerd's task v2 API
// (supervisor/tasks implements it; the shim's table is shim/src/service.h).
//
// The caller (berthd's container service) owns the bundle directory: it
// writes config.json there and mounts the rootfs at <bundle>/rootfs before
// create(). The runtime owns the shim: it starts it (the shim v2 launch
// protocol), keeps its address in <bundle>/address, reconnects to it after a
// daemon restart (recover), and removes it on remove().
//
// Calls block the calling thread until the shim answered (or its timeout);
// exits are delivered to the ExitHandler from the runtime's own thread, in
// order, exactly once per process, also for exits that happened while
// berthd was down (found by recover()). Handlers must not block.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::core {

struct TaskIO {
  // Paths as containerd passes them: a FIFO path, file://PATH,
  // binary://LOGGER?k=v (stdout and stderr together), or empty (/dev/null).
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
};

struct TaskCreateRequest {
  std::string id;
  std::string bundle;   // absolute; config.json and a mounted rootfs/ inside
  std::string runtime;  // runtime binary: name on PATH or absolute path ("" → berth)
  TaskIO io;
};

struct TaskExit {
  std::string id;       // container id
  std::string exec_id;  // empty for the init process
  uint32_t pid = 0;
  uint32_t exit_status = 0;  // 128+signal for a signalled process, as containerd reports
  int64_t exited_at_ns = 0;
};

enum class TaskStatus { unknown, created, running, stopped, paused, pausing };

struct TaskInfo {
  std::string id;
  TaskStatus status = TaskStatus::unknown;
  uint32_t pid = 0;
  uint32_t exit_status = 0;
  int64_t exited_at_ns = 0;
  bool terminal = false;
};

struct ExecRequest {
  std::string exec_id;
  std::string process_json;  // an OCI runtime-spec Process object
  TaskIO io;
};

// Raw metrics as the shim returns them (type URL + protobuf bytes of
// io.containerd.cgroups.v1.Metrics or v2.Metrics).
struct TaskMetrics {
  std::string type_url;
  std::string data;
};

class TaskRuntime {
 public:
  using ExitHandler = std::function<void(std::string_view ns, const TaskExit&)>;
  // OOM and other shim events ("/tasks/oom", ...), for the event bus.
  using EventHandler = std::function<void(std::string_view ns, std::string_view topic,
                                          std::string_view container_id)>;

  virtual ~TaskRuntime() = default;
  virtual void set_handlers(ExitHandler on_exit, EventHandler on_event) = 0;

  // Starts a shim for the container and creates the task (runtime create):
  // returns the init's pid. On failure nothing is left: no shim, no state.
  virtual Result<uint32_t> create(std::string_view ns, const TaskCreateRequest& req) = 0;
  virtual Result<uint32_t> start(std::string_view ns, std::string_view id,
                                 std::string_view exec_id = {}) = 0;
  virtual Status kill(std::string_view ns, std::string_view id, std::string_view exec_id,
                      int signal, bool all = false) = 0;
  // Deletes the task (runtime delete), shuts the shim down and forgets it:
  // returns the init's exit. Idempotent: ENOENT when there is no task.
  virtual Result<TaskExit> remove(std::string_view ns, std::string_view id) = 0;
  virtual Result<TaskInfo> state(std::string_view ns, std::string_view id,
                                 std::string_view exec_id = {}) = 0;
  virtual Result<std::vector<uint32_t>> pids(std::string_view ns, std::string_view id) = 0;
  virtual Status pause(std::string_view ns, std::string_view id) = 0;
  virtual Status resume(std::string_view ns, std::string_view id) = 0;
  // resources_json: an OCI LinuxResources object.
  virtual Status update(std::string_view ns, std::string_view id,
                        std::string_view resources_json) = 0;
  virtual Result<TaskMetrics> stats(std::string_view ns, std::string_view id) = 0;
  virtual Status exec(std::string_view ns, std::string_view id, const ExecRequest& req) = 0;
  // Deletes a finished exec process.
  virtual Result<TaskExit> remove_exec(std::string_view ns, std::string_view id,
                                       std::string_view exec_id) = 0;
  virtual Status resize(std::string_view ns, std::string_view id, std::string_view exec_id,
                        uint32_t width, uint32_t height) = 0;
  virtual Status close_stdin(std::string_view ns, std::string_view id,
                             std::string_view exec_id) = 0;

  // After a daemon restart: reconnects to the shim of each task whose bundle
  // is given, returns what each is now. A task whose shim is gone is cleaned
  // up (the shim's `delete` action) and reported stopped with the exit the
  // shim recorded (or 255 when none). Exits of live tasks then arrive at
  // the ExitHandler as usual.
  struct Recovered {
    std::string id;
    std::optional<TaskInfo> info;  // empty: no task was there
  };
  virtual Result<std::vector<Recovered>> recover(
      std::string_view ns, const std::vector<std::pair<std::string, std::string>>& id_bundles) = 0;
};

}  // namespace berth::core
