// Console: a pty pair for process.terminal, and handing its master to the
// caller's --console-socket.

#include "berth/linux/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "berth/base/sys.h"

namespace berth::os {

namespace {

// "/dev/pts/N" next to the ptmx that made it: ".../pts/ptmx" lives in the
// devpts itself, ".../ptmx" (a node or a symlink to pts/ptmx) beside it.
std::string slave_path_for(std::string_view ptmx_path, unsigned number) {
  size_t slash = ptmx_path.rfind('/');
  std::string dir = slash == std::string_view::npos ? "." : std::string(ptmx_path.substr(0, slash));
  if (dir.empty()) dir = "/";
  bool in_devpts = dir.size() >= 4 && dir.compare(dir.size() - 4, 4, "/pts") == 0;
  if (!in_devpts) dir += dir.back() == '/' ? "pts" : "/pts";
  return dir + "/" + std::to_string(number);
}

}  // namespace

Result<Pty> open_pty(std::string_view ptmx_path, const std::optional<spec::ConsoleSize>& size) {
  Pty pty;
  pty.master = BERTH_VALUE(sys::open(ptmx_path, O_RDWR | O_NOCTTY));
  int unlock = 0;
  if (sys::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0)
    return sys_error("unlockpt", ptmx_path);
  unsigned number = 0;
  if (sys::ioctl(pty.master.get(), TIOCGPTN, &number) != 0)
    return sys_error("ioctl TIOCGPTN", ptmx_path);
  pty.slave_path = slave_path_for(ptmx_path, number);

  // The peer ioctl opens exactly this master's slave, with no path lookup
  // that a container's /dev/pts could redirect, and works where that path
  // is not reachable from here at all.
  int slave = sys::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave >= 0) {
    pty.slave.reset(slave);
  } else if (errno == EINVAL || errno == ENOTTY) {  // kernel before 4.13
    pty.slave = BERTH_VALUE(sys::open(pty.slave_path, O_RDWR | O_NOCTTY));
  } else {
    return sys_error("ioctl TIOCGPTPEER", ptmx_path);
  }

  if (size) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (sys::ioctl(pty.master.get(), TIOCSWINSZ, &ws) != 0)
      return sys_error("set the window size of", pty.slave_path);
  }
  return pty;
}

Status make_controlling_terminal(BorrowedFd slave) {
  // A new session has no controlling terminal, so TIOCSCTTY can take this
  // one without stealing it from anybody (no force argument).
  if (sys::setsid() < 0) return sys_error("setsid");
  if (sys::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return sys_error("ioctl TIOCSCTTY");
  for (int fd = 0; fd <= 2; ++fd) {
    if (slave.get() == fd) {
      // dup2 onto itself keeps FD_CLOEXEC: clear it, or exec closes stdio.
      if (sys::fcntl(fd, F_SETFD, 0) != 0) return sys_error("fcntl F_SETFD on the console");
      continue;
    }
    if (sys::dup2(slave.get(), fd) < 0) {
      int err = errno;
      return sys_error(err, "dup2 the console onto fd " + std::to_string(fd));
    }
  }
  return {};
}

Status send_console(std::string_view socket_path, BorrowedFd master, std::string_view name) {
  auto sock = BERTH_VALUE(sys::connect_unix(socket_path));
  const int fds[] = {master.get()};
  BERTH_TRY_CTX(sys::send_message(sock, name, fds),
                "send the console to `" + std::string(socket_path) + "`");
  return {};
}

}  // namespace berth::os
