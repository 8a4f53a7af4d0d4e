#include <doctest/doctest.h>

#include <string>

#include "berth/cgroups/resources.h"

using berth::cgroups::HostTopology;
using berth::cgroups::parse_resources;
using berth::cgroups::Resources;

namespace {

const HostTopology kHost{"0-3\n", "0\n"};

Resources parse_ok(const std::string& json) {
  auto r = parse_resources(json, "linux.resources", kHost);
  if (!r) FAIL_CHECK(r.error().to_string());
  REQUIRE(r.ok());
  return *r;
}

std::string parse_error(const std::string& json) {
  auto r = parse_resources(json, "linux.resources", kHost);
  REQUIRE_FALSE(r.ok());
  return r.error().to_string();
}

}  // namespace

TEST_CASE("parse_resources: empty and null give nothing to apply") {
  for (const char* text : {"", "  ", "null", "{}"}) {
    Resources r = parse_ok(text);
    CHECK_FALSE(r.memory.any());
    CHECK_FALSE(r.cpu.any_cpu());
    CHECK_FALSE(r.pids_limit);
    CHECK(r.devices.empty());
  }
  CHECK(parse_error("[]") == "linux.resources: expected an object, got array");
}

TEST_CASE("parse_resources: the spec's full example") {
  Resources r = parse_ok(R"({
    "memory": {"limit": 536870912, "reservation": 536870912, "swap": 536870912,
               "kernel": -1, "kernelTCP": -1, "swappiness": 0, "disableOOMKiller": false,
               "useHierarchy": true, "checkBeforeUpdate": true},
    "cpu": {"shares": 1024, "quota": 1000000, "burst": 1000000, "period": 500000,
            "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "2-3", "mems": "0",
            "idle": 0},
    "pids": {"limit": 32771},
    "blockIO": {"weight": 10, "leafWeight": 10,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                                 {"major": 8, "minor": 16, "weight": 500}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200},
                       {"pageSize": "64KB", "limit": 1000000}],
    "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
    "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "rxe3": {"hcaObjects": 10000}},
    "unified": {"io.max": "259:0 rbps=2097152", "hugetlb.1GB.max": "1073741824"},
    "devices": [{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]
  })");
  CHECK(*r.memory.limit == 536870912);
  CHECK(*r.memory.kernel == -1);
  CHECK(*r.memory.swappiness == 0);
  CHECK(*r.memory.disable_oom_killer == false);
  CHECK(r.memory.check_before_update);
  CHECK(*r.cpu.shares == 1024);
  CHECK(*r.cpu.quota == 1000000);
  CHECK(*r.cpu.burst == 1000000);
  CHECK(r.cpu.cpus == "2-3");
  CHECK(*r.pids_limit == 32771);
  REQUIRE(r.block_io.weight_device.size() == 2);
  CHECK(*r.block_io.weight_device[0].leaf_weight == 300);
  CHECK_FALSE(r.block_io.weight_device[1].leaf_weight);
  REQUIRE(r.block_io.read_bps.size() == 1);
  CHECK(r.block_io.read_bps[0].rate == 600);
  CHECK(r.block_io.write_iops[0].minor == 16);
  REQUIRE(r.hugepage_limits.size() == 2);
  CHECK(r.hugepage_limits[1].page_size == "64KB");
  CHECK(*r.network.class_id == 1048577);
  CHECK(r.network.priorities[0].name == "eth0");
  CHECK(*r.rdma["mlx5_1"].hca_handles == 3);
  CHECK_FALSE(r.rdma["rxe3"].hca_handles);
  CHECK(r.unified["hugetlb.1GB.max"] == "1073741824");
  REQUIRE(r.devices.size() == 2);
  CHECK(r.devices[0].type == 'a');
  CHECK(r.devices[0].major == -1);
  CHECK(r.devices[1].type == 'c');
  CHECK(r.devices[1].access == "rw");
}

TEST_CASE("parse_resources: 64-bit numbers are exact, fractions and overflow are errors") {
  Resources r = parse_ok(R"({"memory": {"limit": 9223372036854775807}})");
  CHECK(*r.memory.limit == INT64_MAX);
  CHECK(parse_error(R"({"memory": {"limit": 9223372036854775808}})") ==
        "linux.resources.memory.limit: 9223372036854775808 is not a 64-bit integer");
  CHECK(parse_error(R"({"memory": {"limit": 1.5}})") ==
        "linux.resources.memory.limit: 1.5 is not a 64-bit integer");
  CHECK(parse_error(R"({"memory": {"limit": 1e9}})") ==
        "linux.resources.memory.limit: 1e9 is not a 64-bit integer");
  CHECK(parse_error(R"({"memory": {"limit": "1G"}})") ==
        "linux.resources.memory.limit: expected an integer, got string");
  Resources big = parse_ok(R"({"blockIO": {"throttleReadBpsDevice":
      [{"major": 8, "minor": 0, "rate": 18446744073709551615}]}})");
  CHECK(big.block_io.read_bps[0].rate == UINT64_MAX);
  CHECK(parse_error(R"({"cpu": {"shares": -2}})") == "linux.resources.cpu.shares: -2 is negative");
}

TEST_CASE("parse_resources: -1 means unlimited, below that is an error") {
  Resources r = parse_ok(R"({"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}})");
  CHECK(*r.memory.limit == -1);
  CHECK(*r.pids_limit == -1);
  // 0 is a real pids limit (the runtime-spec says so).
  CHECK(*parse_ok(R"({"pids": {"limit": 0}})").pids_limit == 0);
  CHECK(parse_error(R"({"memory": {"reservation": -2}})") ==
        "linux.resources.memory.reservation: -2 is invalid (expected -1 for unlimited or bytes)");
  CHECK(parse_error(R"({"pids": {"limit": -5}})") ==
        "linux.resources.pids.limit: -5 is invalid (expected -1 for unlimited, or a count)");
}

TEST_CASE("parse_resources: swap below the memory limit") {
  CHECK(parse_error(R"({"memory": {"limit": 2000000, "swap": 1000000}})") ==
        "linux.resources.memory.swap: 1000000 is less than memory.limit 2000000 (swap is "
        "memory+swap)");
  // Equal means "no swap", fine; -1 swap is unlimited.
  parse_ok(R"({"memory": {"limit": 2000000, "swap": 2000000}})");
  parse_ok(R"({"memory": {"limit": 2000000, "swap": -1}})");
}

TEST_CASE("parse_resources: kernel ranges of cpu values") {
  CHECK(parse_error(R"({"cpu": {"period": 999}})") ==
        "linux.resources.cpu.period: 999 is out of range 1000..1000000 us");
  CHECK(parse_error(R"({"cpu": {"period": 1000001}})") ==
        "linux.resources.cpu.period: 1000001 is out of range 1000..1000000 us");
  parse_ok(R"({"cpu": {"period": 1000}})");
  CHECK(parse_error(R"({"cpu": {"quota": 999}})").find("cpu.quota: 999 is invalid") !=
        std::string::npos);
  CHECK(parse_error(R"({"cpu": {"quota": -2}})").find("cpu.quota: -2 is invalid") !=
        std::string::npos);
  CHECK(parse_error(R"({"cpu": {"shares": 1}})") ==
        "linux.resources.cpu.shares: 1 is out of range 2..262144");
  CHECK(parse_error(R"({"cpu": {"shares": 262145}})") ==
        "linux.resources.cpu.shares: 262145 is out of range 2..262144");
  CHECK(parse_error(R"({"cpu": {"quota": 50000, "burst": 60000}})") ==
        "linux.resources.cpu.burst: 60000 is larger than cpu.quota 50000");
  CHECK(parse_error(R"({"cpu": {"idle": 2}})") ==
        "linux.resources.cpu.idle: 2 is invalid (expected 0 or 1)");
  CHECK(parse_error(R"({"cpu": {"realtimeRuntime": 2000, "realtimePeriod": 1000}})") ==
        "linux.resources.cpu.realtimeRuntime: 2000 is larger than cpu.realtimePeriod 1000");
}

TEST_CASE("parse_resources: cpus and mems must be online on the host") {
  parse_ok(R"({"cpu": {"cpus": "0-1,3", "mems": "0"}})");
  CHECK(parse_error(R"({"cpu": {"cpus": "2-4"}})") ==
        "linux.resources.cpu.cpus: \"2-4\" includes 4, which is not online on this host "
        "(/sys/devices/system/cpu/online: 0-3)");
  CHECK(parse_error(R"({"cpu": {"mems": "1"}})") ==
        "linux.resources.cpu.mems: \"1\" includes 1, which is not online on this host "
        "(/sys/devices/system/node/online: 0)");
  CHECK(parse_error(R"({"cpu": {"cpus": "3-1"}})") ==
        "linux.resources.cpu.cpus: \"3-1\": range \"3-1\" is reversed");
  CHECK(parse_error(R"({"cpu": {"cpus": "0,,1"}})").find("is not a number") != std::string::npos);
  CHECK(parse_error(R"({"cpu": {"cpus": "0-99999999"}})").find("too large") != std::string::npos);
}

TEST_CASE("parse_resources: the host's own topology files are read") {
  auto host = berth::cgroups::host_topology();
  REQUIRE(host.ok());
  CHECK_FALSE(host->online_cpus.empty());
  auto r = parse_resources(R"({"cpu": {"cpus": "0", "mems": "0"}})", "linux.resources");
  CHECK(r.ok());
}

TEST_CASE("parse_resources: block IO, hugepages, network, rdma") {
  CHECK(parse_error(R"({"blockIO": {"weight": 5}})") ==
        "linux.resources.blockIO.weight: 5 is out of range 10..1000");
  CHECK(parse_error(R"({"blockIO": {"weight": 70000}})") ==
        "linux.resources.blockIO.weight: 70000 is larger than 65535");
  CHECK(parse_error(R"({"blockIO": {"weightDevice": [{"major": 8, "minor": 0}]}})") ==
        "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight");
  CHECK(parse_error(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})") ==
        "linux.resources.blockIO.throttleReadBpsDevice[0].minor: is required");
  CHECK(parse_error(R"({"blockIO": {"throttleReadBpsDevice": [{"major": -1, "minor": 0,
        "rate": 1}]}})") ==
        "linux.resources.blockIO.throttleReadBpsDevice[0].major: -1 is out of range");
  CHECK(parse_error(R"({"hugepageLimits": [{"pageSize": "2M", "limit": 1}]})") ==
        "linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a size like 2MB or 1GB");
  CHECK(parse_error(R"({"hugepageLimits": [{"pageSize": "2MB"}]})") ==
        "linux.resources.hugepageLimits[0].limit: is required");
  CHECK(parse_error(R"({"network": {"priorities": [{"name": "eth0 9\nlo", "priority": 1}]}})")
            .find("is not an interface name") != std::string::npos);
  CHECK(parse_error(R"({"network": {"classID": 4294967296}})") ==
        "linux.resources.network.classID: 4294967296 is larger than 4294967295");
  CHECK(parse_error(R"({"rdma": {"mlx5_1": {}}})") ==
        "linux.resources.rdma[\"mlx5_1\"]: needs hcaHandles or hcaObjects");
  CHECK(parse_error(R"({"rdma": {"a b": {"hcaObjects": 1}}})") ==
        "linux.resources.rdma[\"a b\"]: not a device name");
}

TEST_CASE("parse_resources: unified keys name a file of the container's own cgroup") {
  Resources r = parse_ok(R"({"unified": {"memory.high": "1G", "cgroup.max.depth": "2",
                                          "io.bfq.weight": "default 100"}})");
  CHECK(r.unified.size() == 3);
  for (const char* key : {"../memory.max", "memory/max", "memory..max", ".max", "memory.", "nodot",
                          "Memory.max", "memory max"}) {
    auto e = parse_error(std::string(R"({"unified": {")") + key + R"(": "1"}})");
    CHECK_MESSAGE(e.find("linux.resources.unified[\"") == 0, e);
  }
  CHECK(parse_error(R"({"unified": {"cgroup.procs": "1"}})") ==
        "linux.resources.unified[\"cgroup.procs\"]: managed by the runtime, not settable");
  CHECK(parse_error(R"({"unified": {"memory.high": 1}})") ==
        "linux.resources.unified[\"memory.high\"]: expected a string");
}

TEST_CASE("parse_resources: device rules") {
  Resources r = parse_ok(R"({"devices": [{"allow": true, "type": "b", "major": 8, "access": "mr"},
                                         {"allow": false}]})");
  CHECK(r.devices[0].minor == -1);
  CHECK(r.devices[0].access == "rm");  // normalised order
  CHECK(r.devices[1].access == "rwm");
  CHECK(parse_error(R"({"devices": [{"type": "c"}]})") ==
        "linux.resources.devices[0].allow: is required");
  CHECK(parse_error(R"({"devices": [{"allow": true, "type": "x"}]})") ==
        "linux.resources.devices[0].type: \"x\" is not a, c or b");
  CHECK(parse_error(R"({"devices": [{"allow": true, "access": "rwx"}]})") ==
        "linux.resources.devices[0].access: \"rwx\" is not a combination of r, w and m");
  CHECK(parse_error(R"({"devices": [{"allow": true, "access": "rr"}]})") ==
        "linux.resources.devices[0].access: \"rr\" is not a combination of r, w and m");
  CHECK(parse_error(R"({"devices": [{"allow": true, "major": -2}]})") ==
        "linux.resources.devices[0].major: -2 is out of range (-1 means all)");
}

TEST_CASE("parse_resources: the field name is the caller's") {
  auto r = parse_resources(R"({"pids": {"limit": -3}})", "--resources", kHost);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().to_string().rfind("--resources.pids.limit: ", 0) == 0);
  auto bad_json = parse_resources("{", "linux.resources", kHost);
  CHECK_FALSE(bad_json.ok());
}
