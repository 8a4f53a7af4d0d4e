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
#include "berth/snapshots/stored.h"

namespace berth::snapshots {

class NativeSnapshotter final : public StoredSnapshotter {
 public:
  static Result<std::unique_ptr<NativeSnapshotter>> open(const std::string& root);
  ~NativeSnapshotter() override;

  std::string_view name() const override { return "native"; }
  Result<std::vector<core::Mount>> mounts(std::string_view key) override;

 private:
  explicit NativeSnapshotter(std::unique_ptr<Storage> storage);
  Status populate(const std::string& staged, const Record* parent) override;
};

}  // namespace berth::snapshots
