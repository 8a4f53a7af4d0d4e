// Rootfs: applied by the init in its own mount namespace (see rootfs.h for
// the order and the CVEs the descriptor-based resolution defends against).
#include "berth/linux/rootfs.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/sys.h"

namespace berth::os {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
    i = j + 1;
  }
  return parts;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && field.size() - i >= 4) {
      int value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        octal &= c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

struct MountOf {
  std::string point;  // in this mount namespace
  bool shared = false;
};

// The mount `fd` lies on: its id from fdinfo (no path walk, so no symlink
// in the bundle path can point elsewhere), its point and peer group from
// mountinfo.
Result<MountOf> mount_of(BorrowedFd fd, const std::string& shown) {
  auto info = BERTH_VALUE(sys::read_file("/proc/self/fdinfo/" + std::to_string(fd.get()), 1 << 16));
  size_t at = info.find("mnt_id:");
  if (at == std::string::npos) return make_error("fdinfo of `" + shown + "`: no mnt_id", EINVAL);
  std::string id = std::to_string(std::strtol(info.c_str() + at + 7, nullptr, 10));
  auto table = BERTH_VALUE(sys::read_file("/proc/self/mountinfo", 64 << 20));
  size_t pos = 0;
  while (pos < table.size()) {
    size_t end = table.find('\n', pos);
    if (end == std::string::npos) end = table.size();
    std::string_view line(table.data() + pos, end - pos);
    pos = end + 1;
    // id parent major:minor root mount-point options [optional...] - ...
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      size_t j = line.find(' ', i);
      if (j == std::string_view::npos) j = line.size();
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j + 1;
    }
    if (fields.size() < 7 || fields[0] != id) continue;
    MountOf m;
    m.point = unescape_mountinfo(fields[4]);
    for (size_t k = 6; k < fields.size() && fields[k] != "-"; ++k)
      m.shared |= fields[k].substr(0, 7) == "shared:";
    return m;
  }
  return make_error("mountinfo: no mount " + id + " for `" + shown + "`", ENOENT);
}

Status mount_setattr_recursive(BorrowedFd fd, uint64_t set, uint64_t clear, std::string_view what) {
  if (set == 0 && clear == 0) return {};
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  if (sys::mount_setattr_fd(fd.get(), AT_RECURSIVE, &attr, sizeof attr) != 0)
    return sys_error("mount_setattr", what);
  return {};
}

// A bind remount that keeps the locked flags of the mount it changes.
Status bind_remount(BorrowedFd target, unsigned long flags, unsigned long clear,
                    std::string_view what) {
  unsigned long locked = BERTH_VALUE(locked_mount_flags(target));
  unsigned long want = flags | (locked & ~clear);
  auto st = sys::mount("", sys::fd_path(target), "", MS_REMOUNT | MS_BIND | want);
  if (!st.ok() && st.error().code() == EPERM && (want | locked) != want)
    st = sys::mount("", sys::fd_path(target), "", MS_REMOUNT | MS_BIND | want | locked);
  if (!st.ok()) return std::move(st).error().wrap(what);
  return {};
}

// A bind onto /proc or /sys must bring a procfs or sysfs (checked on the
// opened source, so swapping the path afterwards changes nothing).
Status check_proc_sys_source(const spec::Mount& m, BorrowedFd source) {
  unsigned long want = m.destination == "/proc"  ? sys::kProcSuperMagic
                       : m.destination == "/sys" ? sys::kSysfsMagic
                                                 : 0;
  if (want == 0) return {};
  if (BERTH_VALUE(sys::fstatfs_type(source, m.source)) == want) return {};
  return make_error("bind `" + m.source + "` onto `" + m.destination + "`: the source is not " +
                        (want == sys::kProcSuperMagic ? "procfs" : "sysfs"),
                    EINVAL);
}

bool is_proc_or_sys(const std::string& type) { return type == "proc" || type == "sysfs"; }

}  // namespace

Result<unsigned long> locked_mount_flags(BorrowedFd fd) {
  struct statvfs sv {};
  if (sys::fstatvfs(fd.get(), &sv) != 0) return sys_error("statvfs", sys::fd_path(fd));
  unsigned long flags = 0;
  if (sv.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  // A read-only flag is not "locked": the caller decides ro/rw.
  return flags & ~static_cast<unsigned long>(MS_RDONLY);
}

Result<UniqueFd> make_in_root(BorrowedFd root, const std::string& path, bool directory,
                              bool nofollow_last) {
  int last_flags = O_PATH | (nofollow_last ? O_NOFOLLOW : 0);
  auto existing = sys::open_in_root(root, path, last_flags);
  if (existing) {
    // O_PATH|O_NOFOLLOW opens a symlink itself: a proc or sysfs mount on it
    // would land wherever it points (CVE-2019-19921).
    if (nofollow_last) {
      auto st = BERTH_VALUE(sys::fstat(*existing, path));
      if (S_ISLNK(st.st_mode))
        return make_error(
            "`" + path + "` in the rootfs is a symlink; proc and sysfs may not be mounted there",
            ELOOP);
    }
    return existing;
  }
  if (existing.error().code() != ENOENT) return existing;

  // Slow path: walk one name at a time from an in-root directory fd,
  // resolving symlinks ourselves against the rootfs (a dangling one is
  // followed to where it would point inside the rootfs, as runc does) and
  // creating what is missing. Every open is O_NOFOLLOW of a single name, so
  // a component swapped for a symlink meanwhile fails instead of escaping.
  std::vector<std::string> todo = split_path(path);
  std::vector<std::string> walked;  // in-root path of `dir`
  UniqueFd dir = BERTH_VALUE(sys::open_in_root(root, "/", O_PATH | O_DIRECTORY));
  auto reopen_walked = [&]() -> Result<UniqueFd> {
    std::string p = "/";
    for (const auto& w : walked) p += w + "/";
    return sys::open_in_root(root, p, O_PATH | O_DIRECTORY);
  };
  int hops = 0;
  while (!todo.empty()) {
    std::string name = todo.front();
    todo.erase(todo.begin());
    bool last = todo.empty();
    if (name == "..") {
      if (!walked.empty()) walked.pop_back();  // ".." of the root is the root
      dir = BERTH_VALUE(reopen_walked());
      continue;
    }
    std::string shown = "/";
    for (const auto& w : walked) shown += w + "/";
    shown += name;
    struct stat st {};
    if (sys::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode) && !(last && nofollow_last)) {
        if (++hops > 40)
          return make_error("`" + path + "`: too many symlinks in the rootfs", ELOOP);
        char buf[4096];
        ssize_t n = sys::readlinkat(dir.get(), name.c_str(), buf, sizeof buf - 1);
        if (n < 0) return sys_error("readlink", shown);
        std::string target(buf, static_cast<size_t>(n));
        auto parts = split_path(target);
        todo.insert(todo.begin(), parts.begin(), parts.end());
        if (!target.empty() && target[0] == '/') {
          walked.clear();
          dir = BERTH_VALUE(reopen_walked());
        }
        continue;
      }
      if (S_ISLNK(st.st_mode))
        return make_error(
            "`" + path + "` in the rootfs is a symlink; proc and sysfs may not be mounted there",
            ELOOP);
      if (last) {
        int fd = sys::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return sys_error("open", shown);
        return UniqueFd(fd);
      }
      if (!S_ISDIR(st.st_mode))
        return make_error("`" + shown + "` in the rootfs is not a directory", ENOTDIR);
    } else if (errno == ENOENT) {
      if (!last || directory) {
        if (sys::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
          return sys_error("mkdir", shown);
      } else {
        int fd = sys::openat(dir.get(), name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) return sys_error("create", shown);
        if (fd >= 0) sys::close_fd(fd);
      }
    } else {
      return sys_error("stat", shown);
    }
    int fd = sys::openat(dir.get(), name.c_str(),
                         O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
    if (fd < 0) return sys_error("open", shown);
    if (last) return UniqueFd(fd);
    dir.reset(fd);
    walked.push_back(name);
  }
  return dir;  // path named the root itself
}

Status Rootfs::mount_all() {
  if (!plan_.mount_namespace) return {};  // the host's table: see RootfsPlan
  // runc's first step (prepareRoot): the whole tree takes rootfsPropagation,
  // rslave by default so that nothing mounted from here on propagates back
  // to the host. An rshared config keeps mounts shared with the host in the
  // host's peer groups, so an rshared bind volume is the same peer group on
  // both sides (Kubernetes' Bidirectional); making / rslave first and rshared
  // only after pivot_root left such a volume a slave (shared:N master:M).
  unsigned long root_flags =
      plan_.root_propagation != 0 ? plan_.root_propagation : MS_SLAVE | MS_REC;
  BERTH_TRY_CTX(sys::mount("", "/", "", root_flags),
                plan_.root_propagation != 0 ? "linux.rootfsPropagation" : "make / rslave");

  auto dev_null = BERTH_VALUE(sys::open("/dev/null", O_PATH));
  auto st = BERTH_VALUE(sys::fstat(dev_null, "/dev/null"));
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
    return make_error("host /dev/null is not the null device (char 1:3)", EINVAL);
  dev_null_ = std::move(dev_null);

  // The mount the rootfs lies on, private when it is shared: the rootfs
  // bind below would otherwise propagate to its peers (with rshared, the
  // host), and pivot_root refuses a new root whose parent is shared.
  {
    auto dir = BERTH_VALUE(sys::open(plan_.rootfs, O_PATH | O_DIRECTORY));
    auto parent = BERTH_VALUE(mount_of(dir, plan_.rootfs));
    if (parent.shared)
      BERTH_TRY_CTX(sys::mount("", parent.point, "", MS_PRIVATE),
                    "make `" + parent.point + "` (the mount under the rootfs) private");
  }
  // pivot_root needs the new root to be a mount point.
  BERTH_TRY_CTX(sys::mount(plan_.rootfs, plan_.rootfs, "", MS_BIND | MS_REC), "bind rootfs");
  // ... and neither it nor its parent may be shared.
  BERTH_TRY_CTX(sys::mount("", plan_.rootfs, "", MS_PRIVATE), "make rootfs private");
  root_ = BERTH_VALUE(sys::open(plan_.rootfs, O_PATH | O_DIRECTORY));

  for (size_t i = 0; i < plan_.mounts.size(); ++i)
    BERTH_TRY_CTX(mount_one(plan_.mounts[i]),
                  "mounts[" + std::to_string(i) + "] " + plan_.mounts[i].mount.destination);
  for (const auto& device : plan_.devices)
    BERTH_TRY_CTX(create_device(device), "device " + device.path);
  if (plan_.create_dev_symlinks) BERTH_TRY(create_dev_symlinks());
  return {};
}

Status Rootfs::mount_one(const MountStep& step) {
  const auto& m = step.mount;
  const auto& opts = step.options;
  if (step.kind == MountKind::kBind) {
    // O_PATH follows the source's symlinks on the host: the source is the
    // caller's own choice of host path.
    auto source = BERTH_VALUE(sys::open(m.source, O_PATH));
    auto sst = BERTH_VALUE(sys::fstat(source, m.source));
    BERTH_TRY(check_proc_sys_source(m, source));
    auto target = BERTH_VALUE(make_in_root(root_, m.destination, S_ISDIR(sst.st_mode), false));
    unsigned long flags = MS_BIND | (opts.recursive_bind ? MS_REC : 0);
    BERTH_TRY(sys::mount(sys::fd_path(source), sys::fd_path(target), "", flags));
    // The new mount sits on top of `target`: reopen to reach it.
    auto mounted = BERTH_VALUE(sys::open_in_root(root_, m.destination, O_PATH));
    if (opts.needs_bind_remount())
      BERTH_TRY(bind_remount(mounted, opts.flags, opts.clear_flags, "remount"));
    for (unsigned long p : opts.propagation)
      BERTH_TRY(sys::mount("", sys::fd_path(mounted), "", p));
    return mount_setattr_recursive(mounted, opts.recursive_set, opts.recursive_clear,
                                   m.destination);
  }
  auto target = BERTH_VALUE(make_in_root(root_, m.destination, true, is_proc_or_sys(m.type)));
  if (step.kind == MountKind::kCgroup) return mount_cgroup(step, target);

  auto st = sys::mount(m.source.empty() ? m.type : m.source, sys::fd_path(target), m.type,
                       opts.flags, opts.data);
  if (!st.ok() && m.type == "sysfs" && st.error().code() == EPERM) {
    // sysfs of a network namespace owned by another user namespace cannot
    // be mounted: use the host's read-only instead (runc does the same).
    auto sys_fd = BERTH_VALUE(sys::open("/sys", O_PATH | O_DIRECTORY));
    st = sys::mount(sys::fd_path(sys_fd), sys::fd_path(target), "", MS_BIND | MS_REC);
    if (st.ok()) {
      auto mounted = BERTH_VALUE(sys::open_in_root(root_, m.destination, O_PATH));
      st = bind_remount(mounted, opts.flags | MS_RDONLY, 0, "remount sysfs");
    }
  }
  if (!st.ok()) return st;
  if (opts.propagation.empty() && opts.recursive_set == 0 && opts.recursive_clear == 0) return {};
  auto mounted = BERTH_VALUE(sys::open_in_root(root_, m.destination, O_PATH));
  for (unsigned long p : opts.propagation) BERTH_TRY(sys::mount("", sys::fd_path(mounted), "", p));
  return mount_setattr_recursive(mounted, opts.recursive_set, opts.recursive_clear, m.destination);
}

Status Rootfs::mount_cgroup(const MountStep& step, BorrowedFd target) {
  const auto& opts = step.options;
  unsigned long flags = opts.flags | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (plan_.pure_cgroup2 && plan_.cgroup_namespace) {
    // In its own cgroup namespace the container sees its cgroup as the root.
    return sys::mount("cgroup2", sys::fd_path(target), "cgroup2", flags);
  }
  // v1, hybrid, or v2 without a cgroup namespace: a tmpfs with the
  // container's own cgroup of each hierarchy bound into it, never a view of
  // the host's whole tree.
  if (!plan_.pure_cgroup2) {
    BERTH_TRY(sys::mount("tmpfs", sys::fd_path(target), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         "mode=755"));
  }
  auto base = BERTH_VALUE(sys::open_in_root(root_, step.mount.destination, O_PATH | O_DIRECTORY));
  for (const auto& bind : plan_.cgroup_binds) {
    auto source = BERTH_VALUE(sys::open(bind.host_dir, O_PATH | O_DIRECTORY));
    std::string dest =
        plan_.pure_cgroup2 ? step.mount.destination : step.mount.destination + "/" + bind.name;
    auto dir = BERTH_VALUE(make_in_root(root_, dest, true, true));
    BERTH_TRY(sys::mount(sys::fd_path(source), sys::fd_path(dir), "", MS_BIND | MS_REC));
    auto mounted = BERTH_VALUE(sys::open_in_root(root_, dest, O_PATH));
    BERTH_TRY(bind_remount(mounted, flags, 0, "remount " + dest));
  }
  if (!plan_.pure_cgroup2 && (opts.flags & MS_RDONLY)) {
    auto mounted = BERTH_VALUE(sys::open_in_root(root_, step.mount.destination, O_PATH));
    BERTH_TRY(sys::mount("", sys::fd_path(mounted), "",
                         MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  }
  (void)base;
  return {};
}

Status Rootfs::create_device(const spec::Device& device) {
  std::string dir_path = device.path.substr(0, device.path.rfind('/'));
  std::string name = device.path.substr(device.path.rfind('/') + 1);
  if (dir_path.empty()) dir_path = "/";
  auto dir = BERTH_VALUE(make_in_root(root_, dir_path, true, false));
  // The O_PATH directory fd cannot be used for mknodat: open it for real.
  auto dirfd = BERTH_VALUE(sys::open_in_root(root_, dir_path, O_RDONLY | O_DIRECTORY));
  (void)dir;
  // Whatever the image put there (a symlink to a host file included) is
  // replaced, never followed.
  struct stat existing {};
  if (sys::fstatat(dirfd.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(existing.st_mode))
      return make_error("`" + device.path + "` is a directory in the rootfs", EISDIR);
    if (sys::unlinkat(dirfd.get(), name.c_str(), 0) != 0) return sys_error("unlink", device.path);
  }
  mode_t type = device.type == 'b' ? S_IFBLK : device.type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = device.file_mode ? (*device.file_mode & 07777) : 0666;
  dev_t rdev = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
  if (!plan_.user_namespace || type == S_IFIFO) {
    if (sys::mknodat(dirfd.get(), name.c_str(), type | perm, type == S_IFIFO ? 0 : rdev) != 0)
      return sys_error("mknod", device.path);
  } else {
    // mknod is not allowed in a user namespace: bind the host's node, after
    // checking it is the device the config names.
    auto host = BERTH_VALUE(sys::open(device.path, O_PATH));
    auto hst = BERTH_VALUE(sys::fstat(host, device.path));
    if ((hst.st_mode & S_IFMT) != type || hst.st_rdev != rdev)
      return make_error("host `" + device.path + "` is not the device the config names", ENODEV);
    int fd = sys::openat(dirfd.get(), name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return sys_error("create", device.path);
    sys::close_fd(fd);
    auto target = BERTH_VALUE(sys::open_in_root(root_, device.path, O_PATH | O_NOFOLLOW));
    return sys::mount(sys::fd_path(host), sys::fd_path(target), "", MS_BIND);
  }
  if (sys::fchmodat(dirfd.get(), name.c_str(), perm, 0) != 0)
    return sys_error("chmod", device.path);
  uid_t uid = device.uid.value_or(0);
  gid_t gid = device.gid.value_or(0);
  if (sys::fchownat(dirfd.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("chown", device.path);
  return {};
}

Status Rootfs::create_dev_symlinks() {
  auto dev = BERTH_VALUE(make_in_root(root_, "/dev", true, false));
  (void)dev;
  auto devfd = BERTH_VALUE(sys::open_in_root(root_, "/dev", O_RDONLY | O_DIRECTORY));
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"},
                                                       {"/proc/kcore", "core"}};
  for (const auto& [target, name] : links) {
    if (sys::symlinkat(target, devfd.get(), name) != 0 && errno != EEXIST)
      return sys_error("symlink", std::string("/dev/") + name);
  }
  struct stat st {};
  if (sys::fstatat(devfd.get(), "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // /dev/ptmx must reach the container's own devpts instance.
    sys::unlinkat(devfd.get(), "ptmx", 0);
    if (sys::symlinkat("pts/ptmx", devfd.get(), "ptmx") != 0)
      return sys_error("symlink", "/dev/ptmx");
  }
  return {};
}

Status Rootfs::mask_path(const std::string& path) {
  auto target = sys::open_in_root(root_, path, O_PATH | O_NOFOLLOW);
  if (!target) {
    if (target.error().code() == ENOENT) return {};
    return std::move(target).error();
  }
  auto st = BERTH_VALUE(sys::fstat(*target, path));
  if (S_ISDIR(st.st_mode))
    return sys::mount("tmpfs", sys::fd_path(*target), "tmpfs", MS_RDONLY, "size=0k");
  return sys::mount(sys::fd_path(dev_null_), sys::fd_path(*target), "", MS_BIND);
}

Status Rootfs::readonly_path(const std::string& path) {
  auto target = sys::open_in_root(root_, path, O_PATH);
  if (!target) {
    if (target.error().code() == ENOENT) return {};
    return std::move(target).error();
  }
  BERTH_TRY(sys::mount(sys::fd_path(*target), sys::fd_path(*target), "", MS_BIND | MS_REC));
  auto mounted = BERTH_VALUE(sys::open_in_root(root_, path, O_PATH));
  return bind_remount(mounted, MS_RDONLY, 0, "remount read-only");
}

Status Rootfs::finish() {
  if (!plan_.mount_namespace) {
    auto root = BERTH_VALUE(sys::open(plan_.rootfs, O_PATH | O_DIRECTORY));
    return sys::chroot_into(root, plan_.rootfs);
  }
  for (const auto& path : plan_.masked_paths) BERTH_TRY_CTX(mask_path(path), "mask " + path);
  for (const auto& path : plan_.readonly_paths)
    BERTH_TRY_CTX(readonly_path(path), "readonly path " + path);
  BERTH_TRY(pivot());
  if (plan_.root_propagation != 0)
    BERTH_TRY_CTX(sys::mount("", "/", "", plan_.root_propagation), "rootfsPropagation");
  if (plan_.readonly) {
    auto root = BERTH_VALUE(sys::open("/", O_PATH | O_DIRECTORY));
    BERTH_TRY(bind_remount(root, MS_RDONLY, 0, "remount / read-only"));
  }
  return {};
}

Status Rootfs::pivot() {
  if (sys::chdir(plan_.rootfs.c_str()) != 0) return sys_error("chdir", plan_.rootfs);
  if (plan_.no_pivot) {
    BERTH_TRY(sys::mount(plan_.rootfs, "/", "", MS_MOVE));
    if (sys::chroot(".") != 0) return sys_error("chroot", plan_.rootfs);
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; unmount
    // it lazily, rslave first so the unmount does not reach the host. The
    // kernel does not promise what "." is after pivot_root: taken as the
    // new root, the rslave step made every mount of the container a slave,
    // an rshared volume included (runc fchdirs to the old root the same way).
    auto old_root = BERTH_VALUE(sys::open("/", O_PATH | O_DIRECTORY));
    BERTH_TRY(sys::pivot_root(".", "."));
    BERTH_TRY(sys::fchdir(old_root, "old root"));
    BERTH_TRY_CTX(sys::mount("", ".", "", MS_SLAVE | MS_REC), "make old root rslave");
    BERTH_TRY_CTX(sys::umount(".", MNT_DETACH), "detach old root");
  }
  if (sys::chdir("/") != 0) return sys_error("chdir", "/");
  root_.reset();
  return {};
}

}  // namespace berth::os
