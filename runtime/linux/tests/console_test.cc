#include "berth/linux/console.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "berth/base/sys.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-console-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)berth::sys::remove_all(path); }
};

berth::UniqueFd listen_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  berth::UniqueFd sock(fd);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  REQUIRE(::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(sock.get(), 1) == 0);
  return sock;
}

// Raw mode on the slave, so bytes pass through unchanged.
void make_raw(int fd) {
  struct termios t {};
  REQUIRE(::tcgetattr(fd, &t) == 0);
  ::cfmakeraw(&t);
  REQUIRE(::tcsetattr(fd, TCSANOW, &t) == 0);
}

std::string read_some(int fd, size_t want) {
  std::string out;
  char buf[256];
  while (out.size() < want) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("open_pty: a pair with the requested size") {
  auto pty = berth::os::open_pty("/dev/ptmx", berth::spec::ConsoleSize{40, 120});
  REQUIRE_MESSAGE(pty.ok(), pty.error().to_string());
  CHECK(pty->master.valid());
  CHECK(pty->slave.valid());
  CHECK(pty->slave_path.rfind("/dev/pts/", 0) == 0);
  CHECK((::fcntl(pty->master.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(pty->slave.get(), F_GETFD) & FD_CLOEXEC) != 0);

  struct winsize ws {};
  REQUIRE(::ioctl(pty->slave.get(), TIOCGWINSZ, &ws) == 0);
  CHECK(ws.ws_row == 40);
  CHECK(ws.ws_col == 120);

  // The slave is the one named by slave_path.
  struct stat by_fd {
  }, by_path{};
  REQUIRE(::fstat(pty->slave.get(), &by_fd) == 0);
  REQUIRE(::stat(pty->slave_path.c_str(), &by_path) == 0);
  CHECK(by_fd.st_rdev == by_path.st_rdev);

  make_raw(pty->slave.get());
  REQUIRE(::write(pty->master.get(), "hello", 5) == 5);
  CHECK(read_some(pty->slave.get(), 5) == "hello");
  REQUIRE(::write(pty->slave.get(), "back", 4) == 4);
  CHECK(read_some(pty->master.get(), 4) == "back");
}

TEST_CASE("open_pty: no size leaves the default; a bad ptmx path is an error") {
  auto pty = berth::os::open_pty("/dev/ptmx", std::nullopt);
  REQUIRE(pty.ok());
  auto bad = berth::os::open_pty("/nonexistent/ptmx", std::nullopt);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "open `/nonexistent/ptmx`");
}

TEST_CASE("send_console: the master arrives over SCM_RIGHTS with the pty name") {
  TempDir tmp;
  const std::string socket_path = tmp.path + "/console.sock";
  auto listener = listen_unix(socket_path);
  auto pty = berth::os::open_pty("/dev/ptmx", std::nullopt);
  REQUIRE(pty.ok());

  // One process, so the socket's backlog holds the connection until accept.
  auto sent = berth::os::send_console(socket_path, pty->master, pty->slave_path);
  REQUIRE_MESSAGE(sent.ok(), sent.error().to_string());
  int conn = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(conn >= 0);
  berth::UniqueFd accepted(conn);
  auto message = berth::sys::recv_message(accepted);
  REQUIRE(message.ok());
  CHECK(message->data == pty->slave_path);
  REQUIRE(message->fds.size() == 1);

  // The received descriptor is the same master: what it writes, the slave reads.
  make_raw(pty->slave.get());
  REQUIRE(::write(message->fds[0].get(), "via socket", 10) == 10);
  CHECK(read_some(pty->slave.get(), 10) == "via socket");

  auto refused = berth::os::send_console(tmp.path + "/nobody.sock", pty->master, "x");
  CHECK_FALSE(refused.ok());
}

TEST_CASE("make_controlling_terminal in a child") {
  auto pty = berth::os::open_pty("/dev/ptmx", std::nullopt);
  REQUIRE(pty.ok());
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto st = berth::os::make_controlling_terminal(pty->slave);
    if (!st.ok()) ::_exit(1);
    if (::tcgetsid(0) != ::getsid(0)) ::_exit(2);
    for (int fd = 0; fd <= 2; ++fd)
      if (!::isatty(fd) || (::fcntl(fd, F_GETFD) & FD_CLOEXEC)) ::_exit(3);
    // The terminal is ours: /dev/tty opens it.
    int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    ::_exit(tty >= 0 ? 0 : 4);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
