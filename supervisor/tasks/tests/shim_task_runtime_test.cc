// ShimTaskRuntime against the real berth-shim and berth (and runc) built in
// this tree, as root: each case starts real containers from a busybox
// bundle and checks what the shim, the runtime and the exits say, and that
// nothing is left behind (shim processes, sockets, runtime state).
#include "berth/tasks/shim_task_runtime.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "bundle.h"

namespace fs = std::filesystem;
using namespace berth;
using namespace berth::tasks::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNs = "tasks-test";

BundleOptions running(std::vector<std::string> args) {
  BundleOptions o;
  o.args = std::move(args);
  return o;
}
BundleOptions host_pid_namespace() {
  BundleOptions o;
  o.pid_namespace = false;
  return o;
}
BundleOptions broken_config() {
  BundleOptions o;
  o.config_override = R"({"ociVersion":"1.2.0","process":)";
  return o;
}

bool can_run() {
  if (geteuid() != 0) {
    MESSAGE("skipped: requires root (the shim runs containers)");
    return false;
  }
  if (!fs::exists("/bin/busybox")) {
    MESSAGE("skipped: requires Debian's busybox-static at /bin/busybox");
    return false;
  }
  return true;
}

// Exits and events as the runtime's thread delivers them.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<core::TaskExit> exits;
  std::vector<std::pair<std::string, std::string>> events;  // topic, container id

  void attach(core::TaskRuntime& rt) {
    rt.set_handlers(
        [this](std::string_view ns, const core::TaskExit& e) {
          CHECK(ns == kNs);
          std::lock_guard lock(mu);
          exits.push_back(e);
          cv.notify_all();
        },
        [this](std::string_view, std::string_view topic, std::string_view id) {
          std::lock_guard lock(mu);
          events.emplace_back(topic, id);
          cv.notify_all();
        });
  }
  std::optional<core::TaskExit> wait_exit(const std::string& id, const std::string& exec_id = "",
                                          std::chrono::seconds limit = 20s) {
    std::unique_lock lock(mu);
    std::optional<core::TaskExit> found;
    cv.wait_for(lock, limit, [&] {
      for (const auto& e : exits)
        if (e.id == id && e.exec_id == exec_id) found = e;
      return found.has_value();
    });
    return found;
  }
  size_t exit_count(const std::string& id) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& e : exits) n += e.id == id;
    return n;
  }
  bool saw_event(const std::string& topic, const std::string& id,
                 std::chrono::seconds limit = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] {
      for (const auto& [t, c] : events)
        if (t == topic && c == id) return true;
      return false;
    });
  }
};

struct Fixture {
  TempDir dir;
  std::string state = dir.path() + "/state";
  std::string bundles = dir.path() + "/b";
  std::string runtime = BERTH_RUNTIME_BIN;

  Fixture() {
    signal(SIGPIPE, SIG_IGN);  // as berthd: a shim that dies mid-write is an error, not a signal
    fs::create_directories(bundles);
  }
  ~Fixture() { clean_up_after(BERTH_SHIM_BIN, dir.path()); }

  std::unique_ptr<tasks::ShimTaskRuntime> make_runtime() {
    tasks::ShimTaskRuntimeOptions o;
    o.shim_binary = BERTH_SHIM_BIN;
    o.state_dir = state;
    o.daemon_address = dir.path() + "/berthd.sock";
    o.publish_binary = "/bin/true";
    o.default_runtime = runtime;
    auto rt = tasks::ShimTaskRuntime::create(o);
    REQUIRE_MESSAGE(rt.ok(), (rt ? "" : rt.error().to_string()));
    return std::move(*rt);
  }
  core::TaskCreateRequest request(const std::string& id, const BundleOptions& b = {}) {
    core::TaskCreateRequest req;
    req.id = id;
    req.bundle = make_bundle(bundles, id, b);
    return req;
  }
  // What a removed task must not leave: its shim, socket, runtime state.
  void check_nothing_left(const std::string& id) {
    CHECK(shim_pids(BERTH_SHIM_BIN, id).empty());
    if (fs::exists(state + "/s")) CHECK(fs::is_empty(state + "/s"));
    CHECK_FALSE(fs::exists(state + "/runtime/" + kNs + "/" + id));
  }
};

void run_to_exit(Fixture& f, core::TaskRuntime& rt, Recorder& rec, const std::string& id) {
  auto req = f.request(id, running({"sh", "-c", "exit 3"}));
  auto pid = rt.create(kNs, req);
  REQUIRE_MESSAGE(pid.ok(), (pid ? "" : pid.error().to_string()));
  CHECK(*pid > 0);
  auto st = rt.state(kNs, id);
  REQUIRE(st.ok());
  CHECK(st->status == core::TaskStatus::created);
  CHECK(st->pid == *pid);
  auto started = rt.start(kNs, id);
  REQUIRE_MESSAGE(started.ok(), (started ? "" : started.error().to_string()));
  auto exit = rec.wait_exit(id);
  REQUIRE(exit.has_value());
  CHECK(exit->exit_status == 3);
  CHECK(exit->pid == *pid);
  CHECK(exit->exited_at_ns > 0);
  auto removed = rt.remove(kNs, id);
  REQUIRE_MESSAGE(removed.ok(), (removed ? "" : removed.error().to_string()));
  CHECK(removed->exit_status == 3);
  CHECK(rec.exit_count(id) == 1);
  auto gone = rt.state(kNs, id);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code() == ENOENT);
  auto again = rt.remove(kNs, id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == ENOENT);
  f.check_nothing_left(id);
}

// A task created and started by a runtime that then goes away (berthd
// stopping): its shim keeps running. Returns the bundle.
std::string start_and_leave(Fixture& f, const std::string& id) {
  auto first = f.make_runtime();
  auto req = f.request(id);
  REQUIRE(first->create(kNs, req).ok());
  REQUIRE(first->start(kNs, id).ok());
  return req.bundle;
}

}  // namespace

TEST_CASE("create, start, the exit status, remove") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  run_to_exit(f, *rt, rec, "exit3");
  CHECK(rec.saw_event("/tasks/start", "exit3"));
  CHECK(rec.saw_event("/tasks/exit", "exit3"));
  CHECK((fs::status(f.state + "/tasks.ttrpc").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("runc behind the shim: the same life cycle") {
  if (!can_run()) return;
  if (!fs::exists("/usr/sbin/runc")) {
    MESSAGE("skipped: requires /usr/sbin/runc");
    return;
  }
  Fixture f;
  f.runtime = "/usr/sbin/runc";
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  run_to_exit(f, *rt, rec, "runc-exit3");
}

TEST_CASE("kill: SIGKILL reports 137, SIGTERM 143") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  REQUIRE(rt->create(kNs, f.request("k9")).ok());
  REQUIRE(rt->start(kNs, "k9").ok());
  REQUIRE(rt->kill(kNs, "k9", "", SIGKILL).ok());
  auto e9 = rec.wait_exit("k9");
  REQUIRE(e9.has_value());
  CHECK(e9->exit_status == 137);
  REQUIRE(rt->remove(kNs, "k9").ok());

  // A pid namespace's init ignores SIGTERM without a handler: this one
  // shares the host's, so the default action kills it.
  REQUIRE(rt->create(kNs, f.request("k15", host_pid_namespace())).ok());
  REQUIRE(rt->start(kNs, "k15").ok());
  REQUIRE(rt->kill(kNs, "k15", "", SIGTERM).ok());
  auto e15 = rec.wait_exit("k15");
  REQUIRE(e15.has_value());
  CHECK(e15->exit_status == 143);
  REQUIRE(rt->remove(kNs, "k15").ok());
  f.check_nothing_left("k15");
}

TEST_CASE("exec: its own exit status, then remove_exec") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  REQUIRE(rt->create(kNs, f.request("ex")).ok());
  REQUIRE(rt->start(kNs, "ex").ok());
  core::ExecRequest exec;
  exec.exec_id = "e1";
  exec.process_json =
      R"({"args":["sh","-c","exit 7"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}})";
  auto st = rt->exec(kNs, "ex", exec);
  REQUIRE_MESSAGE(st.ok(), (st ? "" : st.error().to_string()));
  auto pid = rt->start(kNs, "ex", "e1");
  REQUIRE_MESSAGE(pid.ok(), (pid ? "" : pid.error().to_string()));
  auto e = rec.wait_exit("ex", "e1");
  REQUIRE(e.has_value());
  CHECK(e->exit_status == 7);
  CHECK(e->pid == *pid);
  auto removed = rt->remove_exec(kNs, "ex", "e1");
  REQUIRE(removed.ok());
  CHECK(removed->exit_status == 7);
  CHECK(rt->state(kNs, "ex")->status == core::TaskStatus::running);
  REQUIRE(rt->kill(kNs, "ex", "", SIGKILL).ok());
  REQUIRE(rec.wait_exit("ex").has_value());
  REQUIRE(rt->remove(kNs, "ex").ok());
}

TEST_CASE("pause and resume show in state; stats, pids, update answer; remove waits for the exit") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  REQUIRE(rt->create(kNs, f.request("pr")).ok());
  auto pid = rt->start(kNs, "pr");
  REQUIRE(pid.ok());
  REQUIRE(rt->pause(kNs, "pr").ok());
  CHECK(rt->state(kNs, "pr")->status == core::TaskStatus::paused);
  REQUIRE(rt->resume(kNs, "pr").ok());
  CHECK(rt->state(kNs, "pr")->status == core::TaskStatus::running);
  auto stats = rt->stats(kNs, "pr");
  REQUIRE_MESSAGE(stats.ok(), (stats ? "" : stats.error().to_string()));
  CHECK(stats->type_url.find("io.containerd.cgroups.v") != std::string::npos);
  CHECK_FALSE(stats->data.empty());
  auto pids = rt->pids(kNs, "pr");
  REQUIRE(pids.ok());
  CHECK(std::find(pids->begin(), pids->end(), *pid) != pids->end());
  CHECK(rt->update(kNs, "pr", R"({"pids":{"limit":100}})").ok());
  // A running task is not removed: the shim refuses, the task goes on.
  auto busy = rt->remove(kNs, "pr");
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().code() == EBUSY);
  CHECK(rt->state(kNs, "pr")->status == core::TaskStatus::running);
  REQUIRE(rt->kill(kNs, "pr", "", SIGKILL).ok());
  REQUIRE(rec.wait_exit("pr").has_value());
  REQUIRE(rt->remove(kNs, "pr").ok());
}

TEST_CASE("stdout to a file:// URI holds the output") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  auto req = f.request("out", running({"sh", "-c", "echo hello-from-task"}));
  const std::string log = f.dir.path() + "/out.log";
  req.io.stdout_path = "file://" + log;
  REQUIRE(rt->create(kNs, req).ok());
  REQUIRE(rt->start(kNs, "out").ok());
  auto e = rec.wait_exit("out");
  REQUIRE(e.has_value());
  CHECK(e->exit_status == 0);
  CHECK(read_text(log) == "hello-from-task\n");
  REQUIRE(rt->remove(kNs, "out").ok());
}

TEST_CASE("a failing create leaves no shim, socket, runtime state or address") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  auto req = f.request("bad", broken_config());
  auto pid = rt->create(kNs, req);
  REQUIRE_FALSE(pid.ok());
  CHECK(pid.error().to_string().find("bad") != std::string::npos);
  f.check_nothing_left("bad");
  CHECK_FALSE(fs::exists(req.bundle + "/address"));
  auto st = rt->state(kNs, "bad");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOENT);
  // The id is free again.
  fs::remove_all(req.bundle);
  Recorder rec;
  rec.attach(*rt);
  run_to_exit(f, *rt, rec, "bad");
}

TEST_CASE("a shim killed with SIGKILL: the init's exit all the same") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  REQUIRE(rt->create(kNs, f.request("dead")).ok());
  auto pid = rt->start(kNs, "dead");
  REQUIRE(pid.ok());
  auto shims = shim_pids(BERTH_SHIM_BIN, "dead");
  REQUIRE(shims.size() == 1);
  REQUIRE(kill(shims[0], SIGKILL) == 0);
  auto e = rec.wait_exit("dead");
  REQUIRE(e.has_value());
  // The shim's `delete` force-deleted the container: 128 + SIGKILL.
  CHECK(e->exit_status == 137);
  CHECK(rec.exit_count("dead") == 1);
  CHECK(rt->state(kNs, "dead")->status == core::TaskStatus::stopped);
  for (int i = 0; i < 50 && process_alive(static_cast<pid_t>(*pid)); ++i)
    std::this_thread::sleep_for(100ms);
  CHECK_FALSE(process_alive(static_cast<pid_t>(*pid)));
  auto removed = rt->remove(kNs, "dead");
  REQUIRE(removed.ok());
  CHECK(removed->exit_status == 137);
  f.check_nothing_left("dead");
}

TEST_CASE("recover: a fresh runtime reconnects to a live shim and gets its exit") {
  if (!can_run()) return;
  Fixture f;
  const std::string bundle = start_and_leave(f, "live");  // berthd goes away; the shim stays
  REQUIRE(shim_pids(BERTH_SHIM_BIN, "live").size() == 1);
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  auto found = rt->recover(kNs, {{"live", bundle}, {"never", f.bundles + "/never"}});
  REQUIRE_MESSAGE(found.ok(), (found ? "" : found.error().to_string()));
  REQUIRE(found->size() == 2);
  REQUIRE((*found)[0].info.has_value());
  CHECK((*found)[0].info->status == core::TaskStatus::running);
  CHECK_FALSE((*found)[1].info.has_value());
  REQUIRE(rt->kill(kNs, "live", "", SIGKILL).ok());
  auto e = rec.wait_exit("live");
  REQUIRE(e.has_value());
  CHECK(e->exit_status == 137);
  REQUIRE(rt->remove(kNs, "live").ok());
  f.check_nothing_left("live");
}

TEST_CASE("recover: a task whose shim died while berthd was away is reported stopped") {
  if (!can_run()) return;
  Fixture f;
  const std::string bundle = start_and_leave(f, "orphan");
  auto shims = shim_pids(BERTH_SHIM_BIN, "orphan");
  REQUIRE(shims.size() == 1);
  REQUIRE(kill(shims[0], SIGKILL) == 0);
  for (int i = 0; i < 50 && process_alive(shims[0]); ++i) std::this_thread::sleep_for(100ms);
  auto rt = f.make_runtime();
  auto found = rt->recover(kNs, {{"orphan", bundle}});
  REQUIRE_MESSAGE(found.ok(), (found ? "" : found.error().to_string()));
  REQUIRE(found->size() == 1);
  REQUIRE((*found)[0].info.has_value());
  CHECK((*found)[0].info->status == core::TaskStatus::stopped);
  CHECK((*found)[0].info->exit_status == 137);
  CHECK(rt->state(kNs, "orphan").error().code() == ENOENT);
  f.check_nothing_left("orphan");
}

TEST_CASE("50 create/start/remove cycles leave the descriptor count as it was") {
  if (!can_run()) return;
  Fixture f;
  auto rt = f.make_runtime();
  Recorder rec;
  rec.attach(*rt);
  auto cycle = [&](int i) {
    const std::string id = "c" + std::to_string(i);
    REQUIRE(rt->create(kNs, f.request(id, running({"true"}))).ok());
    REQUIRE(rt->start(kNs, id).ok());
    REQUIRE(rec.wait_exit(id).has_value());
    REQUIRE(rt->remove(kNs, id).ok());
    fs::remove_all(f.bundles + "/" + id);
  };
  cycle(0);  // first use opens what stays open (the loop, the events socket)
  const size_t before = open_fds();
  for (int i = 1; i <= 50; ++i) cycle(i);
  CHECK(open_fds() == before);
  CHECK(fs::is_empty(f.state + "/s"));
}
