// The snapshotter steps shared over the record store (see stored.h).

#include "berth/snapshots/stored.h"

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/snapshots/storage.h"

namespace berth::snapshots {

StoredSnapshotter::StoredSnapshotter(std::unique_ptr<Storage> storage,
                                     core::WhiteoutStyle whiteouts)
    : storage_(std::move(storage)), whiteouts_(whiteouts) {}
StoredSnapshotter::~StoredSnapshotter() = default;

std::string StoredSnapshotter::fs(int64_t id) const { return storage_->dir(id) + "/fs"; }

Result<core::SnapshotInfo> StoredSnapshotter::stat(std::string_view key) {
  return BERTH_VALUE(storage_->get(key)).info;
}

Result<std::vector<core::SnapshotInfo>> StoredSnapshotter::list() { return storage_->list(); }

Result<std::vector<core::Mount>> StoredSnapshotter::create(std::string_view key,
                                                           std::string_view parent,
                                                           core::SnapshotKind kind,
                                                           const core::Labels& labels) {
  std::string staged = BERTH_VALUE(storage_->stage());
  ScopeGuard cleanup([&] { (void)sys::remove_all(staged); });
  if (parent.empty()) {
    BERTH_TRY(populate(staged, nullptr));
  } else {
    // populate may run long (a native copy) outside the transaction; the
    // parent is committed, so its tree no longer changes, and a parent
    // removed meanwhile fails the create below.
    auto p = storage_->get(parent);
    if (!p) return std::move(p).error().wrap("parent of snapshot `" + std::string(key) + "`");
    if (p->info.kind != core::SnapshotKind::kCommitted)
      return core::invalid_argument("parent snapshot `" + std::string(parent) + "` of `" +
                                    std::string(key) + "`: not committed");
    BERTH_TRY(populate(staged, &*p));
  }
  BERTH_TRY(storage_->create(key, parent, kind, labels, staged));
  cleanup.dismiss();
  return mounts(key);
}

Result<std::vector<core::Mount>> StoredSnapshotter::prepare(std::string_view key,
                                                            std::string_view parent,
                                                            const core::Labels& labels) {
  return create(key, parent, core::SnapshotKind::kActive, labels);
}

Result<std::vector<core::Mount>> StoredSnapshotter::view(std::string_view key,
                                                         std::string_view parent,
                                                         const core::Labels& labels) {
  return create(key, parent, core::SnapshotKind::kView, labels);
}

Status StoredSnapshotter::commit(std::string_view name, std::string_view key,
                                 const core::Labels& labels) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind != core::SnapshotKind::kActive)
    return core::invalid_argument("commit of snapshot `" + std::string(key) + "`: " +
                                  std::string(core::to_string(r.info.kind)) + ", not active");
  auto usage = BERTH_VALUE(disk_usage(fs(r.id)));
  return storage_->commit(name, key, labels, usage);
}

Status StoredSnapshotter::remove(std::string_view key) { return storage_->remove(key); }

Result<core::SnapshotUsage> StoredSnapshotter::usage(std::string_view key) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind == core::SnapshotKind::kCommitted) return r.usage;
  return disk_usage(fs(r.id));
}

Result<core::LayerDirs> StoredSnapshotter::layer_dirs(std::string_view key) {
  Record r = BERTH_VALUE(storage_->get(key));
  if (r.info.kind != core::SnapshotKind::kActive)
    return core::invalid_argument("layer dirs of snapshot `" + r.info.key + "`: " +
                                  std::string(core::to_string(r.info.kind)) + ", not active");
  core::LayerDirs dirs;
  dirs.upper = fs(r.id);
  for (int64_t id : r.parent_ids) dirs.lowers.push_back(fs(id));
  dirs.whiteouts = whiteouts_;
  return dirs;
}

}  // namespace berth::snapshots
