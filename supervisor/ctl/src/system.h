#pragma once
// The pure parts of system.cc: `system df` rows, `info` text, event lines.

#include <cstdint>
#include <string>
#include <vector>

#include "berth/json/json.h"
#include "berth/v1/content.pb.h"
#include "berth/v1/system.pb.h"
#include "render/listing.h"

namespace berth::ctl {

inline constexpr const char* kDiskUsageTable =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
inline json::Value disk_usage_headers() {
  return headers({{"Type", "TYPE"},
                  {"TotalCount", "TOTAL"},
                  {"Active", "ACTIVE"},
                  {"Size", "SIZE"},
                  {"Reclaimable", "RECLAIMABLE"}});
}
// "11.63MB (70%)"; the percentage only when there is a size.
std::string disk_reclaimable(int64_t reclaimable, int64_t size);
std::vector<json::Value> disk_usage_rows(const v1::DiskUsageResponse& du);

// The daemon's info object as " Key: value" lines under "Server:".
std::string info_text(const json::Value& info);

// RFC 3339 with nanoseconds, local zone: each `events` line starts with it.
std::string event_time(int64_t unix_ns);
// Fields .Type .Action .Topic .Namespace .Time .TimeNano .Payload.
json::Value event_row(const v1::Envelope& e);

inline std::string system_prune_warning(bool all, bool volumes) {
  std::string text =
      "WARNING! This will remove:\n  - all stopped containers\n"
      "  - all networks not used by at least one container\n";
  if (volumes) text += "  - all anonymous volumes not used by at least one container\n";
  text += all ? "  - all images without at least one container associated to them\n  - all build "
                "cache\n"
              : "  - all dangling images\n  - unused build cache\n";
  return text + "\nAre you sure you want to continue?";
}

}  // namespace berth::ctl
