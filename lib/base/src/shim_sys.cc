#include "berth/base/shim_sys.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace berth::shim_sys {

namespace {
template <class F>
auto retry_eintr(F fn) {
  decltype(fn()) rc;
  do {
    rc = fn();
  } while (rc == -1 && errno == EINTR);
  return rc;
}
}  // namespace

IoResult read_some(BorrowedFd fd, void* buf, size_t len) {
  ssize_t n = retry_eintr([&] { return ::read(fd.get(), buf, len); });
  return n < 0 ? IoResult{-1, errno} : IoResult{n, 0};
}

IoResult write_some(BorrowedFd fd, const void* buf, size_t len) {
  ssize_t n = retry_eintr([&] { return ::write(fd.get(), buf, len); });
  return n < 0 ? IoResult{-1, errno} : IoResult{n, 0};
}

Status set_nonblocking(BorrowedFd fd, bool on) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0) return sys_error("fcntl F_GETFL", "fd " + std::to_string(fd.get()));
  int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (want != flags && ::fcntl(fd.get(), F_SETFL, want) < 0)
    return sys_error("fcntl F_SETFL", "fd " + std::to_string(fd.get()));
  return {};
}

Result<Pipe> pipe(int extra_flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | extra_flags) != 0) return sys_error("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> epoll_create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return sys_error("epoll_create1");
  return UniqueFd(fd);
}

Status epoll_ctl(BorrowedFd ep, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.u64 = data;
  if (::epoll_ctl(ep.get(), op, fd, &ev) != 0)
    return sys_error("epoll_ctl", "fd " + std::to_string(fd));
  return {};
}

Result<int> epoll_wait(BorrowedFd ep, std::span<struct epoll_event> out, int timeout_ms) {
  int n = ::epoll_wait(ep.get(), out.data(), static_cast<int>(out.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return sys_error("epoll_wait");
  }
  return n;
}

Result<UniqueFd> signalfd_for(std::span<const int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return sys_error("sigprocmask");
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return sys_error("signalfd");
  return UniqueFd(fd);
}

Result<UniqueFd> timerfd_create() {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return sys_error("timerfd_create");
  return UniqueFd(fd);
}

Status timerfd_arm(BorrowedFd fd, uint64_t deadline_ns) {
  struct itimerspec spec {};
  spec.it_value.tv_sec = static_cast<time_t>(deadline_ns / 1000000000ULL);
  spec.it_value.tv_nsec = static_cast<long>(deadline_ns % 1000000000ULL);
  if (::timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
    return sys_error("timerfd_settime");
  return {};
}

uint64_t monotonic_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

WallTime wall_now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return WallTime{static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
}

Result<UniqueFd> accept_nonblocking(BorrowedFd listener) {
  int fd = retry_eintr(
      [&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
  if (fd < 0) return sys_error("accept", "fd " + std::to_string(listener.get()));
  return UniqueFd(fd);
}

Result<PeerCred> peer_credentials(BorrowedFd sock) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return sys_error("getsockopt SO_PEERCRED", "fd " + std::to_string(sock.get()));
  return PeerCred{cred.pid, cred.uid, cred.gid};
}

Result<UniqueFd> connect_unix_nonblocking(std::string_view path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  // A leading NUL would name an abstract socket, which any process in the
  // network namespace can reach (CVE-2020-15257): only paths are accepted.
  if (path.empty() || path[0] != '/')
    return make_error("connect `" + std::string(path) + "`: not an absolute socket path");
  if (path.size() >= sizeof addr.sun_path)
    return make_error("connect `" + std::string(path) + "`: socket path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket", path);
  UniqueFd sock(fd);
  if (retry_eintr([&] {
        return ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
      }) != 0)
    return sys_error("connect", path);
  return sock;
}

Status shutdown_write(BorrowedFd sock) {
  if (::shutdown(sock.get(), SHUT_WR) != 0) return sys_error("shutdown", "fd " + std::to_string(sock.get()));
  return {};
}

Result<Reaped> reap_one() {
  int status = 0;
  pid_t pid = retry_eintr([&] { return ::waitpid(-1, &status, WNOHANG); });
  if (pid < 0) return sys_error("waitpid");
  return Reaped{pid, status};
}

Result<pid_t> spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return make_error("spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);

  // Two phases so that no source is overwritten before it is copied: first
  // every source to a number above all sources and targets, then to its
  // target (dup2 also clears CLOEXEC there), then close the staging copies.
  std::vector<int> sources(options.stdio, options.stdio + 3);
  sources.insert(sources.end(), options.extra_fds.begin(), options.extra_fds.end());
  int high = static_cast<int>(sources.size()) + 3;
  for (int s : sources) high = std::max(high, s + 1);
  for (size_t i = 0; i < sources.size(); ++i)
    if (sources[i] >= 0) posix_spawn_file_actions_adddup2(&actions, sources[i], high + static_cast<int>(i));
  for (size_t i = 0; i < sources.size(); ++i) {
    int target = static_cast<int>(i);
    if (sources[i] >= 0) {
      posix_spawn_file_actions_adddup2(&actions, high + target, target);
      posix_spawn_file_actions_addclose(&actions, high + target);
    } else if (i < 3) {
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0);
    }
  }
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  // Handlers reset on exec anyway; ignored dispositions would survive it.
  sigset_t empty, reset;
  sigemptyset(&empty);
  sigemptyset(&reset);
  for (int s : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGTTOU, SIGTTIN}) sigaddset(&reset, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), options.replace_env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error(rc, "spawn", options.argv[0]);
  return pid;
}

Status set_child_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_CHILD_SUBREAPER");
  return {};
}

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Status send_signal(pid_t pid, int sig) {
  if (::kill(pid, sig) != 0) return sys_error("kill", "pid " + std::to_string(pid));
  return {};
}

Result<pid_t> fork_process() {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  return pid;
}

Status detach_from_caller() {
  if (::setsid() < 0) return sys_error("setsid");
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return sys_error("open", "/dev/null");
  for (int fd = 0; fd <= 2; ++fd)
    if (::dup2(null, fd) < 0) return sys_error("dup2", "/dev/null");  // clears CLOEXEC on 0-2
  if (null > 2) ::close(null);
  return {};
}

Result<UniqueFd> dup_cloexec(BorrowedFd fd, std::string_view what) {
  int d = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (d < 0) return sys_error("dup", what);
  return UniqueFd(d);
}

Status set_window_size(BorrowedFd tty, uint32_t width, uint32_t height) {
  struct winsize ws {};
  ws.ws_col = static_cast<unsigned short>(width);
  ws.ws_row = static_cast<unsigned short>(height);
  if (::ioctl(tty.get(), TIOCSWINSZ, &ws) != 0) return sys_error("ioctl TIOCSWINSZ", "pty master");
  return {};
}

Result<std::string> make_temp_dir(std::string_view prefix) {
  std::string tmpl = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return sys_error("mkdtemp", tmpl);
  return tmpl;
}

void unlink_quiet(const std::string& path) { (void)::unlink(path.c_str()); }

Status chmod(const std::string& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) return sys_error("chmod", path);
  return {};
}
void rmdir_quiet(const std::string& path) { (void)::rmdir(path.c_str()); }

std::string current_dir() {
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

}  // namespace berth::shim_sys
