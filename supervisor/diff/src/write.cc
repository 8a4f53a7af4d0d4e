// Writing a snapshot's changes as a layer (see write.h).

#include "berth/diff/write.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/sysmacros.h>

#include <map>
#include <memory>
#include <optional>

#include "berth/base/sys.h"
#include "changes.h"
#include "layer_stream.h"

namespace berth::diff {
namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n) { EVP_DigestUpdate(ctx_, data, n); }
  std::string hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
      out += kHex[md[i] >> 4];
      out += kHex[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// tar bytes → diffID hash → [gzip] → digest hash → sink. A failure in a
// callback is kept here: libarchive only reports "write failed".
class Output {
 public:
  explicit Output(const LayerSink& sink) : sink_(sink) {}

  Status open(bool gzip) {
    if (gzip) {
      gz_.reset(archive_write_new());
      archive_write_set_format_raw(gz_.get());
      archive_write_add_filter_gzip(gz_.get());
      // No timestamp in the gzip header: the same tree, the same digest.
      archive_write_set_filter_option(gz_.get(), "gzip", "timestamp", nullptr);
      archive_write_set_bytes_in_last_block(gz_.get(), 1);
      if (archive_write_open(gz_.get(), this, nullptr, &Output::on_compressed, nullptr) !=
          ARCHIVE_OK)
        return make_error(std::string("gzip writer: ") + archive_error_text(gz_.get()), EIO);
      std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
      archive_entry_set_pathname(e.get(), "layer.tar");
      archive_entry_set_filetype(e.get(), AE_IFREG);
      if (archive_write_header(gz_.get(), e.get()) != ARCHIVE_OK)
        return make_error(std::string("gzip writer: ") + archive_error_text(gz_.get()), EIO);
    }
    tar_.reset(archive_write_new());
    archive_write_set_format_pax(tar_.get());
    // Only SCHILY.xattr records (what docker and containerd read), not
    // libarchive's own duplicates of every attribute.
    archive_write_set_format_option(tar_.get(), "pax", "xattrheader", "SCHILY");
    // Two zero blocks end the archive, without padding to 10 KiB.
    archive_write_set_bytes_in_last_block(tar_.get(), 1);
    if (archive_write_open(tar_.get(), this, nullptr, &Output::on_tar, nullptr) != ARCHIVE_OK)
      return make_error(std::string("tar writer: ") + archive_error_text(tar_.get()), EIO);
    return {};
  }

  struct archive* tar() {
    return tar_.get();
  }
  const std::optional<Error>& failure() const { return failure_; }

  Status close() {
    if (archive_write_close(tar_.get()) != ARCHIVE_OK) return error(tar_.get(), "closing tar");
    if (gz_ && archive_write_close(gz_.get()) != ARCHIVE_OK)
      return error(gz_.get(), "closing gzip");
    return {};
  }

  Error error(struct archive* a, std::string_view what) const {
    if (failure_) return *failure_;
    return make_error(std::string(what) + ": " + archive_error_text(a), EIO);
  }

  WriteResult result() {
    WriteResult r;
    r.diff_id = tar_sha_.hex_digest();
    r.digest = gz_ ? out_sha_.hex_digest() : r.diff_id;
    r.size = out_size_;
    r.tar_size = tar_size_;
    return r;
  }

 private:
  static la_ssize_t on_tar(struct archive*, void* self, const void* buf, size_t n) {
    auto* o = static_cast<Output*>(self);
    o->tar_sha_.update(buf, n);
    o->tar_size_ += n;
    if (!o->gz_) return o->emit(buf, n);
    la_ssize_t w = archive_write_data(o->gz_.get(), buf, n);
    if (w < 0 && !o->failure_)
      o->failure_ = make_error(std::string("gzip: ") + archive_error_text(o->gz_.get()), EIO);
    return w < 0 ? -1 : static_cast<la_ssize_t>(n);
  }
  static la_ssize_t on_compressed(struct archive*, void* self, const void* buf, size_t n) {
    return static_cast<Output*>(self)->emit(buf, n);
  }
  la_ssize_t emit(const void* buf, size_t n) {
    if (gz_) out_sha_.update(buf, n);  // uncompressed, the digest is the diffID
    out_size_ += n;
    auto st = sink_(std::string_view(static_cast<const char*>(buf), n));
    if (!st) {
      failure_ = std::move(st).error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  const LayerSink& sink_;
  ArchivePtr gz_;
  ArchivePtr tar_;
  Sha256 tar_sha_, out_sha_;
  uint64_t tar_size_ = 0, out_size_ = 0;
  std::optional<Error> failure_;
};

class Writer {
 public:
  Writer(Output& out, BorrowedFd root) : out_(out), root_(root) {}

  Status write(const Change& c) {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), c.path.c_str());
    archive_entry_set_mtime(e.get(), c.st.st_mtim.tv_sec, c.st.st_mtim.tv_nsec);
    if (c.kind != Change::Kind::kEntry) {
      // Whiteouts and opaque markers: empty regular files, mode 0, root's.
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0);
      archive_entry_set_size(e.get(), 0);
      return header(e.get(), c.path);
    }
    const struct stat& st = c.st;
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    for (const auto& [k, v] : c.xattrs)
      archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), c.path);
      if (!fresh) {
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return header(e.get(), c.path);
      }
    }
    archive_entry_set_filetype(e.get(), st.st_mode & S_IFMT);
    switch (st.st_mode & S_IFMT) {
      case S_IFREG:
        archive_entry_set_size(e.get(), st.st_size);
        BERTH_TRY(header(e.get(), c.path));
        return data(c);
      case S_IFLNK: archive_entry_set_symlink(e.get(), c.link.c_str()); break;
      case S_IFCHR:
      case S_IFBLK:
        archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
        archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
        break;
      default: break;
    }
    archive_entry_set_size(e.get(), 0);
    return header(e.get(), c.path);
  }

 private:
  Status header(struct archive_entry* e, const std::string& path) {
    int r = archive_write_header(out_.tar(), e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return out_.error(out_.tar(), "entry `" + path + "`");
    return {};
  }

  // The file is opened in-root: a directory swapped for a symlink since
  // the walk cannot send the read outside the snapshot.
  Status data(const Change& c) {
    UniqueFd fd = BERTH_VALUE(sys::open_in_root(root_, c.path, O_RDONLY | O_NOFOLLOW));
    std::unique_ptr<char[]> buf(new char[64 << 10]);
    int64_t left = c.st.st_size;
    while (left > 0) {
      auto r =
          sys::read_some(fd, buf.get(), static_cast<size_t>(std::min<int64_t>(left, 64 << 10)));
      if (r.n < 0) return sys_error(r.err, "read", c.path);
      if (r.n == 0)
        return make_error("entry `" + c.path + "`: file shrank while the layer was written", EIO);
      la_ssize_t w = archive_write_data(out_.tar(), buf.get(), static_cast<size_t>(r.n));
      if (w < 0) return out_.error(out_.tar(), "entry `" + c.path + "`");
      left -= r.n;
    }
    return {};
  }

  Output& out_;
  BorrowedFd root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<WriteResult> write_layer(const core::LayerDirs& dirs, const WriteOptions& options,
                                const LayerSink& sink) {
  auto changes = collect_changes(dirs);
  if (!changes)
    return std::move(changes).error().wrap(options.label + " from `" + dirs.upper + "`");
  UniqueFd root = BERTH_VALUE(sys::open(dirs.upper, O_PATH | O_DIRECTORY));
  Output out(sink);
  BERTH_TRY_CTX(out.open(options.gzip), options.label);
  Writer writer(out, root);
  for (const auto& c : *changes) BERTH_TRY_CTX(writer.write(c), options.label);
  BERTH_TRY_CTX(out.close(), options.label);
  WriteResult r = out.result();
  r.entries = changes->size();
  return r;
}

}  // namespace berth::diff
