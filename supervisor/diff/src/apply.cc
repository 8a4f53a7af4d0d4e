// Applying tar entries under a root directory; see apply.h for the
// guarantees. Every mutation is an *at call on a descriptor of the entry's
// parent directory (found in-root) with a single-component name, so a name
// can never be re-resolved through a symlink.

#include "berth/diff/apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "layer_stream.h"

namespace berth::diff {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kWhiteoutMeta = ".wh..wh.";  // aufs bookkeeping (.wh..wh.plnk)

// A name from the tar made relative and split into components. `..`
// anywhere is refused: honest layers never have it, and refusing it means
// no later check has to reason about it.
struct CleanPath {
  std::string dir;   // "" for the root
  std::string base;  // "" only for the root itself
  std::string full() const { return dir.empty() ? base : dir + "/" + base; }
};

Result<CleanPath> clean(std::string_view name, const ApplyOptions& o) {
  if (name.size() > o.max_path)
    return make_error("path longer than " + std::to_string(o.max_path) + " bytes", ENAMETOOLONG);
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view c =
        name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (c == "..") return make_error("path escapes the layer root (`..`)", EPERM);
    if (c.size() > o.max_component)
      return make_error("path component longer than " + std::to_string(o.max_component) + " bytes",
                        ENAMETOOLONG);
    if (!c.empty() && c != ".") parts.push_back(c);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  CleanPath p;
  if (parts.empty()) return p;
  p.base = std::string(parts.back());
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (i) p.dir += '/';
    p.dir += parts[i];
  }
  return p;
}

class Applier {
 public:
  Applier(BorrowedFd root, const ApplyOptions& o) : root_(root.get()), o_(o) {}

  Status entry(struct archive* tar, struct archive_entry* e) {
    const char* raw_name = archive_entry_pathname(e);
    if (!raw_name) return make_error("entry without a name");
    auto path = clean(raw_name, o_);
    if (!path) return std::move(path).error();
    if (path->base.empty()) return {};  // "./": the root itself keeps its own metadata
    if (path->base.starts_with(kWhiteoutPrefix)) return whiteout(*path);

    UniqueFd parent = BERTH_VALUE(open_dir(path->dir, /*create=*/true));
    mode_t type = archive_entry_filetype(e);
    const char* link = archive_entry_hardlink(e);
    bool keep_dir = false;
    BERTH_TRY(clear_slot(parent, path->base, type == AE_IFDIR && !link, &keep_dir));
    created_.insert(path->full());
    if (link) return hard_link(parent, path->base, link);
    const char* name = path->base.c_str();
    switch (type) {
      case AE_IFREG: return regular_file(tar, e, parent, name);
      case AE_IFDIR: return directory(e, parent, name, path->full(), keep_dir);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) return make_error("symlink without a target");
        if (sys::symlinkat(target, parent.get(), name) != 0) return sys_error("symlinkat");
        if (sys::fchownat(parent.get(), name, archive_entry_uid(e), archive_entry_gid(e),
                          AT_SYMLINK_NOFOLLOW) != 0)
          return sys_error("lchown");
        return set_times(parent.get(), name, e);
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        if (type != AE_IFIFO && !o_.allow_devices)
          return make_error("device nodes are not allowed in this layer", EPERM);
        dev_t dev =
            type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (sys::mknodat(parent.get(), name, type | (archive_entry_perm(e) & 07777), dev) != 0)
          return sys_error("mknodat");
        // The node was just made here and is not a symlink: fchmodat's
        // following of links cannot lead anywhere else.
        if (sys::fchownat(parent.get(), name, archive_entry_uid(e), archive_entry_gid(e),
                          AT_SYMLINK_NOFOLLOW) != 0)
          return sys_error("chown");
        if (sys::fchmodat(parent.get(), name, archive_entry_perm(e) & 07777, 0) != 0)
          return sys_error("chmod");
        return set_times(parent.get(), name, e);
      }
      case AE_IFSOCK: return {};  // a socket in a layer is meaningless: skipped, as docker does
      default: return make_error("unsupported entry type " + std::to_string(type));
    }
  }

  // Directory times last: creating children changed them.
  Status finish() {
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
      auto p = clean(it->first, o_);
      if (!p || p->base.empty()) continue;
      auto parent = open_dir(p->dir, false);
      if (!parent) return std::move(parent).error().wrap("entry `" + it->first + "`");
      if (sys::utimensat(parent->get(), p->base.c_str(), it->second.data(), AT_SYMLINK_NOFOLLOW) !=
          0)
        return sys_error("utimensat", it->first);
    }
    return {};
  }

 private:
  // The directory `dir` (relative to the root), resolved in-root; missing
  // components are created 0755 as containerd does for tars without their
  // parents' entries.
  Result<UniqueFd> open_dir(const std::string& dir, bool create) {
    if (dir.empty()) return sys::open_at(BorrowedFd(root_), ".", O_PATH | O_DIRECTORY);
    auto fd = sys::open_in_root(BorrowedFd(root_), dir, O_PATH | O_DIRECTORY);
    if (fd || fd.error().code() != ENOENT || !create) return fd;
    UniqueFd cur = BERTH_VALUE(sys::open_at(BorrowedFd(root_), ".", O_PATH | O_DIRECTORY));
    std::string sofar;
    size_t start = 0;
    while (start <= dir.size()) {
      size_t slash = dir.find('/', start);
      std::string comp =
          dir.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      sofar += (sofar.empty() ? "" : "/") + comp;
      auto next = sys::open_in_root(BorrowedFd(root_), sofar, O_PATH | O_DIRECTORY);
      if (!next && next.error().code() == ENOENT) {
        if (sys::mkdirat(cur.get(), comp.c_str(), 0755) == 0) {
          next = sys::open_in_root(BorrowedFd(root_), sofar, O_PATH | O_DIRECTORY);
        } else if (errno == EEXIST) {
          // A symlink whose target is missing (var/run → /run before run/
          // exists): create the target inside the root, as containerd does,
          // then resolve through the link again.
          char target[4096];
          ssize_t n = sys::readlinkat(cur.get(), comp.c_str(), target, sizeof target - 1);
          if (n < 0) return sys_error("readlink", sofar);
          if (++link_depth_ > kMaxLinkDepth)
            return make_error("too many levels of symbolic links", ELOOP);
          std::string parent_dir =
              sofar.size() > comp.size() ? sofar.substr(0, sofar.size() - comp.size() - 1) : "";
          BERTH_TRY(open_dir(in_root(parent_dir, std::string_view(target, static_cast<size_t>(n))),
                             true));
          --link_depth_;
          next = sys::open_in_root(BorrowedFd(root_), sofar, O_PATH | O_DIRECTORY);
        } else {
          return sys_error("mkdir", sofar);
        }
      }
      if (!next) return std::move(next).error();
      cur = std::move(*next);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return cur;
  }

  // Makes room for a new entry: whatever is at the name goes, except a
  // directory that a directory entry only re-describes.
  Status clear_slot(const UniqueFd& parent, const std::string& name, bool new_is_dir,
                    bool* keep_dir) {
    struct stat st {};
    if (sys::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return {};
      return sys_error("stat");
    }
    if (S_ISDIR(st.st_mode) && new_is_dir) {
      *keep_dir = true;
      return {};
    }
    return remove_tree(parent.get(), name);
  }

  static Status remove_tree(int parent, const std::string& name) {
    struct stat st {};
    if (sys::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return errno == ENOENT ? Status() : sys_error("stat", name);
    if (!S_ISDIR(st.st_mode)) {
      if (sys::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT)
        return sys_error("unlink", name);
      return {};
    }
    int fd = sys::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) return sys_error("open", name);
    UniqueFd dir(fd);
    auto children = sys::list_dir(sys::fd_path(dir));
    if (!children) return std::move(children).error();
    for (const auto& c : *children) BERTH_TRY(remove_tree(dir.get(), c));
    if (sys::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) return sys_error("rmdir", name);
    return {};
  }

  Status whiteout(const CleanPath& p) {
    UniqueFd parent = BERTH_VALUE(open_dir(p.dir, true));
    if (p.base == kOpaqueMarker) {
      if (o_.whiteouts == WhiteoutMode::kOverlay) {
        // The parent was resolved in-root above; open it again through
        // that descriptor to set the xattr on exactly that directory.
        UniqueFd dir = BERTH_VALUE(sys::open(sys::fd_path(parent), O_RDONLY | O_DIRECTORY));
        if (sys::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
          return sys_error("setxattr trusted.overlay.opaque");
        return {};
      }
      // Native: what the lower layers put in this directory goes; what this
      // layer created already stays.
      auto children = sys::list_dir(sys::fd_path(parent));
      if (!children) return std::move(children).error();
      for (const auto& c : *children) {
        std::string full = p.dir.empty() ? c : p.dir + "/" + c;
        if (!created_.count(full)) BERTH_TRY(remove_tree(parent.get(), c));
      }
      return {};
    }
    if (p.base.starts_with(kWhiteoutMeta)) return {};
    std::string victim = p.base.substr(kWhiteoutPrefix.size());
    if (victim.empty() || victim == "." || victim == "..") return make_error("bad whiteout name");
    BERTH_TRY(remove_tree(parent.get(), victim));
    if (o_.whiteouts == WhiteoutMode::kOverlay) {
      // overlayfs's whiteout: a character device 0/0 named like the victim.
      if (sys::mknodat(parent.get(), victim.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
        return sys_error("mknod whiteout", victim);
    }
    return {};
  }

  Status hard_link(const UniqueFd& parent, const std::string& name, const char* target_name) {
    auto target = clean(target_name, o_);
    if (!target)
      return std::move(target).error().wrap("hard link target `" + std::string(target_name) + "`");
    if (target->base.empty()) return make_error("hard link to the layer root");
    // The target's directory is resolved in-root and linkat does not follow
    // a final symlink: a link can only name an inode inside the root.
    auto tparent = open_dir(target->dir, false);
    if (!tparent)
      return std::move(tparent).error().wrap("hard link target `" + std::string(target_name) + "`");
    if (sys::linkat(tparent->get(), target->base.c_str(), parent.get(), name.c_str(), 0) != 0)
      return sys_error("link to", target_name);
    return {};
  }

  Status regular_file(struct archive* tar, struct archive_entry* e, const UniqueFd& parent,
                      const char* name) {
    int raw = sys::openat(parent.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (raw < 0) return sys_error("create");
    UniqueFd fd(raw);
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int64_t written = 0;
    for (;;) {
      int r = archive_read_data_block(tar, &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK)
        return make_error(std::string("reading data: ") + archive_error_text(tar), EIO);
      // Sparse entries: a hole is a seek, as GNU tar writes them.
      if (offset != written && sys::lseek(fd.get(), offset, SEEK_SET) < 0) return sys_error("seek");
      BERTH_TRY(sys::write_all(fd, std::string_view(static_cast<const char*>(block), size), name));
      written = offset + static_cast<int64_t>(size);
    }
    // A trailing hole: extend the file to its full size.
    if (written < archive_entry_size(e) && sys::ftruncate(fd.get(), archive_entry_size(e)) != 0)
      return sys_error("truncate");
    BERTH_TRY(metadata(fd.get(), e));
    return set_times(parent.get(), name, e);
  }

  Status directory(struct archive_entry* e, const UniqueFd& parent, const char* name,
                   const std::string& full, bool existed) {
    if (!existed && sys::mkdirat(parent.get(), name, 0700) != 0) return sys_error("mkdir");
    int raw = sys::openat(parent.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (raw < 0) return sys_error("open");
    UniqueFd fd(raw);
    BERTH_TRY(metadata(fd.get(), e));
    std::array<struct timespec, 2> t{};
    t[0] = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
    t[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    if (!archive_entry_atime_is_set(e)) t[0] = t[1];
    dir_times_.emplace_back(full, t);
    return {};
  }

  // Owner first: chown clears setuid/setgid, so the mode goes after it.
  Status metadata(int fd, struct archive_entry* e) {
    if (sys::fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) != 0) return sys_error("chown");
    if (sys::fchmod(fd, archive_entry_perm(e) & 07777) != 0) return sys_error("chmod");
    const char* xname = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
      if (sys::fsetxattr(fd, xname, value, size, 0) != 0) {
        // A filesystem without that namespace loses only that attribute;
        // a capability that cannot be set is an error (the binary would
        // run without the privilege its image gave it).
        if ((errno == ENOTSUP || errno == EOPNOTSUPP) &&
            std::string_view(xname) != "security.capability")
          continue;
        return sys_error("setxattr", xname);
      }
    }
    return {};
  }

  static Status set_times(int parent, const char* name, struct archive_entry* e) {
    std::array<struct timespec, 2> t{};
    t[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    t[0] = archive_entry_atime_is_set(e)
               ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
               : t[1];
    if (sys::utimensat(parent, name, t.data(), AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error("utimensat");
    return {};
  }

  // A symlink target as a path under the root: absolute targets start at
  // the root, and `..` stops there, as RESOLVE_IN_ROOT resolves them.
  static std::string in_root(const std::string& dir, std::string_view target) {
    std::vector<std::string> parts;
    auto push = [&](std::string_view path) {
      size_t start = 0;
      while (start <= path.size()) {
        size_t slash = path.find('/', start);
        std::string_view c =
            path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        if (c == "..") {
          if (!parts.empty()) parts.pop_back();
        } else if (!c.empty() && c != ".") {
          parts.emplace_back(c);
        }
        if (slash == std::string_view::npos) break;
        start = slash + 1;
      }
    };
    if (!target.starts_with('/')) push(dir);
    push(target);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
  }

  static constexpr int kMaxLinkDepth = 40;
  int link_depth_ = 0;
  int root_;
  const ApplyOptions& o_;
  std::set<std::string> created_;
  std::vector<std::pair<std::string, std::array<struct timespec, 2>>> dir_times_;
};

}  // namespace

Result<ApplyResult> apply_layer(BorrowedFd root, const ChunkSource& source,
                                const ApplyOptions& options) {
  LayerStream stream(source, options);
  BERTH_TRY(stream.open());
  Applier applier(root, options);
  ApplyResult result;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(stream.tar(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (stream.failure()) return *stream.failure();
      return make_error(options.label + ": bad tar after " + std::to_string(result.entries) +
                        " entries: " + archive_error_text(stream.tar()));
    }
    if (++result.entries > options.max_entries)
      return make_error(options.label + ": more than " + std::to_string(options.max_entries) +
                            " entries (limit max_entries)",
                        EFBIG);
    const char* name = archive_entry_pathname(e);
    auto st = applier.entry(stream.tar(), e);
    if (!st) {
      if (stream.failure()) return *stream.failure();
      return make_error(options.label + ": entry `" + std::string(name ? name : "") +
                            "`: " + st.error().to_string(),
                        st.error().code());
    }
  }
  result.diff_id = BERTH_VALUE(stream.finish());
  BERTH_TRY_CTX(applier.finish(), options.label);
  result.tar_size = stream.tar_size();
  result.compressed_size = stream.compressed_size();
  return result;
}

}  // namespace berth::diff
