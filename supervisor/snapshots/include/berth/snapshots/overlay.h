#pragma once
// The overlayfs snapshotter (containerd's overlayfs). Layout:
//
//   <root>/metadata.db          records (storage.h)
//   <root>/snapshots/<id>/fs    the snapshot's own layer (the upper dir while active)
//   <root>/snapshots/<id>/work  overlayfs's workdir (active snapshots only use it)
//
// Numeric ids keep a lowerdir string short: a 100-layer image is about
// 100 × "/var/lib/berthd/snapshots/overlayfs/snapshots/NNN/fs:" bytes.
//
// mounts():
//   active, no parent       bind rw of fs
//   active with parents     overlay lowerdir=<parents' fs, nearest first>,upperdir=fs,workdir=work
//   view of one layer       bind ro of the parent's fs
//   view of several         overlay ro, lowerdirs only (no upper: read-only by nature)
//   view without a parent   bind ro of its own empty fs
// Committed snapshots have no mounts and are never written again: nothing
// hands out their fs except as a lowerdir.
//
// Options: `index=off` only when the overlay module turns the index on by
// default (/sys/module/overlay/parameters/index = Y): with the index an
// upper dir records its lowers' file handles and a later mount of the same
// layer over a different stack (a re-pulled parent) fails with ESTALE.
// `userxattr` is never needed: berthd runs as real root, where trusted.*
// whiteouts and opaque markers work.

#include <memory>
#include <string>

#include "berth/core/snapshots.h"
#include "berth/snapshots/stored.h"

namespace berth::snapshots {

class OverlaySnapshotter final : public StoredSnapshotter {
 public:
  static Result<std::unique_ptr<OverlaySnapshotter>> open(const std::string& root);
  ~OverlaySnapshotter() override;

  std::string_view name() const override { return "overlayfs"; }
  Result<std::vector<core::Mount>> mounts(std::string_view key) override;

 private:
  explicit OverlaySnapshotter(std::unique_ptr<Storage> storage);
  Status populate(const std::string& staged, const Record* parent) override;

  bool index_off_ = false;
};

// Whether overlayfs mounts under `root` (its filesystem may refuse to be an
// upper dir: overlay on overlay, NFS): mounts a one-layer overlay in a
// temp dir under root and unmounts it.
bool overlay_supported(const std::string& root);

}  // namespace berth::snapshots
