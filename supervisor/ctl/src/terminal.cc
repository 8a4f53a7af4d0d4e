#include "terminal.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

#include "berth/base/scope_guard.h"
#include "berth/base/sys/io.h"

namespace berth::ctl {

bool is_terminal(int fd) {
  // isatty(3) is this ioctl; through sys so raw calls stay in one module.
  struct termios t {};
  return sys::ioctl(fd, TCGETS, &t) == 0;
}

int terminal_width(int fd) {
  struct winsize ws {};
  if (sys::ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

std::optional<std::string> read_line() {
  std::string line;
  char c;
  bool any = false;
  // Byte by byte: stdin may carry more after the line (a password piped
  // before the data of a later read), so nothing beyond it is consumed.
  for (;;) {
    auto r = sys::read_some(BorrowedFd(STDIN_FILENO), &c, 1);
    if (r.n <= 0) break;
    any = true;
    if (c == '\n') return line;
    line += c;
  }
  if (!any) return std::nullopt;
  return line;
}

Result<std::string> read_password(std::string_view prompt) {
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  std::fflush(stdout);
  struct termios old {};
  if (sys::ioctl(STDIN_FILENO, TCGETS, &old) != 0) return sys_error("read password", "stdin");
  struct termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  if (sys::ioctl(STDIN_FILENO, TCSETS, &quiet) != 0) return sys_error("turn off echo", "stdin");
  ScopeGuard restore([&] { (void)sys::ioctl(STDIN_FILENO, TCSETS, &old); });
  auto line = read_line();
  std::fputs("\n", stdout);
  if (!line) return make_error("read password `stdin`: end of file");
  return *line;
}

Status write_out(int fd, std::string_view data) {
  return sys::write_all(BorrowedFd(fd), data, fd == STDOUT_FILENO ? "stdout" : "output");
}

}  // namespace berth::ctl
