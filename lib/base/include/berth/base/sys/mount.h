#pragma once
// Namespaces and mounts.

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

}  // namespace berth::sys
