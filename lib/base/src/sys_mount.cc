#include "berth/base/sys.h"

#include <fcntl.h>
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

Result<UniqueFd> fsopen(std::string_view fstype) {
  int fd = ::fsopen(std::string(fstype).c_str(), FSOPEN_CLOEXEC);
  if (fd < 0) return sys_error("fsopen", fstype);
  return UniqueFd(fd);
}

Status fsconfig_string(BorrowedFd fs, std::string_view key, std::string_view value,
                       std::string_view what) {
  std::string k(key), v(value);
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, k.c_str(), v.c_str(), 0) != 0)
    return sys_error("fsconfig " + k + "=" + v, what);
  return {};
}

Status fsconfig_flag(BorrowedFd fs, std::string_view key, std::string_view what) {
  std::string k(key);
  if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, k.c_str(), nullptr, 0) != 0)
    return sys_error("fsconfig " + k, what);
  return {};
}

Status fsconfig_create(BorrowedFd fs, std::string_view what) {
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_error("fsconfig create", what);
  return {};
}

Result<UniqueFd> fsmount(BorrowedFd fs, unsigned int attrs, std::string_view what) {
  int fd = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs);
  if (fd < 0) return sys_error("fsmount", what);
  return UniqueFd(fd);
}

Status move_mount_to(BorrowedFd mount, std::string_view target) {
  if (::move_mount(mount.get(), "", AT_FDCWD, std::string(target).c_str(),
                   MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_error("move_mount", target);
  return {};
}

}  // namespace berth::sys
