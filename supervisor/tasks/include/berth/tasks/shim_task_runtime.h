#pragma once
// core::TaskRuntime over berth-shim, driven exactly as containerd 1.6 drives
// a shim v2 (launch protocol: shim/src/launch.h; Task API: shim/src/service.h).
//
// Threads: one thread runs a lib/loop Loop that owns every ttrpc client (one
// per shim) and the events server; callers post their call into it and
// block on the reply (each call with its timeout); a second thread runs the
// `delete` action of shims found dead, so the loop never blocks on a child.
//
//   what                 how
//   create               `shim start` (cwd bundle, options Any on stdin) → dial →
//                        Connect (the shim's pid, watched through a pidfd) → Create;
//                        a failure anywhere: Shutdown, `shim delete`, no socket left
//   exits                one outstanding Wait per process (no timeout): its answer
//                        is the exit, delivered once to the ExitHandler
//   events               containerd.services.events.ttrpc.v1.Events/Forward served on
//                        <state>/tasks.ttrpc (0600, the shims' TTRPC_ADDRESS): topic and
//                        container id to the EventHandler
//   dead shim            its pidfd fires: `shim delete`, and the init's exit from it
//                        (137 after the forced delete; 255 when delete fails), as
//                        containerd 1.6's cleanupAfterDeadShim
//   remove               Delete → Shutdown → the shim's pidfd readable; after it no
//                        handler call for that task (the exit is the return value)
//   recover              <bundle>/address → Connect + State → Wait again; a shim
//                        that does not answer is dead: `shim delete`, reported stopped
//
// The process must ignore SIGPIPE (berthd does): a write to a shim that has
// just died would otherwise end it.
//
// On disk, under `state_dir`: tasks.ttrpc, s/<sha256> (shim sockets; keep
// state_dir short: a socket path has at most 106 bytes), runtime/<ns>/ (the
// runtime's --root).

#include <chrono>
#include <memory>
#include <string>

#include "berth/core/tasks.h"

namespace berth::tasks {

struct ShimTaskRuntimeOptions {
  std::string shim_binary;     // berth-shim, absolute
  std::string state_dir;       // absolute
  std::string daemon_address;  // the shim's -address (berthd's socket)
  std::string publish_binary;  // the shim's -publish-binary (berthd)
  // binary_name when a request names no runtime: a name on PATH or a path.
  std::string default_runtime = "berth";
  std::chrono::milliseconds call_timeout{30000};
  // How long a shim may take to exit after Shutdown before it is killed.
  std::chrono::milliseconds shim_exit_timeout{5000};
};

class ShimTaskRuntime final : public core::TaskRuntime {
 public:
  static Result<std::unique_ptr<ShimTaskRuntime>> create(ShimTaskRuntimeOptions options);
  // Stops the threads; the shims keep running (recover() finds them again).
  ~ShimTaskRuntime() override;

  void set_handlers(ExitHandler on_exit, EventHandler on_event) override;
  Result<uint32_t> create(std::string_view ns, const core::TaskCreateRequest& req) override;
  Result<uint32_t> start(std::string_view ns, std::string_view id,
                         std::string_view exec_id = {}) override;
  Status kill(std::string_view ns, std::string_view id, std::string_view exec_id, int signal,
              bool all = false) override;
  Result<core::TaskExit> remove(std::string_view ns, std::string_view id) override;
  Result<core::TaskInfo> state(std::string_view ns, std::string_view id,
                               std::string_view exec_id = {}) override;
  Result<std::vector<uint32_t>> pids(std::string_view ns, std::string_view id) override;
  Status pause(std::string_view ns, std::string_view id) override;
  Status resume(std::string_view ns, std::string_view id) override;
  Status update(std::string_view ns, std::string_view id, std::string_view resources_json) override;
  Result<core::TaskMetrics> stats(std::string_view ns, std::string_view id) override;
  Status exec(std::string_view ns, std::string_view id, const core::ExecRequest& req) override;
  Result<core::TaskExit> remove_exec(std::string_view ns, std::string_view id,
                                     std::string_view exec_id) override;
  Status resize(std::string_view ns, std::string_view id, std::string_view exec_id, uint32_t width,
                uint32_t height) override;
  Status close_stdin(std::string_view ns, std::string_view id, std::string_view exec_id) override;
  Result<std::vector<Recovered>> recover(
      std::string_view ns,
      const std::vector<std::pair<std::string, std::string>>& id_bundles) override;

  struct Impl;

 private:
  explicit ShimTaskRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::tasks
