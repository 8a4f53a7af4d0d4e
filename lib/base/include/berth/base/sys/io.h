#pragma once
// Reads and writes on descriptors. The hot-path calls return IoResult rather
// than Result so that the usual EAGAIN of a non-blocking descriptor costs no
// allocation; they are inline because the event loop and the copiers call
// them for every chunk.

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/sys/retry.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

// n >= 0: bytes transferred (0 on read = end of file); n < 0: err holds errno.
struct IoResult {
  ssize_t n = 0;
  int err = 0;
  bool would_block() const { return n < 0 && (err == EAGAIN || err == EWOULDBLOCK); }
};

inline IoResult read_some(BorrowedFd fd, void* buf, size_t len) {
  ssize_t n = retry_eintr([&] { return ::read(fd.get(), buf, len); });
  return n < 0 ? IoResult{-1, errno} : IoResult{n, 0};
}

inline IoResult write_some(BorrowedFd fd, const void* buf, size_t len) {
  ssize_t n = retry_eintr([&] { return ::write(fd.get(), buf, len); });
  return n < 0 ? IoResult{-1, errno} : IoResult{n, 0};
}

Result<std::string> read_all(BorrowedFd fd, size_t limit, std::string_view what);
Status write_all(BorrowedFd fd, std::string_view data, std::string_view what);

Status set_nonblocking(BorrowedFd fd, bool on);

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
Result<Pipe> pipe(int extra_flags = 0);  // O_CLOEXEC always

Result<UniqueFd> dup_cloexec(BorrowedFd fd, std::string_view what);
Status set_window_size(BorrowedFd tty, uint32_t width, uint32_t height);
bool stdin_is_terminal();

// Marks every descriptor >= first as CLOEXEC (close_range(2), Linux 5.11):
// the last thing before exec, so no host descriptor reaches the container.
Status cloexec_from(int first);
// Closes every descriptor >= first except those in `keep`: an inherited
// descriptor that is closed cannot be reached through /proc/self/fd at all.
Status close_from(int first, std::span<const int> keep);

// --- thin wrappers: the libc call's own result and errno ---------------------
// For code that must not allocate (between clone and exec) or that handles
// errno itself. No EINTR retry: callers that loop on EINTR keep doing so.
inline ssize_t read(int fd, void* buf, size_t len) { return ::read(fd, buf, len); }
inline ssize_t write(int fd, const void* buf, size_t len) { return ::write(fd, buf, len); }
inline ssize_t pread(int fd, void* buf, size_t len, off_t offset) {
  return ::pread(fd, buf, len, offset);
}
inline off_t lseek(int fd, off_t offset, int whence) { return ::lseek(fd, offset, whence); }
inline ssize_t sendfile(int out, int in, off_t* offset, size_t len) {
  return ::sendfile(out, in, offset, len);
}
// copy_file_range(2) from the current offsets (reflinks or in-kernel copies).
inline ssize_t copy_file_range(int in, int out, size_t len) {
  return retry_eintr([&] { return ::copy_file_range(in, nullptr, out, nullptr, len, 0); });
}
// close(2) of a descriptor no UniqueFd owns (a raw int inherited across a
// fork). Never retried: on Linux the descriptor is gone even on EINTR.
inline int close_fd(int fd) { return ::close(fd); }
inline int pipe2(int fds[2], int flags) { return ::pipe2(fds, flags | O_CLOEXEC); }
inline int dup2(int from, int to) { return ::dup2(from, to); }
template <class... Args>
inline int fcntl(int fd, int cmd, Args... args) {
  return ::fcntl(fd, cmd, args...);
}
template <class... Args>
inline int ioctl(int fd, unsigned long request, Args... args) {
  return ::ioctl(fd, request, args...);
}
inline int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  return ::poll(fds, count, timeout_ms);
}

}  // namespace berth::sys
