#pragma once
// Core values ↔ berth.v1 messages.

#include <ctime>
#include <string_view>

#include "berth/core/image.h"
#include "berth/v1/types.pb.h"

namespace berth::services {

inline void to_proto(const core::Descriptor& d, berth::v1::Descriptor* out) {
  out->set_media_type(d.media_type);
  out->set_digest(d.digest);
  out->set_size(d.size);
  for (const auto& [k, v] : d.annotations) (*out->mutable_annotations())[k] = v;
  if (d.platform) {
    out->mutable_platform()->set_os(d.platform->os);
    out->mutable_platform()->set_architecture(d.platform->architecture);
    out->mutable_platform()->set_variant(d.platform->variant);
  }
}

// Seconds since the epoch of an RFC 3339 "created", 0 when absent.
inline int64_t parse_created(std::string_view text) {
  if (text.size() < 19) return 0;
  struct tm tm {};
  std::string s(text.substr(0, 19));
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace berth::services
