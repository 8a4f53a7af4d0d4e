#include "layer_stream.h"

#include <archive_entry.h>

#include <cstring>

#include "berth/base/sys.h"

namespace berth::diff {
namespace {

constexpr size_t kBlock = 64 << 10;

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

}  // namespace

LayerStream::LayerStream(const ChunkSource& source, const ApplyOptions& options)
    : source_(source), options_(options), buf_(new char[kBlock]) {}

LayerStream::~LayerStream() {
  if (inner_) archive_read_free(inner_);
  if (outer_) archive_read_free(outer_);
  if (sha_) EVP_MD_CTX_free(sha_);
}

Status LayerStream::open() {
  sha_ = EVP_MD_CTX_new();
  if (!sha_ || EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr) != 1)
    return make_error(options_.label + ": sha256 unavailable");
  outer_ = archive_read_new();
  inner_ = archive_read_new();
  if (!outer_ || !inner_) return make_error(options_.label + ": out of memory", ENOMEM);
  // Only the compressions the image spec defines; never libarchive's
  // external-program fallbacks.
  archive_read_support_filter_gzip(outer_);
  archive_read_support_filter_zstd(outer_);
  archive_read_support_format_raw(outer_);
  if (archive_read_open(outer_, this, nullptr, &LayerStream::read_compressed, nullptr) !=
      ARCHIVE_OK) {
    if (failure_) return *failure_;
    return make_error(options_.label + ": " + archive_error_text(outer_));
  }
  struct archive_entry* raw = nullptr;
  if (archive_read_next_header(outer_, &raw) != ARCHIVE_OK) {
    if (failure_) return *failure_;
    return make_error(options_.label + ": " + archive_error_text(outer_));
  }
  archive_read_support_format_tar(inner_);
  archive_read_support_format_gnutar(inner_);
  if (archive_read_open(inner_, this, nullptr, &LayerStream::read_tar, nullptr) != ARCHIVE_OK) {
    if (failure_) return *failure_;
    return make_error(options_.label + ": not a tar archive: " + archive_error_text(inner_));
  }
  return {};
}

la_ssize_t LayerStream::read_compressed(struct archive*, void* self, const void** buf) {
  auto* s = static_cast<LayerStream*>(self);
  auto chunk = s->source_();
  if (!chunk) {
    s->failure_ = std::move(chunk).error().wrap(s->options_.label);
    return -1;
  }
  s->compressed_size_ += chunk->size();
  *buf = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

la_ssize_t LayerStream::read_tar(struct archive*, void* self, const void** buf) {
  return static_cast<LayerStream*>(self)->pull_tar(buf);
}

la_ssize_t LayerStream::pull_tar(const void** buf) {
  if (outer_eof_) return 0;
  la_ssize_t n = archive_read_data(outer_, buf_.get(), kBlock);
  if (n < 0) {
    if (!failure_)
      failure_ = make_error(options_.label + ": decompressing: " + archive_error_text(outer_));
    return -1;
  }
  if (n == 0) {
    outer_eof_ = true;
    return 0;
  }
  tar_size_ += static_cast<uint64_t>(n);
  if (tar_size_ > options_.max_bytes) {
    failure_ = make_error(options_.label + ": more than " + std::to_string(options_.max_bytes) +
                              " bytes uncompressed (limit max_bytes)",
                          EFBIG);
    return -1;
  }
  // A decompression bomb: far more output than any real layer gives for
  // its input. Checked as it grows, so the bomb never reaches the disk.
  if (tar_size_ > options_.ratio_slack && tar_size_ > options_.max_ratio * compressed_size_) {
    failure_ =
        make_error(options_.label + ": expands more than " + std::to_string(options_.max_ratio) +
                       " times (" + std::to_string(compressed_size_) + " compressed bytes gave " +
                       std::to_string(tar_size_) + "): refusing a decompression bomb",
                   EFBIG);
    return -1;
  }
  EVP_DigestUpdate(sha_, buf_.get(), static_cast<size_t>(n));
  *buf = buf_.get();
  return n;
}

Result<std::string> LayerStream::finish() {
  // The tar reader stops at the end-of-archive marker; hash the rest.
  const void* p = nullptr;
  for (;;) {
    la_ssize_t n = pull_tar(&p);
    if (n < 0) return failure_ ? *failure_ : make_error(options_.label + ": read failed");
    if (n == 0) break;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(sha_, md, &len) != 1)
    return make_error(options_.label + ": sha256 failed");
  return "sha256:" + hex(md, len);
}

ChunkSource fd_source(int fd, size_t chunk) {
  auto buf = std::make_shared<std::string>(chunk, '\0');
  return [fd, buf]() -> Result<std::string_view> {
    for (;;) {
      ssize_t n = sys::read(fd, buf->data(), buf->size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read layer");
      return std::string_view(buf->data(), static_cast<size_t>(n));
    }
  };
}

}  // namespace berth::diff
