// Pull: resolve → manifest (index → platform) → config → layers, each
// layer fetched in parallel (max_concurrent_downloads) into the content
// store AND unpacked into its snapshot as its bytes arrive:
//
//   registry ──curl──▶ download thread ──▶ content ingest (resumable, digest-checked at commit)
//                                     └──▶ LayerPipe ──▶ unpacker (in order: layer n needs n-1
//                                     committed)
//
// The pipe holds chunks until the unpacker of that layer starts; a layer
// whose unpacker is still waiting for an earlier layer spills (the pipe
// drops its chunks past kPipeLimit and the unpacker reads the committed
// blob instead), so memory stays bounded. A download resumed from an
// earlier ingest (daemon killed mid-pull) unpacks from the blob too.
// The snapshot is committed only after both the blob digest and the
// diffID checked out; a mismatch discards the layer.

#include <condition_variable>
#include <deque>
#include <semaphore>
#include <thread>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "internal.h"
#include "unpack.h"

namespace berth::images {
namespace {

constexpr size_t kPipeLimit = 32 << 20;

class LayerPipe {
 public:
  // Producer side (download thread).
  void push(std::string_view bytes) {
    std::unique_lock lock(mu_);
    received_ += static_cast<int64_t>(bytes.size());
    if (spilled_) return;
    if (!consumer_started_ && queued_ + bytes.size() > kPipeLimit) {
      spill_locked();
      return;
    }
    // A running unpacker that falls behind slows the download down.
    space_.wait(lock, [&] { return queued_ < kPipeLimit || spilled_; });
    if (spilled_) return;
    chunks_.emplace_back(bytes);
    queued_ += bytes.size();
    ready_.notify_all();
  }
  void spill() {
    std::lock_guard lock(mu_);
    spill_locked();
  }
  void finish(Status st) {
    std::lock_guard lock(mu_);
    done_ = true;
    status_ = std::move(st);
    ready_.notify_all();
    space_.notify_all();
  }
  // Waits for the download's end; its status (blob committed or not).
  Status wait_done() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return done_; });
    return status_;
  }
  // Consumer side: true → read the chunks; false → read the blob after wait_done().
  bool start_consumer() {
    std::lock_guard lock(mu_);
    consumer_started_ = true;
    return !spilled_;
  }
  // The next chunk; EXDEV when the pipe spilled (the rest is in the blob).
  Result<std::string_view> next() {
    std::unique_lock lock(mu_);
    if (!current_.empty()) {
      queued_ -= current_.size();
      current_.clear();
      space_.notify_all();
    }
    ready_.wait(lock, [&] { return !chunks_.empty() || done_ || spilled_; });
    if (spilled_) return make_error("layer pipe spilled", EXDEV);
    if (chunks_.empty()) {
      if (!status_.ok()) return status_.error();
      return std::string_view();
    }
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    return std::string_view(current_);
  }
  int64_t received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void spill_locked() {
    spilled_ = true;
    chunks_.clear();
    queued_ = 0;
    space_.notify_all();
    ready_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::string> chunks_;
  std::string current_;
  size_t queued_ = 0;
  int64_t received_ = 0;
  bool spilled_ = false, consumer_started_ = false, done_ = false;
  Status status_;
};

// Serialises progress from download threads onto the caller's sink.
class LockedProgress {
 public:
  explicit LockedProgress(const ProgressSink& sink) : sink_(sink) {}
  void operator()(Progress p) {
    if (!sink_) return;
    std::lock_guard lock(mu_);
    sink_(p);
  }

 private:
  const ProgressSink& sink_;
  std::mutex mu_;
};

}  // namespace

class Puller {
 public:
  Puller(ImageService& svc, std::string_view ns, core::Registry& registry,
         const core::Reference& ref, const core::Platform& platform, const ProgressSink& progress,
         const std::atomic<bool>& cancel)
      : svc_(svc),
        ns_(ns),
        registry_(registry),
        ref_(ref),
        platform_(platform),
        progress_(progress),
        cancel_(cancel) {}

  Result<std::string> run();

 private:
  Result<std::string> fetch_small(const core::Descriptor& d, size_t limit, std::string_view what);
  Status download(const core::Descriptor& layer, LayerPipe& pipe);
  Status download_once(const core::Descriptor& layer, LayerPipe& pipe);
  Status check_cancel() const {
    if (cancel_.load() || failed_.load())
      return core::canceled("pull " + ref_.familiar() + ": canceled");
    return ok_status();
  }

  ImageService& svc_;
  std::string ns_;
  core::Registry& registry_;
  core::Reference ref_;
  core::Platform platform_;
  LockedProgress progress_;
  const std::atomic<bool>& cancel_;
  std::atomic<bool> failed_{false};
};

Result<std::string> Puller::fetch_small(const core::Descriptor& d, size_t limit,
                                        std::string_view what) {
  if (d.size < 0 || static_cast<size_t>(d.size) > limit)
    return core::invalid_argument(std::string(what) + " " + d.digest + ": size " +
                                  std::to_string(d.size) + " exceeds the limit of " +
                                  std::to_string(limit));
  auto have = svc_.stores().content.read_blob(d.digest, limit);
  if (have) return std::move(*have);
  std::string body;
  BERTH_TRY(registry_.fetch_blob(ref_, d, 0, [&](std::string_view bytes) -> Status {
    if (body.size() + bytes.size() > static_cast<size_t>(d.size))
      return core::data_loss(std::string(what) + " " + d.digest +
                             ": more bytes than its descriptor's size");
    body.append(bytes);
    return ok_status();
  }));
  if (core::digest_of(body) != d.digest)
    return core::data_loss(std::string(what) + " " + d.digest + ": digest mismatch (got " +
                           core::digest_of(body) + ")");
  BERTH_TRY(store_blob(svc_.stores().content, d.media_type, body));
  return body;
}

Status Puller::download_once(const core::Descriptor& layer, LayerPipe& pipe) {
  auto& content = svc_.stores().content;
  if (content.info(layer.digest)) {
    pipe.spill();
    return ok_status();
  }
  std::string ref = "pull-" + layer.digest;
  std::string id = short_id(layer.digest);
  // A resumed ingest whose earlier bytes were bad (a corrupt registry, a
  // layer that failed to unpack) fails its digest check: it is discarded
  // by that check and fetched once more from the start.
  for (int attempt = 0;; ++attempt) {
    auto writer = BERTH_VALUE(content.writer(ref, layer.size, layer.digest));
    // Bytes an earlier (killed) pull left: resume after them; the unpacker
    // reads the whole blob once it is complete.
    int64_t offset = writer->offset();
    if (offset > 0) pipe.spill();
    int64_t last_report = 0;
    progress_({id, offset ? "Resuming download" : "Downloading", offset, layer.size, {}});
    if (offset < layer.size) {
      auto st = registry_.fetch_blob(ref_, layer, offset, [&](std::string_view bytes) -> Status {
        BERTH_TRY(check_cancel());
        BERTH_TRY(writer->write(bytes));
        pipe.push(bytes);
        int64_t now = writer->offset();
        if (now - last_report >= (512 << 10) || now == layer.size) {
          last_report = now;
          progress_({id, "Downloading", now, layer.size, {}});
        }
        return ok_status();
      });
      if (!st.ok()) return std::move(st).error().wrap("layer " + layer.digest);
    }
    progress_({id, "Verifying Checksum", 0, 0, {}});
    auto committed = writer->commit(layer.size, layer.digest);
    if (!committed && committed.error().code() == EBADMSG && offset > 0 && attempt == 0) continue;
    if (!committed) return std::move(committed).error().wrap("layer " + layer.digest);
    progress_({id, "Download complete", 0, 0, {}});
    return ok_status();
  }
}

// Two pulls of one blob download it once: the second waits for the first
// and then reads the committed blob.
Status Puller::download(const core::Descriptor& layer, LayerPipe& pipe) {
  auto& state = *svc_.pulls_;
  std::promise<Status> mine;
  std::shared_future<Status> theirs;
  {
    std::lock_guard lock(state.mu);
    auto it = state.inflight.find(layer.digest);
    if (it != state.inflight.end()) {
      theirs = it->second;
    } else {
      state.inflight.emplace(layer.digest, mine.get_future().share());
    }
  }
  if (theirs.valid()) {
    pipe.spill();
    Status st = theirs.get();
    if (!st.ok() || !svc_.stores().content.info(layer.digest)) return download_once(layer, pipe);
    return ok_status();
  }
  Status st = download_once(layer, pipe);
  mine.set_value(st);
  std::lock_guard lock(state.mu);
  state.inflight.erase(layer.digest);
  return st;
}

Result<std::string> Puller::run() {
  auto& stores = svc_.stores();
  std::string shown = ref_.tag.empty() ? ref_.digest : ref_.tag;
  // docker names the repository's path, without the registry.
  progress_({{}, shown + ": Pulling from " + ref_.path, 0, 0, {}});
  auto resolved = BERTH_VALUE(registry_.resolve(ref_));
  auto top = BERTH_VALUE(store_blob(stores.content, resolved.descriptor.media_type, resolved.body));
  if (top.digest != resolved.descriptor.digest)
    return core::data_loss("manifest for " + ref_.familiar() + ": digest mismatch");
  core::Descriptor manifest_desc = resolved.descriptor;
  std::string manifest_text = resolved.body;
  if (core::kind_of(manifest_desc.media_type) == core::DocumentKind::kIndex) {
    auto index = BERTH_VALUE(core::parse_index(resolved.body, manifest_desc.media_type,
                                               "index " + manifest_desc.digest));
    std::optional<core::Descriptor> chosen;
    for (const auto& m : index.manifests)
      if (core::kind_of(m.media_type) == core::DocumentKind::kManifest &&
          (!m.platform || core::platform_matches(platform_, *m.platform))) {
        chosen = m;
        break;
      }
    if (!chosen)
      return core::not_found("no matching manifest for " + platform_.str() +
                             " in the manifest list entries");
    manifest_desc = *chosen;
    manifest_text = BERTH_VALUE(registry_.fetch_manifest(ref_, manifest_desc));
    BERTH_TRY(store_blob(stores.content, manifest_desc.media_type, manifest_text));
  }
  auto manifest = BERTH_VALUE(core::parse_manifest(manifest_text, manifest_desc.media_type,
                                                   "manifest " + manifest_desc.digest));
  auto config_text = BERTH_VALUE(fetch_small(manifest.config, core::kMaxConfigSize, "config"));
  auto config = BERTH_VALUE(core::parse_config(config_text, "config " + manifest.config.digest));
  if (config.diff_ids.size() != manifest.layers.size())
    return core::invalid_argument("config " + manifest.config.digest + ": rootfs.diff_ids has " +
                                  std::to_string(config.diff_ids.size()) + " entries for " +
                                  std::to_string(manifest.layers.size()) + " layers");
  if (!core::platform_matches(platform_,
                              core::Platform{config.os, config.architecture, config.variant}))
    return core::not_found("image " + ref_.familiar() + " is for " + config.os + "/" +
                           config.architecture + ", not " + platform_.str());
  for (const auto& l : manifest.layers)
    BERTH_TRY_CTX(core::layer_compression(l.media_type), "layer " + l.digest);
  auto chains = core::chain_ids(config.diff_ids);

  size_t n = manifest.layers.size();
  std::vector<bool> present(n);
  bool fresh = false;
  for (size_t i = 0; i < n; ++i) {
    auto s = stores.snapshotter.stat(chains[i]);
    present[i] = s && s->kind == core::SnapshotKind::kCommitted;
    fresh = fresh || !present[i];
    progress_({short_id(manifest.layers[i].digest),
               present[i] ? "Already exists" : "Pulling fs layer",
               0,
               0,
               {}});
  }
  std::vector<std::unique_ptr<LayerPipe>> pipes;
  for (size_t i = 0; i < n; ++i) pipes.push_back(std::make_unique<LayerPipe>());
  std::counting_semaphore<64> slots(
      std::max(1, std::min(64, svc_.options().max_concurrent_downloads)));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    if (present[i]) {
      pipes[i]->finish(ok_status());
      continue;
    }
    threads.emplace_back([&, i] {
      slots.acquire();
      Status st = failed_ ? check_cancel() : download(manifest.layers[i], *pipes[i]);
      slots.release();
      if (!st.ok()) failed_ = true;
      pipes[i]->finish(std::move(st));
    });
  }
  Status unpacked = ok_status();
  int64_t total_size = 0;
  for (size_t i = 0; i < n && unpacked.ok(); ++i) {
    const auto& l = manifest.layers[i];
    std::string id = short_id(l.digest);
    if (present[i]) {
      auto usage = stores.snapshotter.usage(chains[i]);
      total_size += usage ? usage->size : 0;
      continue;
    }
    LayerPipe& pipe = *pipes[i];
    LayerTarget target{l.digest, config.diff_ids[i], chains[i], i ? chains[i - 1] : std::string(),
                       [&pipe] { return pipe.wait_done(); }};
    // Bytes come from the pipe while the download feeds it, then (after a
    // spill: the blob was already here, the download resumed, or another
    // pull fetched it) from the committed blob at the same offset.
    bool from_blob = !pipe.start_consumer();
    int64_t consumed = 0, last = 0;
    UniqueFd blob;
    std::string buf;
    auto report = [&](size_t n) {
      consumed += static_cast<int64_t>(n);
      if (consumed - last >= (1 << 20)) {
        last = consumed;
        progress_({id, "Extracting", consumed, l.size, {}});
      }
    };
    auto size = unpack_layer(stores.snapshotter, target, [&]() -> Result<std::string_view> {
      if (!from_blob) {
        auto chunk = pipe.next();
        if (chunk) {
          report(chunk->size());
          return chunk;
        }
        if (chunk.error().code() != EXDEV) return std::move(chunk).error();
        from_blob = true;
      }
      if (!blob) {
        BERTH_TRY(pipe.wait_done());
        blob = BERTH_VALUE(stores.content.open_blob(l.digest));
        buf.resize(1 << 20);
      }
      ssize_t n = sys::pread(blob.get(), buf.data(), buf.size(), consumed);
      if (n < 0) return sys_error("read blob", l.digest);
      report(static_cast<size_t>(n));
      return std::string_view(buf.data(), static_cast<size_t>(n));
    });
    if (!size) {
      failed_ = true;
      pipe.spill();  // unblocks a download waiting for pipe space
      unpacked = std::move(size).error();
      break;
    }
    progress_({id, "Pull complete", 0, 0, {}});
    auto usage = stores.snapshotter.usage(chains[i]);
    total_size += usage ? usage->size : *size;
  }
  if (!unpacked.ok()) {
    failed_ = true;
    for (auto& p : pipes) p->spill();
  }
  for (auto& t : threads) t.join();
  if (!unpacked.ok()) {
    // A download error explains an unpack that stopped short better than
    // the truncated tar does.
    for (size_t i = 0; i < n; ++i) {
      Status st = pipes[i]->wait_done();
      if (!st.ok() && st.error().code() != ECANCELED) return std::move(st).error();
    }
    return std::move(unpacked).error();
  }

  core::Image record;
  record.name = ref_.str();
  // The index is what the name points at, as containerd records it; an
  // image pulled for another platform points at that platform's manifest,
  // so everything that reads it back (inspect, save, push) sees that one.
  record.target = resolved.descriptor;
  if (manifest_desc.digest != resolved.descriptor.digest && !(platform_ == core::host_platform())) {
    record.target = manifest_desc;
    record.target.platform.reset();
    record.target.annotations.clear();
  }
  record.labels[std::string(kLabelUnpackedSize)] = std::to_string(total_size);
  record.created_at = record.updated_at = now_seconds();
  auto previous = stores.images.get(ns_, record.name);
  bool same = previous && previous->target.digest == record.target.digest;
  BERTH_TRY(svc_.put_record(ns_, record));
  progress_({{}, "Digest: " + resolved.descriptor.digest, 0, 0, {}});
  progress_({{},
             std::string("Status: ") +
                 (same && !fresh ? "Image is up to date for " : "Downloaded newer image for ") +
                 ref_.familiar(),
             0,
             0,
             {}});
  return record.name;
}

Result<std::string> ImageService::pull(std::string_view ns, const PullRequest& request,
                                       const ProgressSink& progress,
                                       const std::atomic<bool>& cancel) {
  auto ref = core::parse_reference(request.ref, !request.all_tags);
  if (!ref) return core::invalid_argument(ref.error().message());
  core::Platform platform = options_.platform;
  if (!request.platform.empty()) platform = BERTH_VALUE(core::parse_platform(request.platform));
  auto registry = registries_(request.credentials);
  std::shared_lock gc(gc_mu_);
  auto lease = BERTH_VALUE(new_lease(ns, "pull"));
  ScopeGuard drop([&] { drop_lease(ns, lease); });
  if (request.all_tags) {
    if (!ref->tag.empty() || !ref->digest.empty())
      return core::invalid_argument("tag can't be used with --all-tags/-a");
    auto tags = BERTH_VALUE(registry->list_tags(*ref));
    for (const auto& t : tags) {
      core::Reference r = *ref;
      r.tag = t;
      Puller puller(*this, ns, *registry, r, platform, progress, cancel);
      BERTH_TRY(puller.run());
    }
    return ref->name();
  }
  Puller puller(*this, ns, *registry, *ref, platform, progress, cancel);
  auto name = BERTH_VALUE(puller.run());
  if (progress) progress({{}, {}, 0, 0, name});
  return name;
}

}  // namespace berth::images
