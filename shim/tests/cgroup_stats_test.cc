// Task.Stats from cgroup files: the container's directories found from
// mountinfo + /proc/<pid>/cgroup texts, and v1 / v2 Metrics filled from
// fixture trees written here (the kernel's file formats), decoded back.
#include <doctest/doctest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <limits>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "cgroup_stats.h"
#include "proto_writer.h"
#include "cgroups/v1/metrics.pb.h"
#include "cgroups/v2/metrics.pb.h"

using namespace berth;
using namespace berth::shim;

namespace {

// This host's kind: v1 controllers, a hybrid cgroup2 tree, a named hierarchy.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kContainerCgroup =
    "9:name=systemd:/\n"
    "8:pids:/pa/x/c1\n"
    "4:memory:/pa/x/c1\n"
    "2:cpuacct:/pa/x/c1\n"
    "1:cpu:/pa/x/c1\n"
    "0::/\n";

struct TempTree {
  std::string dir;
  TempTree() {
    char tmpl[] = "/tmp/berth-shim-stats-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~TempTree() { (void)sys::remove_all(dir); }
  std::string put(const std::string& rel, const std::string& text) {
    std::string path = dir + "/" + rel;
    REQUIRE(sys::mkdir_p(path.substr(0, path.rfind('/')), 0755).ok());
    REQUIRE(sys::write_file_atomic(path, text, 0644).ok());
    return path;
  }
};

}  // namespace

TEST_CASE("stats: a hybrid host's container cgroups are v1, per controller") {
  auto set = parse_cgroup_set(kHybridMountinfo, kContainerCgroup);
  REQUIRE(set.ok());
  CHECK_FALSE(set->unified);
  CHECK(set->v1.at("memory") == "/sys/fs/cgroup/memory/pa/x/c1");
  CHECK(set->v1.at("cpu") == "/sys/fs/cgroup/cpu/pa/x/c1");
  CHECK(set->v1.at("pids") == "/sys/fs/cgroup/pids/pa/x/c1");
  CHECK(set->v1.count("name=systemd") == 0);
  CHECK(set->memory_dir() == "/sys/fs/cgroup/memory/pa/x/c1");
}

TEST_CASE("stats: a pure v2 host's container cgroup is one directory") {
  auto set = parse_cgroup_set("25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
                              "0::/system.slice/k.scope/c1\n");
  REQUIRE(set.ok());
  CHECK(set->unified);
  CHECK(set->dir == "/sys/fs/cgroup/system.slice/k.scope/c1");
  CHECK(set->memory_dir() == set->dir);
}

TEST_CASE("stats: containerd's hugepage size names") {
  CHECK(hugepage_size_name("hugepages-2048kB") == "2MB");
  CHECK(hugepage_size_name("hugepages-1048576kB") == "1GB");
  CHECK(hugepage_size_name("hugepages-64kB") == "64KB");
  CHECK(hugepage_size_name("hugepages-32768kB") == "32MB");
  CHECK(hugepage_size_name("other") == "");
  CHECK(hugepage_size_name("hugepages-x") == "");
}

TEST_CASE("stats: v1 Metrics from v1 files") {
  TempTree t;
  t.put("memory/memory.stat",
        "cache 4096\nrss 8192\nrss_huge 0\nmapped_file 1024\npgpgin 10\npgpgout 5\npgfault 100\n"
        "pgmajfault 2\nhierarchical_memory_limit 33554432\nhierarchical_memsw_limit 9223372036854771712\n"
        "total_cache 4096\ntotal_rss 8192\ntotal_pgfault 100\ntotal_unevictable 0\n");
  t.put("memory/memory.usage_in_bytes", "12288\n");
  t.put("memory/memory.limit_in_bytes", "33554432\n");
  t.put("memory/memory.max_usage_in_bytes", "20480\n");
  t.put("memory/memory.failcnt", "3\n");
  t.put("memory/memory.memsw.usage_in_bytes", "12288\n");
  t.put("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  t.put("cpuacct/cpuacct.usage", "123456789\n");
  t.put("cpuacct/cpuacct.usage_percpu", "100000000 23456789 \n");
  t.put("cpuacct/cpuacct.stat", "user 7\nsystem 3\n");
  t.put("cpu/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n");
  t.put("pids/pids.current", "3\n");
  t.put("pids/pids.max", "max\n");
  t.put("blkio/blkio.throttle.io_service_bytes", "8:0 Read 4096\n8:0 Write 512\n8:16 Read 0\nTotal 4608\n");
  t.put("blkio/blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Write 1\nTotal 2\n");
  t.put("blkio/blkio.io_serviced_recursive", "Total 0\n");  // scheduler files present but empty
  t.put("partitions", "major minor  #blocks  name\n\n   8        0   1048576 sda\n   8       16   1048576 sdb\n");
  t.put("hugepages/hugepages-2048kB/nr_hugepages", "0\n");
  t.put("hugetlb/hugetlb.2MB.usage_in_bytes", "2097152\n");
  t.put("hugetlb/hugetlb.2MB.max_usage_in_bytes", "4194304\n");
  t.put("hugetlb/hugetlb.2MB.failcnt", "1\n");

  CgroupSet set;
  for (const char* c : {"memory", "cpuacct", "cpu", "pids", "blkio", "hugetlb"}) set.v1[c] = t.dir + "/" + c;
  StatsEnv env{t.dir + "/partitions", t.dir + "/hugepages", 100};
  auto any = read_metrics(set, env);
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  CHECK(any->type_url == "io.containerd.cgroups.v1.Metrics");
  io::containerd::cgroups::v1::Metrics m;
  REQUIRE(m.ParseFromString(any->value));

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
  CHECK(m.memory().kernel().usage() == 0);  // no kmem files: zeros
  CHECK(m.memory_oom_control().oom_kill() == 2);

  CHECK(m.cpu().usage().total() == 123456789);
  REQUIRE(m.cpu().usage().per_cpu_size() == 2);
  CHECK(m.cpu().usage().per_cpu(1) == 23456789);
  CHECK(m.cpu().usage().user() == 70000000);  // 7 ticks of 10 ms
  CHECK(m.cpu().usage().kernel() == 30000000);
  CHECK(m.cpu().throttling().periods() == 10);
  CHECK(m.cpu().throttling().throttled_periods() == 4);
  CHECK(m.cpu().throttling().throttled_time() == 5000);

  CHECK(m.pids().current() == 3);
  CHECK(m.pids().limit() == 0);  // "max"

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

TEST_CASE("stats: v1 scheduler blkio files win when they have entries") {
  TempTree t;
  t.put("blkio/blkio.io_serviced_recursive", "8:0 Read 7\n8:0 Write 1\nTotal 8\n");
  t.put("blkio/blkio.time_recursive", "8:0 1234\n");
  t.put("blkio/blkio.throttle.io_serviced", "8:0 Read 99\n");
  t.put("pids/pids.current", "1\n");
  CgroupSet set;
  set.v1["blkio"] = t.dir + "/blkio";
  set.v1["pids"] = t.dir + "/pids";
  auto any = read_metrics(set, StatsEnv{t.dir + "/none", t.dir + "/none", 100});
  REQUIRE(any.ok());
  io::containerd::cgroups::v1::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
  REQUIRE(m.blkio().io_serviced_recursive_size() == 2);
  CHECK(m.blkio().io_serviced_recursive(0).value() == 7);
  REQUIRE(m.blkio().io_time_recursive_size() == 1);
  CHECK(m.blkio().io_time_recursive(0).op() == "");
  CHECK(m.blkio().io_time_recursive(0).value() == 1234);
}

TEST_CASE("stats: v2 Metrics from cgroup2 files") {
  TempTree t;
  t.put("c/cpu.stat", "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 0\nnr_throttled 0\n"
                      "throttled_usec 0\n");
  t.put("c/memory.stat",
        "anon 4096\nfile 8192\nkernel_stack 16384\nslab 100\nsock 0\nshmem 0\nfile_mapped 4096\n"
        "workingset_refault_anon 2\nworkingset_refault_file 3\nworkingset_activate_anon 1\n"
        "workingset_activate_file 1\npgfault 77\npgmajfault 1\nthp_fault_alloc 0\n");
  t.put("c/memory.current", "28672\n");
  t.put("c/memory.max", "max\n");
  t.put("c/memory.swap.current", "0\n");
  t.put("c/memory.swap.max", "max\n");
  t.put("c/memory.peak", "40960\n");
  t.put("c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  t.put("c/pids.current", "2\n");
  t.put("c/pids.max", "100\n");
  t.put("c/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
  t.put("c/hugetlb.2MB.current", "0\n");
  t.put("c/hugetlb.2MB.max", "max\n");
  t.put("hugepages/hugepages-2048kB/nr_hugepages", "0\n");
  t.put("hugepages/hugepages-1048576kB/nr_hugepages", "0\n");  // no files for it: skipped

  CgroupSet set;
  set.unified = true;
  set.dir = t.dir + "/c";
  auto any = read_metrics(set, StatsEnv{t.dir + "/partitions", t.dir + "/hugepages", 100});
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  CHECK(any->type_url == "io.containerd.cgroups.v2.Metrics");
  io::containerd::cgroups::v2::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
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
}

TEST_CASE("stats: a cgroup that is gone is NotFound material (ENOENT)") {
  CgroupSet v2;
  v2.unified = true;
  v2.dir = "/nonexistent/berth/c";
  auto r = read_metrics(v2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ENOENT);
  CgroupSet v1;
  v1.v1["memory"] = "/nonexistent/berth/m";
  v1.v1["cpu"] = "/nonexistent/berth/c";
  CHECK(read_metrics(v1).error().code() == ENOENT);
}

TEST_CASE("stats: this process's own cgroups read as real numbers") {
  auto set = cgroups_of_pid(::getpid());
  REQUIRE_MESSAGE(set.ok(), set.error().to_string());
  auto any = read_metrics(*set);
  REQUIRE_MESSAGE(any.ok(), any.error().to_string());
  if (set->unified) {
    io::containerd::cgroups::v2::Metrics m;
    REQUIRE(m.ParseFromString(any->value));
    CHECK(m.memory().usage() > 0);
  } else {
    io::containerd::cgroups::v1::Metrics m;
    REQUIRE(m.ParseFromString(any->value));
    if (set->v1.count("memory")) CHECK(m.memory().usage().usage() > 0);
    if (set->v1.count("cpuacct")) CHECK(m.cpu().usage().total() > 0);
  }
}

// Every memory.stat key lands in the MemoryStat field of that name: the
// writer's key tables checked against the generated accessors.
TEST_CASE("stats: every v1 memory.stat key maps to its MemoryStat field") {
  using M = io::containerd::cgroups::v1::MemoryStat;
  const std::vector<std::pair<const char*, uint64_t (M::*)() const>> fields = {
      {"cache", &M::cache}, {"rss", &M::rss}, {"rss_huge", &M::rss_huge}, {"mapped_file", &M::mapped_file},
      {"dirty", &M::dirty}, {"writeback", &M::writeback}, {"pgpgin", &M::pg_pg_in}, {"pgpgout", &M::pg_pg_out},
      {"pgfault", &M::pg_fault}, {"pgmajfault", &M::pg_maj_fault}, {"inactive_anon", &M::inactive_anon},
      {"active_anon", &M::active_anon}, {"inactive_file", &M::inactive_file}, {"active_file", &M::active_file},
      {"unevictable", &M::unevictable}, {"hierarchical_memory_limit", &M::hierarchical_memory_limit},
      {"hierarchical_memsw_limit", &M::hierarchical_swap_limit}, {"total_cache", &M::total_cache},
      {"total_rss", &M::total_rss}, {"total_rss_huge", &M::total_rss_huge},
      {"total_mapped_file", &M::total_mapped_file}, {"total_dirty", &M::total_dirty},
      {"total_writeback", &M::total_writeback}, {"total_pgpgin", &M::total_pg_pg_in},
      {"total_pgpgout", &M::total_pg_pg_out}, {"total_pgfault", &M::total_pg_fault},
      {"total_pgmajfault", &M::total_pg_maj_fault}, {"total_inactive_anon", &M::total_inactive_anon},
      {"total_active_anon", &M::total_active_anon}, {"total_inactive_file", &M::total_inactive_file},
      {"total_active_file", &M::total_active_file}, {"total_unevictable", &M::total_unevictable},
  };
  TempTree t;
  std::string stat;
  for (size_t i = 0; i < fields.size(); ++i) stat += std::string(fields[i].first) + " " + std::to_string(1000 + i) + "\n";
  t.put("memory/memory.stat", stat);
  CgroupSet set;
  set.v1["memory"] = t.dir + "/memory";
  auto any = read_metrics(set, StatsEnv{t.dir + "/none", t.dir + "/none", 100});
  REQUIRE(any.ok());
  io::containerd::cgroups::v1::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
  for (size_t i = 0; i < fields.size(); ++i) CHECK_MESSAGE((m.memory().*fields[i].second)() == 1000 + i, fields[i].first);
}

TEST_CASE("stats: every v2 memory.stat, cpu.stat and memory.events key maps to its field") {
  using M = io::containerd::cgroups::v2::MemoryStat;
  const std::vector<std::pair<const char*, uint64_t (M::*)() const>> mem = {
      {"anon", &M::anon}, {"file", &M::file}, {"kernel_stack", &M::kernel_stack}, {"slab", &M::slab},
      {"sock", &M::sock}, {"shmem", &M::shmem}, {"file_mapped", &M::file_mapped}, {"file_dirty", &M::file_dirty},
      {"file_writeback", &M::file_writeback}, {"anon_thp", &M::anon_thp}, {"inactive_anon", &M::inactive_anon},
      {"active_anon", &M::active_anon}, {"inactive_file", &M::inactive_file}, {"active_file", &M::active_file},
      {"unevictable", &M::unevictable}, {"slab_reclaimable", &M::slab_reclaimable},
      {"slab_unreclaimable", &M::slab_unreclaimable}, {"pgfault", &M::pgfault}, {"pgmajfault", &M::pgmajfault},
      {"workingset_refault", &M::workingset_refault}, {"workingset_activate", &M::workingset_activate},
      {"workingset_nodereclaim", &M::workingset_nodereclaim}, {"pgrefill", &M::pgrefill}, {"pgscan", &M::pgscan},
      {"pgsteal", &M::pgsteal}, {"pgactivate", &M::pgactivate}, {"pgdeactivate", &M::pgdeactivate},
      {"pglazyfree", &M::pglazyfree}, {"pglazyfreed", &M::pglazyfreed}, {"thp_fault_alloc", &M::thp_fault_alloc},
      {"thp_collapse_alloc", &M::thp_collapse_alloc},
  };
  using C = io::containerd::cgroups::v2::CPUStat;
  const std::vector<std::pair<const char*, uint64_t (C::*)() const>> cpu = {
      {"usage_usec", &C::usage_usec}, {"user_usec", &C::user_usec}, {"system_usec", &C::system_usec},
      {"nr_periods", &C::nr_periods}, {"nr_throttled", &C::nr_throttled}, {"throttled_usec", &C::throttled_usec},
  };
  using E = io::containerd::cgroups::v2::MemoryEvents;
  const std::vector<std::pair<const char*, uint64_t (E::*)() const>> events = {
      {"low", &E::low}, {"high", &E::high}, {"max", &E::max}, {"oom", &E::oom}, {"oom_kill", &E::oom_kill},
  };
  TempTree t;
  std::string stat, cpu_stat, ev;
  for (size_t i = 0; i < mem.size(); ++i) stat += std::string(mem[i].first) + " " + std::to_string(100 + i) + "\n";
  for (size_t i = 0; i < cpu.size(); ++i) cpu_stat += std::string(cpu[i].first) + " " + std::to_string(200 + i) + "\n";
  for (size_t i = 0; i < events.size(); ++i) ev += std::string(events[i].first) + " " + std::to_string(300 + i) + "\n";
  t.put("c/memory.stat", stat);
  t.put("c/cpu.stat", cpu_stat);
  t.put("c/memory.events", ev);
  t.put("c/memory.swap.current", "11\n");
  t.put("c/memory.swap.max", "12\n");
  t.put("c/memory.swap.peak", "13\n");
  t.put("c/rdma.current", "mlx4_0 hca_handle=2 hca_object=2000\n");
  t.put("c/rdma.max", "mlx4_0 hca_handle=max hca_object=max\n");
  CgroupSet set;
  set.unified = true;
  set.dir = t.dir + "/c";
  auto any = read_metrics(set, StatsEnv{t.dir + "/none", t.dir + "/none", 100});
  REQUIRE(any.ok());
  io::containerd::cgroups::v2::Metrics m;
  REQUIRE(m.ParseFromString(any->value));
  for (size_t i = 0; i < mem.size(); ++i) CHECK_MESSAGE((m.memory().*mem[i].second)() == 100 + i, mem[i].first);
  for (size_t i = 0; i < cpu.size(); ++i) CHECK_MESSAGE((m.cpu().*cpu[i].second)() == 200 + i, cpu[i].first);
  for (size_t i = 0; i < events.size(); ++i)
    CHECK_MESSAGE((m.memory_events().*events[i].second)() == 300 + i, events[i].first);
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
  w.u64(1, 0).u64(2, 300).bytes(3, "hi").message(4, inner).packed_u64(5, std::vector<uint64_t>{1, 128});
  CHECK(w.str() == std::string("\x10\xac\x02\x1a\x02hi\x22\x00\x2a\x03\x01\x80\x01", 14));
}

// The v2 path on a real cgroup2 file system: a child in a private mount
// namespace mounts this host's cgroup2 tree over /sys/fs/cgroup (hiding the
// v1 mounts below it), so its own cgroups read as a pure v2 host's. Nothing
// is created: it reads the files of the cgroup it is in.
TEST_CASE("stats: a pure cgroup2 mount reads as v2 Metrics (root, private mount namespace)") {
  if (::geteuid() != 0 || !sys::exists("/sys/fs/cgroup")) {
    MESSAGE("skipped: needs root");
    return;
  }
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(2);
    if (::mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0) ::_exit(3);
    auto set = cgroups_of_pid(::getpid());
    if (!set || !set->unified) ::_exit(4);
    auto any = read_metrics(*set);
    if (!any || any->type_url != "io.containerd.cgroups.v2.Metrics") ::_exit(5);
    io::containerd::cgroups::v2::Metrics m;
    if (!m.ParseFromString(any->value)) ::_exit(6);
    ::_exit(m.cpu().usage_usec() > 0 ? 0 : 7);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
