#include "console_relay.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"

namespace berth::container {

namespace {

void copy_window_size(int from, int to) {
  struct winsize ws {};
  if (sys::ioctl(from, TIOCGWINSZ, &ws) == 0) sys::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable now; false at EOF or error (EIO: no slave left).
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = sys::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  for (ssize_t off = 0; off < n;) {
    ssize_t w = sys::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

}  // namespace

Result<int> relay_console(BorrowedFd master, BorrowedFd signals, pid_t init) {
  // Raw mode on our terminal: keys go to the container's line discipline,
  // not ours (^C becomes the container's SIGINT).
  struct termios saved {};
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    copy_window_size(0, master.get());
  }
  ScopeGuard restore([&] {
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
  });

  bool stdin_open = true, master_open = true;
  std::optional<int> status;
  while (master_open || !status) {
    struct pollfd fds[3] = {{signals.get(), POLLIN, 0},
                            {master_open ? master.get() : -1, POLLIN, 0},
                            {stdin_open ? 0 : -1, POLLIN, 0}};
    // Once the init is gone, only drain what the pty still holds.
    int rc = sys::poll(fds, 3, status ? 100 : -1);
    if (rc < 0 && errno != EINTR) return sys_error("poll");
    if (rc == 0 && status) break;
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master.get(), 1);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(0, master.get());
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info {};
      if (sys::read(signals.get(), &info, sizeof info) != sizeof info) continue;
      if (info.ssi_signo == SIGWINCH) {
        copy_window_size(0, master.get());
      } else if (info.ssi_signo == SIGCHLD) {
        for (;;) {
          int ws = 0;
          pid_t pid = sys::waitpid(-1, &ws, WNOHANG);
          if (pid <= 0) break;
          if (pid == init) status = ws;
        }
      } else {
        sys::kill(init, static_cast<int>(info.ssi_signo));
      }
    }
  }
  return *status;
}

}  // namespace berth::container
