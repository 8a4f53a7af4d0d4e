#pragma once
// Paths and directories. Every descriptor is opened with O_CLOEXEC.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/sys/retry.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

Result<UniqueFd> open(std::string_view path, int flags, mode_t mode = 0);
Result<UniqueFd> open_at(BorrowedFd dir, std::string_view path, int flags, mode_t mode = 0);
// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved
// as if `root` were "/", so no symlink or ".." can leave it (CVE-2021-30465).
Result<UniqueFd> open_in_root(BorrowedFd root, std::string_view path, int flags, mode_t mode = 0);
Result<std::string> read_file(std::string_view path, size_t limit = 16 << 20);
Status write_file(std::string_view path, std::string_view data);
// Writes to a temp file in the same directory and renames it over `path`:
// a reader sees the old or the new content, never half of it. `durable`
// adds an fsync before the rename, for data that must survive power loss
// (not for /run state, which does not outlive a boot: the fsync costs
// ~15 ms a container on this host's ext4).
Status write_file_atomic(std::string_view path, std::string_view data, mode_t mode = 0600,
                         bool durable = false);
Result<struct stat> fstat(BorrowedFd fd, std::string_view what);
Result<struct stat> stat(std::string_view path);
bool exists(std::string_view path);
constexpr unsigned long kProcSuperMagic = 0x9fa0;
constexpr unsigned long kSysfsMagic = 0x62656572;
// f_type of statfs(2) (PROC_SUPER_MAGIC, SYSFS_MAGIC, ...).
Result<unsigned long> statfs_type(std::string_view path);
Result<unsigned long> fstatfs_type(BorrowedFd fd, std::string_view what);
bool is_executable(const std::string& path);
Status mkdir(std::string_view path, mode_t mode);
Status mkdir_p(std::string_view path, mode_t mode);
Status unlink(std::string_view path);
Status rmdir(std::string_view path);
// Removal that is fine when the path is already gone.
void unlink_quiet(const std::string& path);
void rmdir_quiet(const std::string& path);
Status remove_all(std::string_view path);  // rm -rf without following symlinks
Status chmod(const std::string& path, mode_t mode);
// fsync(2); `what` names the file or directory in the error, whose errno
// (EIO, ENOSPC on a delayed allocation) is kept.
Status fsync(BorrowedFd fd, std::string_view what);
// rename(2) of a path (both on one filesystem).
Status rename(std::string_view from, std::string_view to);
Result<std::vector<std::string>> list_dir(std::string_view path);
// The subdirectories only, told apart by getdents' d_type: on cgroupfs a
// directory holds dozens of control files, and a stat of each is what made
// removing a container's cgroups cost ~200 syscalls. Entries of unknown type
// (filesystems without d_type) are stat'ed, without following symlinks.
Result<std::vector<std::string>> list_subdirs(std::string_view path);
// "/proc/self/fd/N": the path through which a mount or chmod reaches exactly
// the inode behind fd, without resolving a path again.
std::string fd_path(BorrowedFd fd);
Result<std::string> readlink(std::string_view path);
// mkdtemp(3) under /tmp: a fresh directory, mode 0700.
Result<std::string> make_temp_dir(std::string_view prefix);
std::string current_dir();

// --- thin wrappers: the libc call's own result and errno ---------------------
// For code that must not allocate (between clone and exec) or that handles
// errno itself. The *at forms stand in for open/stat/mkdir/rmdir on a path
// (dir kAtFdcwd), whose names the Result API above already uses.
inline int openat(int dir, const char* path, int flags, mode_t mode = 0) {
  return retry_eintr([&] { return ::openat(dir, path, flags | O_CLOEXEC, mode); });
}
inline int fstatat(int dir, const char* path, struct stat* st, int flags) {
  return ::fstatat(dir, path, st, flags);
}
inline ssize_t readlinkat(int dir, const char* path, char* buf, size_t len) {
  return ::readlinkat(dir, path, buf, len);
}
inline int mkdirat(int dir, const char* path, mode_t mode) { return ::mkdirat(dir, path, mode); }
inline int unlinkat(int dir, const char* path, int flags) { return ::unlinkat(dir, path, flags); }
inline int mknodat(int dir, const char* path, mode_t mode, dev_t dev) {
  return ::mknodat(dir, path, mode, dev);
}
inline int fchmodat(int dir, const char* path, mode_t mode, int flags) {
  return ::fchmodat(dir, path, mode, flags);
}
inline int fchownat(int dir, const char* path, uid_t uid, gid_t gid, int flags) {
  return ::fchownat(dir, path, uid, gid, flags);
}
inline int symlinkat(const char* target, int dir, const char* path) {
  return ::symlinkat(target, dir, path);
}
inline int linkat(int old_dir, const char* old_path, int new_dir, const char* new_path, int flags) {
  return ::linkat(old_dir, old_path, new_dir, new_path, flags);
}
inline int renameat(int old_dir, const char* old_path, int new_dir, const char* new_path) {
  return ::renameat(old_dir, old_path, new_dir, new_path);
}
inline int utimensat(int dir, const char* path, const struct timespec times[2], int flags) {
  return ::utimensat(dir, path, times, flags);
}
inline int fchmod(int fd, mode_t mode) { return ::fchmod(fd, mode); }
inline int ftruncate(int fd, off_t size) { return ::ftruncate(fd, size); }
inline int fchown(int fd, uid_t uid, gid_t gid) { return ::fchown(fd, uid, gid); }
inline int fsetxattr(int fd, const char* name, const void* value, size_t size, int flags) {
  return ::fsetxattr(fd, name, value, size, flags);
}
inline ssize_t fgetxattr(int fd, const char* name, void* value, size_t size) {
  return ::fgetxattr(fd, name, value, size);
}
inline ssize_t flistxattr(int fd, char* list, size_t size) { return ::flistxattr(fd, list, size); }
// The l* forms: on the link itself, and on device nodes, which must not be
// opened to reach their attributes.
inline ssize_t llistxattr(const char* path, char* list, size_t size) {
  return ::llistxattr(path, list, size);
}
inline ssize_t lgetxattr(const char* path, const char* name, void* value, size_t size) {
  return ::lgetxattr(path, name, value, size);
}
inline int lsetxattr(const char* path, const char* name, const void* value, size_t size,
                     int flags) {
  return ::lsetxattr(path, name, value, size, flags);
}
inline int faccessat(int dir, const char* path, int mode, int flags) {
  return ::faccessat(dir, path, mode, flags);
}
inline int access(const char* path, int mode) { return ::access(path, mode); }
inline int statfs(const char* path, struct statfs* st) { return ::statfs(path, st); }
inline int fstatvfs(int fd, struct statvfs* st) { return ::fstatvfs(fd, st); }
inline int chdir(const char* path) { return ::chdir(path); }
inline int fchdir(int fd) { return ::fchdir(fd); }
inline int chroot(const char* path) { return ::chroot(path); }
inline char* getcwd(char* buf, size_t len) { return ::getcwd(buf, len); }
inline int flock(int fd, int op) {
  return retry_eintr([&] { return ::flock(fd, op); });
}
// memfd_create(2), MFD_CLOEXEC always.
int memfd_create(const char* name, unsigned int flags);
// mount_setattr(2) on fd itself (AT_EMPTY_PATH): glibc 2.36 has no wrapper.
int mount_setattr_fd(int fd, unsigned int flags, void* attr, size_t size);

}  // namespace berth::sys
