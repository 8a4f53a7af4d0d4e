// copy_tree (see copy_tree.h). Every entry is reached as (parent dir fd,
// single name) so nothing is resolved through a symlink in the tree.

#include "berth/snapshots/copy_tree.h"

#include <sys/sysmacros.h>

#include <array>
#include <map>
#include <utility>
#include <vector>

#include "berth/base/sys.h"

namespace berth::snapshots {
namespace {

// "/proc/self/fd/<dir>/<name>": the l*xattr calls work on the link or node
// itself, and a device must not be opened just to read its attributes.
std::string at_path(int dir, const std::string& name) {
  return sys::fd_path(BorrowedFd(dir)) + "/" + name;
}

// The attributes of `name` in `dir`, or of `dir` itself when `name` is
// empty (through its descriptor: l*xattr on /proc/self/fd/N would read
// the magic link, not the directory).
struct XattrTarget {
  int dir;
  std::string path;  // empty: the descriptor itself
  XattrTarget(int d, const std::string& name)
      : dir(d), path(name.empty() ? "" : at_path(d, name)) {}
  ssize_t list(char* buf, size_t n) const {
    return path.empty() ? sys::flistxattr(dir, buf, n) : sys::llistxattr(path.c_str(), buf, n);
  }
  ssize_t get(const char* key, void* buf, size_t n) const {
    return path.empty() ? sys::fgetxattr(dir, key, buf, n)
                        : sys::lgetxattr(path.c_str(), key, buf, n);
  }
  int set(const char* key, const void* v, size_t n) const {
    return path.empty() ? sys::fsetxattr(dir, key, v, n, 0)
                        : sys::lsetxattr(path.c_str(), key, v, n, 0);
  }
};

Status copy_xattrs(int src_dir, int dst_dir, const std::string& name, const std::string& shown) {
  XattrTarget src(src_dir, name), dst(dst_dir, name);
  ssize_t n = src.list(nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return {};
    return sys_error("listxattr", shown);
  }
  std::string list(static_cast<size_t>(n), '\0');
  n = src.list(list.data(), list.size());
  if (n < 0) return sys_error("listxattr", shown);
  list.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < list.size();) {
    std::string key(list.c_str() + pos);
    pos += key.size() + 1;
    if (key.empty()) continue;
    ssize_t len = src.get(key.c_str(), nullptr, 0);
    if (len < 0) return sys_error("getxattr " + key, shown);
    std::string value(static_cast<size_t>(len), '\0');
    len = src.get(key.c_str(), value.data(), value.size());
    if (len < 0) return sys_error("getxattr " + key, shown);
    value.resize(static_cast<size_t>(len));
    if (dst.set(key.c_str(), value.data(), value.size()) != 0)
      return sys_error("setxattr " + key, shown);
  }
  return {};
}

class Copier {
 public:
  Status dir(int src, int dst, const std::string& rel) {
    auto names = sys::list_dir(sys::fd_path(BorrowedFd(src)));
    if (!names) return std::move(names).error();
    for (const auto& name : *names)
      BERTH_TRY(entry(src, dst, name, rel.empty() ? name : rel + "/" + name));
    return {};
  }

  // Owner, mode, xattrs, times of `name` in dst_dir from st; an empty name
  // is the directory itself.
  static Status attrs(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                      const std::string& shown) {
    const char* n = name.empty() ? "" : name.c_str();
    int flags = name.empty() ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW;
    if (sys::fchownat(dst_dir, n, st.st_uid, st.st_gid, flags) != 0)
      return sys_error("chown", shown);
    // Links have no mode of their own (fchmodat on one is EOPNOTSUPP).
    if (!S_ISLNK(st.st_mode)) {
      int rc = name.empty() ? sys::fchmod(dst_dir, st.st_mode & 07777)
                            : sys::fchmodat(dst_dir, n, st.st_mode & 07777, 0);
      if (rc != 0) return sys_error("chmod", shown);
    }
    BERTH_TRY(copy_xattrs(src_dir, dst_dir, name, shown));
    std::array<struct timespec, 2> t{st.st_atim, st.st_mtim};
    int rc = name.empty() ? sys::utimensat(dst_dir, "", t.data(), AT_EMPTY_PATH)
                          : sys::utimensat(dst_dir, n, t.data(), AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return sys_error("utimensat", shown);
    return {};
  }

  int root_ = -1;

 private:
  Status entry(int src, int dst, const std::string& name, const std::string& rel) {
    struct stat st {};
    if (sys::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error("stat", rel);
    const char* n = name.c_str();
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      if (!fresh) {
        if (sys::linkat(root_, it->second.c_str(), dst, n, 0) != 0) return sys_error("link", rel);
        return {};
      }
    }
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: {
        if (sys::mkdirat(dst, n, 0700) != 0) return sys_error("mkdir", rel);
        int s = sys::openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (s < 0) return sys_error("open", rel);
        UniqueFd sfd(s);
        int d = sys::openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (d < 0) return sys_error("open", rel);
        UniqueFd dfd(d);
        BERTH_TRY(dir(sfd.get(), dfd.get(), rel));
        return attrs(sfd.get(), dfd.get(), "", st, rel);
      }
      case S_IFREG: {
        int s = sys::openat(src, n, O_RDONLY | O_NOFOLLOW);
        if (s < 0) return sys_error("open", rel);
        UniqueFd sfd(s);
        int d = sys::openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (d < 0) return sys_error("create", rel);
        UniqueFd dfd(d);
        BERTH_TRY(copy_data(sfd.get(), dfd.get(), st.st_size, rel));
        break;
      }
      case S_IFLNK: {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t len = sys::readlinkat(src, n, target.data(), target.size());
        if (len < 0) return sys_error("readlink", rel);
        target.resize(static_cast<size_t>(len));
        if (sys::symlinkat(target.c_str(), dst, n) != 0) return sys_error("symlink", rel);
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
      case S_IFIFO:
        if (sys::mknodat(dst, n, st.st_mode & (S_IFMT | 07777), st.st_rdev) != 0)
          return sys_error("mknod", rel);
        break;
      default: return {};  // sockets
    }
    return attrs(src, dst, name, st, rel);
  }

  static Status copy_data(int in, int out, off_t size, const std::string& rel) {
    off_t left = size;
    while (left > 0) {
      ssize_t n = sys::copy_file_range(in, out, static_cast<size_t>(left));
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
        n = sys::sendfile(out, in, nullptr, static_cast<size_t>(left));
      }
      if (n < 0) return sys_error("copy", rel);
      if (n == 0) break;  // the file shrank under us: keep what was there
      left -= n;
    }
    return {};
  }

  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Status copy_tree(const std::string& src, const std::string& dst) {
  UniqueFd s = BERTH_VALUE(sys::open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  struct stat st = BERTH_VALUE(sys::fstat(s, src));
  BERTH_TRY(sys::mkdir(dst, 0700));
  UniqueFd d = BERTH_VALUE(sys::open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  Copier c;
  c.root_ = d.get();
  BERTH_TRY(c.dir(s.get(), d.get(), ""));
  return Copier::attrs(s.get(), d.get(), "", st, dst);
}

}  // namespace berth::snapshots
