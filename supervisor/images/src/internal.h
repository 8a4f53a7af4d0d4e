#pragma once
// Helpers shared by the image service's files.

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/core/content.h"
#include "berth/core/image.h"
#include "berth/core/platform.h"
#include "berth/images/service.h"

namespace berth::images {

// The unpacked size, recorded on the image record when its layers are
// unpacked, so `images` never walks snapshot trees.
inline constexpr std::string_view kLabelUnpackedSize = "berth.io/unpacked-size";
// An image that lost its last name keeps a record under this prefix (as
// docker's containerd store does with "moby-dangling@"), so it is listed as
// <none>:<none> and `image prune` finds it.
inline constexpr std::string_view kDanglingPrefix = "berth-dangling@";

// Concurrent pulls of the same blob download it once: the first caller
// runs the download, later ones wait for its result.
struct ImageService::PullState {
  std::mutex mu;
  std::map<std::string, std::shared_future<Status>> inflight;  // by blob digest
  // Parsed documents by target digest: content is immutable, so a view
  // stays true until GC removes its blobs (garbage_collect clears it).
  // Keeps `images` with hundreds of images from re-reading every manifest
  // and config.
  std::mutex views_mu;
  std::map<std::string, std::shared_ptr<const ImageView>> views;
};

inline bool is_dangling(std::string_view name) { return name.starts_with(kDanglingPrefix); }
// The 12 hex digits docker shows for a layer or an image.
std::string short_id(std::string_view digest);
// A layer's media type from its first bytes (gzip, zstd or plain tar):
// archives and imports do not say.
Result<std::string> sniff_layer_media_type(core::ContentStore& content, const std::string& digest);
std::string json_quote(std::string_view s);
std::string random_hex(size_t bytes);
int64_t now_seconds();
Result<core::Descriptor> select_manifest(core::ContentStore& content,
                                         const core::Descriptor& target,
                                         const core::Platform& platform);
// Writes `bytes` as a blob; returns its descriptor (digest, size).
Result<core::Descriptor> store_blob(core::ContentStore& content, std::string_view media_type,
                                    std::string_view bytes);

}  // namespace berth::images
