// The one stats reader on fake cgroupfs trees (v1, v2, hybrid), and the OOM
// counter. The encoders are tested from structs: stats_json_test.cc here,
// shim/tests/metrics_encode_test.cc for containerd's Metrics.

#include "berth/cgroups/stats.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "fake_cgroupfs.h"

using berth::cgroups::oom_kill_count;
using berth::cgroups::Source;
using berth::cgroups::Stats;
using berth::cgroups::stats;
using berth::cgroups::StatsHost;
using cgtest::FakeHost;
using cgtest::put;

namespace {

Stats read_ok(const FakeHost& h, const StatsHost& host = {}) {
  auto s = stats(h.layout, h.placement, host);
  if (!s) FAIL_CHECK(s.error().to_string());
  REQUIRE(s.ok());
  return *s;
}

}  // namespace

TEST_CASE("stats hybrid: cpuacct, cpu, memory, pids, blkio, cpuset from v1; hugetlb from cgroup2") {
  FakeHost h;
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"}) h.add_v1(c);
  h.add_v2();
  put(h.file("cpuacct", "cpuacct.usage"), "123456789\n");
  put(h.file("cpuacct", "cpuacct.usage_percpu"), "100000000 23456789 \n");
  put(h.file("cpuacct", "cpuacct.stat"), "user 10\nsystem 5\n");
  put(h.file("cpuacct", "cpuacct.usage_all"), "cpu user system\n0 90 10\n1 20 3\n");
  put(h.file("cpu", "cpu.stat"), "nr_periods 7\nnr_throttled 2\nthrottled_time 5000\n");
  put(h.file("memory", "memory.stat"),
      "cache 4096\nrss 8192\nmapped_file 1024\npgmajfault 2\nhierarchical_memory_limit 33554432\n"
      "hierarchical_memsw_limit 9223372036854771712\ntotal_cache 4096\n");
  put(h.file("memory", "memory.usage_in_bytes"), "12288\n");
  put(h.file("memory", "memory.max_usage_in_bytes"), "20000\n");
  put(h.file("memory", "memory.failcnt"), "3\n");
  put(h.file("memory", "memory.limit_in_bytes"), "9223372036854771712\n");
  put(h.file("memory", "memory.memsw.usage_in_bytes"), "12288\n");
  put(h.file("memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n");
  put(h.file("memory", "memory.oom_control"), "oom_kill_disable 1\nunder_oom 0\noom_kill 2\n");
  put(h.file("pids", "pids.current"), "4\n");
  put(h.file("pids", "pids.max"), "max\n");
  // BFQ files present but empty (no disk runs BFQ); "Total" lines name no device.
  put(h.file("blkio", "blkio.bfq.io_service_bytes_recursive"), "Total 0\n");
  put(h.file("blkio", "blkio.throttle.io_service_bytes_recursive"),
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n");
  put(h.file("blkio", "blkio.throttle.io_serviced_recursive"), "8:0 Read 1\n8:0 Write 2\n");
  put(h.file("blkio", "blkio.throttle.io_service_bytes"),
      "8:0 Read 4096\n8:16 Read 0\nTotal 4096\n");
  put(h.file("cpuset", "cpuset.effective_cpus"), "0-1,3\n");
  put(h.file("cpuset", "cpuset.effective_mems"), "0\n");
  put(h.file("unified", "hugetlb.2MB.current"), "2097152\n");
  put(h.file("unified", "hugetlb.2MB.max"), "max\n");
  put(h.file("unified", "hugetlb.2MB.events"), "max 1\n");
  put(h.file("unified", "hugetlb.2MB.rsvd.current"), "0\n");
  put(h.file("unified", "cpu.stat"), "usage_usec 999\n");  // core file: v1 cpuacct wins
  cgtest::TempDir tmp;
  put(tmp.path + "/partitions",
      "major minor  #blocks  name\n\n   8        0   1048576 sda\n   8       16   1048576 sdb\n");

  Stats s = read_ok(h, StatsHost{tmp.path + "/partitions"});
  CHECK(s.sources.cpu == Source::kV1);
  CHECK(s.sources.cpuacct == Source::kV1);
  CHECK(s.sources.memory == Source::kV1);
  CHECK(s.sources.blkio == Source::kV1);
  CHECK(s.sources.hugetlb == Source::kV2);
  CHECK(s.cpu.total == 123456789);
  REQUIRE(s.cpu.percpu.size() == 2);
  CHECK(s.cpu.percpu[1] == 23456789);
  long hz = ::sysconf(_SC_CLK_TCK);
  CHECK(s.cpu.user == 10 * (1000000000ULL / hz));  // USER_HZ ticks in ns
  CHECK(s.cpu.kernel == 5 * (1000000000ULL / hz));
  CHECK(s.cpu.percpu_user == std::vector<uint64_t>{90, 20});
  CHECK(s.cpu.percpu_kernel == std::vector<uint64_t>{10, 3});
  CHECK(s.cpu.periods == 7);
  CHECK(s.cpu.throttled_periods == 2);
  CHECK(s.cpu.throttled_time == 5000);
  CHECK(s.memory.cache == 4096);
  CHECK(s.memory.raw.at("rss") == 8192);
  CHECK(s.memory.raw.at("mapped_file") == 1024);
  CHECK(s.memory.raw.at("hierarchical_memsw_limit") == 9223372036854771712ull);
  CHECK(s.memory.usage.usage == 12288);
  CHECK(s.memory.usage.max == 20000);
  CHECK(s.memory.usage.failcnt == 3);
  CHECK(s.memory.usage.limit == 9223372036854771712ull);
  CHECK(s.memory.swap.usage == 12288);
  CHECK(s.memory.kernel.usage == 0);  // no kmem files: zeros
  CHECK(s.memory.oom_control.oom_kill_disable == 1);
  CHECK(s.memory.oom_control.oom_kill == 2);
  CHECK(s.pids.current == 4);
  CHECK(s.pids.limit == 0);  // "max"
  REQUIRE(s.blkio.v1.count("bfq.io_service_bytes_recursive") == 1);
  CHECK(s.blkio.v1.at("bfq.io_service_bytes_recursive").empty());
  const auto& bytes = s.blkio.v1.at("throttle.io_service_bytes_recursive");
  REQUIRE(bytes.size() == 3);
  CHECK(bytes[1].major == 8);
  CHECK(bytes[1].minor == 0);
  CHECK(bytes[1].op == "Write");
  CHECK(bytes[1].value == 8192);
  CHECK(bytes[1].device == "/dev/sda");
  CHECK(s.blkio.v1.at("throttle.io_serviced_recursive").size() == 2);
  const auto& plain = s.blkio.v1.at("throttle.io_service_bytes");
  REQUIRE(plain.size() == 2);
  CHECK(plain[1].device == "/dev/sdb");
  CHECK(s.blkio.v1.count("io_serviced_recursive") == 0);  // files that are not there
  CHECK(s.cpuset.cpus == std::vector<uint16_t>{0, 1, 3});
  REQUIRE(s.hugetlb.count("2MB") == 1);
  CHECK(s.hugetlb["2MB"].usage == 2097152);
  CHECK(s.hugetlb["2MB"].limit == UINT64_MAX);
  CHECK(s.hugetlb["2MB"].failcnt == 1);
  CHECK(s.hugetlb.size() == 1);  // "2MB.rsvd" is not a page size
  CHECK(s.blkio.io.empty());
}

TEST_CASE("stats v1: scheduler blkio files, time files without an op, hugetlb page size names") {
  FakeHost h;
  h.add_v1("blkio");
  h.add_v1("hugetlb");
  put(h.file("blkio", "blkio.io_serviced_recursive"), "8:0 Read 7\n8:0 Write 1\nTotal 8\n");
  put(h.file("blkio", "blkio.time_recursive"), "8:0 1234\n");
  put(h.file("blkio", "blkio.throttle.io_serviced"), "8:0 Read 99\n");
  // The kernel names page sizes in KB, MB or GB (containerd's names too).
  for (const char* size : {"64KB", "2MB", "32MB", "1GB"}) {
    std::string p = std::string("hugetlb.") + size;
    put(h.file("hugetlb", p + ".usage_in_bytes"), "2097152\n");
    put(h.file("hugetlb", p + ".max_usage_in_bytes"), "4194304\n");
    put(h.file("hugetlb", p + ".failcnt"), "1\n");
    put(h.file("hugetlb", p + ".limit_in_bytes"), "8388608\n");
  }
  put(h.file("hugetlb", "hugetlb.2MB.rsvd.usage_in_bytes"), "0\n");
  put(h.file("hugetlb", "hugetlb.other"), "0\n");
  cgtest::TempDir tmp;
  Stats s = read_ok(h, StatsHost{tmp.path + "/none"});  // no /proc/partitions: no names
  REQUIRE(s.blkio.v1.at("io_serviced_recursive").size() == 2);
  CHECK(s.blkio.v1.at("io_serviced_recursive")[0].value == 7);
  CHECK(s.blkio.v1.at("io_serviced_recursive")[0].device == "");
  REQUIRE(s.blkio.v1.at("time_recursive").size() == 1);
  CHECK(s.blkio.v1.at("time_recursive")[0].op == "");
  CHECK(s.blkio.v1.at("time_recursive")[0].value == 1234);
  CHECK(s.blkio.v1.at("throttle.io_serviced")[0].value == 99);
  CHECK(s.sources.hugetlb == Source::kV1);
  REQUIRE(s.hugetlb.size() == 4);
  CHECK(s.hugetlb.count("64KB") == 1);
  CHECK(s.hugetlb.count("32MB") == 1);
  CHECK(s.hugetlb.count("1GB") == 1);
  CHECK(s.hugetlb["2MB"].usage == 2097152);
  CHECK(s.hugetlb["2MB"].max == 4194304);
  CHECK(s.hugetlb["2MB"].failcnt == 1);
  CHECK(s.hugetlb["2MB"].limit == 8388608);
}

TEST_CASE("stats v2: cpu.stat, memory, memory.events, io.stat, pids, hugetlb, rdma") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "cpu.stat"),
      "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 1\n"
      "throttled_usec 30\nnr_bursts 0\nburst_usec 0\n");
  put(h.file("unified", "memory.stat"),
      "anon 1000\nfile 3000\nkernel_stack 16384\nworkingset_refault_anon 2\n"
      "workingset_refault_file 3\npgfault 77\n");
  put(h.file("unified", "memory.current"), "4096\n");
  put(h.file("unified", "memory.max"), "1048576\n");
  put(h.file("unified", "memory.peak"), "8192\n");
  put(h.file("unified", "memory.events"),
      "low 1\nhigh 2\nmax 5\noom 3\noom_kill 4\noom_group_kill 0\n");
  put(h.file("unified", "memory.swap.current"), "100\n");
  put(h.file("unified", "memory.swap.max"), "max\n");
  put(h.file("unified", "memory.swap.peak"), "13\n");
  put(h.file("unified", "pids.current"), "3\n");
  put(h.file("unified", "pids.max"), "64\n");
  put(h.file("unified", "io.stat"),
      "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"
      "253:1 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n");
  put(h.file("unified", "hugetlb.2MB.current"), "0\n");
  put(h.file("unified", "hugetlb.2MB.max"), "max\n");
  put(h.file("unified", "rdma.current"), "mlx4_0 hca_handle=2 hca_object=2000\n");
  put(h.file("unified", "rdma.max"), "mlx4_0 hca_handle=max hca_object=max\n");

  Stats s = read_ok(h);
  CHECK(s.sources.cpu == Source::kV2);
  CHECK(s.sources.memory == Source::kV2);
  CHECK(s.sources.pids == Source::kV2);
  CHECK(s.sources.hugetlb == Source::kV2);
  CHECK(s.cpu.total == 2000000);  // microseconds in ns
  CHECK(s.cpu.user == 1500000);
  CHECK(s.cpu.kernel == 500000);
  CHECK(s.cpu.periods == 10);
  CHECK(s.cpu.throttled_periods == 1);
  CHECK(s.cpu.throttled_time == 30000);
  CHECK(s.memory.cache == 3000);
  CHECK(s.memory.raw.at("anon") == 1000);
  CHECK(s.memory.raw.at("kernel_stack") == 16384);
  CHECK(s.memory.raw.at("workingset_refault_file") == 3);  // as named: the encoder sums
  CHECK(s.memory.usage.usage == 4096);
  CHECK(s.memory.usage.limit == 1048576);
  CHECK(s.memory.usage.max == 8192);
  CHECK(s.memory.usage.failcnt == 5);
  CHECK(s.memory.events.low == 1);
  CHECK(s.memory.events.high == 2);
  CHECK(s.memory.events.max == 5);
  CHECK(s.memory.events.oom == 3);
  CHECK(s.memory.events.oom_kill == 4);
  CHECK(s.memory.swap_accounting);
  CHECK(s.memory.swap.usage == 100);  // swap alone, as v2 counts it
  CHECK(s.memory.swap.limit == UINT64_MAX);
  CHECK(s.memory.swap.max == 13);
  CHECK(s.pids.current == 3);
  CHECK(s.pids.limit == 64);
  REQUIRE(s.blkio.io.size() == 2);
  CHECK(s.blkio.io[0].rbytes == 4096);
  CHECK(s.blkio.io[0].rios == 1);
  CHECK(s.blkio.io[1].major == 253);
  CHECK(s.blkio.io[1].minor == 1);
  CHECK(s.blkio.io[1].wbytes == 2);
  CHECK(s.blkio.io[1].wios == 4);
  CHECK(s.blkio.io[1].dbytes == 5);
  CHECK(s.blkio.io[1].dios == 6);
  CHECK(s.blkio.v1.empty());
  REQUIRE(s.hugetlb.size() == 1);  // only the sizes with files
  CHECK(s.hugetlb["2MB"].limit == UINT64_MAX);
  REQUIRE(s.rdma.present);
  REQUIRE(s.rdma.current.size() == 1);
  CHECK(s.rdma.current[0].device == "mlx4_0");
  CHECK(s.rdma.current[0].hca_handles == 2);
  CHECK(s.rdma.current[0].hca_objects == 2000);
  REQUIRE(s.rdma.limit.size() == 1);
  CHECK(s.rdma.limit[0].hca_handles == UINT32_MAX);  // "max"
  CHECK(s.rdma.limit[0].hca_objects == UINT32_MAX);

  auto oom = oom_kill_count(h.placement);
  REQUIRE(oom.ok());
  CHECK(*oom == 4);
}

TEST_CASE("stats v2: no swap accounting, no rdma") {
  FakeHost h;
  h.add_v2();
  put(h.file("unified", "memory.current"), "4096\n");
  Stats s = read_ok(h);
  CHECK_FALSE(s.memory.swap_accounting);
  CHECK(s.memory.swap.usage == 0);
  CHECK_FALSE(s.rdma.present);
}

TEST_CASE("stats: missing files are zeros, malformed ones are errors naming the file") {
  FakeHost h;
  h.add_v1("memory");
  Stats s = read_ok(h);
  CHECK(s.sources.memory == Source::kV1);
  CHECK(s.memory.usage.usage == 0);
  put(h.file("memory", "memory.usage_in_bytes"), "lots\n");
  auto bad = stats(h.layout, h.placement);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().to_string() ==
        "cgroup `" + h.file("memory", "memory.usage_in_bytes") + "`: not a number: \"lots\"");
}

// A container that exited has its cgroup removed under a reader: its
// controllers read as not there, not as an error.
TEST_CASE("stats: a cgroup that is gone, or not found, leaves its controllers unread") {
  FakeHost h;
  h.add_v1("memory");
  h.add_v1("pids");
  h.add_v2();
  REQUIRE(berth::sys::remove_all(h.dir("memory")).ok());
  REQUIRE(berth::sys::remove_all(h.dir("unified")).ok());
  h.placement.dirs[1] = "";
  Stats s = read_ok(h);
  CHECK(s.sources.memory == Source::kNone);
  CHECK(s.sources.pids == Source::kNone);
  CHECK(s.sources.cpu == Source::kNone);
  CHECK(s.sources.hugetlb == Source::kNone);
}

TEST_CASE("stats: the placement must match the layout") {
  FakeHost h;
  h.add_v1("memory");
  h.placement.dirs.push_back("/x");
  CHECK_FALSE(stats(h.layout, h.placement).ok());
}

TEST_CASE("oom_kill_count: v1 memory.oom_control") {
  FakeHost h;
  h.add_v1("pids");
  h.add_v1("memory");
  auto none = oom_kill_count(h.placement);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code() == ENOENT);
  put(h.file("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n");
  auto n = oom_kill_count(h.placement);
  REQUIRE(n.ok());
  CHECK(*n == 7);
  put(h.file("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n");  // Linux < 4.13
  CHECK(oom_kill_count(h.placement).value() == 0);
}

// The shim's OOM watch counts through the same function, by directory.
TEST_CASE("oom_kill_count: v2 memory.events of one directory") {
  cgtest::TempDir tmp;
  put(tmp.path + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  CHECK(oom_kill_count(tmp.path).value() == 0);
  put(tmp.path + "/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 3\n");
  CHECK(oom_kill_count(tmp.path).value() == 3);
  auto missing = oom_kill_count(tmp.path + "/missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ENOENT);
}
