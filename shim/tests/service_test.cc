// The Task service end to end over ttrpc, driving a fake runtime
// (tests/data/fake-runtime.sh): life cycle, exit statuses, event order
// (TaskExit never before TaskStart), early exits, illegal transitions.
// Needs no root: the test process becomes a child subreaper so that the fake
// containers are re-parented to it, as they are to a real shim.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "cgroup_stats.h"
#include "cgroups/v2/metrics.pb.h"
#include "command.h"
#include "containerd/events/task.pb.h"
#include "containerd/services/events/ttrpc/v1/events.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "berth/loop/loop.h"
#include "publisher.h"
#include "reaper.h"
#include "service.h"
#include "berth/ttrpc/client.h"
#include "berth/ttrpc/server.h"

using namespace berth;
using namespace berth::shim;
using namespace std::chrono_literals;
namespace task = containerd::task::v2;
using ttrpc::Code;

#ifndef BERTH_SHIM_TEST_DATA
#error "BERTH_SHIM_TEST_DATA must name shim/tests/data"
#endif

namespace {

struct Event {
  std::string topic;
  std::string ns;
  containerd::events::TaskExit exit;  // for /tasks/exit
  std::string oom_id;                 // for /tasks/oom
};

struct Rig {
  std::string dir;
  std::unique_ptr<loop::Loop> loop = std::move(loop::Loop::create().value());
  Reaper reaper{*loop};
  CommandRunner runner{*loop, reaper};
  ttrpc::Server events_server{*loop};
  std::vector<Event> events;
  std::unique_ptr<Publisher> publisher;
  ttrpc::Server server{*loop};
  std::unique_ptr<TaskService> service;
  std::unique_ptr<ttrpc::Client> client;
  bool shut_down = false;

  // Set before the Rig is built (the service reads it then).
  std::function<Result<CgroupSet>(pid_t)> cgroups_of;

  explicit Rig(std::function<Result<CgroupSet>(pid_t)> fake_cgroups = nullptr)
      : cgroups_of(std::move(fake_cgroups)) {
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    char tmpl[] = "/tmp/berth-shim-svc-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    events_server.register_method(
        "containerd.services.events.ttrpc.v1.Events", "Forward",
        [this](const ttrpc::IncomingRequest& req, ttrpc::Responder r) {
          containerd::services::events::ttrpc::v1::ForwardRequest f;
          REQUIRE(f.ParseFromString(req.payload));
          Event e{f.envelope().topic(), req.meta("containerd-namespace-ttrpc"), {}, {}};
          CHECK(f.envelope().namespace_() == "testns");
          if (e.topic == "/tasks/exit") {
            CHECK(f.envelope().event().type_url() == "containerd.events.TaskExit");
            REQUIRE(e.exit.ParseFromString(f.envelope().event().value()));
          }
          if (e.topic == "/tasks/oom") {
            CHECK(f.envelope().event().type_url() == "containerd.events.TaskOOM");
            containerd::events::TaskOOM oom;
            REQUIRE(oom.ParseFromString(f.envelope().event().value()));
            e.oom_id = oom.container_id();
          }
          events.push_back(e);
          r.reply(google::protobuf::Empty().SerializeAsString());
        });
    REQUIRE(events_server.serve(sys::listen_unix(dir + "/events.sock", 16).value()).ok());
    publisher = std::make_unique<Publisher>(*loop, dir + "/events.sock", "testns");
    ServiceConfig config;
    config.ns = "testns";
    config.default_runtime = std::string(BERTH_SHIM_TEST_DATA) + "/fake-runtime.sh";
    config.default_root = dir + "/root";
    config.reaper = &reaper;
    config.cgroups_of = cgroups_of;
    service = std::make_unique<TaskService>(*loop, server, *publisher, runner, config);
    REQUIRE(reaper.start([this](pid_t pid, int status) { service->on_exit(pid, status); }).ok());
    service->register_methods();
    service->on_shutdown([this] { shut_down = true; });
    REQUIRE(server.serve(sys::listen_unix(dir + "/shim.sock", 16).value()).ok());
    client = std::make_unique<ttrpc::Client>(*loop, dir + "/shim.sock");
  }

  ~Rig() {
    client.reset();
    service.reset();
    (void)sys::remove_all(dir);
  }

  // A bundle: the fake init's shell command and a config.json (by default
  // one with a pid namespace of its own).
  std::string bundle(const std::string& id, const std::string& cmd,
                     const std::string& config = R"({"linux":{"namespaces":[{"type":"pid"}]}})") {
    std::string b = dir + "/" + id;
    REQUIRE(sys::mkdir(b, 0700).ok());
    REQUIRE(sys::write_file_atomic(b + "/cmd", cmd, 0600).ok());
    REQUIRE(sys::write_file_atomic(b + "/config.json", config, 0600).ok());
    return b;
  }

  std::string runtime_calls() {
    auto t = sys::read_file(dir + "/root/testns/calls.log");
    return t ? *t : std::string();
  }

  void pump_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    for (auto waited = 0ms; !done() && waited < limit; waited += 5ms) (void)loop->run_once(5ms);
  }

  void call_async(const std::string& method, const google::protobuf::MessageLite& req,
                  std::optional<ttrpc::Client::Reply>* out) {
    client->call(kTaskService, method, req.SerializeAsString(), {}, 10s,
                 [out](ttrpc::Client::Reply r) { *out = std::move(r); });
  }

  template <class Resp = google::protobuf::Empty>
  ttrpc::Client::Reply call(const std::string& method, const google::protobuf::MessageLite& req,
                            Resp* resp = nullptr) {
    std::optional<ttrpc::Client::Reply> out;
    call_async(method, req, &out);
    pump_until([&] { return out.has_value(); });
    REQUIRE(out.has_value());
    if (resp && out->status.ok()) REQUIRE(resp->ParseFromString(out->payload));
    return *out;
  }

  std::vector<std::string> topics() const {
    std::vector<std::string> t;
    for (const auto& e : events) t.push_back(e.topic);
    return t;
  }

  task::CreateTaskRequest create_request(const std::string& id, const std::string& b) {
    task::CreateTaskRequest req;
    req.set_id(id);
    req.set_bundle(b);
    req.set_stdout("file://" + b + "/stdout.log");
    return req;
  }
};

task::StateResponse state_of(Rig& rig, const std::string& id, const std::string& exec_id = "") {
  task::StateRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  task::StateResponse resp;
  auto r = rig.call("State", req, &resp);
  REQUIRE(r.status.ok());
  return resp;
}

}  // namespace

TEST_CASE("service: create, start, kill, wait, delete, shutdown") {
  Rig rig;
  std::string b = rig.bundle("c1", "echo started; exec sleep 100");
  task::CreateTaskResponse created;
  auto r = rig.call("Create", rig.create_request("c1", b), &created);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message);
  CHECK(created.pid() > 0);
  CHECK(state_of(rig, "c1").status() == containerd::v1::types::CREATED);

  task::WaitRequest wait;
  wait.set_id("c1");
  std::optional<ttrpc::Client::Reply> waited;
  rig.call_async("Wait", wait, &waited);

  task::StartRequest start;
  start.set_id("c1");
  task::StartResponse started;
  REQUIRE(rig.call("Start", start, &started).status.ok());
  CHECK(started.pid() == created.pid());
  auto st = state_of(rig, "c1");
  CHECK(st.status() == containerd::v1::types::RUNNING);
  CHECK(st.bundle() == b);

  // Illegal now: a second Start, a Delete, a Resume.
  auto again = rig.call("Start", start);
  CHECK(again.status.code == Code::kFailedPrecondition);
  CHECK(again.status.message == "cannot start a running process");
  task::DeleteRequest del;
  del.set_id("c1");
  auto early_delete = rig.call("Delete", del);
  CHECK(early_delete.status.code == Code::kFailedPrecondition);
  CHECK(early_delete.status.message == "cannot delete a running process");
  task::ResumeRequest resume;
  resume.set_id("c1");
  CHECK(rig.call("Resume", resume).status.message == "cannot resume a running process");
  CHECK_FALSE(waited.has_value());

  task::PidsRequest pids;
  pids.set_id("c1");
  task::PidsResponse listed;
  REQUIRE(rig.call("Pids", pids, &listed).status.ok());
  REQUIRE(listed.processes_size() == 1);
  CHECK(listed.processes(0).pid() == created.pid());

  task::KillRequest kill;
  kill.set_id("c1");
  kill.set_signal(SIGTERM);
  REQUIRE(rig.call("Kill", kill).status.ok());
  rig.pump_until([&] { return waited.has_value(); });
  REQUIRE(waited.has_value());
  task::WaitResponse wr;
  REQUIRE(wr.ParseFromString(waited->payload));
  CHECK(wr.exit_status() == 128 + SIGTERM);
  CHECK(wr.exited_at().seconds() > 0);

  st = state_of(rig, "c1");
  CHECK(st.status() == containerd::v1::types::STOPPED);
  CHECK(st.exit_status() == 143);
  auto kill_again = rig.call("Kill", kill);
  CHECK(kill_again.status.code == Code::kNotFound);
  CHECK(kill_again.status.message == "process already finished: not found");
  // A Wait after the exit answers at once.
  task::WaitResponse wr2;
  REQUIRE(rig.call("Wait", wait, &wr2).status.ok());
  CHECK(wr2.exit_status() == 143);

  task::DeleteResponse deleted;
  REQUIRE(rig.call("Delete", del, &deleted).status.ok());
  CHECK(deleted.exit_status() == 143);
  CHECK(deleted.pid() == created.pid());
  task::StateRequest sr;
  sr.set_id("c1");
  CHECK(rig.call("State", sr).status.code == Code::kNotFound);

  rig.pump_until([&] { return rig.events.size() >= 4; });
  CHECK(rig.topics() ==
        std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"});
  for (const auto& e : rig.events) CHECK(e.ns == "testns");
  CHECK(rig.events[2].exit.exit_status() == 143);
  CHECK(rig.events[2].exit.id() == "c1");
  auto exit_record = sys::read_file(b + "/berth-shim.exit");
  REQUIRE(exit_record.ok());
  CHECK(exit_record->rfind("143 ", 0) == 0);
  auto out = sys::read_file(b + "/stdout.log");
  REQUIRE(out.ok());
  CHECK(*out == "started\n");

  task::ShutdownRequest shut;
  shut.set_id("c1");
  REQUIRE(rig.call("Shutdown", shut).status.ok());
  rig.pump_until([&] { return rig.shut_down; });
  CHECK(rig.shut_down);
}

TEST_CASE("service: an init that exits at once reports TaskExit after TaskStart") {
  Rig rig;
  std::string b = rig.bundle("quick", "exit 7");
  REQUIRE(rig.call("Create", rig.create_request("quick", b)).status.ok());
  task::StartRequest start;
  start.set_id("quick");
  REQUIRE(rig.call("Start", start).status.ok());
  task::WaitRequest wait;
  wait.set_id("quick");
  task::WaitResponse wr;
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  CHECK(wr.exit_status() == 7);
  rig.pump_until([&] { return rig.events.size() >= 3; });
  CHECK(rig.topics() == std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exit"});
}

TEST_CASE("service: an exec that exits before its Start returns is still reported") {
  Rig rig;
  std::string b = rig.bundle("c2", "exec sleep 100");
  REQUIRE(rig.call("Create", rig.create_request("c2", b)).status.ok());
  task::StartRequest start;
  start.set_id("c2");
  REQUIRE(rig.call("Start", start).status.ok());

  task::ExecProcessRequest exec;
  exec.set_id("c2");
  exec.set_exec_id("e1");
  exec.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  exec.mutable_spec()->set_value("exit 3");  // the fake runtime runs it with sh
  REQUIRE(rig.call("Exec", exec).status.ok());
  CHECK(rig.call("Exec", exec).status.code == Code::kAlreadyExists);
  CHECK(state_of(rig, "c2", "e1").status() == containerd::v1::types::CREATED);

  task::StartRequest start_exec;
  start_exec.set_id("c2");
  start_exec.set_exec_id("e1");
  task::StartResponse started;
  REQUIRE(rig.call("Start", start_exec, &started).status.ok());
  CHECK(started.pid() > 0);
  task::WaitRequest wait;
  wait.set_id("c2");
  wait.set_exec_id("e1");
  task::WaitResponse wr;
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  CHECK(wr.exit_status() == 3);
  task::KillRequest kill;
  kill.set_id("c2");
  kill.set_exec_id("e1");
  kill.set_signal(SIGKILL);
  CHECK(rig.call("Kill", kill).status.code == Code::kNotFound);
  task::DeleteRequest del;
  del.set_id("c2");
  del.set_exec_id("e1");
  task::DeleteResponse deleted;
  REQUIRE(rig.call("Delete", del, &deleted).status.ok());
  CHECK(deleted.exit_status() == 3);
  CHECK(rig.call("State", del).status.code == Code::kNotFound);

  rig.pump_until([&] { return rig.events.size() >= 6; });
  CHECK(rig.topics() == std::vector<std::string>{"/tasks/create", "/tasks/start",
                                                 "/tasks/exec-added", "/tasks/exec-started",
                                                 "/tasks/exit", "/tasks/delete"});
  CHECK(rig.events[4].exit.id() == "e1");
  CHECK(rig.events[4].exit.exit_status() == 3);

  // The container is still there: Shutdown keeps the shim running.
  task::ShutdownRequest shut;
  REQUIRE(rig.call("Shutdown", shut).status.ok());
  for (int i = 0; i < 10; ++i) (void)rig.loop->run_once(5ms);
  CHECK_FALSE(rig.shut_down);
  task::KillRequest kill_init;
  kill_init.set_id("c2");
  kill_init.set_signal(SIGKILL);
  REQUIRE(rig.call("Kill", kill_init).status.ok());
  task::WaitRequest wait_init;
  wait_init.set_id("c2");
  task::WaitResponse wi;
  REQUIRE(rig.call("Wait", wait_init, &wi).status.ok());
  CHECK(wi.exit_status() == 137);
}

TEST_CASE("service: errors carry codes containerd maps") {
  Rig rig;
  task::StateRequest sr;
  sr.set_id("nope");
  auto r = rig.call("State", sr);
  CHECK(r.status.code == Code::kNotFound);
  CHECK(r.status.message == "container nope: not found");

  std::string b = rig.bundle("bad", "true");
  REQUIRE(sys::write_file_atomic(b + "/fail-create", "", 0600).ok());
  r = rig.call("Create", rig.create_request("bad", b));
  CHECK(r.status.code == Code::kUnknown);
  CHECK(r.status.message.find("fake create refused for bad") != std::string::npos);
  CHECK(rig.call("State", sr).status.code == Code::kNotFound);

  auto bad_id = rig.create_request("../escape", b);
  CHECK(rig.call("Create", bad_id).status.code == Code::kInvalidArgument);

  std::string g = rig.bundle("good", "exec sleep 100");
  REQUIRE(rig.call("Create", rig.create_request("good", g)).status.ok());
  CHECK(rig.call("Create", rig.create_request("good", g)).status.code == Code::kAlreadyExists);
  task::PauseRequest pause;
  pause.set_id("good");
  auto p = rig.call("Pause", pause);
  CHECK(p.status.code == Code::kFailedPrecondition);
  CHECK(p.status.message == "cannot pause a created process");
  task::CheckpointTaskRequest checkpoint;
  checkpoint.set_id("good");
  CHECK(rig.call("Checkpoint", checkpoint).status.code == Code::kUnimplemented);
  // Deleting a created container kills its init.
  task::DeleteRequest del;
  del.set_id("good");
  REQUIRE(rig.call("Delete", del).status.ok());
}

TEST_CASE(
    "service: a create failing after the runtime's create deletes the container and frees its id") {
  Rig rig;
  std::string b = rig.bundle("rb", "exec sleep 100");
  auto force_deletes = [&] {
    std::string calls = rig.runtime_calls();
    size_t n = 0;
    for (size_t at = calls.find("delete --force rb\n"); at != std::string::npos;
         at = calls.find("delete --force rb\n", at + 1))
      ++n;
    return n;
  };
  // The runtime created it, but its pid file names no pid.
  REQUIRE(sys::write_file_atomic(b + "/bad-pid-file", "", 0600).ok());
  auto r = rig.call("Create", rig.create_request("rb", b));
  CHECK(r.status.code == Code::kUnknown);
  CHECK(r.status.message.find("create rb: pid file") != std::string::npos);
  rig.pump_until([&] { return force_deletes() == 1; });
  CHECK(force_deletes() == 1);
  REQUIRE(sys::unlink(b + "/bad-pid-file").ok());

  // A terminal the runtime never sends (the fake ignores --console-socket):
  // the init was running, so it is killed as well as deleted.
  auto tty = rig.create_request("rb", b);
  tty.set_terminal(true);
  tty.clear_stdout();
  r = rig.call("Create", tty);
  CHECK(r.status.code == Code::kUnknown);
  pid_t init = static_cast<pid_t>(std::stol(sys::read_file(b + "/init.pid").value()));
  rig.pump_until([&] { return ::kill(init, 0) != 0; });
  CHECK(::kill(init, 0) != 0);
  rig.pump_until([&] { return force_deletes() == 2; });
  CHECK(force_deletes() == 2);
  task::StateRequest sr;
  sr.set_id("rb");
  CHECK(rig.call("State", sr).status.code == Code::kNotFound);

  // Nothing of either attempt holds the id.
  REQUIRE_MESSAGE(rig.call("Create", rig.create_request("rb", b)).status.ok(),
                  "create after two rollbacks");
  task::DeleteRequest del;
  del.set_id("rb");
  REQUIRE(rig.call("Delete", del).status.ok());
}

TEST_CASE("service: Stats answers the cgroups Metrics of the container's cgroup") {
  char tmpl[] = "/tmp/berth-shim-cg-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string cg = tmpl;
  REQUIRE(sys::write_file_atomic(cg + "/memory.current", "1234567\n").ok());
  REQUIRE(sys::write_file_atomic(cg + "/memory.events", "oom 0\noom_kill 0\n").ok());
  REQUIRE(sys::write_file_atomic(cg + "/pids.current", "4\n").ok());
  REQUIRE(sys::write_file_atomic(cg + "/cpu.stat", "usage_usec 99\n").ok());
  pid_t seen = 0;
  Rig rig([&](pid_t pid) -> Result<CgroupSet> {
    seen = pid;
    CgroupSet set;
    set.unified = true;
    set.dir = cg;
    return set;
  });
  std::string b = rig.bundle("s1", "exec sleep 100");
  task::CreateTaskResponse created;
  REQUIRE(rig.call("Create", rig.create_request("s1", b), &created).status.ok());
  CHECK(seen == static_cast<pid_t>(created.pid()));  // found from the init's pid

  task::StatsRequest sr;
  sr.set_id("s1");
  task::StatsResponse stats;
  auto r = rig.call("Stats", sr, &stats);
  REQUIRE_MESSAGE(r.status.ok(), r.status.message);
  CHECK(stats.stats().type_url() == "io.containerd.cgroups.v2.Metrics");
  io::containerd::cgroups::v2::Metrics m;
  REQUIRE(m.ParseFromString(stats.stats().value()));
  CHECK(m.memory().usage() == 1234567);
  CHECK(m.pids().current() == 4);
  CHECK(m.cpu().usage_usec() == 99);
  sr.set_id("nope");
  CHECK(rig.call("Stats", sr).status.code == Code::kNotFound);

  // The OOM watch on the same cgroup: oom_kill going up is a TaskOOM.
  REQUIRE(sys::write_file(cg + "/memory.events", "oom 1\noom_kill 1\n").ok());
  rig.pump_until([&] {
    for (const auto& e : rig.events)
      if (e.topic == "/tasks/oom") return true;
    return false;
  });
  bool oom = false;
  for (const auto& e : rig.events)
    if (e.topic == "/tasks/oom") oom = e.oom_id == "s1";
  CHECK(oom);

  // A cgroup that is gone: NotFound.
  (void)sys::remove_all(cg);
  sr.set_id("s1");
  CHECK(rig.call("Stats", sr).status.code == Code::kNotFound);
  task::DeleteRequest del;
  del.set_id("s1");
  REQUIRE(rig.call("Delete", del).status.ok());
}

TEST_CASE(
    "service: an init without its own pid namespace gets the rest killed before its exit is "
    "reported") {
  Rig rig;
  // Host pid namespace (no pid entry): kill --all on the init's exit.
  std::string b = rig.bundle("shared", "exit 4", R"({"linux":{"namespaces":[{"type":"mount"}]}})");
  REQUIRE(rig.call("Create", rig.create_request("shared", b)).status.ok());
  task::StartRequest start;
  start.set_id("shared");
  REQUIRE(rig.call("Start", start).status.ok());
  task::WaitRequest wait;
  wait.set_id("shared");
  task::WaitResponse wr;
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  CHECK(wr.exit_status() == 4);
  CHECK(rig.runtime_calls().find("kill --all shared 9\n") != std::string::npos);

  // Its own pid namespace: the kernel did it; no kill.
  std::string b2 = rig.bundle("own", "exit 5");
  REQUIRE(rig.call("Create", rig.create_request("own", b2)).status.ok());
  start.set_id("own");
  REQUIRE(rig.call("Start", start).status.ok());
  wait.set_id("own");
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  CHECK(wr.exit_status() == 5);
  CHECK(rig.runtime_calls().find("kill --all own") == std::string::npos);

  // No readable config.json: killed, to be safe (as the runc shim).
  std::string b3 = rig.bundle("noconfig", "exit 6");
  REQUIRE(sys::unlink(b3 + "/config.json").ok());
  REQUIRE(rig.call("Create", rig.create_request("noconfig", b3)).status.ok());
  start.set_id("noconfig");
  REQUIRE(rig.call("Start", start).status.ok());
  wait.set_id("noconfig");
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  CHECK(rig.runtime_calls().find("kill --all noconfig 9\n") != std::string::npos);
}

TEST_CASE("service: binary:// logger gets stdout and stderr on fds 3 and 4") {
  Rig rig;
  std::string b = rig.bundle("lg", "echo to-out; echo to-err >&2; exit 0");
  auto req = rig.create_request("lg", b);
  std::string uri =
      "binary://" + std::string(BERTH_SHIM_TEST_DATA) + "/fake-logger.sh?dir=" + b + "&x=a%20b";
  req.set_stdout(uri);
  req.set_stderr(uri);
  REQUIRE_MESSAGE(rig.call("Create", req).status.ok(), "create with a binary logger");
  task::StartRequest start;
  start.set_id("lg");
  REQUIRE(rig.call("Start", start).status.ok());
  task::WaitRequest wait;
  wait.set_id("lg");
  task::WaitResponse wr;
  REQUIRE(rig.call("Wait", wait, &wr).status.ok());
  // The logger ends at the end of its pipes.
  rig.pump_until([&] { return sys::exists(b + "/lg.done"); });
  CHECK(sys::read_file(b + "/lg.out").value() == "to-out\n");
  CHECK(sys::read_file(b + "/lg.err").value() == "to-err\n");
  std::string env = sys::read_file(b + "/lg.env").value();
  CHECK(env.find("CONTAINER_ID=lg\n") != std::string::npos);
  CHECK(env.find("CONTAINER_NAMESPACE=testns\n") != std::string::npos);
  CHECK(env.find("TTRPC_ADDRESS") == std::string::npos);  // nothing of the shim's
  task::DeleteRequest del;
  del.set_id("lg");
  REQUIRE(rig.call("Delete", del).status.ok());

  // A logger that is not there fails the Create, naming it.
  std::string b2 = rig.bundle("lg2", "true");
  auto bad = rig.create_request("lg2", b2);
  bad.set_stdout("binary:///nonexistent/logger");
  auto r = rig.call("Create", bad);
  CHECK(r.status.code != Code::kOk);
  CHECK(r.status.message.find("/nonexistent/logger") != std::string::npos);
  task::StateRequest sr;
  sr.set_id("lg2");
  CHECK(rig.call("State", sr).status.code == Code::kNotFound);
}
