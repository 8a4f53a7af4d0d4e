// berthd: parse flags and config, take the root's lock, open the plugins
// (builtins.cc), serve gRPC on a root-only unix socket until SIGTERM.

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "berth/base/sys.h"
#include "builtins.h"
#include "config.h"

namespace berth::daemon {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kDefaultConfig = "/etc/berth/berthd.toml";

int fail(const std::string& message) {
  std::fprintf(stderr, "berthd: %s\n", message.c_str());
  return 1;
}

// One daemon per root: two would race on the same database and blobs.
Result<UniqueFd> lock_root(const std::string& root) {
  std::string path = root + "/berthd.lock";
  auto fd = BERTH_VALUE(sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (sys::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      char buf[32] = {};
      ssize_t n = sys::pread(fd.get(), buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
      while (!pid.empty() && pid.back() == '\n') pid.pop_back();
      return make_error("another berthd (pid " + pid + ") is running with root `" + root + "`",
                        EBUSY);
    }
    return sys_error("lock", path);
  }
  std::string pid = std::to_string(sys::getpid()) + "\n";
  if (sys::ftruncate(fd.get(), 0) != 0) return sys_error("truncate", path);
  BERTH_TRY(sys::write_all(fd, pid, path));
  return fd;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"berthd: the berth container daemon"};
  std::string config_path, root, state, address, log_level, log_file, group;
  app.add_option("--config", config_path, "config file (default /etc/berth/berthd.toml, optional)");
  app.add_option("--root", root, "persistent data (default /var/lib/berthd)");
  app.add_option("--state", state, "runtime state (default /run/berthd)");
  app.add_option("--address", address, "gRPC socket (default <state>/berthd.sock)");
  app.add_option("--group", group, "group allowed on the socket (default: root only)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_option("--log-file", log_file, "log here instead of stderr");
  app.set_version_flag("--version", std::string("berthd ") + kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) { return app.exit(e); }
  Config config;
  auto loaded =
      load_config(config_path.empty() ? kDefaultConfig : config_path, !config_path.empty(), config);
  if (!loaded.ok()) return fail(loaded.error().to_string());
  if (!root.empty()) config.root = root;
  if (!state.empty()) config.state = state;
  if (!address.empty()) config.address = address;
  if (!group.empty()) config.group = group;
  if (!log_level.empty()) config.log_level = log_level;
  if (!log_file.empty()) config.log_file = log_file;
  if (config.address.empty()) config.address = config.state + "/berthd.sock";
  for (auto* p : {&config.root, &config.state, &config.address})
    if (p->empty() || (*p)[0] != '/') return fail("paths must be absolute: `" + *p + "`");

  auto level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off")
    return fail("--log-level: unknown level `" + config.log_level + "`");
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (config.log_file.empty())
      logger = spdlog::stderr_logger_mt("berthd");
    else
      logger = spdlog::basic_logger_mt("berthd", config.log_file);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) { return fail(std::string("log file: ") + e.what()); }
  spdlog::set_level(level);

  // Blocked before any thread exists, so every thread inherits the mask
  // and only the waiter below sees SIGTERM/SIGINT.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  sys::signal(SIGPIPE, SIG_IGN);

  for (const auto* dir : {&config.root, &config.state}) {
    auto st = sys::mkdir_p(*dir, 0711);
    if (!st.ok()) return fail(st.error().to_string());
  }
  auto lock = lock_root(config.root);
  if (!lock) return fail(lock.error().to_string());

  auto builtins = Builtins::open(config);
  if (!builtins) return fail(builtins.error().to_string());

  // The socket: a stale one from a killed daemon goes (we hold the root's
  // lock, so it is not another daemon's); created 0660 by the umask, so
  // there is no moment when anyone else may connect.
  std::string socket_path = config.address;
  sys::unlink_quiet(socket_path);
  auto dir_st = sys::mkdir_p(socket_path.substr(0, socket_path.rfind('/')), 0711);
  if (!dir_st.ok()) return fail(dir_st.error().to_string());
  gid_t gid = 0;
  if (!config.group.empty()) {
    struct group* g = ::getgrnam(config.group.c_str());
    if (!g) return fail("group `" + config.group + "` does not exist");
    gid = g->gr_gid;
  }
  mode_t old_umask = sys::umask(0117);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.SetMaxSendMessageSize(16 << 20);
  auto services = (*builtins)->make_services();
  for (auto& s : services) builder.RegisterService(s.get());
  auto server = builder.BuildAndStart();
  sys::umask(old_umask);
  if (!server) return fail("cannot listen on `" + socket_path + "`");
  if (sys::fchownat(AT_FDCWD, socket_path.c_str(), 0, gid, 0) != 0 ||
      !sys::chmod(socket_path, 0660).ok()) {
    server->Shutdown();
    return fail("socket `" + socket_path + "`: cannot set owner and mode");
  }
  spdlog::info("berthd {} serving on {} (root {}, snapshotter {})", kVersion, socket_path,
               config.root, (*builtins)->context().info.snapshotter);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: shutting down", sig);
    // In-flight calls get a few seconds; streams (pull) are cancelled after.
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  });
  server->Wait();
  waiter.join();
  sys::unlink_quiet(socket_path);
  spdlog::info("stopped");
  return 0;
}

}  // namespace berth::daemon

int main(int argc, char** argv) { return berth::daemon::run(argc, argv); }
