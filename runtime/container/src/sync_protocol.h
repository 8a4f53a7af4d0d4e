#pragma once
// The create-time protocol between `berth create` (P), the optional
// intermediate process (H) and the container's init (I), over one
// SOCK_SEQPACKET socketpair. A message is one packet: a type byte, then the
// payload. Every step that can fail in I ends in kError instead.
//
//  #  from→to  type         payload             meaning
//  1  H → P    kInitPid     decimal pid         H joined namespaces and cloned I
//                                               (only when H is used; else P
//                                               cloned I itself)
//  2  P → I    kGo          state JSON          uid/gid maps written, I is in its
//                                               cgroup: start building the rootfs
//  3  I → P    kRunHooks    -                   mounts done; run prestart and
//                                               createRuntime hooks (only sent
//                                               when the config has them)
//  4  P → I    kHooksDone   -                   hooks passed; continue
//  5  I → P    kConsole     pty name + [fd]     the pty master, for --console-socket
//  6  I → P    kReady       -                   rootfs pivoted, I waits on exec.sock
//  -  I/H → P  kError       "errno\nmessage"    setup failed; sender exits 1
//
// After kReady, `start` connects to exec.sock and sends one byte; I runs the
// startContainer hooks, drops privileges and execs. The connection is
// close-on-exec, so `start` reads EOF exactly when the exec succeeded, or an
// error text written by I when it did not.

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/sys.h"

namespace berth::container::sync {

enum class Type : char {
  kInitPid = 'p',
  kGo = 'g',
  kRunHooks = 'h',
  kHooksDone = 'd',
  kConsole = 'c',
  kReady = 'r',
  kError = 'e',
};

inline Status send(BorrowedFd sock, Type type, std::string_view payload = {},
                   std::span<const int> fds = {}) {
  std::string msg(1, static_cast<char>(type));
  msg.append(payload);
  return sys::send_message(sock, msg, fds);
}

struct Received {
  Type type;
  std::string payload;
  std::vector<UniqueFd> fds;
};

inline Result<Received> receive(BorrowedFd sock) {
  auto msg = BERTH_VALUE(sys::recv_message(sock));
  if (msg.data.empty()) return make_error("sync: empty message", EPROTO);
  return Received{static_cast<Type>(msg.data[0]), msg.data.substr(1), std::move(msg.fds)};
}

inline std::string encode_error(const Error& e) {
  // The text is final: strerror is already in it.
  return std::to_string(e.code()) + "\n" + e.to_string();
}

inline Error decode_error(std::string_view payload) {
  auto nl = payload.find('\n');
  if (nl == std::string_view::npos) return make_error(std::string(payload), EIO);
  int code = std::atoi(std::string(payload.substr(0, nl)).c_str());
  return Error(code, std::string(payload.substr(nl + 1)));
}

}  // namespace berth::container::sync
