#pragma once
// The container's root filesystem, built by the init in its new mount
// namespace as plan → apply:
//   plan_rootfs (parent, no side effects, unit-tested) →
//   mount_rootfs (init: propagation, rootfs bind, config mounts, devices,
//                 /dev symlinks) → [createRuntime/createContainer hooks] →
//   finish_rootfs (masked and readonly paths, pivot_root, readonly root).
//
// Every mount target is resolved inside the rootfs with openat2
// RESOLVE_IN_ROOT and mounted through the resulting O_PATH descriptor
// (/proc/self/fd/N), so no symlink or ".." in the image can redirect a mount
// or a device node outside it, even if swapped between check and use
// (CVE-2021-30465). /dev/null for masking is the host's, opened and checked
// before any container path is touched (CVE-2025-31133).

#include <string>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/linux/mount_options.h"
#include "berth/spec/spec.h"

namespace berth::os {

enum class MountKind { kBind, kFilesystem, kCgroup };

struct MountStep {
  spec::Mount mount;  // destination cleaned, source resolved against the bundle
  MountKind kind = MountKind::kFilesystem;
  MountOptions options;
};

struct CgroupBind {
  std::string name;      // directory under the cgroup mount ("memory", "unified")
  std::string host_dir;  // the container's cgroup in that hierarchy
};

struct RootfsPlan {
  std::string rootfs;  // absolute host path
  // Without a mount namespace (config-linux.md: an unlisted namespace is
  // the runtime's own) nothing is mounted, since every mount would land in
  // the host's table: the init only chroots into the rootfs, as runc does,
  // and the plan refuses every field that needs a mount.
  bool mount_namespace = true;
  bool readonly = false;
  bool no_pivot = false;
  bool user_namespace = false;  // mknod is not allowed: devices are bind-mounted
  bool cgroup_namespace = false;
  bool pure_cgroup2 = false;
  std::vector<CgroupBind> cgroup_binds;
  std::vector<MountStep> mounts;
  unsigned long root_propagation =
      0;  // MS_* [| MS_REC] for /, before the mounts and after pivot; 0 = rslave
  std::vector<spec::Device> devices;  // defaults not in the config, then the config's
  bool create_dev_symlinks = true;    // /dev/fd, stdin, ... (not when /dev is a host bind)
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
};

// The runtime's default devices (null, zero, full, random, urandom, tty).
std::vector<spec::Device> default_devices();

Result<RootfsPlan> plan_rootfs(const spec::Spec& spec, const std::string& bundle);

// /proc must be procfs and /sys sysfs (a bind is checked against its source
// when mounted), and under /proc only a few emulated files may be covered:
// the runtime writes through the container's /proc after the mounts
// (oom_score_adj), and a fake file there would take those writes.
Status check_proc_sys_mount(const MountStep& step, std::string_view field);

// In the init, in its own mount namespace.
class Rootfs {
 public:
  explicit Rootfs(const RootfsPlan& plan) : plan_(plan) {}
  Status mount_all();
  Status finish();

 private:
  Status mount_one(const MountStep& step);
  Status mount_cgroup(const MountStep& step, BorrowedFd target);
  Status create_device(const spec::Device& device);
  Status create_dev_symlinks();
  Status mask_path(const std::string& path);
  Status readonly_path(const std::string& path);
  Status pivot();

  const RootfsPlan& plan_;
  UniqueFd root_;      // O_PATH of the rootfs mount
  UniqueFd dev_null_;  // the host's /dev/null, checked to be char 1:3
};

// Resolves `path` inside root, creating missing directories (and the last
// component as a directory or an empty file). No component can leave root.
// `nofollow_last`: the last component must not be a symlink (proc, sysfs).
Result<UniqueFd> make_in_root(BorrowedFd root, const std::string& path, bool directory,
                              bool nofollow_last);

// Flags of the mount behind fd that a bind remount must keep (nosuid, nodev,
// noexec, atime flags): in a user namespace they are locked and a remount
// that drops them fails with EPERM.
Result<unsigned long> locked_mount_flags(BorrowedFd fd);

}  // namespace berth::os
