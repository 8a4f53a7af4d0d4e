#pragma once
// containerd's cgroups Metrics (the Any in Task.Stats' answer) from the
// neutral cgroup Stats that berth_cgroups reads:
//
//   host                      type URL                            message
//   cgroup v1 or hybrid       io.containerd.cgroups.v1.Metrics    proto/cgroups/v1/metrics.proto
//   pure cgroup v2            io.containerd.cgroups.v2.Metrics    proto/cgroups/v2/metrics.proto
//
// Written with ProtoWriter, not generated classes (see proto_writer.h); the
// unit tests decode the bytes with the classes generated from those files.

#include <string>

#include "berth/cgroups/stats.h"

namespace berth::shim {

inline constexpr const char* kMetricsV1TypeUrl = "io.containerd.cgroups.v1.Metrics";
inline constexpr const char* kMetricsV2TypeUrl = "io.containerd.cgroups.v2.Metrics";

// What containerd-shim-runc-v2 would report: a controller not read
// (Source::kNone, or the v2 tree's hugetlb on a hybrid host) has no message;
// a controller read whose files were missing has one of zeros.
std::string encode_metrics_v1(const cgroups::Stats& stats);
std::string encode_metrics_v2(const cgroups::Stats& stats);

}  // namespace berth::shim
