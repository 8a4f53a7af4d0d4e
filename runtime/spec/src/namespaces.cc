#include <sched.h>

#include "berth/base/sys/constants.h"
#include "berth/spec/spec.h"

namespace berth::spec {

std::string_view namespace_type_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "network";
    case NamespaceType::kMount: return "mount";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "?";
}

std::string_view namespace_proc_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "net";
    case NamespaceType::kMount: return "mnt";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "?";
}

int namespace_clone_flag(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid: return CLONE_NEWPID;
    case NamespaceType::kNetwork: return CLONE_NEWNET;
    case NamespaceType::kMount: return CLONE_NEWNS;
    case NamespaceType::kIpc: return CLONE_NEWIPC;
    case NamespaceType::kUts: return CLONE_NEWUTS;
    case NamespaceType::kUser: return CLONE_NEWUSER;
    case NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case NamespaceType::kTime: return CLONE_NEWTIME;
  }
  return 0;
}

bool Spec::has_namespace(NamespaceType type) const { return find_namespace(type) != nullptr; }

const Namespace* Spec::find_namespace(NamespaceType type) const {
  if (!linux_) return nullptr;
  for (const auto& ns : linux_->namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

}  // namespace berth::spec
