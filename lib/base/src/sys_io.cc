#include "berth/base/sys.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace berth::sys {

Result<std::string> read_all(BorrowedFd fd, size_t limit, std::string_view what) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
    if (n < 0) return sys_error("read", what);
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > limit)
      return make_error(
          "read `" + std::string(what) + "`: larger than " + std::to_string(limit) + " bytes",
          EFBIG);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_all(BorrowedFd fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = retry_eintr([&] { return ::write(fd.get(), data.data(), data.size()); });
    if (n < 0) return sys_error("write", what);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
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

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

Status cloexec_from(int first) {
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return {};
  // Fallback for kernels before 5.11: walk /proc/self/fd.
  auto names = list_dir("/proc/self/fd");
  if (!names) return std::move(names).error().wrap("mark descriptors close-on-exec");
  for (const auto& name : *names) {
    int fd = std::atoi(name.c_str());
    if (fd >= first) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return {};
}

Status close_from(int first, std::span<const int> keep) {
  std::vector<int> kept;
  for (int fd : keep)
    if (fd >= first) kept.push_back(fd);
  std::sort(kept.begin(), kept.end());
  unsigned lo = static_cast<unsigned>(first);
  bool ok = true;
  for (int fd : kept) {
    if (static_cast<unsigned>(fd) > lo && ::syscall(SYS_close_range, lo, fd - 1, 0) != 0)
      ok = false;
    lo = static_cast<unsigned>(fd) + 1;
  }
  if (ok && ::syscall(SYS_close_range, lo, ~0U, 0) == 0) return {};
  // Fallback for kernels before 5.9: walk /proc/self/fd.
  auto names = list_dir("/proc/self/fd");
  if (!names) return std::move(names).error().wrap("close inherited descriptors");
  for (const auto& name : *names) {
    int fd = std::atoi(name.c_str());
    if (fd >= first && !std::binary_search(kept.begin(), kept.end(), fd)) ::close(fd);
  }
  return {};
}

}  // namespace berth::sys
