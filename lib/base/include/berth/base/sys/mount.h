#pragma once
// Namespaces and mounts.

#include <sys/mount.h>
#include <unistd.h>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

Status setns(BorrowedFd fd, int nstype, std::string_view what);
Status unshare(int flags);
Status mount(std::string_view source, std::string_view target, std::string_view fstype,
             unsigned long flags, std::string_view data = {});
Status umount(std::string_view target, int flags);
Status pivot_root(std::string_view new_root, std::string_view put_old);
// chroot(2) into the directory behind `dir` (fchdir, chroot("."), chdir("/")).
Status chroot_into(BorrowedFd dir, std::string_view what);
// fchdir(2); `what` names the directory in the error.
Status fchdir(BorrowedFd dir, std::string_view what);

// The new mount API (Linux 5.2; overlay's "lowerdir+" key 6.8): one
// parameter per fsconfig call, so no option string and no page limit on
// it. Descriptors are CLOEXEC. fsopen fails ENOSYS on kernels without it;
// callers fall back to mount(2). `what` names the mount in errors.
Result<UniqueFd> fsopen(std::string_view fstype);
Status fsconfig_string(BorrowedFd fs, std::string_view key, std::string_view value,
                       std::string_view what);
Status fsconfig_flag(BorrowedFd fs, std::string_view key, std::string_view what);
// FSCONFIG_CMD_CREATE: the superblock, from the parameters set so far.
Status fsconfig_create(BorrowedFd fs, std::string_view what);
// fsmount(2): a detached mount of the created superblock; `attrs` are
// MOUNT_ATTR_* (MOUNT_ATTR_RDONLY for a read-only mount).
Result<UniqueFd> fsmount(BorrowedFd fs, unsigned int attrs, std::string_view what);
// move_mount(2) of a detached mount onto the path `target`.
Status move_mount_to(BorrowedFd mount, std::string_view target);

// --- thin wrappers: the libc call's own result and errno ---------------------
inline int umount2(const char* target, int flags) { return ::umount2(target, flags); }
inline int sethostname(const char* name, size_t len) { return ::sethostname(name, len); }
inline int setdomainname(const char* name, size_t len) { return ::setdomainname(name, len); }

}  // namespace berth::sys
