#pragma once
// One layer into one committed snapshot (see unpack.cc).

#include <functional>
#include <string>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"
#include "berth/diff/apply.h"

namespace berth::images {

struct LayerTarget {
  std::string digest;           // the blob, for errors
  std::string diff_id;          // what the config says the tar hashes to
  std::string chain_id;         // the committed snapshot's name
  std::string parent_chain_id;  // empty for the base layer
  // Runs after the tar checked out and before the commit: a pull waits here
  // for the download's own digest check.
  std::function<Status()> before_commit;
};

// The size of the tar applied, 0 when the chain was already committed.
Result<int64_t> unpack_layer(core::Snapshotter& snapshotter, const LayerTarget& layer,
                             const diff::ChunkSource& source);

}  // namespace berth::images
