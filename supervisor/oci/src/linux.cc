// linux.namespaces, sysctl checks, devices and resources as moby's
// WithNamespaces, WithDevices, WithResources (daemon/oci_linux.go,
// daemon_unix.go) and runc's sysctl validator decide them.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <set>
#include <string>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

// oci.DefaultLinuxSpec's lists: files that leak host information or
// control the host (kcore, keys, sysrq-trigger) hidden or made read-only.
const std::vector<std::string> kMaskedPaths = {"/proc/asound",
                                               "/proc/acpi",
                                               "/proc/kcore",
                                               "/proc/keys",
                                               "/proc/latency_stats",
                                               "/proc/timer_list",
                                               "/proc/timer_stats",
                                               "/proc/sched_debug",
                                               "/proc/scsi",
                                               "/sys/firmware",
                                               "/sys/devices/virtual/powercap"};
const std::vector<std::string> kReadonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};

namespace {

constexpr int64_t kMinMemory = 6 << 20;  // docker's linuxMinMemory

bool has_ns(const std::vector<Namespace>& nss, std::string_view type) {
  return std::any_of(nss.begin(), nss.end(), [&](const Namespace& n) { return n.type == type; });
}

// One --ipc/--pid/--uts/--network mode: "" (private), "host" (none of our
// own) or "container:NAME" (the path berthd resolved).
Status apply_mode(const SpecInput& in, std::vector<Namespace>& nss, std::string_view type,
                  std::string_view key, std::string_view flag, const std::string& mode,
                  const std::set<std::string>& private_words) {
  auto it =
      std::find_if(nss.begin(), nss.end(), [&](const Namespace& n) { return n.type == type; });
  if (mode.empty() || private_words.count(mode)) return ok_status();
  if (mode == "host") {
    nss.erase(it);
    return ok_status();
  }
  if (mode.rfind("container:", 0) == 0 && mode.size() > 10) {
    auto path = in.namespace_paths.find(std::string(key));
    if (path == in.namespace_paths.end() || path->second.empty())
      return core::invalid_argument(std::string(flag) + " `" + mode +
                                    "`: no namespace path for the container");
    it->path = path->second;
    return ok_status();
  }
  return core::invalid_argument("invalid " + std::string(flag) + " mode: " + mode);
}

Result<std::vector<std::pair<Device, DeviceRule>>> devices_from_path(const std::string& host,
                                                                     const std::string& in_ctr,
                                                                     const std::string& perms);

// runc's DeviceFromPath: a node's type, numbers, mode and owner. nullopt
// for anything that is not a device node.
std::optional<Device> device_of(const struct stat& st, const std::string& path) {
  Device d;
  if (S_ISBLK(st.st_mode)) {
    d.type = "b";
  } else if (S_ISCHR(st.st_mode)) {
    d.type = "c";
  } else if (S_ISFIFO(st.st_mode)) {
    d.type = "p";
  } else {
    return std::nullopt;
  }
  d.path = path;
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

// Every device node below dir, not following symlinks (a link to a device
// is the device's own entry elsewhere).
void walk_devices(const std::string& dir, const std::string& in_ctr, const std::string& perms,
                  bool skip_special, std::vector<std::pair<Device, DeviceRule>>& out) {
  auto names = sys::list_dir(dir);
  if (!names.ok()) return;
  std::sort(names->begin(), names->end());
  for (const auto& name : *names) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (sys::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // runc's GetDevices skips these: they are mounted by the runtime or
      // belong to the host's container managers.
      static const std::set<std::string> kSkip = {"pts",  "shm",         "fd",   "mqueue",
                                                  ".lxc", ".lxd-mounts", ".udev"};
      if (skip_special && kSkip.count(name)) continue;
      walk_devices(path, in_ctr + "/" + name, perms, skip_special, out);
      continue;
    }
    if (skip_special && name == "console") continue;
    auto d = device_of(st, in_ctr + "/" + name);
    if (!d) continue;
    out.push_back({*d, {true, d->type, d->major, d->minor, perms}});
  }
}

// oci.DevicesFromPath: one node, or every node of a directory.
Result<std::vector<std::pair<Device, DeviceRule>>> devices_from_path(const std::string& host,
                                                                     const std::string& in_ctr,
                                                                     const std::string& perms) {
  std::vector<std::pair<Device, DeviceRule>> out;
  auto st = sys::stat(host);
  if (!st.ok()) return st.error().wrap("device `" + host + "`");
  if (auto d = device_of(*st, in_ctr)) {
    out.push_back({*d, {true, d->type, d->major, d->minor, perms}});
    return out;
  }
  if (S_ISDIR(st->st_mode)) walk_devices(host, in_ctr, perms, false, out);
  if (out.empty())
    return core::invalid_argument(
        "error gathering device information while adding custom device \"" + host +
        "\": not a device node");
  return out;
}

}  // namespace

Result<std::vector<Namespace>> build_namespaces(const SpecInput& in) {
  const core::ContainerConfig& c = *in.config;
  std::vector<Namespace> nss = {
      {"mount", ""}, {"network", ""}, {"uts", ""}, {"pid", ""}, {"ipc", ""}};
  BERTH_TRY(apply_mode(in, nss, "network", "network", "network", c.network_mode,
                       {"none", "private", "default"}));
  BERTH_TRY(apply_mode(in, nss, "ipc", "ipc", "IPC", c.ipc_mode, {"private", "shareable", "none"}));
  BERTH_TRY(apply_mode(in, nss, "pid", "pid", "PID", c.pid_mode, {"private"}));
  BERTH_TRY(apply_mode(in, nss, "uts", "uts", "UTS", c.uts_mode, {"private"}));
  // docker's default cgroupns mode is private on a cgroup v2 host (for
  // --privileged too), host on v1.
  if (in.cgroup_v2) nss.push_back({"cgroup", ""});
  return nss;
}

Status validate_sysctls(const std::map<std::string, std::string>& sysctls,
                        const std::vector<Namespace>& nss) {
  static const std::set<std::string> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : sysctls) {
    if (kIpc.count(key) || key.rfind("fs.mqueue.", 0) == 0) {
      if (has_ns(nss, "ipc")) continue;
      return core::invalid_argument("sysctl \"" + key +
                                    "\" is not allowed in the hosts ipc namespace");
    }
    if (key.rfind("net.", 0) == 0) {
      if (has_ns(nss, "network")) continue;
      return core::invalid_argument("sysctl \"" + key +
                                    "\" is not allowed in the hosts network namespace");
    }
    if (has_ns(nss, "uts")) {
      if (key == "kernel.domainname") continue;
      if (key == "kernel.hostname")
        return core::invalid_argument(
            "sysctl \"" + key +
            "\" is not allowed as it conflicts with the OCI \"hostname\" field");
    }
    return core::invalid_argument("sysctl \"" + key + "\" is not in a separate kernel namespace");
  }
  return ok_status();
}

Status build_devices(const SpecInput& in, Spec& spec) {
  const core::ContainerConfig& c = *in.config;
  auto rule = [](bool allow, int64_t major, int64_t minor) {
    return DeviceRule{allow, "c", major, minor, "rwm"};
  };
  // Deny everything, then null, zero, urandom, random, tty, console; fuse
  // stays denied (oci.DefaultLinuxSpec).
  spec.resources.devices = {{false, "", std::nullopt, std::nullopt, "rwm"},
                            rule(true, 1, 5),
                            rule(true, 1, 3),
                            rule(true, 1, 9),
                            rule(true, 1, 8),
                            rule(true, 5, 0),
                            rule(true, 5, 1),
                            rule(false, 10, 229)};
  for (const auto& d : c.devices) {
    if (d.permissions.empty() || d.permissions.find_first_not_of("rwm") != std::string::npos)
      return core::invalid_argument("device `" + d.host_path +
                                    "`: invalid device mode: " + d.permissions);
    if (d.host_path.empty() || d.host_path.front() != '/')
      return core::invalid_argument("device `" + d.host_path + "`: not an absolute path");
  }
  if (c.privileged) {
    std::vector<std::pair<Device, DeviceRule>> host;
    walk_devices(in.host_dev, "/dev", "rwm", true, host);
    for (auto& [dev, r] : host) spec.devices.push_back(dev);
    for (const auto& d : c.devices) {
      std::string target = d.container_path.empty() ? d.host_path : d.container_path;
      if (target == d.host_path) continue;  // already there through /dev
      for (auto& [dev, r] : BERTH_VALUE(devices_from_path(d.host_path, target, "rwm")))
        spec.devices.push_back(dev);
    }
    spec.resources.devices = {{true, "", std::nullopt, std::nullopt, "rwm"}};
    return ok_status();
  }
  for (const auto& d : c.devices) {
    std::string target = d.container_path.empty() ? d.host_path : d.container_path;
    for (auto& [dev, r] : BERTH_VALUE(devices_from_path(d.host_path, target, d.permissions))) {
      spec.devices.push_back(dev);
      spec.resources.devices.push_back(r);
    }
  }
  return ok_status();
}

Result<Resources> build_resources(const core::Resources& r, int host_cpus) {
  Resources out;
  if (r.memory < 0)
    return core::invalid_argument("memory: invalid value " + std::to_string(r.memory));
  if (r.memory != 0 && r.memory < kMinMemory)
    return core::invalid_argument("memory: minimum memory limit allowed is 6MB");
  if (r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory)
    return core::invalid_argument(
        "memory-swap: minimum memoryswap limit should be larger than memory limit, see usage");
  if (r.memory == 0 && r.memory_swap > 0)
    return core::invalid_argument(
        "memory-swap: you should always set the Memory limit when using Memoryswap limit, see "
        "usage");
  if (r.memory_swap < -1)
    return core::invalid_argument("memory-swap: invalid value " + std::to_string(r.memory_swap));
  if (r.memory > 0) out.memory_limit = r.memory;
  // Unset swap with a memory limit means twice the limit
  // (adaptContainerSettings); -1 leaves swap unlimited.
  int64_t swap = r.memory > 0 && r.memory_swap == 0 ? 2 * r.memory : r.memory_swap;
  if (swap > 0) out.memory_swap = swap;

  if (r.cpu_shares < 0) return core::invalid_argument("cpu-shares: shares: invalid argument");
  // The kernel's bounds; docker clamps to them rather than refusing.
  if (r.cpu_shares > 0) out.cpu_shares = std::clamp<int64_t>(r.cpu_shares, 2, 262144);
  if (r.nano_cpus < 0 || r.nano_cpus > int64_t{host_cpus} * 1000000000) {
    auto n = std::to_string(host_cpus);
    return core::invalid_argument("cpus: range of CPUs is from 0.01 to " + n +
                                  ".00, as there are only " + n + " CPUs available");
  }
  if (r.nano_cpus > 0) {
    constexpr uint64_t kPeriod = 100000;  // 100 ms in µs, docker's CFS period
    out.cpu_period = kPeriod;
    out.cpu_quota = r.nano_cpus * static_cast<int64_t>(kPeriod) / 1000000000;
  }
  if (r.pids_limit > 0) out.pids_limit = r.pids_limit;
  if (r.pids_limit < 0) out.pids_limit = -1;
  return out;
}

}  // namespace berth::oci
