#pragma once
// One ingest directory of the local store (layout in local_store.h): its
// lock, its meta file, its removal, and the writer that fills it.

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/core/content.h"
#include "berth/core/digest.h"

namespace berth::content::detail {

// What the ingest's bytes must turn out to be; 0 / empty when unknown.
struct IngestMeta {
  int64_t size = 0;
  std::string digest;
};
// An absent meta file reads as an empty IngestMeta.
Result<IngestMeta> read_meta(const std::string& dir);
Status write_meta(const std::string& dir, const IngestMeta& meta);

// Takes the ingest's flock without waiting: EBUSY when a writer holds it,
// ENOENT when the ingest does not exist and `create` is false. The lock is
// the returned descriptor; closing it releases the ingest.
Result<UniqueFd> lock_ingest(const std::string& dir, std::string_view ref, bool create);

// Deletes an ingest whose lock the caller holds: renamed to a ".remove-"
// name first (atomic), so no one can open its lock by the ref's path
// any more, then removed.
Status discard_ingest(const std::string& ingest_root, const std::string& dir);
// Deletes what discard_ingest left when its process died mid-way.
void sweep_discarded(const std::string& ingest_root);

class LocalWriter final : public core::ContentWriter {
 public:
  struct Paths {
    std::string ingest_root;  // <root>/ingest
    std::string dir;          // <root>/ingest/<hex>
    std::string blobs;        // <root>/blobs/sha256
  };
  // Opens (or resumes) the ingest whose lock is `lock`, re-hashing the
  // bytes already there.
  static Result<std::unique_ptr<LocalWriter>> open(Paths paths, std::string ref, UniqueFd lock,
                                                   IngestMeta expected);

  int64_t offset() const override { return offset_; }
  Status write(std::string_view bytes) override;
  Result<core::ContentInfo> commit(int64_t size, std::string_view digest) override;
  void abort() override;

 private:
  LocalWriter(Paths paths, std::string ref, UniqueFd lock, IngestMeta expected)
      : paths_(std::move(paths)),
        ref_(std::move(ref)),
        lock_(std::move(lock)),
        expected_(std::move(expected)) {}
  // "ingest `ref`" plus the blob it is for when known, for every error.
  std::string what(std::string_view digest = {}) const;
  // Removes the ingest and ends this writer.
  void discard();
  // The ingest is done with: an existing blob satisfied the commit.
  Result<core::ContentInfo> finish_existing(const std::string& digest);

  Paths paths_;
  std::string ref_;
  UniqueFd lock_;
  UniqueFd data_;
  IngestMeta expected_;
  core::Digester digester_;
  int64_t offset_ = 0;
  bool done_ = false;
};

}  // namespace berth::content::detail
