// containerd's cgroups Metrics encoded from Stats built here, decoded back
// with the classes generated from proto/cgroups/v{1,2}/metrics.proto. The
// reading of the files is berth_cgroups' (runtime/cgroups/tests/stats_test.cc).
#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "cgroups/v1/metrics.pb.h"
#include "cgroups/v2/metrics.pb.h"
#include "metrics_encode.h"
#include "proto_writer.h"

using namespace berth;
using namespace berth::shim;
using berth::cgroups::Source;
using berth::cgroups::Stats;

namespace {

Stats v1_stats() {
  Stats s;
  auto& src = s.sources;
  src.cpu = src.cpuacct = src.memory = src.pids = src.blkio = src.hugetlb = Source::kV1;
  return s;
}

io::containerd::cgroups::v1::Metrics decode_v1(const Stats& s) {
  io::containerd::cgroups::v1::Metrics m;
  REQUIRE(m.ParseFromString(encode_metrics_v1(s)));
  return m;
}

io::containerd::cgroups::v2::Metrics decode_v2(const Stats& s) {
  io::containerd::cgroups::v2::Metrics m;
  REQUIRE(m.ParseFromString(encode_metrics_v2(s)));
  return m;
}

}  // namespace

TEST_CASE("metrics v1: every controller read") {
  Stats s = v1_stats();
  s.memory.raw = {{"cache", 4096},        {"rss", 8192},
                  {"mapped_file", 1024},  {"pgpgin", 10},
                  {"pgmajfault", 2},      {"hierarchical_memory_limit", 33554432},
                  {"total_pgfault", 100}, {"hierarchical_memsw_limit", 9223372036854771712ull}};
  s.memory.usage = {12288, 20480, 3, 33554432};
  s.memory.swap.usage = 12288;
  s.memory.oom_control = {0, 0, 2};
  s.cpu.total = 123456789;
  s.cpu.percpu = {100000000, 23456789};
  s.cpu.user = 70000000;
  s.cpu.kernel = 30000000;
  s.cpu.periods = 10;
  s.cpu.throttled_periods = 4;
  s.cpu.throttled_time = 5000;
  s.pids = {3, 0};
  s.blkio.v1["io_serviced_recursive"] = {};  // scheduler files present but empty
  s.blkio.v1["throttle.io_service_bytes"] = {{8, 0, "Read", 4096, "/dev/sda"},
                                             {8, 0, "Write", 512, "/dev/sda"},
                                             {8, 16, "Read", 0, "/dev/sdb"}};
  s.blkio.v1["throttle.io_serviced"] = {{8, 0, "Read", 1, "/dev/sda"},
                                        {8, 0, "Write", 1, "/dev/sda"}};
  s.blkio.v1["throttle.io_service_bytes_recursive"] = {
      {8, 0, "Read", 99, ""}};  // runc's, not containerd's
  s.hugetlb["2MB"] = {2097152, 4194304, 1, 0};

  auto m = decode_v1(s);
  CHECK(m.memory().cache() == 4096);
  CHECK(m.memory().rss() == 8192);
  CHECK(m.memory().mapped_file() == 1024);
  CHECK(m.memory().pg_pg_in() == 10);
  CHECK(m.memory().pg_maj_fault() == 2);
  CHECK(m.memory().hierarchical_memory_limit() == 33554432);
  CHECK(m.memory().hierarchical_swap_limit() == 9223372036854771712ull);
  CHECK(m.memory().total_pg_fault() == 100);
  CHECK(m.memory().usage().usage() == 12288);
  CHECK(m.memory().usage().limit() == 33554432);
  CHECK(m.memory().usage().max() == 20480);
  CHECK(m.memory().usage().failcnt() == 3);
  CHECK(m.memory().swap().usage() == 12288);
  CHECK(m.memory().kernel().usage() == 0);
  CHECK(m.has_memory_oom_control());
  CHECK(m.memory_oom_control().oom_kill() == 2);

  CHECK(m.cpu().usage().total() == 123456789);
  REQUIRE(m.cpu().usage().per_cpu_size() == 2);
  CHECK(m.cpu().usage().per_cpu(1) == 23456789);
  CHECK(m.cpu().usage().user() == 70000000);
  CHECK(m.cpu().usage().kernel() == 30000000);
  CHECK(m.cpu().throttling().periods() == 10);
  CHECK(m.cpu().throttling().throttled_periods() == 4);
  CHECK(m.cpu().throttling().throttled_time() == 5000);

  CHECK(m.has_pids());
  CHECK(m.pids().current() == 3);
  CHECK(m.pids().limit() == 0);

  // The scheduler files had no device lines: the throttle files count.
  REQUIRE(m.blkio().io_service_bytes_recursive_size() == 3);
  const auto& e = m.blkio().io_service_bytes_recursive(0);
  CHECK(e.major() == 8);
  CHECK(e.minor() == 0);
  CHECK(e.op() == "Read");
  CHECK(e.value() == 4096);
  CHECK(e.device() == "/dev/sda");
  CHECK(m.blkio().io_service_bytes_recursive(2).device() == "/dev/sdb");
  CHECK(m.blkio().io_serviced_recursive_size() == 2);
  CHECK(m.blkio().sectors_recursive_size() == 0);

  REQUIRE(m.hugetlb_size() == 1);
  CHECK(m.hugetlb(0).pagesize() == "2MB");
  CHECK(m.hugetlb(0).usage() == 2097152);
  CHECK(m.hugetlb(0).max() == 4194304);
  CHECK(m.hugetlb(0).failcnt() == 1);
}

TEST_CASE("metrics v1: scheduler blkio files win when they have entries") {
  Stats s = v1_stats();
  s.blkio.v1["io_serviced_recursive"] = {{8, 0, "Read", 7, ""}, {8, 0, "Write", 1, ""}};
  s.blkio.v1["time_recursive"] = {{8, 0, "", 1234, ""}};
  s.blkio.v1["throttle.io_serviced"] = {{8, 0, "Read", 99, ""}};
  auto m = decode_v1(s);
  REQUIRE(m.blkio().io_serviced_recursive_size() == 2);
  CHECK(m.blkio().io_serviced_recursive(0).value() == 7);
  REQUIRE(m.blkio().io_time_recursive_size() == 1);
  CHECK(m.blkio().io_time_recursive(0).op() == "");
  CHECK(m.blkio().io_time_recursive(0).value() == 1234);
}

// What containerd-shim-runc-v2 sends for controllers it did not read: no
// message, not one of zeros. On a hybrid host hugetlb is the v2 tree's.
TEST_CASE("metrics v1: controllers not read have no message (hybrid hugetlb, no cpu)") {
  Stats s;
  s.sources.memory = Source::kV1;
  s.sources.cpuacct = Source::kV1;
  s.sources.hugetlb = Source::kV2;
  s.hugetlb["2MB"] = {1, 0, 0, 0};
  s.cpu.throttled_periods = 9;
  auto m = decode_v1(s);
  CHECK(m.has_memory());
  CHECK(m.has_cpu());
  CHECK(m.cpu().has_usage());
  CHECK_FALSE(m.cpu().has_throttling());  // no v1 cpu controller
  CHECK(m.hugetlb_size() == 0);
  CHECK_FALSE(m.has_pids());
  CHECK_FALSE(m.has_blkio());
  s.sources = {};
  auto none = decode_v1(s);
  CHECK_FALSE(none.has_memory());
  CHECK_FALSE(none.has_cpu());
  CHECK_FALSE(none.has_memory_oom_control());
}

TEST_CASE("metrics v2: from v2 Stats") {
  Stats s;
  auto& src = s.sources;
  src.cpu = src.cpuacct = src.memory = src.pids = src.blkio = src.hugetlb = Source::kV2;
  s.cpu.total = 5000000;
  s.cpu.user = 3000000;
  s.cpu.kernel = 2000000;
  s.memory.raw = {{"anon", 4096},
                  {"file", 8192},
                  {"kernel_stack", 16384},
                  {"pgfault", 77},
                  {"workingset_refault_anon", 2},
                  {"workingset_refault_file", 3},
                  {"workingset_activate_anon", 1},
                  {"workingset_activate_file", 1}};
  s.memory.usage = {28672, 40960, 4, UINT64_MAX};
  s.memory.swap = {0, 0, 0, UINT64_MAX};
  s.memory.swap_accounting = true;
  s.memory.events = {0, 0, 4, 1, 1};
  s.pids = {2, 100};
  s.blkio.io.push_back({8, 0, 4096, 8192, 1, 2, 0, 0});
  s.hugetlb["2MB"] = {0, 0, 0, UINT64_MAX};

  auto m = decode_v2(s);
  CHECK(m.cpu().usage_usec() == 5000);
  CHECK(m.cpu().user_usec() == 3000);
  CHECK(m.cpu().system_usec() == 2000);
  CHECK(m.memory().anon() == 4096);
  CHECK(m.memory().file() == 8192);
  CHECK(m.memory().kernel_stack() == 16384);
  CHECK(m.memory().pgfault() == 77);
  CHECK(m.memory().workingset_refault() == 5);  // anon + file
  CHECK(m.memory().workingset_activate() == 2);
  CHECK(m.memory().usage() == 28672);
  CHECK(m.memory().usage_limit() == std::numeric_limits<uint64_t>::max());
  CHECK(m.memory().swap_limit() == std::numeric_limits<uint64_t>::max());
  CHECK(m.memory().max_usage() == 40960);
  CHECK(m.memory().swap_max_usage() == 0);
  CHECK(m.memory_events().max() == 4);
  CHECK(m.memory_events().oom() == 1);
  CHECK(m.memory_events().oom_kill() == 1);
  CHECK(m.pids().current() == 2);
  CHECK(m.pids().limit() == 100);
  REQUIRE(m.io().usage_size() == 1);
  CHECK(m.io().usage(0).major() == 8);
  CHECK(m.io().usage(0).rbytes() == 4096);
  CHECK(m.io().usage(0).wbytes() == 8192);
  CHECK(m.io().usage(0).rios() == 1);
  CHECK(m.io().usage(0).wios() == 2);
  REQUIRE(m.hugetlb_size() == 1);
  CHECK(m.hugetlb(0).pagesize() == "2MB");
  CHECK(m.hugetlb(0).max() == std::numeric_limits<uint64_t>::max());
  CHECK_FALSE(m.has_rdma());  // no rdma.current
}

// Every memory.stat key lands in the MemoryStat field of that name: the
// encoder's key tables checked against the generated accessors.
TEST_CASE("metrics v1: every memory.stat key maps to its MemoryStat field") {
  using M = io::containerd::cgroups::v1::MemoryStat;
  const std::vector<std::pair<const char*, uint64_t (M::*)() const>> fields = {
      {"cache", &M::cache},
      {"rss", &M::rss},
      {"rss_huge", &M::rss_huge},
      {"mapped_file", &M::mapped_file},
      {"dirty", &M::dirty},
      {"writeback", &M::writeback},
      {"pgpgin", &M::pg_pg_in},
      {"pgpgout", &M::pg_pg_out},
      {"pgfault", &M::pg_fault},
      {"pgmajfault", &M::pg_maj_fault},
      {"inactive_anon", &M::inactive_anon},
      {"active_anon", &M::active_anon},
      {"inactive_file", &M::inactive_file},
      {"active_file", &M::active_file},
      {"unevictable", &M::unevictable},
      {"hierarchical_memory_limit", &M::hierarchical_memory_limit},
      {"hierarchical_memsw_limit", &M::hierarchical_swap_limit},
      {"total_cache", &M::total_cache},
      {"total_rss", &M::total_rss},
      {"total_rss_huge", &M::total_rss_huge},
      {"total_mapped_file", &M::total_mapped_file},
      {"total_dirty", &M::total_dirty},
      {"total_writeback", &M::total_writeback},
      {"total_pgpgin", &M::total_pg_pg_in},
      {"total_pgpgout", &M::total_pg_pg_out},
      {"total_pgfault", &M::total_pg_fault},
      {"total_pgmajfault", &M::total_pg_maj_fault},
      {"total_inactive_anon", &M::total_inactive_anon},
      {"total_active_anon", &M::total_active_anon},
      {"total_inactive_file", &M::total_inactive_file},
      {"total_active_file", &M::total_active_file},
      {"total_unevictable", &M::total_unevictable},
  };
  Stats s;
  s.sources.memory = Source::kV1;
  for (size_t i = 0; i < fields.size(); ++i) s.memory.raw[fields[i].first] = 1000 + i;
  auto m = decode_v1(s);
  for (size_t i = 0; i < fields.size(); ++i)
    CHECK_MESSAGE((m.memory().*fields[i].second)() == 1000 + i, fields[i].first);
}

TEST_CASE("metrics v2: every memory.stat, cpu.stat and memory.events value maps to its field") {
  using M = io::containerd::cgroups::v2::MemoryStat;
  const std::vector<std::pair<const char*, uint64_t (M::*)() const>> mem = {
      {"anon", &M::anon},
      {"file", &M::file},
      {"kernel_stack", &M::kernel_stack},
      {"slab", &M::slab},
      {"sock", &M::sock},
      {"shmem", &M::shmem},
      {"file_mapped", &M::file_mapped},
      {"file_dirty", &M::file_dirty},
      {"file_writeback", &M::file_writeback},
      {"anon_thp", &M::anon_thp},
      {"inactive_anon", &M::inactive_anon},
      {"active_anon", &M::active_anon},
      {"inactive_file", &M::inactive_file},
      {"active_file", &M::active_file},
      {"unevictable", &M::unevictable},
      {"slab_reclaimable", &M::slab_reclaimable},
      {"slab_unreclaimable", &M::slab_unreclaimable},
      {"pgfault", &M::pgfault},
      {"pgmajfault", &M::pgmajfault},
      {"workingset_refault", &M::workingset_refault},
      {"workingset_activate", &M::workingset_activate},
      {"workingset_nodereclaim", &M::workingset_nodereclaim},
      {"pgrefill", &M::pgrefill},
      {"pgscan", &M::pgscan},
      {"pgsteal", &M::pgsteal},
      {"pgactivate", &M::pgactivate},
      {"pgdeactivate", &M::pgdeactivate},
      {"pglazyfree", &M::pglazyfree},
      {"pglazyfreed", &M::pglazyfreed},
      {"thp_fault_alloc", &M::thp_fault_alloc},
      {"thp_collapse_alloc", &M::thp_collapse_alloc},
  };
  Stats s;
  for (size_t i = 0; i < mem.size(); ++i) s.memory.raw[mem[i].first] = 100 + i;
  // cpu.stat's microseconds as the reader keeps them (ns), in field order.
  s.cpu.total = 200000;
  s.cpu.user = 201000;
  s.cpu.kernel = 202000;
  s.cpu.periods = 203;
  s.cpu.throttled_periods = 204;
  s.cpu.throttled_time = 205000;
  s.memory.events = {300, 301, 302, 303, 304};
  s.memory.swap = {11, 13, 0, 12};
  s.rdma.present = true;
  s.rdma.current.push_back({"mlx4_0", 2, 2000});
  s.rdma.limit.push_back({"mlx4_0", UINT32_MAX, UINT32_MAX});
  auto m = decode_v2(s);
  for (size_t i = 0; i < mem.size(); ++i)
    CHECK_MESSAGE((m.memory().*mem[i].second)() == 100 + i, mem[i].first);
  using C = io::containerd::cgroups::v2::CPUStat;
  const std::vector<uint64_t (C::*)() const> cpu = {&C::usage_usec,   &C::user_usec,
                                                    &C::system_usec,  &C::nr_periods,
                                                    &C::nr_throttled, &C::throttled_usec};
  for (size_t i = 0; i < cpu.size(); ++i) CHECK((m.cpu().*cpu[i])() == 200 + i);
  using E = io::containerd::cgroups::v2::MemoryEvents;
  const std::vector<uint64_t (E::*)() const> events = {&E::low, &E::high, &E::max, &E::oom,
                                                       &E::oom_kill};
  for (size_t i = 0; i < events.size(); ++i) CHECK((m.memory_events().*events[i])() == 300 + i);
  CHECK(m.memory().swap_usage() == 11);
  CHECK(m.memory().swap_limit() == 12);
  CHECK(m.memory().swap_max_usage() == 13);
  REQUIRE(m.rdma().current_size() == 1);
  CHECK(m.rdma().current(0).device() == "mlx4_0");
  CHECK(m.rdma().current(0).hca_handles() == 2);
  CHECK(m.rdma().current(0).hca_objects() == 2000);
  CHECK(m.rdma().limit(0).hca_handles() == UINT32_MAX);
}

TEST_CASE("proto writer: varints, strings, packed repeated, empty sub-messages") {
  ProtoWriter inner;
  ProtoWriter w;
  w.u64(1, 0).u64(2, 300).bytes(3, "hi").message(4, inner).packed_u64(
      5, std::vector<uint64_t>{1, 128});
  CHECK(w.str() == std::string("\x10\xac\x02\x1a\x02hi\x22\x00\x2a\x03\x01\x80\x01", 14));
}
