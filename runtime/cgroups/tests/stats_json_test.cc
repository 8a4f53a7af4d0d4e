// stats_json, runc's `events --stats` data, from Stats built here.

#include <doctest/doctest.h>

#include <string>

#include "berth/cgroups/stats.h"
#include "berth/json/json.h"

using berth::cgroups::BlkioEntry;
using berth::cgroups::Source;
using berth::cgroups::Stats;
using berth::cgroups::stats_json;

namespace {

bool has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return true;
  MESSAGE(text);
  return false;
}

}  // namespace

TEST_CASE("stats_json: runc's events --stats data shape") {
  Stats s;
  CHECK(stats_json(s) ==
        R"({"cpu":{},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,)"
        R"("memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,)"
        R"("memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},)"
        R"("memory":{},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},)"
        R"("network_interfaces":null})");

  s.sources.memory = Source::kV1;
  s.cpu.total = 100;
  s.cpu.percpu = {60, 40};
  s.cpu.user = 70;
  s.cpu.throttled_periods = 2;
  s.cpuset.cpus = {0, 1, 3};
  s.memory.cache = 5;
  s.memory.usage.usage = 4096;
  s.memory.usage.limit = UINT64_MAX;
  s.memory.raw["anon"] = 1;
  s.pids.current = 3;
  s.blkio.v1["throttle.io_service_bytes_recursive"].push_back({8, 0, "Read", 4096, "/dev/sda"});
  s.hugetlb["2MB"] = {0, 0, 0, UINT64_MAX};
  std::string text = stats_json(s);
  CHECK(has(text, R"("cpu":{"usage":{"total":100,"percpu":[60,40],"kernel":0,"user":70},)"
                  R"("throttling":{"throttledPeriods":2}})"));
  CHECK(has(text, R"("cpuset":{"cpus":[0,1,3],"cpu_exclusive":0,)"));
  CHECK(has(text, R"("memory":{"cache":5,"usage":{"limit":18446744073709551615,"usage":4096,)"
                  R"("failcnt":0},"raw":{"anon":1}})"));
  CHECK(has(text, R"("pids":{"current":3})"));
  // The device name is containerd's, not runc's.
  CHECK(has(text, R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096}]})"));
  CHECK(has(text, R"("hugetlb":{"2MB":{"failcnt":0}})"));
  auto parsed = berth::json::parse(text, "stats");
  CHECK(parsed.ok());
}

TEST_CASE("stats_json: v1 memory entries as read, memory+swap included") {
  Stats s;
  s.sources.memory = Source::kV1;
  s.memory.swap = {12288, 20000, 1, 9223372036854771712ull};
  s.memory.kernel.usage = 7;
  std::string text = stats_json(s);
  CHECK(has(text, R"("swap":{"limit":9223372036854771712,"usage":12288,"max":20000,"failcnt":1})"));
  CHECK(has(text, R"("kernel":{"limit":0,"usage":7,"failcnt":0})"));
}

// v2 counts swap alone; runc reports memory+swap, and its limit is the sum
// unless either is unlimited.
TEST_CASE("stats_json: v2 swap is reported as memory+swap") {
  Stats s;
  s.sources.memory = Source::kV2;
  s.memory.usage = {4096, 8192, 5, 1048576};
  s.memory.swap = {100, 13, 0, UINT64_MAX};
  s.memory.swap_accounting = true;
  std::string text = stats_json(s);
  CHECK(has(text, R"("usage":{"limit":1048576,"usage":4096,"max":8192,"failcnt":5})"));
  CHECK(has(text, R"("swap":{"limit":18446744073709551615,"usage":4196,"failcnt":0})"));
  s.memory.swap.limit = 1000;
  CHECK(has(stats_json(s), R"("swap":{"limit":1049576,"usage":4196,"failcnt":0})"));
  s.memory.swap_accounting = false;  // no memory.swap.* files: no swap entry
  CHECK(stats_json(s).find(R"("swap")") == std::string::npos);
}

TEST_CASE("stats_json: v1 blkio is the first family with entries, in runc's order") {
  Stats s;
  auto& v1 = s.blkio.v1;
  v1["throttle.io_service_bytes"] = {{8, 0, "Read", 1, ""}};
  v1["throttle.io_serviced"] = {{8, 0, "Read", 2, ""}};
  CHECK(has(stats_json(s),
            R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":1}],)"
            R"("ioServicedRecursive":[{"major":8,"op":"Read","value":2}]})"));
  v1["throttle.io_service_bytes_recursive"] = {{8, 0, "Read", 3, ""}};
  v1["throttle.io_serviced_recursive"] = {{8, 0, "Read", 4, ""}};
  v1["bfq.io_service_bytes_recursive"] = {};  // present, empty: skipped
  CHECK(has(stats_json(s),
            R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":3}],)"
            R"("ioServicedRecursive":[{"major":8,"op":"Read","value":4}]})"));
  v1["io_service_bytes_recursive"] = {{8, 16, "Write", 5, ""}};
  CHECK(has(
      stats_json(s),
      R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"minor":16,"op":"Write","value":5}]})"));
  v1["bfq.io_service_bytes_recursive"] = {{8, 0, "Read", 6, ""}};
  CHECK(has(stats_json(s), R"("ioServiceBytesRecursive":[{"major":8,"op":"Read","value":6}])"));
}

TEST_CASE("stats_json: v2 io.stat as Read and Write entries") {
  Stats s;
  s.blkio.io.push_back({8, 0, 4096, 0, 1, 0, 0, 0});
  s.blkio.io.push_back({253, 1, 1, 2, 3, 4, 5, 6});
  std::string text = stats_json(s);
  CHECK(has(text, R"("ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},)"
                  R"({"major":8,"op":"Write"},{"major":253,"minor":1,"op":"Read","value":1},)"
                  R"({"major":253,"minor":1,"op":"Write","value":2}],)"));
  CHECK(has(
      text,
      R"("ioServicedRecursive":[{"major":8,"op":"Read","value":1},{"major":8,"op":"Write"},)"
      R"({"major":253,"minor":1,"op":"Read","value":3},{"major":253,"minor":1,"op":"Write","value":4}]})"));
}
