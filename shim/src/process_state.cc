#include "process_state.h"

namespace berth::shim {

using S = ProcessStateId;

const char* state_name(ProcessStateId s) {
  switch (s) {
    case S::kCreated: return "created";
    case S::kStarting: return "starting";
    case S::kRunning: return "running";
    case S::kPausing: return "pausing";
    case S::kPaused: return "paused";
    case S::kResuming: return "resuming";
    case S::kStopped: return "stopped";
    case S::kDeleting: return "deleting";
    case S::kDeleted: return "deleted";
  }
  return "unknown";
}

const char* op_name(Op op) {
  switch (op) {
    case Op::kStart: return "start";
    case Op::kPause: return "pause";
    case Op::kResume: return "resume";
    case Op::kKill: return "kill";
    case Op::kDelete: return "delete";
    case Op::kExec: return "exec in";
    case Op::kUpdate: return "update";
    case Op::kCloseIO: return "close the io of";
    case Op::kResizePty: return "resize the pty of";
  }
  return "?";
}

int reported_status(ProcessStateId s) {
  switch (s) {
    case S::kCreated:
    case S::kStarting: return 1;
    case S::kRunning: return 2;
    case S::kStopped:
    case S::kDeleting:
    case S::kDeleted: return 3;
    case S::kPaused:
    case S::kResuming: return 4;
    case S::kPausing: return 5;
  }
  return 0;
}

namespace {
Error refuse(std::string message) { return make_error(std::move(message), kRefusedInThisState); }

Error refuse(Op op, ProcessKind kind, ProcessStateId s) {
  std::string what = kind == ProcessKind::kInit ? "process" : "exec process";
  return refuse(std::string("cannot ") + op_name(op) + " a " + state_name(s) + " " + what);
}

Error gone(std::string message) { return make_error(std::move(message), ENOENT); }
}  // namespace

Status ProcessState::begin(Op op) {
  const S s = state_;
  if (s == S::kDeleted) return gone("process has been deleted: not found");
  switch (op) {
    case Op::kStart:
      if (s != S::kCreated) return refuse(op, kind_, s);
      state_ = S::kStarting;
      return {};
    case Op::kPause:
      if (kind_ == ProcessKind::kExec)
        return refuse("cannot pause an exec process: pause the container");
      if (s != S::kRunning) return refuse(op, kind_, s);
      state_ = S::kPausing;
      return {};
    case Op::kResume:
      if (kind_ == ProcessKind::kExec)
        return refuse("cannot resume an exec process: resume the container");
      if (s != S::kPaused) return refuse(op, kind_, s);
      state_ = S::kResuming;
      return {};
    case Op::kKill:
      // A reaped process has no pid left to signal, even while its exit is
      // held back by a Start.
      if (is_stopped() || exited_) return gone("process already finished: not found");
      return {};
    case Op::kDelete:
      if (s != S::kCreated && s != S::kStopped) return refuse(op, kind_, s);
      state_ = S::kDeleting;
      return {};
    case Op::kExec:
      if (kind_ == ProcessKind::kExec) return refuse("cannot exec in an exec process");
      if (s != S::kCreated && s != S::kRunning) return refuse(op, kind_, s);
      return {};
    case Op::kUpdate:
      if (kind_ == ProcessKind::kExec) return refuse("cannot update an exec process");
      if (s != S::kCreated && s != S::kRunning && s != S::kPaused) return refuse(op, kind_, s);
      return {};
    case Op::kCloseIO:
    case Op::kResizePty: return {};
  }
  return refuse(op, kind_, s);
}

bool ProcessState::complete(Op op, bool ok) {
  const S s = state_;
  switch (op) {
    case Op::kStart:
      if (s != S::kStarting) return false;
      state_ = ok ? S::kRunning : S::kCreated;
      if (exited_) {
        state_ = S::kStopped;
        return true;
      }
      return false;
    case Op::kPause:
      if (s == S::kPausing) state_ = ok ? S::kPaused : S::kRunning;
      return false;
    case Op::kResume:
      if (s == S::kResuming) state_ = ok ? S::kRunning : S::kPaused;
      return false;
    case Op::kDelete:
      if (s == S::kDeleting) state_ = ok ? S::kDeleted : (exited_ ? S::kStopped : S::kCreated);
      return false;
    default: return false;
  }
}

bool ProcessState::set_exited() {
  if (exited_) return false;
  exited_ = true;
  switch (state_) {
    case S::kStarting: return false;  // held until the Start completes
    case S::kDeleting:
    case S::kDeleted: return true;  // visible, the state already says so
    default: state_ = S::kStopped; return true;
  }
}

}  // namespace berth::shim
