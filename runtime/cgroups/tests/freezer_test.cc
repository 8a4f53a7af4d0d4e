// freeze, frozen and kill_all against fake cgroupfs files. A plain file
// reads back what was written, so a v1 freeze completes at once; the v2
// outcome file (cgroup.events) is the test's to set.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "berth/cgroups/resources.h"
#include "fake_cgroupfs.h"

using berth::cgroups::freeze;
using berth::cgroups::frozen;
using berth::cgroups::kill_all;
using cgtest::FakeHost;
using cgtest::get;
using cgtest::put;

namespace {

// A child that sleeps until killed; reaped by wait_signal(). Returns once
// the child has reset SIGTERM: doctest's crash handlers came along with
// fork, and a signal that arrived before the reset would run them.
pid_t sleeper() {
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGTERM, SIG_DFL);
    ::close(ready[1]);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c;
  CHECK(::read(ready[0], &c, 1) == 0);  // EOF: the child closed its end
  ::close(ready[0]);
  return pid;
}

int wait_signal(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

}  // namespace

TEST_CASE("freeze v1: freezer.state FROZEN and THAWED") {
  FakeHost h;
  h.add_v1("memory");
  h.add_v1("freezer");
  put(h.file("freezer", "freezer.state"), "THAWED\n");
  REQUIRE(freeze(h.placement, true).ok());
  CHECK(get(h.file("freezer", "freezer.state")) == "FROZEN");
  auto f = frozen(h.placement);
  REQUIRE(f.ok());
  CHECK(*f);
  // Frozen only through an ancestor: not this container's pause.
  put(h.file("freezer", "freezer.self_freezing"), "0\n");
  CHECK_FALSE(*frozen(h.placement));
  REQUIRE(freeze(h.placement, false).ok());
  CHECK(get(h.file("freezer", "freezer.state")) == "THAWED");
}

TEST_CASE("freeze v2: cgroup.freeze, then wait for cgroup.events") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "cgroup.freeze"), "0\n");
  put(h.file("unified", "cgroup.events"), "populated 1\nfrozen 1\n");
  REQUIRE(freeze(h.placement, true).ok());
  CHECK(get(h.file("unified", "cgroup.freeze")) == "1");
  CHECK(*frozen(h.placement));
  // The kernel never reports "frozen 0": a timeout, named.
  auto st = freeze(h.placement, false, 50);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ETIMEDOUT);
  CHECK(st.error().to_string().find("did not report \"frozen 0\" in time") != std::string::npos);
}

TEST_CASE("freeze v2: a freeze that does not complete is undone") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "cgroup.freeze"), "0\n");
  put(h.file("unified", "cgroup.events"), "populated 1\nfrozen 0\n");
  auto st = freeze(h.placement, true, 30);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().to_string().find("thawed it again") != std::string::npos);
  CHECK(get(h.file("unified", "cgroup.freeze")) == "0");
}

TEST_CASE("freeze: no freezer at all") {
  FakeHost h;
  h.add_v1("memory");
  auto st = freeze(h.placement, true);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOTSUP);
}

TEST_CASE("kill_all v1: freeze, signal every pid of every hierarchy, thaw") {
  FakeHost h;
  h.add_v1("memory");
  h.add_v1("freezer");
  put(h.file("freezer", "freezer.state"), "THAWED\n");
  pid_t a = sleeper(), b = sleeper();
  // b "escaped" the memory cgroup but is still in the freezer one.
  put(h.file("memory", "cgroup.procs"), std::to_string(a) + "\n");
  put(h.file("freezer", "cgroup.procs"), std::to_string(a) + "\n" + std::to_string(b) + "\n");
  REQUIRE(kill_all(h.placement, SIGTERM).ok());
  CHECK(wait_signal(a) == SIGTERM);
  CHECK(wait_signal(b) == SIGTERM);
  CHECK(get(h.file("freezer", "freezer.state")) == "THAWED");
  // Gone processes are no error.
  REQUIRE(kill_all(h.placement, SIGKILL).ok());
}

TEST_CASE("kill_all: a paused container stays paused for SIGTERM, not for SIGKILL") {
  FakeHost h;
  h.add_v1("freezer");
  put(h.file("freezer", "freezer.state"), "FROZEN\n");
  pid_t a = sleeper();
  put(h.file("freezer", "cgroup.procs"), std::to_string(a) + "\n");
  REQUIRE(kill_all(h.placement, SIGTERM).ok());
  CHECK(wait_signal(a) == SIGTERM);
  CHECK(get(h.file("freezer", "freezer.state")) == "FROZEN\n");  // untouched
  pid_t b = sleeper();
  put(h.file("freezer", "cgroup.procs"), std::to_string(b) + "\n");
  REQUIRE(kill_all(h.placement, SIGKILL).ok());
  CHECK(wait_signal(b) == SIGKILL);
  CHECK(get(h.file("freezer", "freezer.state")) == "THAWED");
}

TEST_CASE("kill_all v2: SIGKILL through cgroup.kill") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "cgroup.kill"), "");
  put(h.file("unified", "cgroup.procs"), "");
  REQUIRE(kill_all(h.placement, SIGKILL).ok());
  CHECK(get(h.file("unified", "cgroup.kill")) == "1");
}
