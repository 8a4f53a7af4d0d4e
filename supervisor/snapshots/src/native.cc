// The native snapshotter (see native.h).

#include "berth/snapshots/native.h"

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/snapshots/copy_tree.h"
#include "berth/snapshots/storage.h"

namespace berth::snapshots {

NativeSnapshotter::NativeSnapshotter(std::unique_ptr<Storage> storage)
    : StoredSnapshotter(std::move(storage), core::WhiteoutStyle::kNative) {}
NativeSnapshotter::~NativeSnapshotter() = default;

Result<std::unique_ptr<NativeSnapshotter>> NativeSnapshotter::open(const std::string& root) {
  auto storage = BERTH_VALUE(Storage::open(root));
  return std::unique_ptr<NativeSnapshotter>(new NativeSnapshotter(std::move(storage)));
}

Result<std::vector<core::Mount>> NativeSnapshotter::mounts(std::string_view key) {
  Record r = BERTH_VALUE(storage().get(key));
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

// A native snapshot is a full copy of its parent: no mount is needed to
// see the layers below.
Status NativeSnapshotter::populate(const std::string& staged, const Record* parent) {
  if (!parent) return sys::mkdir(staged + "/fs", 0755);
  BERTH_TRY_CTX(copy_tree(fs(parent->id), staged + "/fs"),
                "copy of snapshot `" + parent->info.key + "`");
  return ok_status();
}

}  // namespace berth::snapshots
