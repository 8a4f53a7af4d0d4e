#pragma once
// `berth run` of a terminal container without --console-socket: berth
// relays between its own stdio and the container's pty, as runc does.

#include <sys/types.h>

#include <optional>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::container {

// Relays until the init exits and the pty is drained. `signals` is a
// signalfd for SIGCHLD, SIGWINCH and the signals to forward to `init`.
// Returns the init's wait status.
Result<int> relay_console(BorrowedFd master, BorrowedFd signals, pid_t init);

}  // namespace berth::container
