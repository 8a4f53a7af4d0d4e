#pragma once
// The other direction of apply.h: the changes in an active snapshot as an
// OCI layer tar, streamed to a sink as it is made (commit and build store
// it in the content store without a temp file).
//
//   walk (sorted) ─▶ tar (libarchive, PAX) ─▶ sha256 = diffID
//                                           └▶ gzip (optional) ─▶ sha256 = digest ─▶ sink
//
// Which changes, by the snapshot's whiteout style (core::LayerDirs):
//   overlay   the upper dir alone: a 0/0 char device → `.wh.NAME`; a dir
//             with trusted.overlay.opaque=y → the dir + `.wh..wh..opq`;
//             trusted.overlay.* attributes are overlayfs's, never written.
//             An upper using redirect_dir or metacopy (whose meaning lives
//             in the lowers) is refused (ENOTSUP): berth mounts without them.
//   native    upper (a full tree) against lowers[0] (the parent's full
//             tree): gone → `.wh.NAME`; new → added with its subtree;
//             changed by type, size, mtime, mode, owner, device, link
//             target or xattrs → written again; a directory is written when
//             it changed or anything under it did.
//
// Entries are sorted by name within each directory, parents first; names
// beyond ustar's limits and xattrs go in PAX headers (SCHILY.xattr, what
// docker and containerd read); hard links inside the layer stay hard
// links; owners are numeric (no user names), mtimes kept to the nanosecond,
// sockets skipped. The gzip stream has no timestamp, so the same tree
// gives the same bytes.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"

namespace berth::diff {

struct WriteOptions {
  bool gzip = false;
  // Names the layer in errors.
  std::string label = "layer";
};

struct WriteResult {
  std::string diff_id;  // "sha256:…" of the uncompressed tar
  std::string digest;   // "sha256:…" of the bytes given to the sink (= diff_id uncompressed)
  uint64_t size = 0;    // bytes given to the sink
  uint64_t tar_size = 0;
  uint64_t entries = 0;
};

// Called with each chunk of the layer, in order; an error stops the write.
using LayerSink = std::function<Status(std::string_view)>;

Result<WriteResult> write_layer(const core::LayerDirs& dirs, const WriteOptions& options,
                                const LayerSink& sink);

}  // namespace berth::diff
