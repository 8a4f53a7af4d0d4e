#pragma once
// OCI image spec and Docker schema2 documents: descriptors, manifests,
// indexes (manifest lists) and image configs, parsed with limits and errors
// that name the document and the field.
//
//   media type                                                   kind
//   application/vnd.oci.image.index.v1+json                      index
//   application/vnd.docker.distribution.manifest.list.v2+json    index
//   application/vnd.oci.image.manifest.v1+json                   manifest
//   application/vnd.docker.distribution.manifest.v2+json         manifest
//   application/vnd.docker.distribution.manifest.v1+json,
//   application/vnd.docker.distribution.manifest.v1+prettyjws    schema1: refused
//   application/vnd.oci.image.config.v1+json,
//   application/vnd.docker.container.image.v1+json               config
//   application/vnd.oci.image.layer.v1.tar[+gzip|+zstd],
//   application/vnd.docker.image.rootfs.diff.tar.gzip (+ the
//   nondistributable/foreign variants of both)                   layer

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/platform.h"
#include "berth/json/json.h"

namespace berth::core {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

enum class DocumentKind { kIndex, kManifest, kConfig, kLayer, kSchema1, kUnknown };
DocumentKind kind_of(std::string_view media_type);
enum class Compression { kNone, kGzip, kZstd };
// The compression of a layer media type; an error for a non-layer type.
Result<Compression> layer_compression(std::string_view media_type);

// Limits on documents fetched from a registry or read from an archive: a
// manifest or config larger than this is refused before it is parsed.
inline constexpr size_t kMaxManifestSize = 4 << 20;
inline constexpr size_t kMaxConfigSize = 8 << 20;

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
};

struct Manifest {
  std::string media_type;  // from the document, or the one it was served as
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
};

// The image config: what `run` uses and `image inspect` shows. Fields
// beyond these are kept verbatim in `raw` for inspect and re-serialisation.
struct ImageConfig {
  std::string architecture, os, variant, created, author;
  std::string user, working_dir, stop_signal;
  std::vector<std::string> env, cmd, entrypoint, shell, on_build;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;
  bool args_escaped = false;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids
  std::vector<HistoryEntry> history;
  json::Value raw = json::Value::null();
};

// `source` names the document in errors ("manifest sha256:…"). The media
// type served by the registry (Content-Type) is the fallback when the
// document has no mediaType field; a document whose own mediaType disagrees
// with what it was fetched as is refused (the confusion attack the OCI
// spec's mediaType requirement closes).
Result<Manifest> parse_manifest(std::string_view text, std::string_view served_as,
                                std::string_view source);
Result<Index> parse_index(std::string_view text, std::string_view served_as,
                          std::string_view source);
Result<ImageConfig> parse_config(std::string_view text, std::string_view source);
// The kind of a manifest-like document by its mediaType field, or by its
// shape when absent ("manifests" → index, "layers" → manifest,
// "fsLayers"/"signatures" → schema1).
DocumentKind sniff_document(std::string_view text, std::string_view served_as);

}  // namespace berth::core
