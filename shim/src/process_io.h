#pragma once
// The stdio of one container process, as containerd names it in Create and
// Exec: a FIFO path (no scheme), file://<path>, or empty (/dev/null).
// binary://<logger> is not supported yet.
//
// Without a terminal, stdout and stderr are handed to the runtime (and so to
// the container) as the FIFO itself: the container writes straight into
// the FIFO its client reads, so there is no copy to lose or truncate, and
// nothing to drain when it exits. The shim keeps a read-write open of each
// output FIFO while the process lives, so that a client that goes away
// (ctr run -d) never turns the container's writes into EPIPE (the same
// contract as containerd's runc shim). stdin goes through a pipe the shim
// feeds from the FIFO, so that CloseIO can end it.
//
// With a terminal, the runtime sends the pty master over a console socket;
// the shim copies stdin FIFO → master and master → stdout FIFO, and drains
// the master before the exit is reported.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "copier.h"
#include "loop/loop.h"
#include "runtime.h"

namespace berth::shim {

struct StdioPaths {
  std::string in, out, err;
  bool terminal = false;
};

class ProcessIO {
 public:
  static Result<std::unique_ptr<ProcessIO>> open(loop::Loop& loop, const StdioPaths& paths);
  ~ProcessIO();

  // The runtime's 0, 1, 2 (-1: /dev/null). Valid until release_runtime_ends().
  Runtime::Stdio runtime_stdio() const;
  // After the runtime was spawned: the container holds its ends now.
  void release_runtime_ends();

  // Terminal mode: starts copying through the master the runtime sent.
  Status attach_console(UniqueFd master);
  Status resize(uint32_t width, uint32_t height);
  // Ends the container's stdin (CloseIO).
  void close_stdin();
  // The process exited: when its output is drained (pty) or at once, or at
  // `limit` at the latest, drops what the shim holds and runs cb.
  void finish(std::chrono::milliseconds limit, std::function<void()> cb);

 private:
  explicit ProcessIO(loop::Loop& loop) : loop_(loop) {}
  void drop_all();

  loop::Loop& loop_;
  bool terminal_ = false;
  // Handed to the runtime.
  UniqueFd child_in_, child_out_, child_err_;
  // Held by the shim.
  UniqueFd stdin_fifo_;      // read side of the stdin FIFO
  UniqueFd stdin_pipe_w_;    // feeds the container's stdin (non-tty)
  UniqueFd out_keep_, err_keep_;  // read-write opens of output FIFOs
  UniqueFd tty_out_;         // stdout FIFO, written by the shim (tty)
  UniqueFd master_, master_in_;  // pty master and its dup for the input copier
  std::unique_ptr<Copier> stdin_copier_, output_copier_;
  std::function<void()> finish_cb_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  loop::Loop::Handle finish_timer_ = 0;
};

// A unix socket in a fresh private temp dir on which the runtime sends the
// pty master (runc's --console-socket protocol: one SCM_RIGHTS message).
class ConsoleSocket {
 public:
  static Result<std::unique_ptr<ConsoleSocket>> create(loop::Loop& loop);
  ~ConsoleSocket();
  const std::string& path() const { return path_; }
  // The master, once received; tries a last accept/receive first (the
  // runtime has exited when this is called, so it is either there or not).
  Result<UniqueFd> take_master();

 private:
  explicit ConsoleSocket(loop::Loop& loop) : loop_(loop) {}
  void try_receive();

  loop::Loop& loop_;
  std::string dir_, path_;
  UniqueFd listener_, conn_, master_;
  loop::Loop::Handle listen_watch_ = 0, conn_watch_ = 0;
};

}  // namespace berth::shim
