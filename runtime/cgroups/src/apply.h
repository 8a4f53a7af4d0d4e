#pragma once
// The per-controller writers of apply_resources, one set per cgroup version.
// Each takes the container's directory in the hierarchy that carries the
// controller and writes only the settings that are present. Private.

#include <string>

#include "berth/base/error.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups::detail {

// Both versions: same file names and formats.
Status set_pids(const std::string& dir, const Resources& r);
Status set_cpuset(const std::string& dir, const Resources& r);
Status set_rdma(const std::string& dir, const Resources& r);

// cgroup v1.
Status set_memory_v1(const std::string& dir, const Resources& r);
Status set_cpu_v1(const std::string& dir, const Resources& r);
Status set_blkio_v1(const std::string& dir, const Resources& r);
Status set_hugetlb_v1(const std::string& dir, const Resources& r);
Status set_net_cls_v1(const std::string& dir, const Resources& r);
Status set_net_prio_v1(const std::string& dir, const Resources& r);
Status set_devices_v1(const std::string& dir, const Resources& r);

// cgroup v2.
Status set_memory_v2(const std::string& dir, const Resources& r);
Status set_cpu_v2(const std::string& dir, const Resources& r);
Status set_io_v2(const std::string& dir, const Resources& r);
Status set_hugetlb_v2(const std::string& dir, const Resources& r);
Status set_devices_v2(const std::string& dir, const Resources& r);
Status set_unified(const std::string& dir, const Resources& r);

// runc's conversions for v2 (libcontainer/cgroups/utils.go).
uint64_t cpu_weight_from_shares(uint64_t shares);  // 2..262144 -> 1..10000
uint64_t io_weight_from_blkio(uint16_t weight);    // 10..1000 -> 1..10000

}  // namespace berth::cgroups::detail
