#pragma once
// The OCI runtime the shim drives (berth by default; runc and crun speak
// the same CLI). Every call carries the global flags containerd's runc shim
// uses: --root <root> --log <bundle>/log.json --log-format json
// [--systemd-cgroup]. On failure the Error reads "<binary> <verb> failed:
// <why>", why being the last "error" entry the runtime logged during that
// call, else its stderr, else its exit status (errno 0: the runtime's own
// errors have none we could trust); when the runtime could not be run at all,
// "<binary> <verb>: <error>" with that error's errno. The service decides
// which ttrpc code each becomes: this layer knows nothing of ttrpc.
//
//   create --bundle B --pid-file B/init.pid [--console-socket S] ID
//   start ID | kill [--all] ID SIG | delete [--force] ID | ps --format json ID
//   pause ID | resume ID
//   exec --process F --detach --pid-file P [--console-socket S] ID

#include <functional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "command.h"

namespace berth::shim {

struct RuntimeConfig {
  std::string binary;  // absolute path
  std::string root;    // --root
  std::string log;     // --log (<bundle>/log.json)
  bool systemd_cgroup = false;
};

// Finds the runtime: a name with a slash is taken as is; else $PATH, then
// the directory of the shim's own executable.
Result<std::string> resolve_runtime_binary(const std::string& name);

// The message of the last {"level":"error","msg":...} line in a runtime's
// JSON log text, or empty.
std::string last_error_in_json_log(std::string_view text);

class Runtime {
 public:
  // ok, or an error as described above; the result has the output (empty
  // when the runtime could not be run).
  using Done = std::function<void(const Status&, const CommandResult&)>;
  struct Stdio {
    int fds[3] = {-1, -1, -1};
  };

  Runtime(CommandRunner& runner, RuntimeConfig config)
      : runner_(runner), config_(std::move(config)) {}
  const RuntimeConfig& config() const { return config_; }

  std::vector<std::string> command(const std::vector<std::string>& args) const;

  void create(const std::string& id, const std::string& bundle, const std::string& pid_file,
              const std::string& console_socket, Stdio stdio, Done done);
  void start(const std::string& id, Done done);
  void kill(const std::string& id, int signal, bool all, Done done);
  void remove(const std::string& id, bool force, Done done);
  void ps(const std::string& id, Done done);
  void pause(const std::string& id, Done done);
  void resume(const std::string& id, Done done);
  void exec(const std::string& id, const std::string& process_json, const std::string& pid_file,
            const std::string& console_socket, Stdio stdio, Done done);

 private:
  void run(std::string verb, std::vector<std::string> args, Stdio stdio, bool capture, Done done);
  CommandRunner& runner_;
  RuntimeConfig config_;
};

}  // namespace berth::shim
