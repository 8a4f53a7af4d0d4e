// The mount list as moby's oci.DefaultLinuxSpec and daemon WithMounts /
// WithCommonOptions build it: docker's defaults (filtered, /dev/shm sized,
// read-only with --read-only, writable /sys with --privileged), the init,
// then the user's binds and volumes, the network files and tmpfs mounts,
// ordered by destination depth so a parent is mounted before its children.
#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace {

constexpr std::string_view kInitPath = "/sbin/docker-init";
constexpr int64_t kDefaultShmSize = 64 << 20;

std::vector<Mount> default_mounts() {
  return {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777"}},
  };
}

}  // namespace

std::string clean_path(std::string_view p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    auto part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

namespace {

// Docker's mounts.Less: the number of path elements of the cleaned target.
size_t depth(const std::string& dest) {
  return static_cast<size_t>(std::count(dest.begin(), dest.end(), '/')) + (dest == "/" ? 0 : 1);
}

void remove_option(Mount& m, std::string_view opt) {
  m.options.erase(std::remove(m.options.begin(), m.options.end(), opt), m.options.end());
}

// The kernel's tmpfs options and mount flags docker accepts in --tmpfs
// (moby/sys/mount MergeTmpfsOptions): a later flag overrides an earlier
// one of the same kind (exec after noexec), a later size= an earlier one.
struct FlagKind {
  std::string_view name;
  int kind;
};
constexpr FlagKind kTmpfsFlags[] = {
    {"ro", 1},        {"rw", 1},          {"suid", 2},         {"nosuid", 2},
    {"dev", 3},       {"nodev", 3},       {"exec", 4},         {"noexec", 4},
    {"sync", 5},      {"async", 5},       {"dirsync", 6},      {"remount", 7},
    {"mand", 8},      {"nomand", 8},      {"atime", 9},        {"noatime", 9},
    {"diratime", 10}, {"nodiratime", 10}, {"bind", 11},        {"rbind", 12},
    {"relatime", 13}, {"norelatime", 13}, {"strictatime", 14}, {"nostrictatime", 14},
    {"private", 0},   {"rprivate", 0},    {"shared", 0},       {"rshared", 0},
    {"slave", 0},     {"rslave", 0},      {"unbindable", 0},   {"runbindable", 0},
};
constexpr std::string_view kTmpfsData[] = {"size",      "mode",      "uid", "gid",
                                           "nr_inodes", "nr_blocks", "mpol"};

Result<std::vector<std::string>> merge_tmpfs_options(const std::vector<std::string>& options,
                                                     const std::string& target) {
  std::set<int> kinds;
  std::set<std::string> data;
  std::vector<std::string> out;
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    const std::string& opt = *it;
    if (opt == "defaults") continue;
    auto flag = std::find_if(std::begin(kTmpfsFlags), std::end(kTmpfsFlags),
                             [&](const FlagKind& f) { return f.name == opt; });
    if (flag != std::end(kTmpfsFlags)) {
      if (kinds.insert(flag->kind).second) out.insert(out.begin(), opt);
      continue;
    }
    auto eq = opt.find('=');
    auto key = opt.substr(0, eq);
    if (eq == std::string::npos ||
        std::find(std::begin(kTmpfsData), std::end(kTmpfsData), key) == std::end(kTmpfsData))
      return core::invalid_argument("tmpfs `" + target + "`: invalid tmpfs option \"" + opt + "\"");
    if (data.insert(key).second) out.insert(out.begin(), opt);
  }
  return out;
}

bool is_shared(std::string_view p) { return p == "shared" || p == "rshared"; }
bool is_slave(std::string_view p) { return p == "slave" || p == "rslave"; }

}  // namespace

Result<std::vector<Mount>> build_mounts(const SpecInput& in, Spec& spec) {
  const core::ContainerConfig& c = *in.config;
  const std::string& ipc = c.ipc_mode;
  bool pid_private = c.pid_mode.empty() || c.pid_mode == "private";

  // The user's mounts, the network files and the IPC mount, each ordered
  // below by depth.
  std::vector<Mount> user;
  std::vector<Mount> binds, tmpfs;
  for (const auto& m : in.mounts) {
    if (m.target.empty() || m.target.front() != '/')
      return core::invalid_argument("mount `" + m.target + "`: target must be an absolute path");
    std::string dest = clean_path(m.target);
    if (dest == "/") return core::invalid_argument("mount `/`: cannot mount over the root");
    if (m.type == "tmpfs") {
      std::vector<std::string> opts = {"noexec", "nosuid", "nodev", "rprivate"};
      opts.insert(opts.end(), m.options.begin(), m.options.end());
      if (m.read_only) opts.emplace_back("ro");
      tmpfs.push_back({dest, "tmpfs", "tmpfs", BERTH_VALUE(merge_tmpfs_options(opts, dest))});
    } else if (m.type == "bind" || m.type == "volume") {
      if (m.source.empty() || m.source.front() != '/')
        return core::invalid_argument("mount `" + dest + "`: source `" + m.source +
                                      "` is not a host path");
      std::string propagation = m.propagation;
      if (propagation.empty() && m.type == "bind") propagation = "rprivate";
      static const std::set<std::string> kModes = {"private", "rprivate", "shared",
                                                   "rshared", "slave",    "rslave"};
      if (!propagation.empty() && !kModes.count(propagation))
        return core::invalid_argument("mount `" + dest + "`: invalid propagation mode `" +
                                      propagation + "`");
      // A shared or slave bind needs the rootfs to propagate the same way,
      // or the host's events never reach it (WithMounts).
      if (is_shared(propagation)) {
        spec.rootfs_propagation = "shared";
      } else if (is_slave(propagation) && !is_shared(spec.rootfs_propagation)) {
        spec.rootfs_propagation = "rslave";
      }
      Mount b{dest, "bind", m.source, {"rbind"}};
      if (m.read_only) b.options.emplace_back("ro");
      if (!propagation.empty()) b.options.push_back(propagation);
      binds.push_back(std::move(b));
    } else {
      return core::invalid_argument("mount `" + dest + "`: unknown mount type `" + m.type + "`");
    }
  }
  auto by_depth = [](const Mount& a, const Mount& b) {
    return depth(a.destination) < depth(b.destination);
  };
  std::stable_sort(binds.begin(), binds.end(), by_depth);
  user = binds;

  std::set<std::string> user_dests;
  for (const auto& m : binds) user_dests.insert(m.destination);
  for (const auto& m : tmpfs) user_dests.insert(m.destination);
  // The network files; a user mount at the same place is used instead
  // (Container.TrySetNetworkMount).
  for (const auto& [dest, file] :
       {std::pair<std::string, std::string>{"/etc/resolv.conf", in.resolv_file},
        {"/etc/hostname", in.hostname_file},
        {"/etc/hosts", in.hosts_file}}) {
    if (file.empty() || user_dests.count(dest)) continue;
    Mount m{dest, "bind", file, {"rbind"}};
    if (c.read_only) m.options.emplace_back("ro");
    m.options.emplace_back("rprivate");
    user.push_back(std::move(m));
    user_dests.insert(dest);
  }
  // --ipc host shares the host's /dev/shm; container:X the other
  // container's when berthd passes it (namespace_paths["shm"]).
  std::string shm_source;
  if (ipc == "host") {
    shm_source = "/dev/shm";
  } else if (ipc.rfind("container:", 0) == 0 && in.namespace_paths.count("shm")) {
    shm_source = in.namespace_paths.at("shm");
  }
  if (!shm_source.empty() && !user_dests.count("/dev/shm")) {
    user.push_back({"/dev/shm", "bind", shm_source, {"rbind", "rprivate"}});
    user_dests.insert("/dev/shm");
  }
  user.insert(user.end(), tmpfs.begin(), tmpfs.end());
  std::stable_sort(user.begin(), user.end(), by_depth);

  std::vector<Mount> out;
  bool user_dev = user_dests.count("/dev") > 0;
  int64_t shm_size = c.shm_size > 0 ? c.shm_size : kDefaultShmSize;
  if (c.shm_size < 0) return core::invalid_argument("SHM size can not be less than 0");
  for (auto& m : default_mounts()) {
    if (user_dests.count(m.destination)) continue;
    if (user_dev && m.destination.rfind("/dev/", 0) == 0) continue;
    if (m.destination == "/dev/shm") {
      if (ipc == "none") continue;
      m.options.push_back("size=" + std::to_string(shm_size));
    }
    out.push_back(std::move(m));
  }
  // The init is bound only into a private pid namespace: elsewhere the
  // namespace already has its init.
  if (c.init && pid_private) {
    if (in.init_path.empty())
      return core::invalid_argument("init: no init binary (docker-init) configured");
    out.push_back({std::string(kInitPath), "bind", in.init_path, {"bind", "ro"}});
  }
  if (c.read_only) {
    static const std::set<std::string> kWritable = {"/proc", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                                    "/dev"};
    for (auto& m : out)
      if (!kWritable.count(m.destination) &&
          std::find(m.options.begin(), m.options.end(), "ro") == m.options.end())
        m.options.emplace_back("ro");
  }
  if (c.privileged) {
    for (auto& m : out)
      if (m.destination == "/sys" || m.type == "cgroup") remove_option(m, "ro");
  }
  out.insert(out.end(), user.begin(), user.end());
  return out;
}

}  // namespace berth::oci
