// The native snapshotter (see native.h).

#include "berth/snapshots/native.h"

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/snapshots/copy_tree.h"
#include "berth/snapshots/storage.h"

namespace berth::snapshots {

NativeSnapshotter::NativeSnapshotter(std::unique_ptr<Storage> storage)
    : storage_(std::move(storage)) {}
NativeSnapshotter::~NativeSnapshotter() = default;

Result<std::unique_ptr<NativeSnapshotter>> NativeSnapshotter::open(const std::string& root) {
  auto storage = BERTH_VALUE(Storage::open(root));
  return std::unique_ptr<NativeSnapshotter>(new NativeSnapshotter(std::move(storage)));
}

std::string NativeSnapshotter::fs(int64_t id) const { return storage_->dir(id) + "/fs"; }

Result<core::SnapshotInfo> NativeSnapshotter::stat(std::string_view key) {
  return BERTH_VALUE(storage_->get(key)).info;
}

Result<std::vector<core::SnapshotInfo>> NativeSnapshotter::list() { return storage_->list(); }

Result<std::vector<core::Mount>> NativeSnapshotter::mounts(std::string_view key) {
  Record r = BERTH_VALUE(storage_->get(key));
  switch (r.info.kind) {
    case core::SnapshotKind::kCommitted:
      return core::invalid_argument("mounts of snapshot `" + r.info.key +
                                    "`: committed snapshots are not mounted");
    case core::SnapshotKind::kView:
      return std::vector<core::Mount>{{"bind", fs(r.id), {"ro", "rbind"}}};
    case core::SnapshotKind::kActive: break;
  }
  return std::vector<core::Mount>{{"bind", fs(r.id), {"rw", "rbind"}}};
}

Result<std::vector<core::Mount>> NativeSnapshotter::create(std::string_view key,
                                                           std::string_view parent,
                                                           core::SnapshotKind kind,
                                                           const core::Labels& labels) {
  std::string staged = BERTH_VALUE(storage_->stage());
  ScopeGuard cleanup([&] { (void)sys::remove_all(staged); });
  if (parent.empty()) {
    BERTH_TRY(sys::mkdir(staged + "/fs", 0755));
  } else {
    // The copy runs outside the transaction (it may take seconds); the
    // parent is committed, so its tree no longer changes. A parent removed
    // meanwhile fails the copy or, at the latest, the create below.
    auto p = storage_->get(parent);
    if (!p) return std::move(p).error().wrap("parent of snapshot `" + std::string(key) + "`");
    if (p->info.kind != core::SnapshotKind::kCommitted)
      return core::invalid_argument("parent snapshot `" + std::string(parent) + "` of `" +
                                    std::string(key) + "`: not committed");
    BERTH_TRY_CTX(copy_tree(fs(p->id), staged + "/fs"),
                  "copy of snapshot `" + std::string(parent) + "`");
  }
  BERTH_TRY(storage_->create(key, parent, kind, labels, staged));
  cleanup.dismiss();
  return mounts(key);
}

Result<std::vector<core::Mount>> NativeSnapshotter::prepare(std::string_view key,
                                                            std::string_view parent,
                                                            const core::Labels& labels) {
  return create(key, parent, core::SnapshotKind::kActive, labels);
}

Result<std::vector<core::Mount>> NativeSnapshotter::view(std::string_view key,
                                                         std::string_view parent,
                                                         const core::Labels& labels) {
  return create(key, parent, core::SnapshotKind::kView, labels);
}

Status NativeSnapshotter::commit(std::string_view name, std::string_view key,
                                 const core::Labels& labels) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind != core::SnapshotKind::kActive)
    return core::invalid_argument("commit of snapshot `" + std::string(key) + "`: " +
                                  std::string(core::to_string(r.info.kind)) + ", not active");
  auto usage = BERTH_VALUE(disk_usage(fs(r.id)));
  return storage_->commit(name, key, labels, usage);
}

Status NativeSnapshotter::remove(std::string_view key) { return storage_->remove(key); }

Result<core::SnapshotUsage> NativeSnapshotter::usage(std::string_view key) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind == core::SnapshotKind::kCommitted) return r.usage;
  return disk_usage(fs(r.id));
}

Result<core::LayerDirs> NativeSnapshotter::layer_dirs(std::string_view key) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind != core::SnapshotKind::kActive)
    return core::invalid_argument("layer dirs of snapshot `" + r.info.key + "`: " +
                                  std::string(core::to_string(r.info.kind)) + ", not active");
  core::LayerDirs dirs;
  dirs.upper = fs(r.id);
  for (int64_t id : r.parent_ids) dirs.lowers.push_back(fs(id));
  dirs.whiteouts = core::WhiteoutStyle::kNative;
  return dirs;
}

}  // namespace berth::snapshots
