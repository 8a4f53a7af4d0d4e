#pragma once
// The content store: immutable blobs (manifests, indexes, configs, layers)
// named by their sha256 digest, shared by every namespace.
//
// Ingest protocol (what makes a killed daemon lose nothing and keep its
// downloaded bytes):
//   writer(ref)   opens <ingest>/<ref>: a new one, or the one a previous
//                 (killed) writer left, positioned at its end: offset() says
//                 where the caller resumes (an HTTP Range request).
//   write(bytes)  appends; the digest is computed as bytes arrive (a resumed
//                 ingest re-reads what it has first).
//   commit()      checks size and digest, fsyncs, renames into blobs/ and
//                 fsyncs the directory: a blob is visible only when whole.
//                 A mismatch is EBADMSG and discards the ingest.
//   abort()       discards the ingest. Destroying a writer without commit or
//                 abort keeps the ingest for a later resume.
// Only one writer holds a ref at a time: a second writer() for the same ref
// fails EBUSY until the first is gone (callers that want to share one
// download wait on their own, see supervisor/images).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::core {

struct ContentInfo {
  std::string digest;
  int64_t size = 0;
  int64_t created_at = 0;  // unix seconds
};

struct IngestStatus {
  std::string ref;
  int64_t offset = 0;
  int64_t total = 0;       // expected size, 0 when unknown
  std::string expected;    // expected digest, empty when unknown
  int64_t updated_at = 0;  // unix seconds
};

class ContentWriter {
 public:
  virtual ~ContentWriter() = default;
  virtual int64_t offset() const = 0;
  virtual Status write(std::string_view bytes) = 0;
  // `size` < 0 / empty `digest`: use the ones given to writer(), if any.
  virtual Result<ContentInfo> commit(int64_t size = -1, std::string_view digest = {}) = 0;
  virtual void abort() = 0;
};

class ContentStore {
 public:
  virtual ~ContentStore() = default;
  virtual Result<ContentInfo> info(std::string_view digest) = 0;
  // A read-only descriptor of the blob (ENOENT when absent).
  virtual Result<UniqueFd> open_blob(std::string_view digest) = 0;
  // The whole blob, refused (EFBIG) when larger than `max_size`.
  virtual Result<std::string> read_blob(std::string_view digest, size_t max_size) = 0;
  // `expected_size` 0 and `expected_digest` empty when unknown. When the
  // blob already exists the writer's commit() succeeds without bytes.
  virtual Result<std::unique_ptr<ContentWriter>> writer(std::string_view ref, int64_t expected_size,
                                                        std::string_view expected_digest) = 0;
  virtual Status remove(std::string_view digest) = 0;
  virtual Result<std::vector<ContentInfo>> list() = 0;
  virtual Result<std::vector<IngestStatus>> ingests() = 0;
  virtual Status abort_ingest(std::string_view ref) = 0;
};

}  // namespace berth::core
