#pragma once
// Applying an image layer (a tar stream, gzip/zstd/uncompressed) to a
// snapshot directory, safely, as the bytes arrive: pull streams each layer
// from the registry into its snapshot with no temp file and no mount.
//
//   chunks ─▶ decompress (libarchive raw + filter) ─▶ sha256 = diffID
//                                                    └▶ tar (libarchive) ─▶ entries
//
// Every entry is created through a descriptor of its parent directory, and
// that parent is found with openat2(RESOLVE_IN_ROOT): no name, `..`,
// absolute path or symlink in an earlier entry (or already in the lower
// layers) can make a write land outside the root (the escapes behind
// CVE-2018-15664, CVE-2019-14271 and the tar hard-link escapes of moby and
// containerd's history). `..` components are refused outright, since no
// honest layer has them.
//
// Whiteouts (OCI image-spec layer.md):
//   .wh.NAME        NAME is deleted:   overlay mode → a 0/0 char device at NAME
//                                      native mode  → NAME removed
//   .wh..wh..opq    dir is opaque:     overlay mode → trusted.overlay.opaque=y
//                                      native mode  → children from lower
//                                                     layers removed

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::diff {

enum class WhiteoutMode { kOverlay, kNative };

struct ApplyOptions {
  WhiteoutMode whiteouts = WhiteoutMode::kOverlay;
  // Names the layer in errors: "layer sha256:…: entry `x`: …".
  std::string label = "layer";
  // Char and block devices from the tar (docker allows them for root).
  bool allow_devices = true;
  // Bombs: each limit stops the apply with an error naming it.
  uint64_t max_entries = 1'000'000;
  size_t max_path = 4096;
  size_t max_component = 255;
  uint64_t max_bytes = uint64_t{256} << 30;  // uncompressed tar bytes
  // Uncompressed/compressed above this ratio, once past `ratio_slack`
  // bytes, is a decompression bomb (gzip reaches ~1000:1 on zeros; real
  // layers are 2-10:1).
  uint64_t max_ratio = 200;
  uint64_t ratio_slack = 64 << 20;
};

struct ApplyResult {
  std::string diff_id;  // "sha256:…" of the uncompressed tar
  uint64_t tar_size = 0;
  uint64_t compressed_size = 0;
  uint64_t entries = 0;
};

// The next chunk of the (compressed) layer; an empty view at the end. A
// view stays valid until the next call.
using ChunkSource = std::function<Result<std::string_view>()>;

// Applies the layer to the directory `root` (an O_DIRECTORY descriptor).
// On an error the root holds a partial tree: the caller removes it (the
// snapshot it belongs to is discarded).
Result<ApplyResult> apply_layer(BorrowedFd root, const ChunkSource& source,
                                const ApplyOptions& options);

// A ChunkSource reading a descriptor in `chunk`-byte reads.
ChunkSource fd_source(int fd, size_t chunk = 64 << 10);

}  // namespace berth::diff
