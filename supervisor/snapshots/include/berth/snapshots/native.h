#pragma once
// The native snapshotter (containerd's native): every snapshot is a full
// copy of its parent's tree, for filesystems overlayfs cannot stack on.
//
//   <root>/metadata.db          records (storage.h)
//   <root>/snapshots/<id>/fs    the whole tree of the snapshot
//
// prepare/view copy the parent's fs (copy_tree.h: owners, modes with
// setuid, times, xattrs with security.capability, hard links, symlinks,
// devices; sockets skipped). mounts(): a bind of fs, rw for active and ro
// for views. Layers are applied with native whiteouts (deleting), and a
// layer is diffed by comparing fs with the parent's fs.

#include <memory>
#include <string>

#include "berth/core/snapshots.h"

namespace berth::snapshots {

class Storage;

class NativeSnapshotter final : public core::Snapshotter {
 public:
  static Result<std::unique_ptr<NativeSnapshotter>> open(const std::string& root);
  ~NativeSnapshotter() override;

  std::string_view name() const override { return "native"; }
  Result<core::SnapshotInfo> stat(std::string_view key) override;
  Result<std::vector<core::SnapshotInfo>> list() override;
  Result<std::vector<core::Mount>> mounts(std::string_view key) override;
  Result<std::vector<core::Mount>> prepare(std::string_view key, std::string_view parent,
                                           const core::Labels& labels = {}) override;
  Result<std::vector<core::Mount>> view(std::string_view key, std::string_view parent,
                                        const core::Labels& labels = {}) override;
  Status commit(std::string_view name, std::string_view key,
                const core::Labels& labels = {}) override;
  Status remove(std::string_view key) override;
  Result<core::SnapshotUsage> usage(std::string_view key) override;
  Result<core::LayerDirs> layer_dirs(std::string_view key) override;

 private:
  explicit NativeSnapshotter(std::unique_ptr<Storage> storage);
  Result<std::vector<core::Mount>> create(std::string_view key, std::string_view parent,
                                          core::SnapshotKind kind, const core::Labels& labels);
  std::string fs(int64_t id) const;

  std::unique_ptr<Storage> storage_;
};

}  // namespace berth::snapshots
