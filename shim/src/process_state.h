#pragma once
// The life cycle of a shim process (the container's init or an exec) as a
// closed set of states and the operations that move between them. Every
// Task method that acts on a process asks begin() first; an illegal request
// is refused with an Error naming the state ("cannot start a running
// process"): EPERM (the service answers FailedPrecondition), or ENOENT for
// signalling a finished or deleted process (NotFound: containerd treats that
// as "already gone").
//
//                 Start            runtime ok
//   created ───────────▶ starting ──────────▶ running ◀──────────┐
//     │  ▲  (runtime failed) │                 │  Pause            │ runtime ok
//     │  └───────────────────┘                 ▼                   │
//     │                                     pausing ─▶ paused ─▶ resuming
//     │ exit                 exit (held until the Start finishes, so that
//     ▼                      TaskExit never precedes TaskStart)
//   stopped ◀───────────────── any live state on exit
//     │ Delete (also from created)
//     ▼
//   deleting ─▶ deleted
//
// Exec processes use the same machine without pause/resume. The async
// runtime calls behind Start, Pause, Resume and Delete run while the process
// sits in the transitional state; complete() ends it.

#include <string>

#include "berth/base/error.h"

namespace berth::shim {

// The errno of a refusal that is not "gone" (ENOENT).
constexpr int kRefusedInThisState = EPERM;

enum class ProcessKind { kInit, kExec };

enum class ProcessStateId {
  kCreated,
  kStarting,
  kRunning,
  kPausing,
  kPaused,
  kResuming,
  kStopped,
  kDeleting,
  kDeleted,
};

enum class Op { kStart, kPause, kResume, kKill, kDelete, kExec, kUpdate, kCloseIO, kResizePty };

const char* state_name(ProcessStateId s);
const char* op_name(Op op);

// containerd.v1.types.Status as reported by State: CREATED 1, RUNNING 2,
// STOPPED 3, PAUSED 4, PAUSING 5.
int reported_status(ProcessStateId s);

class ProcessState {
 public:
  explicit ProcessState(ProcessKind kind) : kind_(kind) {}

  ProcessKind kind() const { return kind_; }
  ProcessStateId id() const { return state_; }
  int status() const { return reported_status(state_); }
  // An exit has been reaped (it may still be held back by a Start).
  bool has_exited() const { return exited_; }
  // The exit is visible: Wait answers, State says stopped.
  bool is_stopped() const {
    return state_ == ProcessStateId::kStopped || state_ == ProcessStateId::kDeleting ||
           state_ == ProcessStateId::kDeleted;
  }

  // May `op` run now? Start, Pause, Resume and Delete also enter their
  // transitional state on success.
  Status begin(Op op);
  // Ends the transitional state of `op`. Returns true when an exit that
  // arrived meanwhile becomes visible now (publish it after this op's event).
  bool complete(Op op, bool ok);
  // Records an exit. Returns true when it is visible now; false while a
  // Start is in flight (complete(kStart, ...) releases it).
  bool set_exited();

 private:
  ProcessKind kind_;
  ProcessStateId state_ = ProcessStateId::kCreated;
  bool exited_ = false;
};

}  // namespace berth::shim
