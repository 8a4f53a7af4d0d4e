// Layers into committed snapshots: from a stream (pull) or from the
// content store (load, import, a pull whose blobs were already here).
// Never a mount: the layer is applied to the active snapshot's directory
// (core::Snapshotter::layer_dirs) and committed under its chain ID only
// after its diffID matched the config.

#include "unpack.h"

#include <fcntl.h>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "internal.h"

namespace berth::images {

Result<int64_t> unpack_layer(core::Snapshotter& snapshotter, const LayerTarget& layer,
                             const diff::ChunkSource& source) {
  auto existing = snapshotter.stat(layer.chain_id);
  if (existing && existing->kind == core::SnapshotKind::kCommitted) return int64_t{0};
  std::string key = "extract-" + random_hex(6) + "-" + std::string(layer.chain_id.substr(7, 12));
  BERTH_TRY_CTX(snapshotter.prepare(key, layer.parent_chain_id), "layer " + layer.digest);
  ScopeGuard drop([&] { (void)snapshotter.remove(key); });
  auto dirs = BERTH_VALUE(snapshotter.layer_dirs(key));
  auto root = BERTH_VALUE(sys::open(dirs.upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  diff::ApplyOptions opts;
  opts.whiteouts = dirs.whiteouts == core::WhiteoutStyle::kOverlay ? diff::WhiteoutMode::kOverlay
                                                                   : diff::WhiteoutMode::kNative;
  opts.label = "layer " + layer.digest;
  auto applied = BERTH_VALUE(diff::apply_layer(root, source, opts));
  if (applied.diff_id != layer.diff_id)
    return core::data_loss("layer " + layer.digest + ": diffID mismatch: the config says " +
                           layer.diff_id + ", the layer is " + applied.diff_id);
  if (layer.before_commit) BERTH_TRY(layer.before_commit());
  auto committed = snapshotter.commit(layer.chain_id, key);
  if (!committed.ok()) {
    // Another pull committed the same chain meanwhile: theirs is as good.
    if (core::is_already_exists(committed.error())) return int64_t(applied.tar_size);
    return std::move(committed).error().wrap("layer " + layer.digest);
  }
  drop.dismiss();
  return int64_t(applied.tar_size);
}

Result<int64_t> ImageService::unpack_from_content(const core::Manifest& manifest,
                                                  const core::ImageConfig& config,
                                                  const ProgressSink& progress) {
  if (manifest.layers.size() != config.diff_ids.size())
    return core::invalid_argument("config: rootfs.diff_ids has " +
                                  std::to_string(config.diff_ids.size()) + " entries for " +
                                  std::to_string(manifest.layers.size()) + " layers");
  auto chains = core::chain_ids(config.diff_ids);
  int64_t total = 0;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& l = manifest.layers[i];
    BERTH_TRY(core::layer_compression(l.media_type));
    LayerTarget t{l.digest, config.diff_ids[i], chains[i], i ? chains[i - 1] : std::string(), {}};
    auto fd = BERTH_VALUE(stores_.content.open_blob(l.digest));
    auto size = BERTH_VALUE(unpack_layer(stores_.snapshotter, t, diff::fd_source(fd.get())));
    if (progress && size)
      progress({std::string(l.digest.substr(7, 12)), "Loading layer", size, size, {}});
    auto usage = stores_.snapshotter.usage(chains[i]);
    total += usage ? usage->size : size;
  }
  return total;
}

}  // namespace berth::images
