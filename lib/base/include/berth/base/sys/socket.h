#pragma once
// AF_UNIX sockets. Every socket and received descriptor is CLOEXEC.

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

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
// shutdown(SHUT_WR): the peer reads end of stream, the reverse direction
// stays open (a client that has sent its last request).
Status shutdown_write(BorrowedFd sock);
// A non-blocking connected AF_UNIX stream socket. A unix-socket connect
// completes at once or fails (EAGAIN when the listener's backlog is full).
Result<UniqueFd> connect_unix_nonblocking(std::string_view path);
// A listening AF_UNIX stream socket bound at path (mode 0600 from umask 077).
Result<UniqueFd> listen_unix(std::string_view path, int backlog);
Result<UniqueFd> accept(BorrowedFd listener);
// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; Error code EAGAIN when no
// connection is pending.
Result<UniqueFd> accept_nonblocking(BorrowedFd listener);
struct PeerCred {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};
Result<PeerCred> peer_credentials(BorrowedFd sock);

}  // namespace berth::sys
