#pragma once
// The JSON columns of the metadata schema (labels, a descriptor's extras)
// and the clock the records are stamped with.

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/core/image.h"
#include "berth/core/snapshots.h"

namespace berth::metadata::detail {

int64_t now();  // unix seconds

std::string labels_to_json(const core::Labels& labels);
// `what` names the column in errors ("image `x` labels").
Result<core::Labels> labels_from_json(std::string_view text, std::string_view what);

// urls, annotations and platform: what a Descriptor has beyond its media
// type, digest and size (those are columns of their own).
std::string descriptor_extra_to_json(const core::Descriptor& d);
Status descriptor_extra_from_json(std::string_view text, std::string_view what,
                                  core::Descriptor& d);

}  // namespace berth::metadata::detail
