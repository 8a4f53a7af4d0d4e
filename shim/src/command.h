#pragma once
// Runs helper commands (the OCI runtime) without blocking the loop: spawn,
// capture stdout/stderr through pipes read on the loop, and call back once
// the command has exited, with what it printed.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/loop/loop.h"
#include "reaper.h"

namespace berth::shim {

struct CommandResult {
  int wait_status = 0;
  int exit_code = 0;  // status, or 128 + signal
  std::string out;    // captured stdout (when captured)
  std::string err;    // captured stderr (when captured)
};

struct CommandSpec {
  std::vector<std::string> argv;
  // The child's 0, 1, 2; -1: /dev/null, or for 1 and 2 a capture pipe when
  // `capture` is set. Descriptors stay owned by the caller.
  int stdio[3] = {-1, -1, -1};
  // Off for commands whose stdio a container inherits (runtime create and
  // exec): a capture pipe would become the container's stdout.
  bool capture = true;
  std::vector<int> extra_fds;  // become the child's 3, 4, ...
  size_t capture_limit = 4u << 20;
};

class CommandRunner {
 public:
  using Done = std::function<void(Result<CommandResult>)>;
  CommandRunner(loop::Loop& loop, Reaper& reaper) : loop_(loop), reaper_(reaper) {}
  // `done` runs from the loop after the command exited (or at once, deferred,
  // if it could not be spawned).
  void run(const CommandSpec& spec, Done done);
  // Commands in flight: while any runs, an unknown exit may belong to a
  // process whose pid the shim learns only when the command finishes.
  size_t in_flight() const { return in_flight_; }

 private:
  loop::Loop& loop_;
  Reaper& reaper_;
  size_t in_flight_ = 0;
};

// Blocking variant for the short-lived `delete` action (no loop there).
Result<CommandResult> run_command_sync(const CommandSpec& spec);

}  // namespace berth::shim
