#pragma once
// The stdio of one container process, as containerd names it in Create and
// Exec: a FIFO path (no scheme), file://<path>, binary://<logger>, or empty
// (/dev/null).
//
// binary:///path/to/logger?k=v&... (containerd's binary log driver, `ctr run
// --log-uri`, for stdout and stderr together) starts the logger at once with
// argv [path, k, v, ...] (keys sorted: Go's map order is random, so no
// logger can depend on one), the environment CONTAINER_ID=<process id> and
// CONTAINER_NAMESPACE=<ns> only, /dev/null on 0-2, the read ends of the
// container's stdout and stderr pipes as fds 3 and 4 and the write end of a
// ready pipe as fd 5. The process is created once the logger wrote to or
// closed fd 5 (when_ready). When the process is deleted the logger gets
// SIGTERM, and SIGKILL 12 s later if it is still there (containerd's
// binaryIO.Close); normally it has exited already, at the end of its pipes.
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
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "copier.h"
#include "berth/loop/loop.h"
#include "reaper.h"
#include "runtime.h"

namespace berth::shim {

struct StdioPaths {
  std::string in, out, err;
  bool terminal = false;
};

// Who the process is, for a binary logger's environment, and the reaper that
// tells its exit.
struct IoContext {
  std::string id;  // container id (init) or exec id
  std::string ns;
  Reaper* reaper = nullptr;
};

// binary://<path>?<query>: the logger's argv (URL-decoded).
struct BinaryUri {
  std::string path;
  std::vector<std::string> args;  // k1, v1, k2, v2, ... (keys sorted)
};
Result<BinaryUri> parse_binary_uri(const std::string& uri);

class BinaryLogger;

class ProcessIO {
 public:
  static Result<std::unique_ptr<ProcessIO>> open(loop::Loop& loop, const StdioPaths& paths,
                                                 const IoContext& ctx = {});
  ~ProcessIO();

  // cb(ok) once the stdio is usable: at once, or when a binary logger said
  // it is ready (or failed to, by `limit`).
  void when_ready(std::chrono::milliseconds limit, std::function<void(Status)> cb);

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
  UniqueFd stdin_fifo_;           // read side of the stdin FIFO
  UniqueFd stdin_pipe_w_;         // feeds the container's stdin (non-tty)
  UniqueFd out_keep_, err_keep_;  // read-write opens of output FIFOs
  UniqueFd tty_out_;              // stdout FIFO, written by the shim (tty)
  UniqueFd master_, master_in_;   // pty master and its dup for the input copier
  std::unique_ptr<Copier> stdin_copier_, output_copier_;
  std::function<void()> finish_cb_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  loop::Loop::Handle finish_timer_ = 0;
  std::shared_ptr<BinaryLogger> logger_;
};

// A running logging binary (see above). Owns itself while the process runs:
// dropping the last reference does not lose track of it.
class BinaryLogger : public std::enable_shared_from_this<BinaryLogger> {
 public:
  static Result<std::shared_ptr<BinaryLogger>> start(loop::Loop& loop, Reaper& reaper,
                                                     const BinaryUri& uri, const std::string& id,
                                                     const std::string& ns);
  ~BinaryLogger();
  // The write ends of the stdout and stderr pipes (once each).
  UniqueFd take_stdout() { return std::move(out_w_); }
  UniqueFd take_stderr() { return std::move(err_w_); }
  void when_ready(std::chrono::milliseconds limit, std::function<void(Status)> cb);
  // SIGTERM now, SIGKILL after `grace` if it has not exited by then.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(12));
  pid_t pid() const { return pid_; }
  bool exited() const { return exited_; }

 private:
  BinaryLogger(loop::Loop& loop) : loop_(loop) {}
  void ready_event();
  void finish_ready(Status st);

  loop::Loop& loop_;
  pid_t pid_ = 0;
  bool exited_ = false;
  UniqueFd out_w_, err_w_, ready_r_;
  loop::Loop::Handle ready_watch_ = 0, ready_timer_ = 0, kill_timer_ = 0;
  bool ready_ = false;
  std::string ready_failure_;
  std::function<void(Status)> ready_cb_;
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
