#pragma once
// The local content store: core::ContentStore on a directory (berthd's
// /var/lib/berthd/content). The ingest protocol is core/content.h's; this is
// how it sits on disk:
//
//   <root>/blobs/sha256/<hex>               a whole, verified blob, 0444; only
//                                           ever created by rename(2)
//   <root>/ingest/<hex of sha256(ref)>/     one ingest (the ref hashed: a ref is
//                                           an untrusted string, never a path)
//       lock    flock(LOCK_EX|LOCK_NB) by its one writer: EBUSY for a second
//               one, in this process or another; the kernel drops it when a
//               writer's process dies, so a killed daemon's ingest resumes
//       ref     the ref itself, for ingests()
//       meta    {"size":N,"digest":"sha256:…"}: what the bytes must be,
//               replaced atomically
//       data    the bytes so far; a resumed writer re-hashes them
//   <root>/ingest/.remove-*                 an ingest being deleted: renamed out
//                                           of its ref's name first, so a writer
//                                           arriving meanwhile starts afresh
//
// Thread-safe without a store-wide mutex: every operation is a single atomic
// filesystem step (rename, unlink) or runs under the ingest's flock. A writer
// object is used by one thread at a time.

#include <memory>
#include <string>
#include <string_view>

#include "berth/core/content.h"

namespace berth::content {

class LocalStore final : public core::ContentStore {
 public:
  // Creates the directories when missing and deletes ingests that a killed
  // process left half-removed.
  static Result<std::unique_ptr<LocalStore>> open(std::string root);

  Result<core::ContentInfo> info(std::string_view digest) override;
  Result<UniqueFd> open_blob(std::string_view digest) override;
  Result<std::string> read_blob(std::string_view digest, size_t max_size) override;
  Result<std::unique_ptr<core::ContentWriter>> writer(std::string_view ref, int64_t expected_size,
                                                      std::string_view expected_digest) override;
  Status remove(std::string_view digest) override;
  Result<std::vector<core::ContentInfo>> list() override;
  Result<std::vector<core::IngestStatus>> ingests() override;
  Status abort_ingest(std::string_view ref) override;

  const std::string& root() const { return root_; }

 private:
  explicit LocalStore(std::string root);
  // The blob's path; `digest` must have passed core::validate_digest.
  std::string blob_path(std::string_view digest) const;
  std::string ingest_dir(std::string_view ref) const;

  std::string root_;
  std::string blobs_;   // <root>/blobs/sha256
  std::string ingest_;  // <root>/ingest
};

}  // namespace berth::content
