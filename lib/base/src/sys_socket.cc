#include "berth/base/sys.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace berth::sys {

namespace {
std::string fd_name(BorrowedFd fd) { return "fd " + std::to_string(fd.get()); }
}  // namespace

Result<SocketPair> socket_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) return sys_error("socketpair");
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status send_message(BorrowedFd sock, std::string_view data, std::span<const int> fds) {
  struct iovec iov {};
  char dummy = 0;
  iov.iov_base = data.empty() ? &dummy : const_cast<char*>(data.data());
  iov.iov_len = data.empty() ? 1 : data.size();
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n = retry_eintr([&] { return ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL); });
  if (n < 0) return sys_error("sendmsg", fd_name(sock));
  return {};
}

Result<Message> recv_message(BorrowedFd sock, size_t max_size) {
  Message out;
  out.data.resize(max_size);
  struct iovec iov {};
  iov.iov_base = out.data.data();
  iov.iov_len = out.data.size();
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 16)];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = retry_eintr([&] { return ::recvmsg(sock.get(), &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return sys_error("recvmsg", fd_name(sock));
  if (n == 0) return make_error("recvmsg " + fd_name(sock) + ": peer closed the connection", EPIPE);
  out.data.resize(static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    return make_error("recvmsg " + fd_name(sock) + ": message truncated", EMSGSIZE);
  return out;
}

namespace {

// An AF_UNIX stream socket and the address of `path` (`op` names the call
// in the error when the path does not fit sun_path).
struct UnixSocket {
  UniqueFd sock;
  struct sockaddr_un addr {};
};

Result<UnixSocket> unix_socket_for(std::string_view path, std::string_view op) {
  UnixSocket u;
  u.addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof u.addr.sun_path)
    return make_error(std::string(op) + " `" + std::string(path) + "`: socket path too long",
                      ENAMETOOLONG);
  std::memcpy(u.addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket", path);
  u.sock.reset(fd);
  return u;
}

}  // namespace

Result<UniqueFd> connect_unix(std::string_view path) {
  auto u = BERTH_VALUE(unix_socket_for(path, "connect"));
  UniqueFd sock = std::move(u.sock);
  struct sockaddr_un& addr = u.addr;
  if (retry_eintr([&] {
        return ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
      }) != 0)
    return sys_error("connect", path);
  return sock;
}

Result<UniqueFd> listen_unix(std::string_view path, int backlog) {
  auto u = BERTH_VALUE(unix_socket_for(path, "bind"));
  UniqueFd sock = std::move(u.sock);
  struct sockaddr_un& addr = u.addr;
  mode_t old = ::umask(077);
  int rc = ::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) return sys_error("bind", path);
  if (::listen(sock.get(), backlog) != 0) return sys_error("listen", path);
  return sock;
}

Result<UniqueFd> accept(BorrowedFd listener) {
  int fd = retry_eintr([&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC); });
  if (fd < 0) return sys_error("accept", fd_name(listener));
  return UniqueFd(fd);
}

Result<UniqueFd> accept_nonblocking(BorrowedFd listener) {
  int fd = retry_eintr(
      [&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
  if (fd < 0) return sys_error("accept", "fd " + std::to_string(listener.get()));
  return UniqueFd(fd);
}

Result<PeerCred> peer_credentials(BorrowedFd sock) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return sys_error("getsockopt SO_PEERCRED", "fd " + std::to_string(sock.get()));
  return PeerCred{cred.pid, cred.uid, cred.gid};
}

Result<UniqueFd> connect_unix_nonblocking(std::string_view path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  // A leading NUL would name an abstract socket, which any process in the
  // network namespace can reach (CVE-2020-15257): only paths are accepted.
  if (path.empty() || path[0] != '/')
    return make_error("connect `" + std::string(path) + "`: not an absolute socket path");
  if (path.size() >= sizeof addr.sun_path)
    return make_error("connect `" + std::string(path) + "`: socket path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket", path);
  UniqueFd sock(fd);
  if (retry_eintr([&] {
        return ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
      }) != 0)
    return sys_error("connect", path);
  return sock;
}

Status shutdown_write(BorrowedFd sock) {
  if (::shutdown(sock.get(), SHUT_WR) != 0)
    return sys_error("shutdown", "fd " + std::to_string(sock.get()));
  return {};
}

}  // namespace berth::sys
