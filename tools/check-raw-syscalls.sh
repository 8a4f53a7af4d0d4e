#!/bin/bash
# Raw syscalls belong in berth::sys (lib/base/src/sys_*.cc and the inline
# wrappers in lib/base/include/berth/base/sys/): there EINTR is retried,
# descriptors are CLOEXEC and errors name the path. This lists every call of a
# libc syscall wrapper written as `::name(`, and every `syscall(`, in the
# production sources of lib/, runtime/, shim/ and supervisor/, and exits 1 if there is one.
# Tests are exempt: some probe the kernel directly. unique_fd.h is too: its
# destructor is the close(2) of every owned descriptor, below sys in the layering.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

names=(
  _exit accept accept4 access bind capget capset chdir chmod chown chroot clock_gettime
  clone close close_range connect dup dup2 dup3 epoll_create1 epoll_ctl epoll_wait eventfd
  execve execveat execvp faccessat fchdir fchmod fchmodat fchown fchownat fcntl flock fork
  fstat fstatat fstatfs fstatvfs fsync ftruncate getcwd getdents64 getegid geteuid getgid
  getpid getppid getrlimit getsockopt getuid inotify_add_watch inotify_init1 ioctl kill
  listen lseek lstat memfd_create mkdir mkdirat mknod mknodat mmap mount munmap nanosleep
  open openat personality pipe pipe2 pivot_root poll ppoll prctl pread prlimit pwrite read
  readlink readlinkat recv recvmsg rename renameat rmdir sched_setaffinity send sendfile
  sendmsg setdomainname setgid setgroups sethostname setns setresgid setresuid setrlimit
  setsid setsockopt setuid sigaction signal signalfd sigpending sigprocmask sigtimedwait
  socket socketpair stat statfs statvfs symlink symlinkat syscall timerfd_create
  timerfd_settime umask umount umount2 uname unlink unlinkat unshare wait4 waitid waitpid
  write
)
pattern="(^|[^A-Za-z0-9_>.])::($(IFS='|'; echo "${names[*]}"))\(|(^|[^A-Za-z0-9_:>.])syscall\("

hits=$(find lib runtime shim supervisor -type f \( -name '*.cc' -o -name '*.h' \) | sort |
  grep -v -e '/tests/' -e '^supervisor/testsuite/' -e '^lib/base/src/sys_' -e '^lib/base/include/berth/base/sys/' \
    -e '^lib/base/include/berth/base/unique_fd\.h$' |
  xargs -r grep -nE "$pattern" -- || true)
if [ -n "$hits" ]; then
  echo "$hits"
  echo "check-raw-syscalls: $(echo "$hits" | wc -l) line(s) with raw syscalls outside berth::sys" \
    "(add a wrapper in lib/base/include/berth/base/sys/ and call it)" >&2
  exit 1
fi
