#include "shim_binary.h"

#include <unistd.h>

#include "berth/base/child_process.h"
#include "berth/base/sys.h"
#include "containerd/task/v2/shim.pb.h"

namespace berth::tasks {

namespace {

struct Output {
  int exit_code = 0;
  std::string out, err;
};

std::vector<std::string> shim_environment(const ShimBinary& b) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("TTRPC_ADDRESS=") || kv.starts_with("BERTH_SHIM_SOCKET_DIR=")) continue;
    env.emplace_back(kv);
  }
  env.push_back("TTRPC_ADDRESS=" + b.ttrpc_address);
  env.push_back("BERTH_SHIM_SOCKET_DIR=" + b.socket_dir);
  return env;
}

// Runs argv in cwd with `input` on stdin; collects stdout and stderr.
Result<Output> run(const ShimBinary& b, std::vector<std::string> argv, const std::string& cwd,
                   const std::string& input) {
  auto in = BERTH_VALUE(sys::pipe());
  auto out = BERTH_VALUE(sys::pipe());
  auto err = BERTH_VALUE(sys::pipe());
  sys::SpawnOptions spawn;
  spawn.argv = std::move(argv);
  spawn.stdio[0] = in.read.get();
  spawn.stdio[1] = out.write.get();
  spawn.stdio[2] = err.write.get();
  spawn.cwd = cwd;
  spawn.replace_env = true;
  spawn.env = shim_environment(b);
  pid_t pid = BERTH_VALUE(sys::spawn(spawn));
  auto child = BERTH_VALUE(ChildProcess::adopt(pid));
  in.read.reset();
  out.write.reset();
  err.write.reset();
  // The options are far below a pipe's capacity: written whole before the
  // shim reads, then EOF.
  BERTH_TRY(sys::write_all(in.write, input, "shim stdin"));
  in.write.reset();
  Output o;
  // stderr is read second: what a shim says there fits in the pipe.
  o.out = BERTH_VALUE(sys::read_all(out.read, 1 << 20, "shim stdout"));
  o.err = BERTH_VALUE(sys::read_all(err.read, 1 << 20, "shim stderr"));
  o.exit_code = sys::exit_code_of(BERTH_VALUE(child.wait()));
  while (!o.err.empty() && o.err.back() == '\n') o.err.pop_back();
  return o;
}

std::vector<std::string> common_args(const ShimBinary& b, std::string_view ns,
                                     std::string_view id) {
  return {b.path,           "-namespace",      std::string(ns),  "-address",
          b.daemon_address, "-publish-binary", b.publish_binary, "-id",
          std::string(id)};
}

}  // namespace

Result<std::string> ShimBinary::start(std::string_view ns, std::string_view id,
                                      const std::string& bundle, const std::string& options) const {
  auto argv = common_args(*this, ns, id);
  argv.push_back("start");
  auto o = BERTH_VALUE(run(*this, std::move(argv), bundle, options));
  if (o.exit_code != 0)
    return make_error("shim start `" + std::string(id) + "`: " +
                          (o.err.empty() ? "exit status " + std::to_string(o.exit_code) : o.err),
                      EIO);
  constexpr std::string_view kScheme = "unix://";
  if (!std::string_view(o.out).starts_with(kScheme) || o.out.size() == kScheme.size())
    return make_error("shim start `" + std::string(id) + "`: unexpected address `" + o.out + "`",
                      EPROTO);
  return o.out.substr(kScheme.size());
}

Result<core::TaskExit> ShimBinary::remove(std::string_view ns, std::string_view id,
                                          const std::string& bundle) const {
  auto argv = common_args(*this, ns, id);
  argv.insert(argv.end(), {"-bundle", bundle, "delete"});
  auto o = BERTH_VALUE(run(*this, std::move(argv), bundle, ""));
  containerd::task::v2::DeleteResponse resp;
  if (o.exit_code != 0 || !resp.ParseFromString(o.out))
    return make_error("shim delete `" + std::string(id) + "`: " +
                          (o.err.empty() ? "exit status " + std::to_string(o.exit_code) : o.err),
                      EIO);
  core::TaskExit exit;
  exit.id = std::string(id);
  exit.pid = resp.pid();
  exit.exit_status = resp.exit_status();
  exit.exited_at_ns = resp.exited_at().seconds() * 1000000000LL + resp.exited_at().nanos();
  return exit;
}

}  // namespace berth::tasks
