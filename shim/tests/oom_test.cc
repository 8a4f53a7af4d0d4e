// The OOM watch: v2 through inotify on a memory.events written here; v1
// through cgroup.event_control on a real memory cgroup (root only, nested
// under this process's own, skipped elsewhere). The count it compares is
// berth_cgroups' oom_kill_count (runtime/cgroups/tests/stats_test.cc).
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "berth/loop/loop.h"
#include "oom.h"

using namespace berth;
using namespace berth::shim;
using namespace std::chrono_literals;

namespace {

void pump(loop::Loop& loop, const std::function<bool()>& done,
          std::chrono::milliseconds limit = 3000ms) {
  for (auto waited = 0ms; !done() && waited < limit; waited += 10ms) (void)loop.run_once(10ms);
}

std::string own_memory_cgroup_dir() {
  auto text = sys::read_file("/proc/self/cgroup");
  if (!text) return {};
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (line.substr(a + 1, b - a - 1) == "memory")
      return "/sys/fs/cgroup/memory" + line.substr(b + 1);
  }
  return {};
}

}  // namespace

TEST_CASE("oom: v2 watch fires when oom_kill goes up, not on other changes") {
  auto loop = std::move(loop::Loop::create().value());
  char tmpl[] = "/tmp/berth-shim-oom-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  const std::string events = dir + "/memory.events";
  REQUIRE(sys::write_file_atomic(events, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n").ok());
  std::vector<std::string> fired;
  OomWatcher w(*loop, [&](const std::string& id) { fired.push_back(id); });
  CgroupSet set;
  set.unified = true;
  set.dir = dir;
  REQUIRE(w.watch("c1", set).ok());
  CHECK(w.watching("c1"));

  // Written in place (inotify IN_MODIFY), as the kernel updates it.
  REQUIRE(sys::write_file(events, "low 0\nhigh 0\nmax 5\noom 0\noom_kill 1\n").ok());
  pump(
      *loop, [] { return false; }, 100ms);
  CHECK(fired.empty());  // max went up, oom_kill did not
  REQUIRE(sys::write_file(events, "low 0\nhigh 0\nmax 5\noom 1\noom_kill 2\n").ok());
  pump(*loop, [&] { return !fired.empty(); });
  CHECK(fired == std::vector<std::string>{"c1"});

  // poll() handles a pending change at once (before an exit is reported).
  REQUIRE(sys::write_file(events, "low 0\nhigh 0\nmax 5\noom 2\noom_kill 3\n").ok());
  w.poll("c1");
  CHECK(fired.size() == 2);

  w.unwatch("c1");
  CHECK_FALSE(w.watching("c1"));
  REQUIRE(sys::write_file(events, "oom_kill 9\n").ok());
  pump(
      *loop, [] { return false; }, 100ms);
  CHECK(fired.size() == 2);
  (void)sys::remove_all(dir);
}

TEST_CASE("oom: v1 eventfd on a real memory cgroup (root)") {
  std::string own = own_memory_cgroup_dir();
  if (::geteuid() != 0 || own.empty() || own == "/sys/fs/cgroup/memory/" ||
      !sys::exists(own + "/cgroup.event_control")) {
    MESSAGE("skipped: needs root and a v1 memory cgroup of our own");
    return;
  }
  std::string cg = own + "/berth-shim-oom-test-" + std::to_string(::getpid());
  REQUIRE(sys::mkdir(cg, 0755).ok());
  auto loop = std::move(loop::Loop::create().value());
  std::vector<std::string> fired;
  OomWatcher w(*loop, [&](const std::string& id) { fired.push_back(id); });
  CgroupSet set;
  set.v1["memory"] = cg;
  REQUIRE(w.watch("c1", set).ok());
  REQUIRE(sys::write_file(cg + "/memory.limit_in_bytes", std::to_string(8 << 20)).ok());

  // A child that joins the cgroup and allocates past its limit.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!sys::write_file(cg + "/cgroup.procs", "0").ok()) ::_exit(2);
    std::vector<char*> blocks;
    for (int i = 0; i < 64; ++i) {
      char* p = static_cast<char*>(::malloc(1 << 20));
      for (int j = 0; j < (1 << 20); j += 4096) p[j] = 1;
      blocks.push_back(p);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  pump(*loop, [&] { return !fired.empty(); });
  CHECK(fired == std::vector<std::string>{"c1"});

  // Removing the cgroup signals the eventfd too: that is no OOM.
  REQUIRE(sys::rmdir(cg).ok());
  pump(*loop, [&] { return !w.watching("c1"); });
  CHECK_FALSE(w.watching("c1"));
  CHECK(fired.size() == 1);
}
