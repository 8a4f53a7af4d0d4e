#pragma once
// The two libarchive readers of a layer stream, chained in one thread:
// `outer` (format raw, filters gzip/zstd, else none) decompresses the
// chunks; its output is hashed (the diffID), counted against the bomb
// limits, and fed to `inner` (format tar), which yields the entries.

#include <archive.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "berth/diff/apply.h"

namespace berth::diff {

// libarchive's message for its last error (it may have none).
inline const char* archive_error_text(struct archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

class LayerStream {
 public:
  LayerStream(const ChunkSource& source, const ApplyOptions& options);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  Status open();
  struct archive* tar() {
    return inner_;
  }
  // Reads what the tar reader left (end-of-archive blocks, padding) so the
  // digest covers the whole uncompressed stream; returns "sha256:…".
  Result<std::string> finish();
  uint64_t tar_size() const { return tar_size_; }
  uint64_t compressed_size() const { return compressed_size_; }
  // The error that stopped a callback (a source failure or a bomb limit),
  // if any: libarchive only sees "read failed".
  const std::optional<Error>& failure() const { return failure_; }

 private:
  static la_ssize_t read_compressed(struct archive*, void* self, const void** buf);
  static la_ssize_t read_tar(struct archive*, void* self, const void** buf);
  la_ssize_t pull_tar(const void** buf);

  const ChunkSource& source_;
  const ApplyOptions& options_;
  struct archive* outer_ = nullptr;
  struct archive* inner_ = nullptr;
  EVP_MD_CTX* sha_ = nullptr;
  std::unique_ptr<char[]> buf_;
  uint64_t tar_size_ = 0;
  uint64_t compressed_size_ = 0;
  bool outer_eof_ = false;
  std::optional<Error> failure_;
};

}  // namespace berth::diff
