// apply_resources against fake cgroupfs trees: which file gets which value.

#include <doctest/doctest.h>

#include <string>

#include "berth/cgroups/resources.h"
#include "fake_cgroupfs.h"

using berth::cgroups::apply_resources;
using berth::cgroups::HostTopology;
using berth::cgroups::Resources;
using cgtest::FakeHost;
using cgtest::get;
using cgtest::put;

namespace {

Resources parse(const std::string& json) {
  auto r = berth::cgroups::parse_resources(json, "linux.resources", HostTopology{"0-3", "0"});
  if (!r) FAIL_CHECK(r.error().to_string());
  REQUIRE(r.ok());
  return *r;
}

std::string apply_error(const FakeHost& host, const std::string& json) {
  auto st = apply_resources(host.layout, host.placement, parse(json));
  REQUIRE_FALSE(st.ok());
  return st.error().to_string();
}

void apply_ok(const FakeHost& host, const std::string& json) {
  auto st = apply_resources(host.layout, host.placement, parse(json));
  if (!st.ok()) FAIL_CHECK(st.error().to_string());
  REQUIRE(st.ok());
}

// This host's kind: v1 controllers, hugetlb only in the cgroup2 tree.
struct HybridHost : FakeHost {
  HybridHost() {
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
      add_v1(c);
    add_v2();
    put(tmp.path + "/unified/cgroup.controllers", "hugetlb\n");
    put(tmp.path + "/unified/cgroup.subtree_control", "hugetlb\n");
  }
};

struct V2Host : FakeHost {
  V2Host() {
    add_v2();
    put(tmp.path + "/unified/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
    put(tmp.path + "/unified/cgroup.subtree_control", "cpuset cpu io memory hugetlb pids rdma\n");
  }
};

}  // namespace

TEST_CASE("apply v1: memory, cpu, cpuset, pids files") {
  HybridHost h;
  put(h.file("memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n");
  put(h.file("memory", "memory.limit_in_bytes"), "9223372036854771712\n");
  apply_ok(h, R"({
    "memory": {"limit": 100000000, "swap": 200000000, "reservation": 50000000,
               "swappiness": 10, "disableOOMKiller": true, "kernel": 1000000},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 10000, "idle": 1,
            "realtimeRuntime": 900, "realtimePeriod": 1000, "cpus": "0-1", "mems": "0"},
    "pids": {"limit": 42}})");
  CHECK(get(h.file("memory", "memory.limit_in_bytes")) == "100000000");
  CHECK(get(h.file("memory", "memory.memsw.limit_in_bytes")) == "200000000");
  CHECK(get(h.file("memory", "memory.soft_limit_in_bytes")) == "50000000");
  CHECK(get(h.file("memory", "memory.swappiness")) == "10");
  CHECK(get(h.file("memory", "memory.oom_control")) == "1");
  CHECK(get(h.file("memory", "memory.kmem.limit_in_bytes")) == "<missing>");  // kernel: ignored
  CHECK(get(h.file("cpu", "cpu.shares")) == "512");
  CHECK(get(h.file("cpu", "cpu.cfs_quota_us")) == "50000");
  CHECK(get(h.file("cpu", "cpu.cfs_period_us")) == "100000");
  CHECK(get(h.file("cpu", "cpu.cfs_burst_us")) == "10000");
  CHECK(get(h.file("cpu", "cpu.idle")) == "1");
  CHECK(get(h.file("cpu", "cpu.rt_runtime_us")) == "900");
  CHECK(get(h.file("cpu", "cpu.rt_period_us")) == "1000");
  CHECK(get(h.file("cpuset", "cpuset.cpus")) == "0-1");
  CHECK(get(h.file("cpuset", "cpuset.mems")) == "0");
  CHECK(get(h.file("pids", "pids.max")) == "42");
  // Nothing went to the cgroup2 tree, and no controller was enabled there.
  CHECK(get(h.file("unified", "memory.max")) == "<missing>");
  CHECK(get(h.tmp.path + "/unified/cgroup.subtree_control") == "hugetlb\n");
}

TEST_CASE("apply v1: unlimited values") {
  HybridHost h;
  put(h.file("memory", "memory.memsw.limit_in_bytes"), "300000000\n");
  put(h.file("memory", "memory.limit_in_bytes"), "100000000\n");
  apply_ok(h, R"({"memory": {"limit": -1}, "pids": {"limit": -1}})");
  // "limit: -1" alone lifts memsw too, or it would still cap the memory.
  CHECK(get(h.file("memory", "memory.limit_in_bytes")) == "-1");
  CHECK(get(h.file("memory", "memory.memsw.limit_in_bytes")) == "-1");
  CHECK(get(h.file("pids", "pids.max")) == "max");
  apply_ok(h, R"({"pids": {"limit": 0}})");
  CHECK(get(h.file("pids", "pids.max")) == "0");
}

TEST_CASE("apply v1: growing writes memsw first, shrinking writes the limit first") {
  // The kernel wants limit <= memsw after every write. Plain files cannot
  // check that, so make memsw unwritable (a directory) and see whether the
  // limit was written before the memsw write failed.
  HybridHost h;
  std::string dir = h.dir("memory");
  SUBCASE("grow: 100M/200M -> 300M/600M") {
    put(dir + "/memory.limit_in_bytes", "100000000\n");
    cgtest::mkdirs(dir + "/memory.memsw.limit_in_bytes");  // first write must hit this
    auto st = apply_resources(h.layout, h.placement,
                              parse(R"({"memory": {"limit": 300000000, "swap": 600000000}})"));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().to_string().find("memory.memsw.limit_in_bytes") != std::string::npos);
    CHECK(get(dir + "/memory.limit_in_bytes") == "100000000\n");  // not yet written
  }
  SUBCASE("shrink: 300M/600M -> 100M/200M") {
    put(dir + "/memory.limit_in_bytes", "300000000\n");
    cgtest::mkdirs(dir + "/memory.memsw.limit_in_bytes");
    auto st = apply_resources(h.layout, h.placement,
                              parse(R"({"memory": {"limit": 100000000, "swap": 200000000}})"));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().to_string().find("memory.memsw.limit_in_bytes") != std::string::npos);
    CHECK(get(dir + "/memory.limit_in_bytes") == "100000000");  // written first
  }
}

TEST_CASE("apply v1: swap without swap accounting") {
  HybridHost h;  // no memory.memsw.limit_in_bytes in the fake
  std::string e = apply_error(h, R"({"memory": {"limit": 100000000, "swap": 200000000}})");
  CHECK(e.rfind("linux.resources.memory.swap: this kernel does not account swap (no `", 0) == 0);
  // Unlimited swap needs no accounting.
  apply_ok(h, R"({"memory": {"limit": 100000000, "swap": -1}})");
  CHECK(get(h.file("memory", "memory.limit_in_bytes")) == "100000000");
}

TEST_CASE("apply v1: blkio throttles, and weights only where the files exist") {
  HybridHost h;
  apply_ok(h, R"({"blockIO": {
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2097152}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 200}]}})");
  CHECK(get(h.file("blkio", "blkio.throttle.read_bps_device")) == "8:0 1048576");
  CHECK(get(h.file("blkio", "blkio.throttle.write_bps_device")) == "8:0 2097152");
  CHECK(get(h.file("blkio", "blkio.throttle.read_iops_device")) == "8:16 100");
  CHECK(get(h.file("blkio", "blkio.throttle.write_iops_device")) == "8:16 200");
  // This host kind has no weight files: a clear error, only when asked.
  CHECK(apply_error(h, R"({"blockIO": {"weight": 500}})")
            .rfind("linux.resources.blockIO.weight: the blkio controller here has no weight "
                   "files (blkio.weight, blkio.bfq.weight) in `",
                   0) == 0);
  put(h.file("blkio", "blkio.bfq.weight"), "100\n");
  apply_ok(h, R"({"blockIO": {"weight": 500,
                              "weightDevice": [{"major": 8, "minor": 0, "weight": 300}]}})");
  CHECK(get(h.file("blkio", "blkio.bfq.weight")) == "500");
  CHECK(get(h.file("blkio", "blkio.bfq.weight_device")) == "8:0 300");
}

TEST_CASE("apply v1: devices.deny a, then each rule in order") {
  HybridHost h;
  apply_ok(h, R"({"devices": [{"allow": false, "access": "rwm"},
                              {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                              {"allow": true, "type": "b", "major": 8, "access": "m"},
                              {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]})");
  // The fake keeps the last write per file.
  CHECK(get(h.file("devices", "devices.allow")) == "b 8:* m");
  CHECK(get(h.file("devices", "devices.deny")) == "c 1:3 w");
  // A hole in a wildcard rule is refused before anything is written.
  put(h.file("devices", "devices.deny"), "untouched");
  CHECK(apply_error(h, R"({"devices": [{"allow": true, "type": "c", "access": "rwm"},
                                       {"allow": false, "type": "c", "major": 1, "minor": 3}]})")
            .find("would punch a hole into the wildcard rule \"c *:* rwm\"") != std::string::npos);
  CHECK(get(h.file("devices", "devices.deny")) == "untouched");
}

TEST_CASE("apply hybrid: hugetlb goes to the cgroup2 tree with v2 names") {
  HybridHost h;
  put(h.file("unified", "hugetlb.2MB.rsvd.max"), "max\n");
  apply_ok(h, R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304},
                                     {"pageSize": "1GB", "limit": 0}]})");
  CHECK(get(h.file("unified", "hugetlb.2MB.max")) == "4194304");
  CHECK(get(h.file("unified", "hugetlb.2MB.rsvd.max")) == "4194304");
  CHECK(get(h.file("unified", "hugetlb.1GB.max")) == "0");
  CHECK(get(h.file("unified", "hugetlb.1GB.rsvd.max")) == "<missing>");
  // Already enabled at the root: not written again.
  CHECK(get(h.tmp.path + "/unified/cgroup.subtree_control") == "hugetlb\n");
}

TEST_CASE("apply hybrid: network and unknown controllers are clear errors") {
  HybridHost h;
  CHECK(apply_error(h, R"({"network": {"classID": 1048577}})") ==
        "linux.resources.network.classID: no cgroup hierarchy on this host has the net_cls "
        "controller (cgroup v2 has no equivalent)");
  CHECK(apply_error(h, R"({"network": {"priorities": [{"name": "eth0", "priority": 5}]}})") ==
        "linux.resources.network.priorities: no cgroup hierarchy on this host has the net_prio "
        "controller (cgroup v2 has no equivalent)");
  // rdma has a v2 form, but this tree does not offer it.
  std::string e = apply_error(h, R"({"rdma": {"mlx5_1": {"hcaHandles": 3}}})");
  CHECK(e.rfind("linux.resources.rdma: the rdma controller is not available in cgroup2 `", 0) == 0);
  CHECK(e.find("(cgroup.controllers: \"hugetlb\")") != std::string::npos);
  // A unified key of a controller that is v1 here.
  e = apply_error(h, R"({"unified": {"memory.high": "1G"}})");
  CHECK(e.rfind("linux.resources.unified[\"memory.high\"]: the memory controller is not "
                "available in cgroup2 `",
                0) == 0);
}

TEST_CASE("apply v1 with net_cls and net_prio mounted") {
  FakeHost h;
  h.add_v1("net_cls");
  h.add_v1("net_prio");
  apply_ok(h, R"({"network": {"classID": 1048577,
                              "priorities": [{"name": "eth0", "priority": 5}]}})");
  CHECK(get(h.file("net_cls", "net_cls.classid")) == "1048577");
  CHECK(get(h.file("net_prio", "net_prio.ifpriomap")) == "eth0 5");
  // No cgroup2 tree at all: unified keys cannot go anywhere.
  CHECK(apply_error(h, R"({"unified": {"memory.high": "1"}})") ==
        "linux.resources.unified: this host mounts no cgroup2 hierarchy");
}

TEST_CASE("apply v2: memory with swap as swap - limit") {
  V2Host h;
  apply_ok(h, R"({"memory": {"limit": 100000000, "swap": 300000000, "reservation": 1000}})");
  CHECK(get(h.file("unified", "memory.max")) == "100000000");
  CHECK(get(h.file("unified", "memory.swap.max")) == "200000000");
  CHECK(get(h.file("unified", "memory.low")) == "1000");
  apply_ok(h, R"({"memory": {"limit": 100000000, "swap": 100000000}})");
  CHECK(get(h.file("unified", "memory.swap.max")) == "0");  // equal: no swap
  apply_ok(h, R"({"memory": {"limit": -1}})");
  CHECK(get(h.file("unified", "memory.max")) == "max");
  CHECK(get(h.file("unified", "memory.swap.max")) == "max");
  CHECK(apply_error(h, R"({"memory": {"swap": 300000000}})") ==
        "linux.resources.memory.swap: a swap limit needs memory.limit on cgroup v2");
  CHECK(apply_error(h, R"({"memory": {"swappiness": 10}})") ==
        "linux.resources.memory.swappiness: not supported on cgroup v2 (no per-cgroup swappiness)");
  CHECK(apply_error(h, R"({"memory": {"disableOOMKiller": true}})")
            .find("memory.disableOOMKiller: not supported on cgroup v2") != std::string::npos);
}

TEST_CASE("apply v2: checkBeforeUpdate refuses a limit below the usage") {
  V2Host h;
  put(h.file("unified", "memory.current"), "50000000\n");
  CHECK(apply_error(h, R"({"memory": {"limit": 40000000, "checkBeforeUpdate": true}})")
            .rfind("linux.resources.memory.limit: 40000000 is not above the current usage "
                   "50000000 of `",
                   0) == 0);
  apply_ok(h, R"({"memory": {"limit": 40000000}})");  // without the check v2 takes it
  CHECK(get(h.file("unified", "memory.max")) == "40000000");
}

TEST_CASE("apply v2: cpu.weight, cpu.max, burst, cpuset, pids") {
  V2Host h;
  apply_ok(h, R"({"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 1000,
                          "cpus": "1", "mems": "0", "idle": 0},
                  "pids": {"limit": 100}})");
  CHECK(get(h.file("unified", "cpu.weight")) == "39");  // 1 + (1022 * 9999) / 262142
  CHECK(get(h.file("unified", "cpu.max")) == "50000 100000");
  CHECK(get(h.file("unified", "cpu.max.burst")) == "1000");
  CHECK(get(h.file("unified", "cpu.idle")) == "0");
  CHECK(get(h.file("unified", "cpuset.cpus")) == "1");
  CHECK(get(h.file("unified", "cpuset.mems")) == "0");
  CHECK(get(h.file("unified", "pids.max")) == "100");
  // The ends of the shares range.
  apply_ok(h, R"({"cpu": {"shares": 2}})");
  CHECK(get(h.file("unified", "cpu.weight")) == "1");
  apply_ok(h, R"({"cpu": {"shares": 262144}})");
  CHECK(get(h.file("unified", "cpu.weight")) == "10000");
  // Unlimited quota keeps the period; a period alone keeps the quota.
  apply_ok(h, R"({"cpu": {"quota": -1, "period": 200000}})");
  CHECK(get(h.file("unified", "cpu.max")) == "max 200000");
  put(h.file("unified", "cpu.max"), "30000 100000\n");
  apply_ok(h, R"({"cpu": {"period": 50000}})");
  CHECK(get(h.file("unified", "cpu.max")) == "30000 50000");
  CHECK(apply_error(h, R"({"cpu": {"realtimeRuntime": 100}})")
            .find("cpu.realtimeRuntime: not supported on cgroup v2") != std::string::npos);
}

TEST_CASE("apply v2: io weights and io.max") {
  V2Host h;
  apply_ok(h, R"({"blockIO": {"weight": 500,
    "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}],
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 0}]}})");
  // No io.bfq.weight: io.weight with runc's conversion, 10..1000 -> 1..10000.
  CHECK(get(h.file("unified", "io.weight")) == "8:0 10000");   // last write: the device
  CHECK(get(h.file("unified", "io.max")) == "8:0 wiops=max");  // rate 0: no limit
  apply_ok(h, R"({"blockIO": {"weight": 10}})");
  CHECK(get(h.file("unified", "io.weight")) == "1");
  put(h.file("unified", "io.bfq.weight"), "default 100\n");
  apply_ok(h, R"({"blockIO": {"weight": 500}})");
  CHECK(get(h.file("unified", "io.bfq.weight")) == "500");
  CHECK(apply_error(h, R"({"blockIO": {"leafWeight": 500}})")
            .find("blockIO.leafWeight: not supported on cgroup v2") != std::string::npos);
}

TEST_CASE("apply v2: hugetlb, rdma, unified written last and verbatim") {
  V2Host h;
  apply_ok(h, R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
                  "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 100},
                           "rxe3": {"hcaObjects": 7}},
                  "pids": {"limit": 10},
                  "unified": {"pids.max": "20", "memory.high": "1073741824"}})");
  CHECK(get(h.file("unified", "hugetlb.2MB.max")) == "2097152");
  CHECK(get(h.file("unified", "rdma.max")) == "rxe3 hca_object=7");  // the last of the map
  CHECK(get(h.file("unified", "pids.max")) == "20");                 // unified wins
  CHECK(get(h.file("unified", "memory.high")) == "1073741824");
}

TEST_CASE("apply v2: controllers are enabled from the mount point down to the parent") {
  FakeHost h;
  h.add_v2();
  // The container sits at <mount>/a/b/ctr: levels <mount>, a, a/b.
  std::string mount = h.tmp.path + "/unified";
  h.placement.dirs[0] = mount + "/a/b/ctr";
  cgtest::mkdirs(mount + "/a/b/ctr");
  put(mount + "/cgroup.controllers", "cpu memory pids\n");
  put(mount + "/cgroup.subtree_control", "cpu memory pids\n");
  put(mount + "/a/cgroup.controllers", "cpu memory pids\n");
  put(mount + "/a/cgroup.subtree_control", "cpu memory\n");  // pids missing here
  put(mount + "/a/b/cgroup.controllers", "cpu memory\n");
  put(mount + "/a/b/cgroup.subtree_control", "cpu\n");

  SUBCASE("a needed controller is enabled where it is off") {
    // pids in b's cgroup.controllers appears only after a enabled it; the
    // fake cannot do that, so ask for memory, which a has on and b off.
    apply_ok(h, R"({"memory": {"limit": 1000000}})");
    CHECK(get(mount + "/cgroup.subtree_control") == "cpu memory pids\n");  // untouched
    // a had memory; it gets pids, wanted for stats (the fake keeps the last write).
    CHECK(get(mount + "/a/cgroup.subtree_control") == "+pids");
    CHECK(get(mount + "/a/b/cgroup.subtree_control") == "+memory");
    CHECK(get(mount + "/a/b/ctr/memory.max") == "1000000");
  }
  SUBCASE("a controller missing at some level is an error naming it") {
    std::string e = apply_error(h, R"({"pids": {"limit": 5}})");
    CHECK(e == "linux.resources.pids: the pids controller is not available in cgroup2 `" + mount +
                   "/a/b` (cgroup.controllers: \"cpu memory\")");
  }
  SUBCASE("optional stats controllers are enabled when offered, skipped when not") {
    apply_ok(h, "{}");
    CHECK(get(mount + "/a/cgroup.subtree_control") == "+pids");
    CHECK(get(mount + "/a/b/cgroup.subtree_control") == "+memory");
  }
}

TEST_CASE("apply: a placement that does not match the layout") {
  V2Host h;
  h.placement.dirs.push_back("/x");
  CHECK_FALSE(apply_resources(h.layout, h.placement, Resources{}).ok());
}
