#pragma once
// cgroup resources (runtime part 2): linux.resources parsed into types and
// validated (parse_resources), then written to a container's cgroup
// directories (apply_resources) in the file names of each hierarchy's
// version; freezing and signalling every process of a container.
//
// Semantics follow the OCI runtime-spec (config-linux.md, "Control groups")
// and, where the spec is silent, runc: 0 means "unset" for memory and CPU
// numbers, -1 means unlimited for memory, swap and pids.
//
// Which directory a setting goes to: the v1 hierarchy that carries its
// controller if the host mounts one, else the cgroup2 tree (so on a hybrid
// host hugetlb, which only the cgroup2 tree has, is written there with v2
// file names). Placement::dirs[i] is the container's directory in
// Layout::hierarchies[i], as plan_placement made it.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/cgroups.h"

namespace berth::cgroups {

struct MemoryResources {
  std::optional<int64_t> limit;        // bytes, -1 unlimited
  std::optional<int64_t> reservation;  // soft limit (v1) / memory.low (v2)
  std::optional<int64_t> swap;         // memory+swap, as in v1
  std::optional<int64_t> kernel;       // parsed, never applied (deprecated by the kernel)
  std::optional<int64_t> kernel_tcp;
  std::optional<uint64_t> swappiness;  // 0..100
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  bool check_before_update = false;
  bool any() const;
};

struct CpuResources {
  std::optional<uint64_t> shares;  // 2..262144
  std::optional<int64_t> quota;    // us per period, -1 unlimited
  std::optional<uint64_t> burst;   // us
  std::optional<uint64_t> period;  // us, 1000..1000000
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;  // "0-3,7"; "" unset
  std::string mems;
  std::optional<int64_t> idle;  // 0 or 1
  bool any_cpu() const;         // anything for the cpu controller
  bool any_cpuset() const { return !cpus.empty() || !mems.empty(); }
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;       // 10..1000
  std::optional<uint16_t> leaf_weight;  // v1 CFQ only
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> read_bps, write_bps, read_iops, write_iops;
  bool any() const;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", as in the hugetlb.<size>.* file names
  uint64_t limit = 0;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<NetworkPriority> priorities;
};

struct RdmaLimit {
  std::optional<uint32_t> hca_handles, hca_objects;
};

// One entry of the device allow/deny list. Wildcards: type 'a', major or
// minor -1.
struct DeviceRule {
  bool allow = false;
  char type = 'a';  // 'a', 'c' or 'b'
  int64_t major = -1;
  int64_t minor = -1;
  std::string access = "rwm";  // a non-empty subset of "rwm"
};

struct Resources {
  std::string field = "linux.resources";  // how errors name this object
  MemoryResources memory;
  CpuResources cpu;
  std::optional<int64_t> pids_limit;  // -1 unlimited; 0 is a real limit
  BlockIoResources block_io;
  std::vector<HugepageLimit> hugepage_limits;
  NetworkResources network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;  // cgroup2 file -> content, verbatim
  std::vector<DeviceRule> devices;             // in the spec's order
};

// The host facts validation needs; tests feed their own.
struct HostTopology {
  std::string online_cpus;   // text of /sys/devices/system/cpu/online
  std::string online_nodes;  // text of /sys/devices/system/node/online
};
Result<HostTopology> host_topology();

// `raw_json` is the linux.resources object (spec::Resources::raw_json; "" or
// "null" gives empty Resources); `field` names it in errors
// ("linux.resources", or "--resources" for `berth update`). Errors name the
// field: "linux.resources.memory.swap: 1000 is less than memory.limit 2000".
// Reads the host's online CPUs and nodes only when cpu.cpus or cpu.mems is set.
Result<Resources> parse_resources(std::string_view raw_json, std::string_view field);
Result<Resources> parse_resources(std::string_view raw_json, std::string_view field,
                                  const HostTopology& host);

// Writes every setting that is present to the container's directories, in
// an order the kernel accepts for both creating and updating; settings that
// are absent are left as they are. On cgroup2 it first enables the needed
// controllers in cgroup.subtree_control from the hierarchy's mount point down
// to the container's parent, and enables memory, pids, cpu and io there too
// when available, so that stats() finds their files: call it (with empty
// Resources if need be) for every new container.
//
// Devices: an empty list leaves device access alone. The caller builds the
// list the container gets: the spec's rules, then the runtime's defaults
// (default_device_rules() in devices.h), then an allow rule per linux.devices
// entry, as runc does.
//
// Errors name the file and value: "cgroup `/sys/fs/cgroup/memory/x/
// memory.limit_in_bytes`: write \"1\": Device or resource busy".
Status apply_resources(const Layout& layout, const Placement& placement,
                       const Resources& resources);

// Freezes (true) or thaws every process of the container and waits until the
// kernel reports the new state: v1 freezer.state reads FROZEN/THAWED, or v2
// cgroup.events says "frozen 1"/"frozen 0". The v1 freezer is used when the
// host mounts one (a hybrid host), else the cgroup2 tree's cgroup.freeze.
// A freeze that does not complete in `timeout_ms` is undone and reported.
Status freeze(const Placement& placement, bool frozen, int timeout_ms = 5000);
Result<bool> frozen(const Placement& placement);

// Sends `sig` to every process of the container. SIGKILL on cgroup2 with
// cgroup.kill (Linux 5.14) is one write that no fork can race; otherwise the
// cgroup is frozen first so that no process forks a child past the pid list,
// every pid from pids() is signalled, and the cgroup is thawed again (a
// frozen process cannot act on SIGKILL; runc does the same). Processes that
// exited meanwhile are not an error.
Status kill_all(const Placement& placement, int sig);

}  // namespace berth::cgroups
