#pragma once
// Metadata records berthd keeps per namespace (containerd's namespaces:
// "default" for berthctl, "k8s.io" for CRI): images and leases. Stored in
// SQLite by supervisor/metadata; every change is one transaction, so a
// killed daemon leaves either the old record or the new one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/image.h"
#include "berth/core/snapshots.h"

namespace berth::core {

// An image is a name pointing at a manifest or index in the content store,
// like containerd's: "docker.io/library/busybox:latest", or a digest-only
// name "docker.io/library/busybox@sha256:…" for an image pulled by digest.
struct Image {
  std::string name;
  Descriptor target;
  Labels labels;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  virtual Result<Image> get(std::string_view ns, std::string_view name) = 0;
  virtual Result<std::vector<Image>> list(std::string_view ns) = 0;
  // Creates or replaces the record with this name (docker's tag and pull
  // move a name): returns the previous target when there was one.
  virtual Result<std::optional<Descriptor>> put(std::string_view ns, const Image& image) = 0;
  virtual Status remove(std::string_view ns, std::string_view name) = 0;  // ENOENT when absent
  virtual Result<std::vector<std::string>> namespaces() = 0;
};

// A lease keeps content and snapshots alive while an operation that has not
// yet written its image record runs (pull, load, build); garbage collection
// treats its resources as referenced until it is deleted or expires.
struct LeaseResource {
  std::string type;  // "content", "snapshots/<snapshotter>", "ingests"
  std::string id;
  bool operator==(const LeaseResource&) const = default;
};

struct Lease {
  std::string id;
  Labels labels;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0: never
  std::vector<LeaseResource> resources;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  virtual Result<Lease> create(std::string_view ns, std::string_view id, const Labels& labels,
                               int64_t expires_at) = 0;
  virtual Status remove(std::string_view ns, std::string_view id) = 0;
  virtual Result<std::vector<Lease>> list(std::string_view ns) = 0;
  virtual Status add_resource(std::string_view ns, std::string_view id, const LeaseResource& r) = 0;
  virtual Status remove_resource(std::string_view ns, std::string_view id,
                                 const LeaseResource& r) = 0;
};

}  // namespace berth::core
