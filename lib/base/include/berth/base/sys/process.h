#pragma once
// Processes: creating, signalling and reaping them.

#include <signal.h>
#include <sys/utsname.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

// Defined by <linux/capability.h> or libcap's <sys/capability.h>, whichever
// the caller includes; only pointers cross this header.
struct __user_cap_header_struct;
struct __user_cap_data_struct;

namespace berth::sys {

// raw clone(2) with flags (SIGCHLD added): returns 0 in the child. The child
// runs on a copy of the parent's stack like fork(); no stack argument.
Result<pid_t> clone_process(uint64_t flags);
// clone_process with CLONE_PIDFD (Linux 5.2): the pidfd comes with the fork,
// so no pid reuse can slip in between, and it costs no extra syscall. The
// pidfd is close-on-exec and only in the parent; the child gets pid 0 and
// no descriptor.
struct Cloned {
  pid_t pid = 0;
  UniqueFd pidfd;
};
Result<Cloned> clone_with_pidfd(uint64_t flags);
// fork(2) for the shim's daemonizing `start` (single-threaded: safe).
Result<pid_t> fork_process();
Result<UniqueFd> pidfd_open(pid_t pid);
Status pidfd_send_signal(BorrowedFd pidfd, int sig);
// kill(2): Error code ESRCH when the process is gone.
Status send_signal(pid_t pid, int sig);
// waitpid retrying EINTR; returns the raw wait status.
Result<int> wait_pid(pid_t pid, int options = 0);
// Reaps one exited child without blocking: pid 0 when none is ready, -1 with
// Error ECHILD when there are no children at all.
struct Reaped {
  pid_t pid = 0;
  int status = 0;
};
Result<Reaped> reap_one();
// exit code as a shell reports it: status, or 128 + signal.
int exit_code_of(int wait_status);
// Start time of a process in clock ticks since boot (/proc/pid/stat field
// 22): with the pid it names one process, whatever the pid is reused for.
Result<uint64_t> process_start_time(pid_t pid);
// Process state letter from /proc/pid/stat ('R', 'S', 'Z', ...), 0 if gone.
char process_state(pid_t pid);

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the path to execute
  // Descriptors for the child's 0, 1, 2 (-1: /dev/null).
  int stdio[3] = {-1, -1, -1};
  // Extra descriptors: extra_fds[i] becomes the child's fd 3 + i.
  std::vector<int> extra_fds;
  std::string cwd;  // empty: inherit
  // The child's whole environment ("K=V" entries) when set; else the caller's.
  bool replace_env = false;
  std::vector<std::string> env;
};
// posix_spawn with an empty signal mask and default dispositions (the shim
// blocks SIGCHLD for its signalfd and ignores SIGPIPE; neither may leak into
// the runtime or a logging binary).
Result<pid_t> spawn(const SpawnOptions& options);

Status set_child_subreaper();
// The detached server: a new session, stdio on /dev/null (containerd reads
// `start`'s stdout and stderr until EOF, so the server must not hold them).
Status detach_from_caller();

// --- thin wrappers: the libc call's own result and errno ---------------------
// For code that must not allocate (between clone and exec, in a forked hook
// child) or that handles errno itself. No EINTR retry unless noted, so each
// behaves exactly like the call it wraps.
inline int kill(pid_t pid, int sig) { return ::kill(pid, sig); }
template <class... Args>
inline int prctl(int option, Args... args) {
  return ::prctl(option, args...);
}
[[noreturn]] inline void exit_immediately(int code) { ::_exit(code); }
inline pid_t fork() { return ::fork(); }
inline pid_t waitpid(pid_t pid, int* status, int options) {
  return ::waitpid(pid, status, options);
}
inline int execve(const char* path, char* const argv[], char* const envp[]) {
  return ::execve(path, argv, envp);
}
inline int execvp(const char* file, char* const argv[]) { return ::execvp(file, argv); }
// execveat(2) of an fd with AT_EMPTY_PATH (glibc 2.36 has no wrapper).
int execve_fd(int fd, char* const argv[], char* const envp[]);
inline pid_t setsid() { return ::setsid(); }
inline pid_t getpid() { return ::getpid(); }
inline int uname(struct utsname* u) { return ::uname(u); }
inline uid_t getuid() { return ::getuid(); }
inline uid_t geteuid() { return ::geteuid(); }
inline gid_t getgid() { return ::getgid(); }
inline int setresuid(uid_t r, uid_t e, uid_t s) { return ::setresuid(r, e, s); }
inline int setresgid(gid_t r, gid_t e, gid_t s) { return ::setresgid(r, e, s); }
int setgroups(size_t count, const gid_t* gids);
inline mode_t umask(mode_t mask) { return ::umask(mask); }
int personality(unsigned long persona);
int capget(struct __user_cap_header_struct* header, struct __user_cap_data_struct* data);
int capset(struct __user_cap_header_struct* header, const struct __user_cap_data_struct* data);
inline int getrlimit(int resource, struct rlimit* limit) {
  return ::getrlimit(static_cast<__rlimit_resource_t>(resource), limit);
}
inline int prlimit(pid_t pid, int resource, const struct rlimit* limit, struct rlimit* old) {
  return ::prlimit(pid, static_cast<__rlimit_resource>(resource), limit, old);
}
// sched_setattr(2), ioprio_set(2), keyctl(KEYCTL_JOIN_SESSION_KEYRING) and
// seccomp(SECCOMP_SET_MODE_FILTER): no glibc 2.36 wrappers.
int sched_setattr_self(void* attr);
int ioprio_set_self(int value);
long join_session_keyring(const char* name);
int seccomp_set_mode_filter(unsigned int flags, const void* prog);
long bpf(int cmd, void* attr, unsigned int size);

inline int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  return ::sigprocmask(how, set, old);
}
inline int sigpending(sigset_t* set) { return ::sigpending(set); }
inline int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* timeout) {
  return ::sigtimedwait(set, info, timeout);
}
inline sighandler_t signal(int sig, sighandler_t handler) { return ::signal(sig, handler); }

}  // namespace berth::sys
