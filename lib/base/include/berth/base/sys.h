#pragma once
// The one module that makes raw syscalls. Every wrapper retries EINTR where
// that is safe, creates descriptors with CLOEXEC, and returns Result with an
// Error that names the operation and path. Constants that glibc 2.36 lacks are
// defined in sys.cc.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

constexpr int kAtFdcwd = -100;  // AT_FDCWD without <fcntl.h> in every includer

// --- files ---------------------------------------------------------------
Result<UniqueFd> open(std::string_view path, int flags, mode_t mode = 0);
Result<UniqueFd> open_at(BorrowedFd dir, std::string_view path, int flags, mode_t mode = 0);
// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved
// as if `root` were "/", so no symlink or ".." can leave it (CVE-2021-30465).
Result<UniqueFd> open_in_root(BorrowedFd root, std::string_view path, int flags, mode_t mode = 0);
Result<std::string> read_all(BorrowedFd fd, size_t limit, std::string_view what);
Result<std::string> read_file(std::string_view path, size_t limit = 16 << 20);
Status write_all(BorrowedFd fd, std::string_view data, std::string_view what);
Status write_file(std::string_view path, std::string_view data);
// Writes to a temp file in the same directory and renames it over `path`:
// a reader sees the old or the new content, never half of it. `durable`
// adds an fsync before the rename, for data that must survive power loss
// (not for /run state, which does not outlive a boot: the fsync costs
// ~15 ms a container on this host's ext4).
Status write_file_atomic(std::string_view path, std::string_view data, mode_t mode = 0600,
                         bool durable = false);
Result<struct stat> fstat(BorrowedFd fd, std::string_view what);
Result<struct stat> stat(std::string_view path);
bool exists(std::string_view path);
Status mkdir(std::string_view path, mode_t mode);
Status mkdir_p(std::string_view path, mode_t mode);
Status unlink(std::string_view path);
Status rmdir(std::string_view path);
Status remove_all(std::string_view path);  // rm -rf without following symlinks
Result<std::vector<std::string>> list_dir(std::string_view path);
// "/proc/self/fd/N": the path through which a mount or chmod reaches exactly
// the inode behind fd, without resolving a path again.
std::string fd_path(BorrowedFd fd);
Result<std::string> readlink(std::string_view path);

// --- processes -----------------------------------------------------------
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
Result<UniqueFd> pidfd_open(pid_t pid);
Status pidfd_send_signal(BorrowedFd pidfd, int sig);
// waitpid retrying EINTR; returns the raw wait status.
Result<int> wait_pid(pid_t pid, int options = 0);
// exit code as a shell reports it: status, or 128 + signal.
int exit_code_of(int wait_status);
// Start time of a process in clock ticks since boot (/proc/pid/stat field
// 22): with the pid it names one process, whatever the pid is reused for.
Result<uint64_t> process_start_time(pid_t pid);
// Process state letter from /proc/pid/stat ('R', 'S', 'Z', ...), 0 if gone.
char process_state(pid_t pid);

// --- namespaces, mounts ------------------------------------------------------
Status setns(BorrowedFd fd, int nstype, std::string_view what);
Status unshare(int flags);
Status mount(std::string_view source, std::string_view target, std::string_view fstype,
             unsigned long flags, std::string_view data = {});
Status umount(std::string_view target, int flags);
Status pivot_root(std::string_view new_root, std::string_view put_old);

// --- sockets -----------------------------------------------------------------
struct SocketPair {
  UniqueFd first;
  UniqueFd second;
};
Result<SocketPair> socket_pair(int type);  // AF_UNIX, CLOEXEC
// One message with optional SCM_RIGHTS descriptors.
Status send_message(BorrowedFd sock, std::string_view data, std::span<const int> fds = {});
struct Message {
  std::string data;
  std::vector<UniqueFd> fds;
};
Result<Message> recv_message(BorrowedFd sock, size_t max_size = 64 << 10);
Result<UniqueFd> connect_unix(std::string_view path);
// A listening AF_UNIX stream socket bound at path (mode 0600 from umask 077).
Result<UniqueFd> listen_unix(std::string_view path, int backlog);
Result<UniqueFd> accept(BorrowedFd listener);

// Marks every descriptor >= first as CLOEXEC (close_range(2), Linux 5.11):
// the last thing before exec, so no host descriptor reaches the container.
Status cloexec_from(int first);

}  // namespace berth::sys
