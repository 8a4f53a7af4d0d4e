#include "berth/linux/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/sys.h"

namespace berth::os {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// setns order: the user namespace first (it grants the capabilities the
// others need), the mount namespace last (it changes our view of the paths).
int join_rank(spec::NamespaceType type) {
  switch (type) {
    case spec::NamespaceType::kUser: return 0;
    case spec::NamespaceType::kMount: return 9;
    default: return 5;
  }
}

}  // namespace

Result<NamespacePlan> plan_namespaces(const spec::Spec& spec) {
  NamespacePlan plan;
  const auto& list = spec.linux_->namespaces;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& ns = list[i];
    if (ns.path.empty()) {
      if (ns.type == spec::NamespaceType::kTime) {
        plan.new_time = true;
      } else if (ns.type == spec::NamespaceType::kCgroup) {
        plan.new_cgroup = true;
      } else {
        plan.clone_flags |= spec::namespace_clone_flag(ns.type);
      }
      continue;
    }
    std::string field = "config.json: linux.namespaces[" + std::to_string(i) + "].path";
    auto fd = sys::open(ns.path, O_RDONLY);
    if (!fd) return std::move(fd).error().wrap(field);
    int type = sys::ioctl(fd->get(), NS_GET_NSTYPE);
    if (type < 0) return make_error(field + ": `" + ns.path + "` is not a namespace", EINVAL);
    if (type != spec::namespace_clone_flag(ns.type)) {
      std::string actual = "another";
      for (auto t :
           {spec::NamespaceType::kPid, spec::NamespaceType::kNetwork, spec::NamespaceType::kMount,
            spec::NamespaceType::kIpc, spec::NamespaceType::kUts, spec::NamespaceType::kUser,
            spec::NamespaceType::kCgroup, spec::NamespaceType::kTime})
        if (spec::namespace_clone_flag(t) == type)
          actual = std::string(spec::namespace_type_name(t));
      return make_error(field + ": `" + ns.path + "` is a " + actual + " namespace, not " +
                        std::string(spec::namespace_type_name(ns.type)));
    }
    plan.joined.push_back({ns.type, ns.path, std::move(*fd)});
  }
  std::stable_sort(plan.joined.begin(), plan.joined.end(), [](const auto& a, const auto& b) {
    return join_rank(a.type) < join_rank(b.type);
  });
  if (spec.linux_ && !spec.linux_->time_offsets.empty() && !plan.new_time)
    return make_error("config.json: linux.timeOffsets: needs a new time namespace");
  return plan;
}

Status join_namespaces(const NamespacePlan& plan) {
  for (const auto& ns : plan.joined)
    BERTH_TRY(sys::setns(ns.fd, spec::namespace_clone_flag(ns.type), ns.path));
  return {};
}

Status write_id_mappings(pid_t pid, const std::vector<spec::IdMapping>& uids,
                         const std::vector<spec::IdMapping>& gids) {
  auto render = [](const std::vector<spec::IdMapping>& maps) {
    std::string text;
    for (const auto& m : maps)
      text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
              std::to_string(m.size) + "\n";
    return text;
  };
  std::string base = "/proc/" + std::to_string(pid);
  // One write() each: the kernel accepts a map only in a single write.
  if (!uids.empty())
    BERTH_TRY_CTX(sys::write_file(base + "/uid_map", render(uids)), "linux.uidMappings");
  if (!gids.empty())
    BERTH_TRY_CTX(sys::write_file(base + "/gid_map", render(gids)), "linux.gidMappings");
  return {};
}

Status write_time_offsets(const std::map<std::string, spec::TimeOffset>& offsets) {
  std::string text;
  for (const auto& [clock, off] : offsets)
    text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  if (text.empty()) return {};
  return sys::write_file("/proc/self/timens_offsets", text);
}

Status validate_sysctl(const spec::Spec& spec) {
  if (!spec.linux_) return {};
  for (const auto& [key, value] : spec.linux_->sysctl) {
    std::string field = "config.json: linux.sysctl[\"" + key + "\"]";
    auto needs = [&](spec::NamespaceType type) -> Status {
      const auto* ns = spec.find_namespace(type);
      if (ns == nullptr || !ns->path.empty())
        return make_error(field + ": needs a new " + std::string(spec::namespace_type_name(type)) +
                          " namespace, else it would change the host");
      return {};
    };
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return make_error(field + ": invalid key");
    if (starts_with(key, "net.")) {
      BERTH_TRY(needs(spec::NamespaceType::kNetwork));
    } else if (starts_with(key, "fs.mqueue.") || key == "kernel.msgmax" || key == "kernel.msgmnb" ||
               key == "kernel.msgmni" || key == "kernel.sem" || key == "kernel.shmall" ||
               key == "kernel.shmmax" || key == "kernel.shmmni" ||
               key == "kernel.shm_rmid_forced") {
      BERTH_TRY(needs(spec::NamespaceType::kIpc));
    } else if (key == "kernel.hostname" || key == "kernel.domainname") {
      BERTH_TRY(needs(spec::NamespaceType::kUts));
    } else {
      return make_error(field + ": not a namespaced sysctl; setting it would change the host");
    }
  }
  return {};
}

Status apply_sysctl(const std::map<std::string, std::string>& sysctl) {
  for (const auto& [key, value] : sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    BERTH_TRY_CTX(sys::write_file(path, value), "sysctl " + key);
  }
  return {};
}

Status apply_hostname(const spec::Spec& spec) {
  if (!spec.hostname.empty() && sys::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
    return sys_error("sethostname", spec.hostname);
  if (!spec.domainname.empty() &&
      sys::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
    return sys_error("setdomainname", spec.domainname);
  return {};
}

}  // namespace berth::os
