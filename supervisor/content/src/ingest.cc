// Ingest directories and their writer (see ingest.h and local_store.h).

#include "ingest.h"

#include <unistd.h>

#include <atomic>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"

namespace berth::content::detail {

namespace {

constexpr std::string_view kRemovePrefix = ".remove-";
constexpr size_t kRehashChunk = 1 << 20;

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

Result<IngestMeta> read_meta(const std::string& dir) {
  std::string path = dir + "/meta";
  auto text = sys::read_file(path, 4096);
  if (!text) {
    if (text.error().code() == ENOENT) return IngestMeta{};
    return std::move(text).error();
  }
  auto doc = BERTH_VALUE(json::parse(*text, path));
  IngestMeta meta;
  if (const auto* size = doc.get("size"); size && size->as_i64()) meta.size = *size->as_i64();
  if (const auto* digest = doc.get("digest"); digest && digest->is_string())
    meta.digest = digest->as_string();
  // The digest names a blob path at commit: trust the file no more than a caller.
  if (!meta.digest.empty()) BERTH_TRY(core::validate_digest(meta.digest, path));
  if (meta.size < 0) return core::invalid_argument("ingest meta `" + path + "`: negative size");
  return meta;
}

Status write_meta(const std::string& dir, const IngestMeta& meta) {
  json::Writer w;
  w.begin_object().key("size").integer(meta.size).key("digest").string(meta.digest).end_object();
  return sys::write_file_atomic(dir + "/meta", w.str());
}

Result<UniqueFd> lock_ingest(const std::string& dir, std::string_view ref, bool create) {
  std::string lock_path = dir + "/lock";
  // A handful of rounds: each retry means another thread or process deleted
  // the ingest between our open and our flock, which ends after one round.
  for (int round = 0; round < 16; ++round) {
    if (create) {
      auto made = sys::mkdir(dir, 0700);
      if (!made && made.error().code() != EEXIST) return std::move(made).error();
    }
    auto fd = sys::open(lock_path, O_RDWR | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
    if (!fd) {
      if (fd.error().code() != ENOENT) return std::move(fd).error();
      if (!create) return core::not_found("ingest `" + std::string(ref) + "`: not found");
      continue;  // the directory went away between mkdir and open
    }
    if (sys::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return core::in_use("ingest `" + std::string(ref) + "`: another writer holds it");
      return sys_error("flock", lock_path);
    }
    // The lock is ours, but is the file still the ingest's lock? A deleter
    // renames the directory away while holding it: then we locked a corpse.
    auto held = BERTH_VALUE(sys::fstat(*fd, lock_path));
    auto now = sys::stat(lock_path);
    if (now.ok() && same_file(held, *now)) return std::move(fd).value();
    if (!now.ok() && now.error().code() != ENOENT) return std::move(now).error();
    if (!create) return core::not_found("ingest `" + std::string(ref) + "`: not found");
  }
  return core::in_use("ingest `" + std::string(ref) +
                      "`: created and deleted concurrently, try again");
}

Status discard_ingest(const std::string& ingest_root, const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  std::string name = dir.substr(dir.rfind('/') + 1);
  std::string trash = ingest_root + "/" + std::string(kRemovePrefix) + name + "-" +
                      std::to_string(sys::getpid()) + "-" + std::to_string(counter++);
  BERTH_TRY(sys::rename(dir, trash));
  return sys::remove_all(trash);
}

void sweep_discarded(const std::string& ingest_root) {
  auto names = sys::list_dir(ingest_root);
  if (!names) return;
  for (const auto& name : *names)
    if (name.starts_with(kRemovePrefix)) (void)sys::remove_all(ingest_root + "/" + name);
}

Result<std::unique_ptr<LocalWriter>> LocalWriter::open(Paths paths, std::string ref, UniqueFd lock,
                                                       IngestMeta expected) {
  std::string ref_path = paths.dir + "/ref";
  if (!sys::exists(ref_path)) BERTH_TRY(sys::write_file_atomic(ref_path, ref));

  // An ingest left for other bytes under this ref (a ref reused for a new
  // digest or size) cannot be resumed: start it again.
  auto old = BERTH_VALUE(read_meta(paths.dir));
  bool restart =
      (!expected.digest.empty() && !old.digest.empty() && expected.digest != old.digest) ||
      (expected.size > 0 && old.size > 0 && expected.size != old.size);
  IngestMeta meta = restart ? IngestMeta{} : old;
  if (expected.size > 0) meta.size = expected.size;
  if (!expected.digest.empty()) meta.digest = expected.digest;
  if (restart || meta.size != old.size || meta.digest != old.digest ||
      !sys::exists(paths.dir + "/meta"))
    BERTH_TRY(write_meta(paths.dir, meta));

  std::unique_ptr<LocalWriter> w(
      new LocalWriter(std::move(paths), std::move(ref), std::move(lock), meta));
  std::string data_path = w->paths_.dir + "/data";
  // O_APPEND: every write lands at the end, also after a failed write was
  // cut back with ftruncate.
  w->data_ = BERTH_VALUE(sys::open(data_path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0600));
  if (restart && sys::ftruncate(w->data_.get(), 0) != 0) return sys_error("truncate", data_path);

  // Resume: the digest of what a previous writer left, read back, since the
  // hash state died with it.
  std::string buf(kRehashChunk, '\0');
  for (;;) {
    ssize_t n = sys::pread(w->data_.get(), buf.data(), buf.size(), static_cast<off_t>(w->offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", data_path);
    }
    if (n == 0) break;
    w->digester_.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    w->offset_ += n;
  }
  if (meta.size > 0 && w->offset_ > meta.size) {
    if (sys::ftruncate(w->data_.get(), 0) != 0) return sys_error("truncate", data_path);
    w->digester_ = core::Digester();
    w->offset_ = 0;
  }
  return w;
}

std::string LocalWriter::what(std::string_view digest) const {
  std::string d(digest.empty() ? std::string_view(expected_.digest) : digest);
  std::string out = "ingest `" + ref_ + "`";
  if (!d.empty()) out += " of blob `" + d + "`";
  return out;
}

Status LocalWriter::write(std::string_view bytes) {
  if (done_) return core::invalid_argument(what() + ": write after commit or abort");
  if (expected_.size > 0 && offset_ + static_cast<int64_t>(bytes.size()) > expected_.size)
    return core::data_loss(
        what() + ": " + std::to_string(offset_ + static_cast<int64_t>(bytes.size())) +
        " bytes written, more than the expected " + std::to_string(expected_.size));
  auto st = sys::write_all(data_, bytes, paths_.dir + "/data");
  if (!st) {
    // Cut back to what the digester has seen, so the ingest stays resumable
    // (a full disk is the usual cause: the caller may free space and resume).
    (void)sys::ftruncate(data_.get(), static_cast<off_t>(offset_));
    return std::move(st).error().wrap(what());
  }
  digester_.update(bytes);
  offset_ += static_cast<int64_t>(bytes.size());
  return ok_status();
}

void LocalWriter::discard() {
  data_.reset();
  (void)discard_ingest(paths_.ingest_root, paths_.dir);
  lock_.reset();
  done_ = true;
}

Result<core::ContentInfo> LocalWriter::finish_existing(const std::string& digest) {
  auto st = BERTH_VALUE(sys::stat(paths_.blobs + "/" + std::string(core::digest_hex(digest))));
  discard();
  return core::ContentInfo{digest, st.st_size, st.st_mtim.tv_sec};
}

Result<core::ContentInfo> LocalWriter::commit(int64_t size, std::string_view digest) {
  if (done_) return core::invalid_argument(what() + ": commit after commit or abort");
  int64_t want_size = size >= 0 ? size : (expected_.size > 0 ? expected_.size : -1);
  std::string want(digest.empty() ? std::string_view(expected_.digest) : digest);
  if (!want.empty()) BERTH_TRY_CTX(core::validate_digest(want, "commit digest"), what());
  if (!want.empty() && sys::exists(paths_.blobs + "/" + std::string(core::digest_hex(want))))
    return finish_existing(want);

  // Size first: it is free, and a short body (a dropped connection) is the
  // common failure; then the digest, which is what makes a blob trustworthy.
  if (want_size >= 0 && offset_ != want_size) {
    auto err =
        core::data_loss(what(want) + ": size mismatch: expected " + std::to_string(want_size) +
                        " bytes, got " + std::to_string(offset_));
    discard();
    return err;
  }
  std::string actual = digester_.digest();
  if (!want.empty() && actual != want) {
    auto err =
        core::data_loss(what(want) + ": digest mismatch: expected " + want + ", got " + actual);
    discard();
    return err;
  }
  std::string blob = paths_.blobs + "/" + std::string(core::digest_hex(actual));
  if (sys::exists(blob)) return finish_existing(actual);

  std::string data_path = paths_.dir + "/data";
  if (sys::fchmod(data_.get(), 0444) != 0) return sys_error("chmod", data_path).wrap(what(actual));
  // Data before name: after a crash the blob's name never points at bytes
  // that were still in the page cache.
  BERTH_TRY_CTX(sys::fsync(data_, data_path), "commit " + what(actual));
  auto stat = BERTH_VALUE(sys::fstat(data_, data_path));
  BERTH_TRY_CTX(sys::rename(data_path, blob), "commit " + what(actual));
  // And the directory entry itself, or a power loss may forget the rename.
  auto dir = BERTH_VALUE(sys::open(paths_.blobs, O_RDONLY | O_DIRECTORY));
  BERTH_TRY_CTX(sys::fsync(dir, paths_.blobs), "commit " + what(actual));
  discard();
  return core::ContentInfo{actual, stat.st_size, stat.st_mtim.tv_sec};
}

void LocalWriter::abort() {
  if (!done_) discard();
}

}  // namespace berth::content::detail
