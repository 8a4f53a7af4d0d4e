// Walking an active snapshot for its changes (see changes.h, write.h).
// Directories are reached by descriptor, one name at a time, never by
// re-resolving a path that a symlink in the tree could redirect.

#include "changes.h"

#include <algorithm>
#include <map>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"

namespace berth::diff {
namespace {

constexpr std::string_view kOverlayXattrs = "trusted.overlay.";

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

struct Scanned {
  struct stat st {};
  std::string link;
  std::vector<std::pair<std::string, std::string>> xattrs;  // all, sorted
};

// The entry's attributes through "/proc/self/fd/<dir>/<name>" with the l*
// calls: links and device nodes are never opened or followed.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(int dir,
                                                                     const std::string& name,
                                                                     const std::string& shown) {
  std::string path = sys::fd_path(BorrowedFd(dir)) + "/" + name;
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = sys::llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;
    return sys_error("listxattr", shown);
  }
  std::string list(static_cast<size_t>(n), '\0');
  n = sys::llistxattr(path.c_str(), list.data(), list.size());
  if (n < 0) return sys_error("listxattr", shown);
  list.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < list.size();) {
    std::string key(list.c_str() + pos);
    pos += key.size() + 1;
    if (key.empty()) continue;
    ssize_t len = sys::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
    if (len < 0) return sys_error("getxattr " + key, shown);
    std::string value(static_cast<size_t>(len), '\0');
    len = sys::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
    if (len < 0) return sys_error("getxattr " + key, shown);
    value.resize(static_cast<size_t>(len));
    out.emplace_back(std::move(key), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Scanned> scan(int dir, const std::string& name, const std::string& rel) {
  Scanned s;
  if (sys::fstatat(dir, name.c_str(), &s.st, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("stat", rel);
  if (S_ISLNK(s.st.st_mode)) {
    std::string buf(4096, '\0');
    ssize_t n = sys::readlinkat(dir, name.c_str(), buf.data(), buf.size());
    if (n < 0) return sys_error("readlink", rel);
    s.link.assign(buf.data(), static_cast<size_t>(n));
  }
  s.xattrs = BERTH_VALUE(read_xattrs(dir, name, rel));
  return s;
}

Result<UniqueFd> open_dir(int dir, const std::string& name, const std::string& rel) {
  int fd = sys::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return sys_error("open", rel);
  return UniqueFd(fd);
}

Result<std::vector<std::string>> sorted_names(int dir) {
  auto names = BERTH_VALUE(sys::list_dir(sys::fd_path(BorrowedFd(dir))));
  std::sort(names.begin(), names.end());
  return names;
}

Change entry(std::string path, Scanned s) {
  Change c;
  c.path = std::move(path);
  c.st = s.st;
  c.link = std::move(s.link);
  c.xattrs = std::move(s.xattrs);
  return c;
}

Change marker(Change::Kind kind, std::string path, const struct stat& like) {
  Change c;
  c.kind = kind;
  c.path = std::move(path);
  c.st.st_mode = S_IFREG;
  c.st.st_mtim = like.st_mtim;
  return c;
}

// --- overlay: the upper dir alone --------------------------------------------

Status walk_overlay(int dir, const std::string& rel, std::vector<Change>& out) {
  // Emitted names decide the order: `.wh.x` sorts where `.wh.x` belongs,
  // not where `x` did.
  std::map<std::string, std::pair<std::string, Scanned>>
      children;  // emitted name → (real name, scan)
  for (const auto& name : BERTH_VALUE(sorted_names(dir))) {
    std::string path = join(rel, name);
    Scanned s = BERTH_VALUE(scan(dir, name, path));
    bool whiteout = S_ISCHR(s.st.st_mode) && s.st.st_rdev == 0;
    children.emplace(whiteout ? ".wh." + name : name, std::make_pair(name, std::move(s)));
  }
  for (auto& [emitted, child] : children) {
    auto& [name, s] = child;
    std::string path = join(rel, name);
    if (emitted != name) {
      out.push_back(marker(Change::Kind::kWhiteout, join(rel, emitted), s.st));
      continue;
    }
    if (S_ISSOCK(s.st.st_mode)) continue;
    bool opaque = false;
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& [k, v] : s.xattrs) {
      if (!k.starts_with(kOverlayXattrs)) {
        kept.emplace_back(k, v);
        continue;
      }
      if (k == "trusted.overlay.opaque") {
        opaque = S_ISDIR(s.st.st_mode) && v == "y";
      } else if (k == "trusted.overlay.redirect" || k == "trusted.overlay.metacopy") {
        return core::unsupported("entry `" + path + "`: " + k +
                                 " (overlayfs redirect_dir/metacopy) is not supported");
      }
    }
    s.xattrs = std::move(kept);
    Change c = entry(path, std::move(s));
    out.push_back(c);
    if (S_ISDIR(c.st.st_mode)) {
      if (opaque) out.push_back(marker(Change::Kind::kOpaque, join(path, ".wh..wh..opq"), c.st));
      UniqueFd sub = BERTH_VALUE(open_dir(dir, name, path));
      BERTH_TRY(walk_overlay(sub.get(), path, out));
    }
  }
  return {};
}

// --- native: upper against the parent's full tree ----------------------------

bool same(const Scanned& a, const Scanned& b) {
  const struct stat &x = a.st, &y = b.st;
  if ((x.st_mode & S_IFMT) != (y.st_mode & S_IFMT)) return false;
  if ((x.st_mode & 07777) != (y.st_mode & 07777) || x.st_uid != y.st_uid || x.st_gid != y.st_gid)
    return false;
  if (x.st_rdev != y.st_rdev || a.link != b.link || a.xattrs != b.xattrs) return false;
  if (S_ISDIR(x.st_mode))
    return true;  // a dir's size and mtime follow its children, compared one by one
  return x.st_size == y.st_size && x.st_mtim.tv_sec == y.st_mtim.tv_sec &&
         x.st_mtim.tv_nsec == y.st_mtim.tv_nsec;
}

// Everything under `dir` (upper) is new.
Status walk_added(int dir, const std::string& rel, std::vector<Change>& out) {
  for (const auto& name : BERTH_VALUE(sorted_names(dir))) {
    std::string path = join(rel, name);
    Scanned s = BERTH_VALUE(scan(dir, name, path));
    if (S_ISSOCK(s.st.st_mode)) continue;
    bool is_dir = S_ISDIR(s.st.st_mode);
    out.push_back(entry(path, std::move(s)));
    if (is_dir) {
      UniqueFd sub = BERTH_VALUE(open_dir(dir, name, path));
      BERTH_TRY(walk_added(sub.get(), path, out));
    }
  }
  return {};
}

Status walk_native(int upper, int lower, const std::string& rel, std::vector<Change>& out) {
  std::map<std::string, std::pair<std::string, bool>>
      children;  // emitted name → (real name, in upper)
  for (const auto& name : BERTH_VALUE(sorted_names(upper)))
    children.emplace(name, std::make_pair(name, true));
  for (const auto& name : BERTH_VALUE(sorted_names(lower))) {
    struct stat st {};
    if (sys::fstatat(upper, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (errno != ENOENT) return sys_error("stat", join(rel, name));
    children.emplace(".wh." + name, std::make_pair(name, false));
  }
  for (const auto& [emitted, child] : children) {
    const auto& [name, in_upper] = child;
    std::string path = join(rel, name);
    if (!in_upper) {
      struct stat st {};
      if (sys::fstatat(lower, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_error("stat", path);
      out.push_back(marker(Change::Kind::kWhiteout, join(rel, emitted), st));
      continue;
    }
    Scanned u = BERTH_VALUE(scan(upper, name, path));
    if (S_ISSOCK(u.st.st_mode)) continue;
    struct stat probe {};
    bool in_lower = sys::fstatat(lower, name.c_str(), &probe, AT_SYMLINK_NOFOLLOW) == 0;
    if (!in_lower && errno != ENOENT) return sys_error("stat", path);
    bool is_dir = S_ISDIR(u.st.st_mode);
    if (!in_lower || (probe.st_mode & S_IFMT) != (u.st.st_mode & S_IFMT)) {
      out.push_back(entry(path, std::move(u)));
      if (is_dir) {
        UniqueFd sub = BERTH_VALUE(open_dir(upper, name, path));
        BERTH_TRY(walk_added(sub.get(), path, out));
      }
      continue;
    }
    Scanned l = BERTH_VALUE(scan(lower, name, path));
    bool changed = !same(u, l);
    if (!is_dir) {
      if (changed) out.push_back(entry(path, std::move(u)));
      continue;
    }
    size_t at = out.size();
    UniqueFd usub = BERTH_VALUE(open_dir(upper, name, path));
    UniqueFd lsub = BERTH_VALUE(open_dir(lower, name, path));
    BERTH_TRY(walk_native(usub.get(), lsub.get(), path, out));
    // The dir goes before its children: written when it changed itself or
    // when something under it did (its entry carries its metadata).
    if (changed || out.size() > at)
      out.insert(out.begin() + static_cast<ptrdiff_t>(at), entry(path, std::move(u)));
  }
  return {};
}

}  // namespace

Result<std::vector<Change>> collect_changes(const core::LayerDirs& dirs) {
  UniqueFd upper = BERTH_VALUE(sys::open(dirs.upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  std::vector<Change> out;
  if (dirs.whiteouts == core::WhiteoutStyle::kOverlay) {
    BERTH_TRY(walk_overlay(upper.get(), "", out));
    return out;
  }
  if (dirs.lowers.empty()) {
    BERTH_TRY(walk_added(upper.get(), "", out));
    return out;
  }
  UniqueFd lower = BERTH_VALUE(sys::open(dirs.lowers[0], O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  BERTH_TRY(walk_native(upper.get(), lower.get(), "", out));
  return out;
}

}  // namespace berth::diff
