#include "berth/base/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace berth::sys {

Result<UniqueFd> open(std::string_view path, int flags, mode_t mode) {
  return open_at(BorrowedFd(AT_FDCWD), path, flags, mode);
}

Result<UniqueFd> open_at(BorrowedFd dir, std::string_view path, int flags, mode_t mode) {
  std::string p(path);
  int fd = retry_eintr([&] { return ::openat(dir.get(), p.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return sys_error("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> open_in_root(BorrowedFd root, std::string_view path, int flags, mode_t mode) {
  std::string p(path);
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(
      retry_eintr([&] { return ::syscall(SYS_openat2, root.get(), p.c_str(), &how, sizeof how); }));
  if (fd < 0) return sys_error("open in root", path);
  return UniqueFd(fd);
}

Result<std::string> read_file(std::string_view path, size_t limit) {
  auto fd = BERTH_VALUE(open(path, O_RDONLY));
  return read_all(fd, limit, path);
}

Status write_file(std::string_view path, std::string_view data) {
  auto fd = BERTH_VALUE(open(path, O_WRONLY | O_TRUNC));
  return write_all(fd, data, path);
}

Status write_file_atomic(std::string_view path, std::string_view data, mode_t mode, bool durable) {
  std::string tmp = std::string(path) + ".tmp";
  {
    auto fd = BERTH_VALUE(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode));
    auto st = write_all(fd, data, tmp);
    if (st.ok() && durable && ::fsync(fd.get()) != 0) st = sys_error("fsync", tmp);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  if (::rename(tmp.c_str(), std::string(path).c_str()) != 0) {
    auto err = sys_error("rename", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Status fsync(BorrowedFd fd, std::string_view what) {
  if (retry_eintr([&] { return ::fsync(fd.get()); }) != 0) return sys_error("fsync", what);
  return {};
}

Status rename(std::string_view from, std::string_view to) {
  if (::rename(std::string(from).c_str(), std::string(to).c_str()) != 0)
    return sys_error("rename", std::string(from) + "` to `" + std::string(to));
  return {};
}

Result<struct stat> fstat(BorrowedFd fd, std::string_view what) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", what);
  return st;
}

Result<struct stat> stat(std::string_view path) {
  struct stat st {};
  if (::stat(std::string(path).c_str(), &st) != 0) return sys_error("stat", path);
  return st;
}

bool exists(std::string_view path) { return ::access(std::string(path).c_str(), F_OK) == 0; }

Status mkdir(std::string_view path, mode_t mode) {
  if (::mkdir(std::string(path).c_str(), mode) != 0) return sys_error("mkdir", path);
  return {};
}

Status mkdir_p(std::string_view path, mode_t mode) {
  std::string p(path);
  // The whole path first: usually only its last component is missing, or
  // none is (a state root made by an earlier run), and then one call is enough.
  if (::mkdir(p.c_str(), mode) == 0 || errno == EEXIST) return {};
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i != p.size() && p[i] != '/') continue;
    std::string part = p.substr(0, i);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) return sys_error("mkdir", part);
  }
  return {};
}

Status unlink(std::string_view path) {
  if (::unlink(std::string(path).c_str()) != 0) return sys_error("unlink", path);
  return {};
}

Status rmdir(std::string_view path) {
  if (::rmdir(std::string(path).c_str()) != 0) return sys_error("rmdir", path);
  return {};
}

namespace {
Status remove_all_at(int parent, const char* name, std::string_view shown) {
  if (::unlinkat(parent, name, 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return sys_error("unlink", shown);
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open", shown);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return sys_error("opendir", shown);
  }
  Status status;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    std::string child = std::string(shown) + "/" + e->d_name;
    status = remove_all_at(::dirfd(dir), e->d_name, child);
    if (!status.ok()) break;
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error("rmdir", shown);
  return {};
}
}  // namespace

Status remove_all(std::string_view path) {
  std::string p(path);
  return remove_all_at(AT_FDCWD, p.c_str(), path);
}

namespace {

// The names in a directory but "." and ".."; only subdirectories when
// `dirs_only` (from d_type, so no stat per entry unless the filesystem
// leaves it unknown).
Result<std::vector<std::string>> read_dir(std::string_view path, bool dirs_only) {
  std::string p(path);
  DIR* dir = ::opendir(p.c_str());
  if (dir == nullptr) return sys_error("opendir", path);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (dirs_only && e->d_type != DT_DIR) {
      struct stat st {};
      bool is_dir = e->d_type == DT_UNKNOWN &&
                    ::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(st.st_mode);
      if (!is_dir) continue;
    }
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return names;
}

}  // namespace

Result<std::vector<std::string>> list_dir(std::string_view path) { return read_dir(path, false); }

Result<std::vector<std::string>> list_subdirs(std::string_view path) {
  return read_dir(path, true);
}

std::string fd_path(BorrowedFd fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

Result<std::string> readlink(std::string_view path) {
  char buf[4096];
  ssize_t n = ::readlink(std::string(path).c_str(), buf, sizeof buf);
  if (n < 0) return sys_error("readlink", path);
  return std::string(buf, static_cast<size_t>(n));
}

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Result<std::string> make_temp_dir(std::string_view prefix) {
  std::string tmpl = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return sys_error("mkdtemp", tmpl);
  return tmpl;
}

void unlink_quiet(const std::string& path) { (void)::unlink(path.c_str()); }

Status chmod(const std::string& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) return sys_error("chmod", path);
  return {};
}
void rmdir_quiet(const std::string& path) { (void)::rmdir(path.c_str()); }

std::string current_dir() {
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

int memfd_create(const char* name, unsigned int flags) {
  return ::memfd_create(name, flags | MFD_CLOEXEC);
}

int mount_setattr_fd(int fd, unsigned int flags, void* attr, size_t size) {
  return static_cast<int>(::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | flags, attr, size));
}

Result<unsigned long> statfs_type(std::string_view path) {
  struct statfs sf {};
  if (::statfs(std::string(path).c_str(), &sf) != 0) return sys_error("statfs", path);
  return static_cast<unsigned long>(sf.f_type);
}

Result<unsigned long> fstatfs_type(BorrowedFd fd, std::string_view what) {
  struct statfs sf {};
  if (::fstatfs(fd.get(), &sf) != 0) return sys_error("statfs", what);
  return static_cast<unsigned long>(sf.f_type);
}

}  // namespace berth::sys
