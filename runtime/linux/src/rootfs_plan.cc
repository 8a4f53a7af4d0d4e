// plan_rootfs: everything about the rootfs that can be decided before the
// init exists, so it is checked (and unit-tested) without root.
#include <sys/mount.h>

#include "berth/base/sys.h"
#include "berth/linux/rootfs.h"

namespace berth::os {

namespace {

spec::Device char_device(const char* path, int64_t major, int64_t minor) {
  spec::Device d;
  d.path = path;
  d.type = 'c';
  d.major = major;
  d.minor = minor;
  d.file_mode = 0666;
  d.uid = 0;
  d.gid = 0;
  return d;
}

std::string quote_type(const std::string& type) { return "`" + type + "`"; }

std::string join_bundle(const std::string& bundle, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return bundle + "/" + path;
}

unsigned long propagation_flags(const std::string& name) {
  if (name == "shared") return MS_SHARED;
  if (name == "rshared") return MS_SHARED | MS_REC;
  if (name == "slave") return MS_SLAVE;
  if (name == "rslave") return MS_SLAVE | MS_REC;
  if (name == "private") return MS_PRIVATE;
  if (name == "rprivate") return MS_PRIVATE | MS_REC;
  if (name == "unbindable") return MS_UNBINDABLE;
  if (name == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

// Files under /proc that a mount may cover: those lxcfs and similar tools
// emulate with the container's own numbers (runc's list). Anything else,
// /proc/self/... above all, would let a mount feed the runtime's writes
// through /proc into a file of the image's or the host's choosing.
constexpr std::string_view kProcMountAllowList[] = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};

// Each of these would mount something; in the host's mount namespace that
// changes the host, so each is refused by name rather than ignored.
Status check_no_mounts_needed(const spec::Spec& spec) {
  auto refuse = [](std::string_view field) {
    return make_error("config.json: " + std::string(field) +
                          ": needs a mount namespace; linux.namespaces has none, and berth never "
                          "mounts in the host's",
                      EINVAL);
  };
  if (!spec.mounts.empty()) return refuse("mounts");
  if (spec.root->readonly) return refuse("root.readonly");
  if (spec.linux_) {
    const auto& lx = *spec.linux_;
    if (!lx.masked_paths.empty()) return refuse("linux.maskedPaths");
    if (!lx.readonly_paths.empty()) return refuse("linux.readonlyPaths");
    if (!lx.rootfs_propagation.empty()) return refuse("linux.rootfsPropagation");
    if (!lx.devices.empty()) return refuse("linux.devices");
  }
  return {};
}

}  // namespace

Status check_proc_sys_mount(const MountStep& step, std::string_view field) {
  const auto& dest = step.mount.destination;
  std::string where(field);
  for (auto [dir, fs] :
       {std::pair<std::string_view, std::string_view>{"/proc", "proc"}, {"/sys", "sysfs"}}) {
    if (dest != dir) continue;
    // A bind is checked where its source is opened (rootfs.cc): it must be
    // a procfs or sysfs itself.
    if (step.kind == MountKind::kBind || step.mount.type == fs) return {};
    return make_error(
        where + ": `" + dest + "` must be " + std::string(fs) + " (type " + std::string(fs) +
            " or a bind of one), not " +
            (step.mount.type.empty() ? std::string("untyped") : quote_type(step.mount.type)),
        EINVAL);
  }
  if (dest.rfind("/proc/", 0) != 0) return {};
  for (auto allowed : kProcMountAllowList)
    if (dest == allowed) return {};
  return make_error(
      where + ": `" + dest +
          "` is inside /proc; only files tools like lxcfs emulate may be mounted there "
          "(cpuinfo, diskstats, meminfo, stat, swaps, uptime, loadavg, slabinfo, net/dev, "
          "sys/kernel/ns_last_pid)",
      EINVAL);
}

std::vector<spec::Device> default_devices() {
  return {char_device("/dev/null", 1, 3),    char_device("/dev/zero", 1, 5),
          char_device("/dev/full", 1, 7),    char_device("/dev/random", 1, 8),
          char_device("/dev/urandom", 1, 9), char_device("/dev/tty", 5, 0)};
}

Result<RootfsPlan> plan_rootfs(const spec::Spec& spec, const std::string& bundle) {
  RootfsPlan plan;
  if (!spec.root) return make_error("config.json: root: required");
  plan.rootfs = join_bundle(bundle, spec.root->path);
  plan.readonly = spec.root->readonly;
  auto st = sys::stat(plan.rootfs);
  if (!st) return std::move(st).error().wrap("config.json: root.path");
  if (!S_ISDIR(st->st_mode))
    return make_error("config.json: root.path: `" + plan.rootfs + "` is not a directory", ENOTDIR);
  plan.user_namespace = spec.has_namespace(spec::NamespaceType::kUser);
  plan.mount_namespace = spec.has_namespace(spec::NamespaceType::kMount);
  if (!plan.mount_namespace) {
    BERTH_TRY(check_no_mounts_needed(spec));
    return plan;
  }
  plan.cgroup_namespace = spec.has_namespace(spec::NamespaceType::kCgroup);

  bool dev_bound_from_host = false;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    std::string field = "config.json: mounts[" + std::to_string(i) + "]";
    MountStep step;
    step.mount = m;
    step.options = BERTH_VALUE(parse_mount_options(m.options, field + ".options"));
    if (m.type == "bind" || step.options.bind) {
      step.kind = MountKind::kBind;
      step.options.bind = true;
      if (m.source.empty()) return make_error(field + ".source: required for a bind mount");
      step.mount.source = join_bundle(bundle, m.source);
      if (step.mount.destination == "/dev") dev_bound_from_host = true;
    } else if (m.type == "cgroup" || m.type == "cgroup2") {
      step.kind = MountKind::kCgroup;
    } else {
      if (m.type.empty()) return make_error(field + ".type: required for a non-bind mount");
      step.kind = MountKind::kFilesystem;
    }
    BERTH_TRY(check_proc_sys_mount(step, field));
    if (step.kind == MountKind::kBind &&
        (step.mount.destination == "/proc" || step.mount.destination == "/sys")) {
      // Refused here too, before any side effect; the init checks again on
      // the descriptor it mounts.
      bool proc = step.mount.destination == "/proc";
      auto type = sys::statfs_type(step.mount.source);
      if (type && *type != (proc ? sys::kProcSuperMagic : sys::kSysfsMagic))
        return make_error(field + ".source: `" + step.mount.source + "` is not " +
                              (proc ? "procfs" : "sysfs") + ", so it may not be mounted onto `" +
                              step.mount.destination + "`",
                          EINVAL);
    }
    plan.mounts.push_back(std::move(step));
  }

  if (spec.linux_) {
    const auto& lx = *spec.linux_;
    plan.root_propagation = propagation_flags(lx.rootfs_propagation);
    plan.masked_paths = lx.masked_paths;
    plan.readonly_paths = lx.readonly_paths;
    for (const auto& d : lx.devices) plan.devices.push_back(d);
  }
  // runc leaves a host-bound /dev alone: its devices are the host's.
  plan.create_dev_symlinks = !dev_bound_from_host;
  if (!dev_bound_from_host) {
    std::vector<spec::Device> devices;
    for (auto& d : default_devices()) {
      bool overridden = false;
      for (const auto& c : plan.devices) overridden = overridden || c.path == d.path;
      if (!overridden) devices.push_back(std::move(d));
    }
    for (auto& d : plan.devices) devices.push_back(std::move(d));
    plan.devices = std::move(devices);
  }
  return plan;
}

}  // namespace berth::os
