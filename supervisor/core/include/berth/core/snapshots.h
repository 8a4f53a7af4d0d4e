#pragma once
// Snapshotters: filesystem trees as stacks of layers, containerd's model.
//
//   kind        made by                    mounts                 writable
//   committed   commit(name, active key)   none (parent of others) no: read-only for good
//   active      prepare(key, parent)       rw (overlay upper/work) yes
//   view        view(key, parent)          ro                     no
//
// Keys are unique across kinds. An image's layers are committed snapshots
// named by their chain ID (image-spec config.md: ChainID(L0) = DiffID(L0),
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))), so two images
// sharing a base share its snapshots. A snapshot with children cannot be
// removed (EBUSY).
//
// Unpacking without a mount: layer_dirs(key) of an active snapshot names
// the directory a layer is applied into and how whiteouts are written there
// (overlay: the upper dir with overlay whiteouts; native: a full copy of the
// parent, whiteouts applied by deleting).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::core {

enum class SnapshotKind { kCommitted, kActive, kView };
std::string_view to_string(SnapshotKind kind);

using Labels = std::map<std::string, std::string>;

struct SnapshotInfo {
  std::string key;     // the name for committed snapshots
  std::string parent;  // empty for a base layer
  SnapshotKind kind = SnapshotKind::kActive;
  Labels labels;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct Mount {
  std::string type;  // "overlay", "bind"
  std::string source;
  std::vector<std::string> options;
  bool operator==(const Mount&) const = default;
};

struct SnapshotUsage {
  int64_t size = 0;  // bytes of this snapshot's own layer
  int64_t inodes = 0;
};

enum class WhiteoutStyle { kOverlay, kNative };

struct LayerDirs {
  std::string upper;                // where changes are written (the dir to apply a layer into)
  std::vector<std::string> lowers;  // parents' dirs, nearest first (empty for a base layer)
  WhiteoutStyle whiteouts = WhiteoutStyle::kOverlay;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  virtual std::string_view name() const = 0;  // "overlayfs", "native"
  virtual Result<SnapshotInfo> stat(std::string_view key) = 0;
  virtual Result<std::vector<SnapshotInfo>> list() = 0;
  virtual Result<std::vector<Mount>> mounts(std::string_view key) = 0;
  // `parent` must be committed (ENOENT when absent, EINVAL when not committed);
  // EEXIST when `key` is taken.
  virtual Result<std::vector<Mount>> prepare(std::string_view key, std::string_view parent,
                                             const Labels& labels = {}) = 0;
  virtual Result<std::vector<Mount>> view(std::string_view key, std::string_view parent,
                                          const Labels& labels = {}) = 0;
  // Active `key` becomes committed `name`; `key` is gone afterwards.
  virtual Status commit(std::string_view name, std::string_view key, const Labels& labels = {}) = 0;
  // EBUSY when the snapshot has children.
  virtual Status remove(std::string_view key) = 0;
  virtual Result<SnapshotUsage> usage(std::string_view key) = 0;
  virtual Result<LayerDirs> layer_dirs(std::string_view key) = 0;
};

// ChainID of `diff_ids` (all of them), per image-spec config.md.
std::string chain_id(const std::vector<std::string>& diff_ids);
// Every prefix's ChainID: result[i] = ChainID(diff_ids[0..i]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace berth::core
