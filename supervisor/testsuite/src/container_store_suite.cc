// The container store conformance suite (see container_store_suite.h).

#include "berth/testsuite/container_store_suite.h"

#include <doctest/doctest.h>

#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

namespace berth::testsuite {

namespace {

core::Container sample(std::string id, std::string name) {
  core::Container c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.image_name = "docker.io/library/busybox:latest";
  c.image_id = "sha256:" + std::string(64, 'b');
  c.snapshotter = "overlayfs";
  c.snapshot_key = c.id;
  c.created_at_ns = 1700000000123456789;
  return c;
}

// Every field set to a non-default value, so a field the store drops fails.
core::ContainerConfig full_config() {
  core::ContainerConfig c;
  c.image = "busybox";
  c.cmd = {"sh", "-c", "echo \"hi\"\n"};
  c.entrypoint = std::vector<std::string>{};
  c.env = {"A=1", "B=two words"};
  c.working_dir = "/tmp";
  c.user = "nobody:nogroup";
  c.group_add = {"wheel"};
  c.tty = c.open_stdin = true;
  c.stop_signal = "SIGINT";
  c.stop_timeout = 3;
  c.hostname = "box";
  c.domainname = "example.org";
  c.labels = {{"a", "b"}};
  c.mounts = {{"bind", "/srv", "/data", true, "rshared", {}},
              {"tmpfs", "", "/run", false, "", {"size=1m", "mode=1777"}}};
  c.read_only = c.privileged = c.no_new_privileges = c.init = c.auto_remove = true;
  c.cap_add = {"NET_ADMIN"};
  c.cap_drop = {"ALL"};
  c.seccomp_profile = "unconfined";
  c.resources = {64 << 20, -1, 1500000000, 512, 100};
  c.ulimits = {{"nofile", 1024, 2048}};
  c.devices = {{"/dev/null", "/dev/mynull", "rw"}};
  c.shm_size = 1 << 20;
  c.sysctls = {{"net.ipv4.ip_forward", "1"}};
  c.ipc_mode = "host";
  c.pid_mode = "container:other";
  c.uts_mode = "host";
  c.network_mode = "none";
  c.runtime = "runc";
  c.restart = {"on-failure", 3};
  c.log_options = {{"max-size", "10m"}};
  return c;
}

}  // namespace

void run_container_store_suite(const ContainerStoreFactory& make) {
  TempDir tmp("berth-container-suite-");
  auto store = make(tmp.path());
  REQUIRE(store != nullptr);
  const std::string id1(64, '1'), id2(64, '2');

  SUBCASE("every field round-trips") {
    auto c = sample(id1, "web");
    c.config = full_config();
    c.state.status = core::ContainerStatus::exited;
    c.state.exit_code = 137;
    c.state.oom_killed = true;
    c.state.error = "boom";
    c.state.started_at_ns = 1;
    c.state.finished_at_ns = 2;
    c.state.restart_count = 4;
    c.state.stopped_by_user = true;
    auto st = store->create("default", c);
    REQUIRE_MESSAGE(st.ok(), why(st));
    auto got = store->get("default", id1);
    REQUIRE_MESSAGE(got.ok(), why(got));
    CHECK(*got == c);
  }

  SUBCASE("an entrypoint unset and one set to nothing differ") {
    auto a = sample(id1, "a"), b = sample(id2, "b");
    b.config.entrypoint = std::vector<std::string>{};
    REQUIRE(store->create("default", a).ok());
    REQUIRE(store->create("default", b).ok());
    CHECK(!store->get("default", id1)->config.entrypoint.has_value());
    CHECK(store->get("default", id2)->config.entrypoint.has_value());
  }

  SUBCASE("ids and names are unique per namespace") {
    REQUIRE(store->create("default", sample(id1, "web")).ok());
    auto same_name = store->create("default", sample(id2, "web"));
    REQUIRE(!same_name.ok());
    CHECK(same_name.error().code() == EEXIST);
    CHECK(same_name.error().to_string().find("\"/web\" is already in use") != std::string::npos);
    auto same_id = store->create("default", sample(id1, "other"));
    REQUIRE(!same_id.ok());
    CHECK(same_id.error().code() == EEXIST);
    CHECK(store->create("k8s.io", sample(id1, "web")).ok());
    CHECK(store->list("default")->size() == 1);
    CHECK(store->list("k8s.io")->size() == 1);
    CHECK(store->list("empty")->empty());
  }

  SUBCASE("state updates replace the state only") {
    auto c = sample(id1, "web");
    c.config.cmd = {"true"};
    REQUIRE(store->create("default", c).ok());
    core::ContainerState s;
    s.status = core::ContainerStatus::running;
    s.pid = 42;
    s.started_at_ns = 7;
    REQUIRE(store->update_state("default", id1, s).ok());
    auto got = store->get("default", id1);
    REQUIRE(got.ok());
    CHECK(got->state == s);
    CHECK(got->config.cmd == std::vector<std::string>{"true"});
    auto missing = store->update_state("default", id2, s);
    REQUIRE(!missing.ok());
    CHECK(missing.error().code() == ENOENT);
  }

  SUBCASE("rename keeps names unique") {
    REQUIRE(store->create("default", sample(id1, "a")).ok());
    REQUIRE(store->create("default", sample(id2, "b")).ok());
    auto c = *store->get("default", id1);
    c.name = "b";
    auto clash = store->update("default", c);
    REQUIRE(!clash.ok());
    CHECK(clash.error().code() == EEXIST);
    c.name = "c";
    REQUIRE(store->update("default", c).ok());
    CHECK(store->get("default", id1)->name == "c");
  }

  SUBCASE("remove") {
    REQUIRE(store->create("default", sample(id1, "web")).ok());
    REQUIRE(store->remove("default", id1).ok());
    auto again = store->remove("default", id1);
    REQUIRE(!again.ok());
    CHECK(again.error().code() == ENOENT);
    auto got = store->get("default", id1);
    REQUIRE(!got.ok());
    CHECK(got.error().to_string().find("No such container") != std::string::npos);
    // The name is free again.
    CHECK(store->create("default", sample(id2, "web")).ok());
  }

  SUBCASE("records survive a reopen") {
    auto c = sample(id1, "web");
    c.config = full_config();
    REQUIRE(store->create("default", c).ok());
    store.reset();
    store = make(tmp.path());
    auto got = store->get("default", id1);
    REQUIRE_MESSAGE(got.ok(), why(got));
    CHECK(*got == c);
  }

  SUBCASE("a bad namespace is refused") {
    auto st = store->create("bad ns", sample(id1, "web"));
    REQUIRE(!st.ok());
    CHECK(st.error().code() == EINVAL);
  }
}

}  // namespace berth::testsuite
