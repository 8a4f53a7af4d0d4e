#pragma once
// The image service: every docker image verb as one library over the core
// interfaces (content store, snapshotter, image and lease records, event
// bus, registries). The gRPC service (supervisor/services) is a thin edge
// over it; so is CRI's ImageService later.
//
// Names. An image record is a fully qualified name ("docker.io/library/
// busybox:latest", or "name@sha256:…" for a pull by digest) pointing at a
// manifest or index in the content store; an image's ID is its config
// digest (docker's). User text is resolved as docker does: a reference
// first, then a full or short ID.
//
// Consistency. Operations that add content (pull, load, import) hold the
// GC lock shared and a lease listing what they wrote; the image record is
// written last, in one transaction. garbage_collect() takes the lock
// exclusively and keeps everything reachable from any namespace's records
// and from leases. A killed daemon leaves at worst unreferenced blobs
// (collected by the next GC) and resumable ingests.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/content.h"
#include "berth/core/events.h"
#include "berth/core/image.h"
#include "berth/core/metadata.h"
#include "berth/core/remotes.h"
#include "berth/core/snapshots.h"

namespace berth::images {

struct Stores {
  core::ContentStore& content;
  core::Snapshotter& snapshotter;
  core::ImageStore& images;
  core::LeaseStore& leases;
  core::EventBus& events;
};

// One line of progress, docker's JSON message: with an id it is a per-item
// line, without one a status line.
struct Progress {
  std::string id;
  std::string status;
  int64_t current = 0;
  int64_t total = 0;
  std::string result;
};
using ProgressSink = std::function<void(const Progress&)>;

// Makes a registry client for one operation; `credentials` (from the
// request) override the daemon's credential store when set.
using RegistryFactory = std::function<std::unique_ptr<core::Registry>(
    const std::optional<core::Credentials>& credentials)>;

struct Options {
  int max_concurrent_downloads = 3;
  core::Platform platform;  // the default for pull; the host's
};

// One image as list/inspect see it: the record, its platform manifest and
// config.
struct ImageView {
  core::Image record;
  core::Descriptor manifest_desc;
  core::Manifest manifest;
  core::Descriptor config_desc;  // its digest is the image ID
  core::ImageConfig config;
  std::string config_raw;
  int64_t size = 0;  // unpacked bytes
};

struct Filter {
  std::string key, value;
};

struct RemoveReport {
  std::vector<std::string> untagged;
  std::vector<std::string> deleted;
};

struct PruneReport {
  std::vector<std::string> deleted;
  int64_t reclaimed = 0;
};

struct PullRequest {
  std::string ref;
  std::string platform;
  bool all_tags = false;
  std::optional<core::Credentials> credentials;
};

struct ImportRequest {
  std::string ref;
  std::vector<std::string> changes;
  std::string message;
  std::string platform;
};

// Supplies an input stream (load, import): the next chunk, empty at the end.
using ChunkReader = std::function<Result<std::string_view>()>;
using ChunkWriter = std::function<Status(std::string_view)>;

// Seconds since the epoch of an RFC 3339 time (a config's "created"), 0
// when unparsable.
int64_t parse_time(std::string_view rfc3339);

class ImageService {
 public:
  ImageService(Stores stores, RegistryFactory registries, Options options);
  ~ImageService();

  // Reads: docker's shapes.
  Result<std::vector<ImageView>> list(std::string_view ns, const std::vector<Filter>& filters,
                                      bool all);
  Result<ImageView> find(std::string_view ns, std::string_view text);
  // docker's `image inspect` object of an image find() returned.
  Result<std::string> inspect_json(std::string_view ns, const ImageView& image);
  struct HistoryItem {
    std::string id;
    int64_t created = 0;
    std::string created_by, comment;
    int64_t size = 0;
    std::vector<std::string> tags;
  };
  Result<std::vector<HistoryItem>> history(std::string_view ns, std::string_view text);
  // The names (records) that point at the same image ID.
  Result<std::vector<std::string>> names_of(std::string_view ns, const std::string& image_id);

  // Writes.
  Status tag(std::string_view ns, std::string_view source, std::string_view target);
  Result<RemoveReport> remove(std::string_view ns, std::string_view text, bool force,
                              bool no_prune);
  Result<std::string> pull(std::string_view ns, const PullRequest& request,
                           const ProgressSink& progress, const std::atomic<bool>& cancel);
  Status push(std::string_view ns, std::string_view ref, bool all_tags,
              const std::optional<core::Credentials>& credentials, const ProgressSink& progress,
              const std::atomic<bool>& cancel);
  Status save(std::string_view ns, const std::vector<std::string>& refs, const ChunkWriter& out);
  // Returns the names loaded (or IDs of untagged images).
  Result<std::vector<std::string>> load(std::string_view ns, const ChunkReader& in,
                                        const ProgressSink& progress);
  Result<std::string> import(std::string_view ns, const ImportRequest& request,
                             const ChunkReader& in);
  // The same, with the input pushed by `produce` (a download from a URL).
  using Producer = std::function<Status(const ChunkWriter&)>;
  Result<std::string> import_from(std::string_view ns, const ImportRequest& request,
                                  const Producer& produce);
  Result<PruneReport> prune(std::string_view ns, bool all, const std::vector<Filter>& filters);
  // Removes content and snapshots nothing references; returns bytes freed.
  Result<PruneReport> garbage_collect();

  struct DiskUsage {
    int64_t images = 0, active_images = 0, size = 0, reclaimable = 0;
  };
  Result<DiskUsage> disk_usage(std::string_view ns);

  // Internals shared by the verbs' files.
  Stores& stores() { return stores_; }
  const Options& options() const { return options_; }
  Result<ImageView> view_of(const core::Image& record);
  // Unpacks `manifest`'s layers from the content store into committed
  // snapshots (skipping those present); returns the unpacked size.
  Result<int64_t> unpack_from_content(const core::Manifest& manifest,
                                      const core::ImageConfig& config,
                                      const ProgressSink& progress);
  // Writes the image record and publishes the event.
  Status put_record(std::string_view ns, core::Image record);
  Result<std::string> new_lease(std::string_view ns, std::string_view why);
  void drop_lease(std::string_view ns, const std::string& id);

 private:
  struct PullState;
  Stores stores_;
  RegistryFactory registries_;
  Options options_;
  // Shared by operations that add content, exclusive for garbage collection.
  std::shared_mutex gc_mu_;
  std::unique_ptr<PullState> pulls_;

  friend class Puller;
};

}  // namespace berth::images
