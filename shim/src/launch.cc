#include "launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "berth/base/sys.h"
#include "bundle.h"
#include "command.h"
#include "berth/base/log.h"
#include "berth/base/sys.h"
#include "containerd/task/v2/shim.pb.h"
#include "berth/loop/loop.h"
#include "mounts.h"
#include "publisher.h"
#include "reaper.h"
#include "runtime.h"
#include "service.h"
#include "berth/ttrpc/server.h"

namespace berth::shim {

namespace {

constexpr const char* kDefaultSocketDir = "/run/containerd/s";
constexpr const char* kDefaultRuntime = "berth";
constexpr const char* kDefaultRoot = "/run/containerd/runc";
// containerd's socketPathLimit: sun_path is 108 bytes with the NUL.
constexpr size_t kSocketPathLimit = 106;

std::string socket_dir() {
  const char* d = std::getenv("BERTH_SHIM_SOCKET_DIR");
  return d && *d ? d : kDefaultSocketDir;
}

std::string cwd() { return sys::current_dir(); }

int fail(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return 1;
}

// The server's log: the bundle's `log` FIFO containerd reads, if it is there.
void open_log(const std::string& bundle, const ShimFlags& f) {
  auto fd = sys::open(bundle + "/log", O_WRONLY | O_NONBLOCK);  // ENXIO: nobody reads it
  std::string fields = "namespace=" + f.ns + " id=" + f.id + " pid=" + std::to_string(getpid());
  shim_log::init(fd ? fd->release() : -1, f.debug, fields);
}

struct Server {
  std::unique_ptr<loop::Loop> loop;
  std::unique_ptr<Reaper> reaper;
  std::unique_ptr<CommandRunner> runner;
  std::unique_ptr<ttrpc::Server> server;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<TaskService> service;
};

// Builds the server around `listener`; runs until Shutdown with no
// container left. `ready` (may be -1) gets "ok" or the error once serving.
int serve(const ShimFlags& f, UniqueFd listener, const std::string& socket,
          std::string start_options, int ready) {
  auto report = [ready](const std::string& text) {
    if (ready >= 0) (void)sys::write_all(BorrowedFd(ready), text, "ready pipe");
  };
  sys::signal(SIGPIPE, SIG_IGN);
  auto loop = loop::Loop::create();
  if (!loop) {
    report("event loop: " + loop.error().to_string());
    return 1;
  }
  Server s;
  s.loop = std::move(*loop);
  s.reaper = std::make_unique<Reaper>(*s.loop);
  s.runner = std::make_unique<CommandRunner>(*s.loop, *s.reaper);
  s.server = std::make_unique<ttrpc::Server>(*s.loop);
  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  s.publisher = std::make_unique<Publisher>(*s.loop, ttrpc_address ? ttrpc_address : "", f.ns);
  ServiceConfig config;
  config.ns = f.ns;
  config.start_options = std::move(start_options);
  config.default_runtime = kDefaultRuntime;
  config.default_root = kDefaultRoot;
  config.reaper = s.reaper.get();
  s.service = std::make_unique<TaskService>(*s.loop, *s.server, *s.publisher, *s.runner, config);
  TaskService* service = s.service.get();
  if (auto st =
          s.reaper->start([service](pid_t pid, int status) { service->on_exit(pid, status); });
      !st) {
    report("reaper: " + st.error().to_string());
    return 1;
  }
  s.service->register_methods();
  if (auto st = s.server->serve(std::move(listener)); !st) {
    report("serve: " + st.error().to_string());
    return 1;
  }
  s.service->on_shutdown([&s, socket] {
    s.server->stop_listening();
    sys::unlink_quiet(socket);
    // Deliver what is queued (TaskDelete, last exits), within reason.
    s.publisher->flush(std::chrono::seconds(3), [&s] { s.loop->stop(); });
  });
  report("ok");
  UniqueFd ready_fd(ready);
  ready_fd.reset();
  auto score = sys::read_file("/proc/self/oom_score_adj", 64);
  shim_log::info("serving on " + socket + ", oom_score_adj " +
                 (score ? score->substr(0, score->find('\n')) : "?"));
  auto st = s.loop->run();
  if (!st) shim_log::error("event loop: " + st.error().to_string());
  shim_log::info("exiting");
  return st ? 0 : 1;
}

// The shim's socket: a path (never an abstract name, which any process in
// the network namespace could reach: CVE-2020-15257), owner read-write only.
Result<UniqueFd> listen_at(const std::string& path) {
  BERTH_TRY(sys::mkdir_p(path.substr(0, path.rfind('/')), 0711));
  auto sock = BERTH_VALUE(sys::listen_unix(path, 128));
  BERTH_TRY(sys::chmod(path, 0600));
  return sock;
}

}  // namespace

// The shim's oom_score_adj: containerd's + 1 (as containerd-shim-runc-v2's
// AdjustOOMScore), so that under memory pressure the kernel picks a shim
// before containerd, and containerd survives to clean up. `start` is
// containerd's child and the server inherited containerd's value, so this
// only ever raises it: allowed without CAP_SYS_RESOURCE (lowering is not).
static void adjust_oom_score(pid_t containerd) {
  auto text = sys::read_file("/proc/" + std::to_string(containerd) + "/oom_score_adj", 64);
  if (!text) return;
  int score = std::atoi(text->c_str());
  int want = score >= 1000 ? 1000 : score + 1;
  // Not fatal, and `start` may print nothing but the address: a shim that
  // keeps containerd's score is still a working shim (the server logs its
  // score).
  (void)sys::write_file("/proc/self/oom_score_adj", std::to_string(want));
}

int run_start(const ShimFlags& f) {
  if (f.ns.empty()) return fail("start: -namespace is required");
  if (!valid_identifier(f.id)) return fail("start: invalid or missing -id `" + f.id + "`");
  std::string bundle = f.bundle.empty() ? cwd() : f.bundle;
  std::string options;
  if (!sys::stdin_is_terminal()) {
    auto in = sys::read_all(BorrowedFd(STDIN_FILENO), 1 << 20, "stdin");
    if (!in) return fail("start: read options: " + in.error().to_string());
    options = std::move(*in);
  }
  // A container of a group (a pod's, or io.containerd.runc.v2.group) goes
  // to its group's shim: the socket is named after the group, and a `start`
  // that finds it served hands that address back.
  std::string group;
  if (auto spec = read_bundle_spec(bundle)) group = shim_group(*spec);
  std::string path = socket_path(socket_dir(), f.address, f.ns, group.empty() ? f.id : group);
  if (path.size() > kSocketPathLimit) return fail("start: socket path `" + path + "` is too long");
  const std::string address = "unix://" + path;

  auto listener = listen_at(path);
  if (!listener && listener.error().code() == EADDRINUSE) {
    // A shim already serves this group (or this id: containerd retried):
    // hand its address back.
    if (sys::connect_unix(path)) {
      if (auto st = sys::write_file_atomic(bundle + "/" + kAddressFile, address, 0600); !st)
        return fail("start: " + st.error().to_string());
      std::fputs(address.c_str(), stdout);
      return 0;
    }
    sys::unlink_quiet(path);  // stale: its server is gone
    listener = listen_at(path);
  }
  if (!listener) return fail("start: " + listener.error().to_string());

  auto ready = sys::pipe();
  if (!ready) return fail("start: " + ready.error().to_string());
  std::fflush(nullptr);
  const pid_t containerd = getppid();
  auto pid = sys::fork_process();
  if (!pid) return fail("start: " + pid.error().to_string());
  if (*pid == 0) {
    ready->read.reset();
    Status st = sys::detach_from_caller();
    if (st) st = sys::set_child_subreaper();
    if (!st) {
      (void)sys::write_all(ready->write, st.error().to_string(), "ready pipe");
      sys::exit_immediately(1);
    }
    adjust_oom_score(containerd);
    open_log(bundle, f);
    int fd = ready->write.release();
    sys::exit_immediately(serve(f, std::move(*listener), path, std::move(options), fd));
  }
  listener->reset();
  ready->write.reset();
  auto said = sys::read_all(ready->read, 64 * 1024, "ready pipe");
  if (!said || *said != "ok") {
    sys::unlink_quiet(path);
    std::string why = said && !said->empty() ? *said : "the server exited before it was ready";
    return fail("start: " + why);
  }
  if (auto st = sys::write_file_atomic(bundle + "/" + kAddressFile, address, 0600); !st)
    return fail("start: " + st.error().to_string());
  std::fputs(address.c_str(), stdout);
  return 0;
}

int run_delete(const ShimFlags& f) {
  if (f.id.empty()) return fail("delete: -id is required");
  std::string bundle = f.bundle.empty() ? cwd() : f.bundle;
  // What the server recorded, else the defaults Create would have used.
  auto record = read_runtime_record(bundle);
  RuntimeRecord rt;
  if (record) {
    rt = *record;
  } else {
    auto binary = resolve_runtime_binary(kDefaultRuntime);
    if (binary) rt.binary = *binary;
    rt.root = std::string(kDefaultRoot) + "/" + f.ns;
  }
  // runc, crun and berth all keep a container's state in <root>/<id>: when
  // that is gone (the server's Delete ran), a forced delete would only add
  // "does not exist" to containerd's log.
  bool state_left = !record || sys::exists(rt.root + "/" + f.id);
  if (!rt.binary.empty() && state_left) {
    std::vector<std::string> argv = {
        rt.binary, "--root", rt.root, "--log", bundle + "/log.json", "--log-format", "json"};
    if (rt.systemd_cgroup) argv.push_back("--systemd-cgroup");
    argv.insert(argv.end(), {"delete", "--force", f.id});
    CommandSpec spec;
    spec.argv = argv;
    // stdout carries the DeleteResponse only; the runtime's chatter goes to
    // stderr, which containerd logs as cleanup warnings.
    spec.stdio[1] = STDERR_FILENO;
    spec.stdio[2] = STDERR_FILENO;
    auto r = run_command_sync(spec);
    if (!r) std::fprintf(stderr, "delete: %s\n", r.error().to_string().c_str());
  }
  if (auto st = unmount_all(bundle + "/rootfs"); !st)
    std::fprintf(stderr, "delete: %s\n", st.error().to_string().c_str());

  containerd::task::v2::DeleteResponse resp;
  auto pid = read_pid_file(bundle + "/" + kInitPidFile);
  if (pid) resp.set_pid(static_cast<uint32_t>(*pid));
  // The recorded exit when the server saw one; else the init was killed by
  // the forced delete: 128 + SIGKILL, now.
  auto exit = read_exit_record(bundle);
  sys::WallTime when = exit ? exit->exited_at : sys::wall_now();
  resp.set_exit_status(exit ? exit->exit_status : 128 + SIGKILL);
  resp.mutable_exited_at()->set_seconds(when.seconds);
  resp.mutable_exited_at()->set_nanos(when.nanos);
  std::string bytes = resp.SerializeAsString();
  if (!sys::write_all(BorrowedFd(STDOUT_FILENO), bytes, "stdout")) return 1;
  return 0;
}

int run_serve(const ShimFlags& f) {
  if (f.socket.empty() || f.socket[0] != '/')
    return fail("serve: -socket must be an absolute path");
  if (f.ns.empty()) return fail("serve: -namespace is required");
  sys::unlink_quiet(f.socket);
  auto listener = listen_at(f.socket);
  if (!listener) return fail("serve: " + listener.error().to_string());
  if (auto st = sys::set_child_subreaper(); !st) return fail("serve: " + st.error().to_string());
  shim_log::init(-1, f.debug, "namespace=" + f.ns + " pid=" + std::to_string(getpid()));
  return serve(f, std::move(*listener), f.socket, "", -1);
}

}  // namespace berth::shim
