// berth: the runc-compatible command line. Parses arguments, calls the
// container library, prints the one error at the edge, exits 1 on failure.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "args.h"
#include "cloned_binary.h"
#include "commands.h"
#include "log.h"

namespace {

constexpr const char* kUsage =
    R"(usage: berth [global options] <command> [options] <container-id> ...

An OCI runtime, command-line compatible with runc.

commands:
  create     create a container (the process waits for start)
  start      run the process of a created container
  run        create and start a container
  state      print the state of a container as JSON
  kill       send a signal to the container's init (--all: every process)
  delete     delete a stopped container (--force: any)
  list       list containers
  ps         list the processes of a container
  exec       run a new process in a running container
  pause      freeze every process of a container
  resume     thaw a paused container
  update     change a running container's resources
  events     print stats and OOM events (--stats: one stats sample)
  spec       write a default config.json
  features   print the runtime's features as JSON

global options:
  --root DIR          state directory (default /run/berth)
  --log FILE          log file
  --log-format FMT    text or json
  --debug             debug logging
  --systemd-cgroup    use systemd for cgroups (not supported yet)
  --cgroup-manager M  cgroupfs (the default) or disabled: create and join no
                      cgroup (crun's flag; pause, update, stats and ps then fail)
  --rootless B        false or auto; true (rootless containers) is not supported
  --version, --help
)";

}  // namespace

int main(int argc, char** argv, char** envp) {
  std::vector<std::string> args(argv, argv + argc);
  using berth::cli::FlagSpec;
  const std::vector<FlagSpec> global_flags = {
      {"root", "", true},
      {"log", "", true},
      {"log-format", "", true},
      {"debug", "", false},
      {"systemd-cgroup", "", false},
      {"criu", "", true},
      {"rootless", "", true},
      {"cgroup-manager", "", true},
      {"version", "v", false},
      {"help", "h", false},
  };
  auto parsed = berth::cli::Args::parse(args, 1, global_flags, "berth");
  if (!parsed) {
    std::fprintf(stderr, "berth: %s\n", parsed.error().to_string().c_str());
    return 1;
  }
  const auto& g = *parsed;
  if (g.has("version")) {
    std::printf("berth version %s\nspec: 1.2.0\n", BERTH_VERSION);
    return 0;
  }
  if (g.has("help") || g.positional().empty()) {
    std::fputs(kUsage, g.has("help") ? stdout : stderr);
    return g.has("help") ? 0 : 1;
  }
  std::string format = g.get("log-format", "text");
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "berth: --log-format: must be text or json, got `%s`\n", format.c_str());
    return 1;
  }
  berth::cli::log_setup(
      g.get("log"), format == "json" ? berth::cli::LogFormat::kJson : berth::cli::LogFormat::kText,
      g.has("debug"));
  // What a caller (a shim, podman) really asked for: the first thing to
  // compare when berth and runc disagree.
  if (g.has("debug")) {
    std::string line = "command line:";
    for (const auto& a : args) line += " " + a;
    berth::cli::log_debug(line);
  }
  // Refused for every command, not only create: `list` or `delete` would
  // otherwise answer as if cgroupfs paths were what the caller meant.
  if (g.has("systemd-cgroup")) {
    berth::cli::log_error("--systemd-cgroup: the systemd cgroup driver is not supported yet");
    return 1;
  }
  berth::container::Globals globals;
  globals.root = g.get("root", "/run/berth");
  globals.systemd_cgroup = g.has("systemd-cgroup");
  // crun's flag, which podman passes (--runtime-arg) for `--cgroups=disabled`.
  std::string manager = g.get("cgroup-manager", "cgroupfs");
  if (manager == "systemd") {
    berth::cli::log_error("--cgroup-manager: the systemd cgroup driver is not supported yet");
    return 1;
  }
  if (manager != "cgroupfs" && manager != "disabled") {
    berth::cli::log_error("--cgroup-manager: must be cgroupfs or disabled, got `" + manager + "`");
    return 1;
  }
  globals.cgroups_disabled = manager == "disabled";
  // runc's rootless mode (cgroup errors tolerated, a user namespace
  // required) is not implemented: refuse it rather than accept and ignore
  // it, so a caller expecting rootless semantics learns so at once. "auto"
  // means rootless only for a caller that is not root.
  std::string rootless = g.get("rootless", "false");
  if (rootless != "true" && rootless != "false" && rootless != "auto") {
    berth::cli::log_error("--rootless: must be true, false or auto, got `" + rootless + "`");
    return 1;
  }
  if (rootless == "true" || (rootless == "auto" && berth::sys::geteuid() != 0)) {
    berth::cli::log_error(
        "--rootless: rootless containers are not supported (run berth as root; "
        "--cgroup-manager=disabled runs a container without cgroups)");
    return 1;
  }
  const std::string& command = args[g.next()];
  if (command == "create" || command == "run" || command == "exec")
    berth::cli::ensure_cloned_binary(argv, envp);
  return berth::cli::dispatch(globals, args, g.next());
}
