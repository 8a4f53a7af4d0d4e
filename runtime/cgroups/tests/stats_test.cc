// stats() on fake v1 and v2 files, stats_json's shape, and OOM counts.

#include "berth/cgroups/stats.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "berth/json/json.h"
#include "fake_cgroupfs.h"

using berth::cgroups::oom_kill_count;
using berth::cgroups::Stats;
using berth::cgroups::stats;
using berth::cgroups::stats_json;
using cgtest::FakeHost;
using cgtest::put;

namespace {

Stats read_ok(const FakeHost& h) {
  auto s = stats(h.layout, h.placement);
  if (!s) FAIL_CHECK(s.error().to_string());
  REQUIRE(s.ok());
  return *s;
}

}  // namespace

TEST_CASE("stats v1: cpuacct, cpu, memory, pids, blkio, cpuset; hugetlb from cgroup2") {
  FakeHost h;
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"}) h.add_v1(c);
  h.add_v2();
  put(h.file("cpuacct", "cpuacct.usage"), "123456789\n");
  put(h.file("cpuacct", "cpuacct.usage_percpu"), "100000000 23456789 \n");
  put(h.file("cpuacct", "cpuacct.stat"), "user 10\nsystem 5\n");
  put(h.file("cpuacct", "cpuacct.usage_all"), "cpu user system\n0 90 10\n1 20 3\n");
  put(h.file("cpu", "cpu.stat"), "nr_periods 7\nnr_throttled 2\nthrottled_time 5000\n");
  put(h.file("memory", "memory.stat"), "cache 4096\nrss 8192\ntotal_cache 4096\n");
  put(h.file("memory", "memory.usage_in_bytes"), "12288\n");
  put(h.file("memory", "memory.max_usage_in_bytes"), "20000\n");
  put(h.file("memory", "memory.failcnt"), "3\n");
  put(h.file("memory", "memory.limit_in_bytes"), "9223372036854771712\n");
  put(h.file("memory", "memory.memsw.usage_in_bytes"), "12288\n");
  put(h.file("memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n");
  put(h.file("pids", "pids.current"), "4\n");
  put(h.file("pids", "pids.max"), "max\n");
  // BFQ files present but empty (no disk runs BFQ): the throttle ones count.
  put(h.file("blkio", "blkio.bfq.io_service_bytes_recursive"), "Total 0\n");
  put(h.file("blkio", "blkio.throttle.io_service_bytes_recursive"),
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n");
  put(h.file("blkio", "blkio.throttle.io_serviced_recursive"), "8:0 Read 1\n8:0 Write 2\n");
  put(h.file("cpuset", "cpuset.effective_cpus"), "0-1,3\n");
  put(h.file("cpuset", "cpuset.effective_mems"), "0\n");
  put(h.file("unified", "hugetlb.2MB.current"), "2097152\n");
  put(h.file("unified", "hugetlb.2MB.events"), "max 1\n");
  put(h.file("unified", "hugetlb.2MB.rsvd.current"), "0\n");
  put(h.file("unified", "cpu.stat"), "usage_usec 999\n");  // core file: v1 cpuacct wins

  Stats s = read_ok(h);
  CHECK(s.cpu.total == 123456789);
  REQUIRE(s.cpu.percpu.size() == 2);
  CHECK(s.cpu.percpu[1] == 23456789);
  long hz = ::sysconf(_SC_CLK_TCK);
  CHECK(s.cpu.user == 10 * (1000000000ULL / hz));
  CHECK(s.cpu.kernel == 5 * (1000000000ULL / hz));
  CHECK(s.cpu.percpu_user == std::vector<uint64_t>{90, 20});
  CHECK(s.cpu.percpu_kernel == std::vector<uint64_t>{10, 3});
  CHECK(s.cpu.throttled_periods == 2);
  CHECK(s.cpu.throttled_time == 5000);
  CHECK(s.memory.cache == 4096);
  CHECK(s.memory.raw.at("rss") == 8192);
  CHECK(s.memory.usage.usage == 12288);
  CHECK(s.memory.usage.max == 20000);
  CHECK(s.memory.usage.failcnt == 3);
  CHECK(s.memory.swap.usage == 12288);
  CHECK(s.memory.kernel.usage == 0);  // no kmem files: zeros
  CHECK(s.pids.current == 4);
  CHECK(s.pids.limit == 0);  // "max"
  REQUIRE(s.blkio.io_service_bytes_recursive.size() == 3);
  CHECK(s.blkio.io_service_bytes_recursive[1].op == "Write");
  CHECK(s.blkio.io_service_bytes_recursive[1].value == 8192);
  CHECK(s.blkio.io_serviced_recursive.size() == 2);
  CHECK(s.cpuset.cpus == std::vector<uint16_t>{0, 1, 3});
  REQUIRE(s.hugetlb.count("2MB") == 1);
  CHECK(s.hugetlb["2MB"].usage == 2097152);
  CHECK(s.hugetlb["2MB"].failcnt == 1);
  CHECK(s.hugetlb.size() == 1);  // "2MB.rsvd" is not a page size
}

TEST_CASE("stats v2: cpu.stat, memory, io.stat, pids") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "cpu.stat"),
      "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 1\n"
      "throttled_usec 30\nnr_bursts 0\nburst_usec 0\n");
  put(h.file("unified", "memory.stat"), "anon 1000\nfile 3000\n");
  put(h.file("unified", "memory.current"), "4096\n");
  put(h.file("unified", "memory.max"), "1048576\n");
  put(h.file("unified", "memory.peak"), "8192\n");
  put(h.file("unified", "memory.events"), "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
  put(h.file("unified", "memory.swap.current"), "100\n");
  put(h.file("unified", "memory.swap.max"), "max\n");
  put(h.file("unified", "pids.current"), "3\n");
  put(h.file("unified", "pids.max"), "64\n");
  put(h.file("unified", "io.stat"),
      "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"
      "253:1 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");

  Stats s = read_ok(h);
  CHECK(s.cpu.total == 2000000);
  CHECK(s.cpu.user == 1500000);
  CHECK(s.cpu.kernel == 500000);
  CHECK(s.cpu.periods == 10);
  CHECK(s.cpu.throttled_time == 30000);
  CHECK(s.memory.cache == 3000);
  CHECK(s.memory.usage.usage == 4096);
  CHECK(s.memory.usage.limit == 1048576);
  CHECK(s.memory.usage.max == 8192);
  CHECK(s.memory.usage.failcnt == 5);
  CHECK(s.memory.swap.usage == 4196);  // memory + swap, as v1 reports it
  CHECK(s.memory.swap.limit == UINT64_MAX);
  CHECK(s.pids.limit == 64);
  REQUIRE(s.blkio.io_service_bytes_recursive.size() == 4);
  CHECK(s.blkio.io_service_bytes_recursive[2].major == 253);
  CHECK(s.blkio.io_service_bytes_recursive[2].op == "Read");
  CHECK(s.blkio.io_serviced_recursive[3].value == 4);

  auto oom = oom_kill_count(h.placement);
  REQUIRE(oom.ok());
  CHECK(*oom == 1);
}

TEST_CASE("stats: missing files are zeros, malformed ones are errors naming the file") {
  FakeHost h;
  h.add_v1("memory");
  Stats s = read_ok(h);
  CHECK(s.memory.usage.usage == 0);
  put(h.file("memory", "memory.usage_in_bytes"), "lots\n");
  auto bad = stats(h.layout, h.placement);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().to_string() ==
        "cgroup `" + h.file("memory", "memory.usage_in_bytes") + "`: not a number: \"lots\"");
}

TEST_CASE("oom_kill_count: v1 memory.oom_control") {
  FakeHost h;
  h.add_v1("pids");
  h.add_v1("memory");
  CHECK_FALSE(oom_kill_count(h.placement).ok());
  put(h.file("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n");
  auto n = oom_kill_count(h.placement);
  REQUIRE(n.ok());
  CHECK(*n == 7);
}

TEST_CASE("stats_json: runc's events --stats data shape") {
  Stats s;
  CHECK(stats_json(s) ==
        R"({"cpu":{},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,)"
        R"("memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,)"
        R"("memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},)"
        R"("memory":{},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},)"
        R"("network_interfaces":null})");

  s.cpu.total = 100;
  s.cpu.percpu = {60, 40};
  s.cpu.user = 70;
  s.cpu.throttled_periods = 2;
  s.memory.cache = 5;
  s.memory.usage.usage = 4096;
  s.memory.usage.limit = UINT64_MAX;
  s.memory.raw["anon"] = 1;
  s.pids.current = 3;
  s.blkio.io_service_bytes_recursive.push_back({8, 0, "Read", 4096});
  s.hugetlb["2MB"] = {0, 0, 0};
  std::string text = stats_json(s);
  CHECK(text.find(R"("cpu":{"usage":{"total":100,"percpu":[60,40],"kernel":0,"user":70},)"
                  R"("throttling":{"throttledPeriods":2}})") != std::string::npos);
  CHECK(text.find(R"("memory":{"cache":5,"usage":{"limit":18446744073709551615,"usage":4096,)"
                  R"("failcnt":0},"raw":{"anon":1}})") != std::string::npos);
  CHECK(text.find(R"("pids":{"current":3})") != std::string::npos);
  CHECK(
      text.find(R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096}]})") !=
      std::string::npos);
  CHECK(text.find(R"("hugetlb":{"2MB":{"failcnt":0}})") != std::string::npos);
  auto parsed = berth::json::parse(text, "stats");
  CHECK(parsed.ok());
}
