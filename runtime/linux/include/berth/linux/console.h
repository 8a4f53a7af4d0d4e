#pragma once
// Console: a pty for process.terminal, its master handed to the caller's
// --console-socket over SCM_RIGHTS (runc's contract: one message, one fd).

#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/spec/spec.h"

namespace berth::os {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
  std::string slave_path;  // /dev/pts/N as seen in the devpts that made it
};

// Opens a new pty pair from `ptmx_path` ("/dev/ptmx" of the devpts instance
// the container will see). Applies size when given.
Result<Pty> open_pty(std::string_view ptmx_path, const std::optional<spec::ConsoleSize>& size);
// Makes `slave` the controlling terminal and stdin/stdout/stderr of the
// calling process (setsid, TIOCSCTTY, dup2).
Status make_controlling_terminal(BorrowedFd slave);
// Connects to the unix socket at `socket_path` and sends `master` with
// SCM_RIGHTS (message payload: the pty's name, as runc sends).
Status send_console(std::string_view socket_path, BorrowedFd master, std::string_view name);

}  // namespace berth::os
