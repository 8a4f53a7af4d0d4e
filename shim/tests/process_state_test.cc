// The process state machine: legal paths, illegal transitions refused with
// a clear message, exits held back until Start completes.
#include <doctest/doctest.h>

#include "process_state.h"

using namespace berth::shim;
using S = ProcessStateId;

TEST_CASE("init process: create, start, pause, resume, exit, delete") {
  ProcessState p(ProcessKind::kInit);
  CHECK(p.id() == S::kCreated);
  CHECK(p.status() == 1);
  REQUIRE(p.begin(Op::kStart).ok());
  CHECK(p.id() == S::kStarting);
  CHECK(p.status() == 1);  // still CREATED to containerd
  CHECK_FALSE(p.complete(Op::kStart, true));
  CHECK(p.id() == S::kRunning);
  CHECK(p.status() == 2);
  REQUIRE(p.begin(Op::kPause).ok());
  CHECK(p.status() == 5);  // PAUSING
  p.complete(Op::kPause, true);
  CHECK(p.status() == 4);
  REQUIRE(p.begin(Op::kResume).ok());
  p.complete(Op::kResume, true);
  CHECK(p.id() == S::kRunning);
  CHECK(p.begin(Op::kKill).ok());
  CHECK(p.set_exited());
  CHECK(p.id() == S::kStopped);
  CHECK(p.status() == 3);
  REQUIRE(p.begin(Op::kDelete).ok());
  p.complete(Op::kDelete, true);
  CHECK(p.id() == S::kDeleted);
}

TEST_CASE("illegal transitions are refused (EPERM) with the state in the message") {
  ProcessState p(ProcessKind::kInit);
  auto st = p.begin(Op::kPause);
  CHECK(st.error().code() == kRefusedInThisState);
  CHECK(st.error().message() == "cannot pause a created process");
  CHECK(p.begin(Op::kResume).error().message() == "cannot resume a created process");

  REQUIRE(p.begin(Op::kStart).ok());
  st = p.begin(Op::kStart);
  CHECK(st.error().code() == kRefusedInThisState);
  CHECK(st.error().message() == "cannot start a starting process");
  p.complete(Op::kStart, true);

  st = p.begin(Op::kStart);
  CHECK(st.error().message() == "cannot start a running process");
  st = p.begin(Op::kDelete);
  CHECK(st.error().code() == kRefusedInThisState);
  CHECK(st.error().message() == "cannot delete a running process");
  CHECK(p.begin(Op::kResume).error().message() == "cannot resume a running process");

  REQUIRE(p.begin(Op::kPause).ok());
  p.complete(Op::kPause, true);
  CHECK(p.begin(Op::kDelete).error().message() == "cannot delete a paused process");
  CHECK(p.begin(Op::kPause).error().message() == "cannot pause a paused process");
  CHECK(p.begin(Op::kExec).error().message() == "cannot exec in a paused process");

  CHECK(p.set_exited());
  CHECK(p.begin(Op::kStart).error().message() == "cannot start a stopped process");
  CHECK(p.begin(Op::kUpdate).error().message() == "cannot update a stopped process");
  st = p.begin(Op::kKill);
  CHECK(st.error().code() == ENOENT);
  CHECK(st.error().message() == "process already finished: not found");
  // A failed transition leaves the state unchanged.
  CHECK(p.id() == S::kStopped);
}

TEST_CASE("an exit during Start is held until the Start completes") {
  ProcessState p(ProcessKind::kInit);
  REQUIRE(p.begin(Op::kStart).ok());
  CHECK_FALSE(p.set_exited());  // not visible yet: TaskStart first
  CHECK(p.has_exited());
  CHECK_FALSE(p.is_stopped());
  CHECK(p.begin(Op::kKill).error().code() == ENOENT);
  CHECK(p.complete(Op::kStart, true));  // now publish the exit
  CHECK(p.id() == S::kStopped);
  CHECK_FALSE(p.set_exited());  // reported once
}

TEST_CASE("a failed Start returns to created; an exit meanwhile still stops it") {
  ProcessState p(ProcessKind::kInit);
  REQUIRE(p.begin(Op::kStart).ok());
  CHECK_FALSE(p.complete(Op::kStart, false));
  CHECK(p.id() == S::kCreated);
  REQUIRE(p.begin(Op::kStart).ok());
  CHECK_FALSE(p.set_exited());
  CHECK(p.complete(Op::kStart, false));
  CHECK(p.id() == S::kStopped);
}

TEST_CASE("an init killed before Start stops from created and can be deleted") {
  ProcessState p(ProcessKind::kInit);
  CHECK(p.set_exited());
  CHECK(p.id() == S::kStopped);
  REQUIRE(p.begin(Op::kDelete).ok());
  p.complete(Op::kDelete, true);
  CHECK(p.begin(Op::kKill).error().code() == ENOENT);
  CHECK(p.begin(Op::kStart).error().code() == ENOENT);
}

TEST_CASE("exit while pausing or paused stops the process") {
  ProcessState p(ProcessKind::kInit);
  REQUIRE(p.begin(Op::kStart).ok());
  p.complete(Op::kStart, true);
  REQUIRE(p.begin(Op::kPause).ok());
  CHECK(p.set_exited());
  p.complete(Op::kPause, true);  // too late to matter
  CHECK(p.id() == S::kStopped);
}

TEST_CASE("a failed delete goes back to where it was") {
  ProcessState p(ProcessKind::kInit);
  REQUIRE(p.begin(Op::kDelete).ok());
  p.complete(Op::kDelete, false);
  CHECK(p.id() == S::kCreated);
  CHECK(p.set_exited());
  REQUIRE(p.begin(Op::kDelete).ok());
  p.complete(Op::kDelete, false);
  CHECK(p.id() == S::kStopped);
}

TEST_CASE("exec processes: no pause, resume, update or nested exec") {
  ProcessState e(ProcessKind::kExec);
  auto st = e.begin(Op::kPause);
  CHECK(st.error().code() == kRefusedInThisState);
  CHECK(st.error().message().find("exec process") != std::string::npos);
  CHECK(e.begin(Op::kResume).error().code() == kRefusedInThisState);
  CHECK(e.begin(Op::kUpdate).error().code() == kRefusedInThisState);
  CHECK(e.begin(Op::kExec).error().code() == kRefusedInThisState);
  REQUIRE(e.begin(Op::kStart).ok());
  e.complete(Op::kStart, true);
  CHECK(e.begin(Op::kDelete).error().message() == "cannot delete a running exec process");
  CHECK(e.set_exited());
  REQUIRE(e.begin(Op::kDelete).ok());
  e.complete(Op::kDelete, true);
  CHECK(e.id() == S::kDeleted);
}
