#pragma once
// The changes of an active snapshot as an ordered list of tar entries
// (write.h says which, for each whiteout style). Metadata is read during
// the walk; file data is read later, when the entry is written.

#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"

namespace berth::diff {

struct Change {
  enum class Kind { kEntry, kWhiteout, kOpaque };
  Kind kind = Kind::kEntry;
  std::string path;  // relative to the layer root, no leading "./"
  struct stat st {};
  std::string link;                                         // symlink target
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
};

Result<std::vector<Change>> collect_changes(const core::LayerDirs& dirs);

}  // namespace berth::diff
