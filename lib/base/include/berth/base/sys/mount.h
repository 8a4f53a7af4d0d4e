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

// --- thin wrappers: the libc call's own result and errno ---------------------
inline int umount2(const char* target, int flags) { return ::umount2(target, flags); }
inline int sethostname(const char* name, size_t len) { return ::sethostname(name, len); }
inline int setdomainname(const char* name, size_t len) { return ::setdomainname(name, len); }

}  // namespace berth::sys
