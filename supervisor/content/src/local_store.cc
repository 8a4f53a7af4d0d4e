// The local content store (see local_store.h): blobs, and ingests through
// ingest.h's writer.

#include "berth/content/local_store.h"

#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "ingest.h"

namespace berth::content {

namespace {

// Refs come from clients ("layer-sha256:…", "manifest-…"); they are hashed
// into a directory name, so only their size needs a bound.
constexpr size_t kMaxRefSize = 1024;

core::ContentInfo info_of(std::string digest, const struct stat& st) {
  return core::ContentInfo{std::move(digest), st.st_size, st.st_mtim.tv_sec};
}

Error blob_error(Error err, std::string_view digest) {
  if (err.code() == ENOENT) return core::not_found("blob `" + std::string(digest) + "`: not found");
  return std::move(err).wrap("blob `" + std::string(digest) + "`");
}

}  // namespace

LocalStore::LocalStore(std::string root)
    : root_(std::move(root)), blobs_(root_ + "/blobs/sha256"), ingest_(root_ + "/ingest") {}

Result<std::unique_ptr<LocalStore>> LocalStore::open(std::string root) {
  if (root.empty() || root[0] != '/')
    return core::invalid_argument("content store root `" + root + "`: not an absolute path");
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::unique_ptr<LocalStore> store(new LocalStore(std::move(root)));
  BERTH_TRY(sys::mkdir_p(store->root_, 0700));
  BERTH_TRY(sys::mkdir_p(store->blobs_, 0755));
  BERTH_TRY(sys::mkdir_p(store->ingest_, 0700));
  detail::sweep_discarded(store->ingest_);
  return store;
}

std::string LocalStore::blob_path(std::string_view digest) const {
  return blobs_ + "/" + std::string(core::digest_hex(digest));
}

std::string LocalStore::ingest_dir(std::string_view ref) const {
  return ingest_ + "/" + std::string(core::digest_hex(core::digest_of(ref)));
}

Result<core::ContentInfo> LocalStore::info(std::string_view digest) {
  BERTH_TRY(core::validate_digest(digest));
  auto st = sys::stat(blob_path(digest));
  if (!st) return blob_error(std::move(st).error(), digest);
  return info_of(std::string(digest), *st);
}

Result<UniqueFd> LocalStore::open_blob(std::string_view digest) {
  BERTH_TRY(core::validate_digest(digest));
  auto fd = sys::open(blob_path(digest), O_RDONLY | O_NOFOLLOW);
  if (!fd) return blob_error(std::move(fd).error(), digest);
  return fd;
}

Result<std::string> LocalStore::read_blob(std::string_view digest, size_t max_size) {
  auto fd = BERTH_VALUE(open_blob(digest));
  auto st = BERTH_VALUE(sys::fstat(fd, blob_path(digest)));
  // Refused before reading: a manifest-sized buffer is what the caller
  // budgeted for, not whatever a registry sent.
  if (static_cast<uint64_t>(st.st_size) > max_size)
    return make_error("blob `" + std::string(digest) + "`: " + std::to_string(st.st_size) +
                          " bytes, larger than the limit of " + std::to_string(max_size),
                      EFBIG);
  return sys::read_all(fd, max_size, "blob `" + std::string(digest) + "`");
}

Result<std::unique_ptr<core::ContentWriter>> LocalStore::writer(std::string_view ref,
                                                                int64_t expected_size,
                                                                std::string_view expected_digest) {
  if (ref.empty()) return core::invalid_argument("ingest ref: empty");
  if (ref.size() > kMaxRefSize)
    return core::invalid_argument("ingest ref: longer than " + std::to_string(kMaxRefSize) +
                                  " bytes");
  if (expected_size < 0)
    return core::invalid_argument("ingest `" + std::string(ref) + "`: negative expected size");
  if (!expected_digest.empty())
    BERTH_TRY(core::validate_digest(expected_digest, "expected digest"));
  std::string dir = ingest_dir(ref);
  auto lock = BERTH_VALUE(detail::lock_ingest(dir, ref, /*create=*/true));
  auto w = detail::LocalWriter::open({ingest_, dir, blobs_}, std::string(ref), std::move(lock),
                                     {expected_size, std::string(expected_digest)});
  if (!w) return std::move(w).error().wrap("ingest `" + std::string(ref) + "`");
  return std::unique_ptr<core::ContentWriter>(std::move(w).value());
}

Status LocalStore::remove(std::string_view digest) {
  BERTH_TRY(core::validate_digest(digest));
  auto st = sys::unlink(blob_path(digest));
  if (!st) return blob_error(std::move(st).error(), digest);
  return ok_status();
}

Result<std::vector<core::ContentInfo>> LocalStore::list() {
  auto names = BERTH_VALUE(sys::list_dir(blobs_));
  std::vector<core::ContentInfo> out;
  for (auto& name : names) {
    std::string digest = "sha256:" + name;
    if (!core::validate_digest(digest).ok()) continue;
    auto st = sys::stat(blobs_ + "/" + name);
    if (!st) continue;  // removed since the directory was read
    out.push_back(info_of(std::move(digest), *st));
  }
  return out;
}

Result<std::vector<core::IngestStatus>> LocalStore::ingests() {
  auto names = BERTH_VALUE(sys::list_subdirs(ingest_));
  std::vector<core::IngestStatus> out;
  for (const auto& name : names) {
    if (name.starts_with(".")) continue;  // being removed
    std::string dir = ingest_ + "/" + name;
    // Each may vanish (commit, abort) while we read: skip what is gone.
    auto ref = sys::read_file(dir + "/ref", kMaxRefSize);
    if (!ref) continue;
    auto meta = detail::read_meta(dir);
    if (!meta) continue;
    core::IngestStatus status{*ref, 0, meta->size, meta->digest, 0};
    if (auto st = sys::stat(dir + "/data"); st.ok()) {
      status.offset = st->st_size;
      status.updated_at = st->st_mtim.tv_sec;
    }
    out.push_back(std::move(status));
  }
  return out;
}

Status LocalStore::abort_ingest(std::string_view ref) {
  if (ref.empty()) return core::invalid_argument("ingest ref: empty");
  std::string dir = ingest_dir(ref);
  auto lock = BERTH_VALUE(detail::lock_ingest(dir, ref, /*create=*/false));
  BERTH_TRY_CTX(detail::discard_ingest(ingest_, dir), "abort ingest `" + std::string(ref) + "`");
  return ok_status();
}

}  // namespace berth::content
