#include <doctest/doctest.h>

#include <algorithm>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/base/sys.h"
#include "fixture.h"
#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {

using Fixture = testing::InputFixture;

std::string types(const std::vector<Namespace>& nss) {
  std::string out;
  for (const auto& n : nss) out += n.type + (n.path.empty() ? "" : "=" + n.path) + " ";
  return out;
}

}  // namespace

TEST_CASE("namespaces: docker's five, host modes remove one, container: modes join a path") {
  Fixture f;
  CHECK(types(*build_namespaces(f.in)) == "mount network uts pid ipc ");
  f.config.network_mode = "host";
  f.config.pid_mode = "host";
  f.config.ipc_mode = "container:db";
  f.config.uts_mode = "host";
  f.in.namespace_paths["ipc"] = "/proc/42/ns/ipc";
  CHECK(types(*build_namespaces(f.in)) == "mount ipc=/proc/42/ns/ipc ");
  f.config.network_mode = "none";  // a private namespace with only lo
  f.in.cgroup_v2 = true;           // docker's cgroupns default on v2: private
  CHECK(types(*build_namespaces(f.in)) == "mount network ipc=/proc/42/ns/ipc cgroup ");
  f.in.namespace_paths.clear();
  auto missing = build_namespaces(f.in);
  REQUIRE(!missing.ok());
  CHECK(missing.error().message().find("IPC `container:db`") != std::string::npos);
  f.config.ipc_mode = "bogus";
  auto bad = build_namespaces(f.in);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message() == "invalid IPC mode: bogus");
}

TEST_CASE("sysctls: only namespaced ones, and only when the container owns the namespace") {
  std::vector<Namespace> all = {{"mount", ""}, {"network", ""}, {"uts", ""}, {"ipc", ""}};
  CHECK(validate_sysctls({{"net.ipv4.ip_forward", "1"},
                          {"kernel.shmmax", "1"},
                          {"fs.mqueue.msg_max", "5"},
                          {"kernel.domainname", "x"}},
                         all)
            .ok());
  std::vector<Namespace> host_net = {{"mount", ""}, {"uts", ""}, {"ipc", ""}};
  auto net = validate_sysctls({{"net.ipv4.ip_forward", "1"}}, host_net);
  REQUIRE(!net.ok());
  CHECK(net.error().message() ==
        "sysctl \"net.ipv4.ip_forward\" is not allowed in the hosts network namespace");
  auto ipc = validate_sysctls({{"kernel.msgmax", "1"}}, {{"network", ""}});
  REQUIRE(!ipc.ok());
  CHECK(ipc.error().message() ==
        "sysctl \"kernel.msgmax\" is not allowed in the hosts ipc namespace");
  auto host = validate_sysctls({{"vm.swappiness", "1"}}, all);
  REQUIRE(!host.ok());
  CHECK(host.error().message() == "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
  CHECK(!validate_sysctls({{"kernel.hostname", "x"}}, all).ok());
}

TEST_CASE("resources: memory-swap semantics, cpus as a CFS quota, pids") {
  auto none = build_resources({}, 2);
  REQUIRE(none.ok());
  CHECK(!none->memory_limit);
  CHECK(!none->cpu_quota);
  CHECK(!none->pids_limit);
  auto r = build_resources({64 << 20, 0, 1500000000, 512, 100}, 2);
  REQUIRE(r.ok());
  CHECK(*r->memory_limit == 64 << 20);
  CHECK(*r->memory_swap == 128 << 20);  // unset: twice the memory
  CHECK(*r->cpu_period == 100000);
  CHECK(*r->cpu_quota == 150000);
  CHECK(*r->cpu_shares == 512);
  CHECK(*r->pids_limit == 100);
  CHECK(!build_resources({64 << 20, -1, 0, 0, -1}, 2)->memory_swap);  // unlimited swap
  CHECK(*build_resources({64 << 20, -1, 0, 0, -1}, 2)->pids_limit == -1);
  CHECK(*build_resources({64 << 20, 100 << 20, 0, 0, 0}, 2)->memory_swap == 100 << 20);
  auto small = build_resources({1 << 20, 0, 0, 0, 0}, 2);
  REQUIRE(!small.ok());
  CHECK(small.error().message() == "memory: minimum memory limit allowed is 6MB");
  CHECK(!build_resources({64 << 20, 32 << 20, 0, 0, 0}, 2).ok());
  CHECK(!build_resources({0, 32 << 20, 0, 0, 0}, 2).ok());
  CHECK(!build_resources({0, 0, 0, -2, 0}, 2).ok());
  auto cpus = build_resources({0, 0, 2500000000, 0, 0}, 2);
  REQUIRE(!cpus.ok());
  CHECK(cpus.error().message() ==
        "cpus: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
}

TEST_CASE("devices: deny all, docker's allows, then each --device with its permissions") {
  Fixture f;
  f.config.devices = {{"/dev/null", "/dev/mynull", "rw"}};
  Spec spec;
  REQUIRE(build_devices(f.in, spec).ok());
  REQUIRE(spec.devices.size() == 1);
  CHECK(spec.devices[0].path == "/dev/mynull");
  CHECK(spec.devices[0].type == "c");
  CHECK(spec.devices[0].major == 1);
  CHECK(spec.devices[0].minor == 3);
  REQUIRE(spec.resources.devices.size() == 9);
  CHECK(!spec.resources.devices[0].allow);
  CHECK(!spec.resources.devices[0].major);
  CHECK(!spec.resources.devices[7].allow);  // fuse stays denied
  CHECK(*spec.resources.devices[7].major == 10);
  CHECK(spec.resources.devices[8].access == "rw");
  f.config.devices = {{"/etc/hostname", "", "rwm"}};
  Spec s2;
  auto err = build_devices(f.in, s2);
  REQUIRE(!err.ok());
  CHECK(err.error().message().find("not a device node") != std::string::npos);
  f.config.devices = {{"/dev/null", "", "rwx"}};
  CHECK(!build_devices(f.in, s2).ok());
}

TEST_CASE("devices: --privileged passes the host's nodes and allows everything") {
  auto dir = sys::make_temp_dir("berth-oci-dev-");
  REQUIRE(dir.ok());
  REQUIRE(sys::mkdir_p(*dir + "/pts", 0755).ok());
  REQUIRE(sys::mkdir_p(*dir + "/sub", 0755).ok());
  bool nodes = ::mknod((*dir + "/sub/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)) == 0 &&
               ::mknod((*dir + "/pts/0").c_str(), S_IFCHR | 0620, makedev(136, 0)) == 0;
  if (nodes) nodes = sys::chmod(*dir + "/sub/zero", 0666).ok();
  REQUIRE(::symlink("/etc/passwd", (*dir + "/link").c_str()) == 0);
  Fixture f;
  f.config.privileged = true;
  f.in.host_dev = *dir;
  Spec spec;
  REQUIRE(build_devices(f.in, spec).ok());
  REQUIRE(spec.resources.devices.size() == 1);
  CHECK(spec.resources.devices[0].allow);
  if (nodes) {
    REQUIRE(spec.devices.size() == 1);  // pts/ skipped, the symlink is no device
    CHECK(spec.devices[0].path == "/dev/sub/zero");
    CHECK(spec.devices[0].minor == 5);
    CHECK(spec.devices[0].file_mode == 0666);
  } else {
    MESSAGE("mknod not permitted here: only the rules are checked");
  }
  CHECK(sys::remove_all(*dir).ok());
}
