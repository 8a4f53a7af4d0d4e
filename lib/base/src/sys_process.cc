#include "berth/base/sys.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace berth::sys {

namespace {
std::string fd_name(BorrowedFd fd) { return "fd " + std::to_string(fd.get()); }
}  // namespace

Result<pid_t> clone_process(uint64_t flags) {
  // With a null stack, clone(2) behaves like fork(): the child continues on a
  // copy-on-write copy of the caller's stack.
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return sys_error("clone");
  return static_cast<pid_t>(pid);
}

Result<UniqueFd> pidfd_open(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return sys_error("pidfd_open", "pid " + std::to_string(pid));
  return UniqueFd(static_cast<int>(fd));
}

Status pidfd_send_signal(BorrowedFd pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0)
    return sys_error("pidfd_send_signal", fd_name(pidfd));
  return {};
}

Result<int> wait_pid(pid_t pid, int options) {
  int status = 0;
  pid_t rc = retry_eintr([&] { return ::waitpid(pid, &status, options); });
  if (rc < 0) return sys_error("waitpid", "pid " + std::to_string(pid));
  if (rc == 0) return make_error("waitpid: still running", EAGAIN);
  return status;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

namespace {
// Fields of /proc/pid/stat after the ")" that ends the command name, which
// may itself hold spaces and parentheses.
Result<std::string> stat_tail(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::move(text).error();
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 > text->size())
    return make_error("parse /proc/" + std::to_string(pid) + "/stat");
  return text->substr(close + 2);
}
}  // namespace

Result<uint64_t> process_start_time(pid_t pid) {
  auto tail = BERTH_VALUE(stat_tail(pid));
  // tail starts at field 3 (state); starttime is field 22.
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = tail.find(' ', pos);
    if (pos == std::string::npos) return make_error("parse /proc/" + std::to_string(pid) + "/stat");
    ++pos;
  }
  return std::strtoull(tail.c_str() + pos, nullptr, 10);
}

char process_state(pid_t pid) {
  auto tail = stat_tail(pid);
  if (!tail || tail->empty()) return 0;
  return (*tail)[0];
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
    if (sources[i] >= 0)
      posix_spawn_file_actions_adddup2(&actions, sources[i], high + static_cast<int>(i));
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
  int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(),
                         options.replace_env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error(rc, "spawn", options.argv[0]);
  return pid;
}

Status set_child_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    return sys_error("prctl PR_SET_CHILD_SUBREAPER");
  return {};
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

int execve_fd(int fd, char* const argv[], char* const envp[]) {
  return static_cast<int>(::syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH));
}

int setgroups(size_t count, const gid_t* gids) { return ::setgroups(count, gids); }

int personality(unsigned long persona) { return ::personality(persona); }

int capget(struct __user_cap_header_struct* header, struct __user_cap_data_struct* data) {
  return static_cast<int>(::syscall(SYS_capget, header, data));
}

int capset(struct __user_cap_header_struct* header, const struct __user_cap_data_struct* data) {
  return static_cast<int>(::syscall(SYS_capset, header, data));
}

int sched_setattr_self(void* attr) {
  return static_cast<int>(::syscall(SYS_sched_setattr, 0, attr, 0));
}

int ioprio_set_self(int value) {
  constexpr int kIoprioWhoProcess = 1;  // IOPRIO_WHO_PROCESS
  return static_cast<int>(::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, value));
}

long join_session_keyring(const char* name) {
  return ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
}

int seccomp_set_mode_filter(unsigned int flags, const void* prog) {
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog));
}

long bpf(int cmd, void* attr, unsigned int size) { return ::syscall(SYS_bpf, cmd, attr, size); }

#ifndef CLONE_PIDFD
constexpr uint64_t kClonePidfd = 0x1000;
#else
constexpr uint64_t kClonePidfd = CLONE_PIDFD;
#endif

Result<Cloned> clone_with_pidfd(uint64_t flags) {
  int pidfd = -1;
  // x86_64 and arm64 order: flags, stack, parent_tid (where CLONE_PIDFD
  // stores the descriptor), child_tid, tls.
  long pid = ::syscall(SYS_clone, flags | kClonePidfd | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  if (pid < 0) return sys_error("clone");
  if (pid == 0) return Cloned{};
  return Cloned{static_cast<pid_t>(pid), UniqueFd(pidfd)};
}

}  // namespace berth::sys
