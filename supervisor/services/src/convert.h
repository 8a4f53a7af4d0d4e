#pragma once
// Core values ↔ berth.v1 messages.

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

}  // namespace berth::services
