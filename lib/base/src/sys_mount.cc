#include "berth/base/sys.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

namespace berth::sys {

Status setns(BorrowedFd fd, int nstype, std::string_view what) {
  if (::setns(fd.get(), nstype) != 0) return sys_error("setns", what);
  return {};
}

Status unshare(int flags) {
  if (::unshare(flags) != 0) return sys_error("unshare");
  return {};
}

Status mount(std::string_view source, std::string_view target, std::string_view fstype,
             unsigned long flags, std::string_view data) {
  std::string src(source), tgt(target), type(fstype), opts(data);
  if (::mount(src.empty() ? nullptr : src.c_str(), tgt.c_str(),
              type.empty() ? nullptr : type.c_str(), flags,
              opts.empty() ? nullptr : opts.c_str()) != 0)
    return sys_error("mount", source.empty() ? target : std::string(source) + "` on `" + tgt);
  return {};
}

Status umount(std::string_view target, int flags) {
  if (::umount2(std::string(target).c_str(), flags) != 0) return sys_error("umount", target);
  return {};
}

Status pivot_root(std::string_view new_root, std::string_view put_old) {
  if (::syscall(SYS_pivot_root, std::string(new_root).c_str(), std::string(put_old).c_str()) != 0)
    return sys_error("pivot_root", new_root);
  return {};
}

Status chroot_into(BorrowedFd dir, std::string_view what) {
  if (::fchdir(dir.get()) != 0) return sys_error("fchdir", what);
  if (::chroot(".") != 0) return sys_error("chroot", what);
  if (::chdir("/") != 0) return sys_error("chdir", "/");
  return {};
}

Status fchdir(BorrowedFd dir, std::string_view what) {
  if (::fchdir(dir.get()) != 0) return sys_error("fchdir", what);
  return {};
}

}  // namespace berth::sys
