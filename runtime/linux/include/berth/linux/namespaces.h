#pragma once
// Namespaces of a container: which to create, which to join (by path), the
// user namespace's id mappings (written by the parent), time offsets, and
// sysctls (only for keys whose namespace the container owns).

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/spec/spec.h"

namespace berth::os {

struct JoinedNamespace {
  spec::NamespaceType type;
  std::string path;
  UniqueFd fd;
};

struct NamespacePlan {
  int clone_flags = 0;    // CLONE_NEW* to create (time, cgroup excluded)
  bool new_time = false;  // unshare(CLONE_NEWTIME) before the clone
  // The cgroup namespace is unshared by the init itself once it is in its
  // cgroup: a namespace made at clone time would be rooted at the runtime's
  // own cgroup and show the host's paths.
  bool new_cgroup = false;
  std::vector<JoinedNamespace> joined;  // in setns order: user first, mount last
  bool needs_intermediate() const { return new_time || !joined.empty(); }
};

// Opens every namespace path and checks it is a namespace of the named type
// (NS_GET_NSTYPE): "linux.namespaces[1].path: `/proc/1/ns/ipc` is a ipc
// namespace, not network". A type not listed is the runtime's own.
Result<NamespacePlan> plan_namespaces(const spec::Spec& spec);

// Joins each namespace in order (in the intermediate process).
Status join_namespaces(const NamespacePlan& plan);

// uid_map / gid_map of `pid`, one "container host size" line per mapping.
Status write_id_mappings(pid_t pid, const std::vector<spec::IdMapping>& uids,
                         const std::vector<spec::IdMapping>& gids);

// /proc/self/timens_offsets, after unshare(CLONE_NEWTIME) and before the
// first process enters the namespace.
Status write_time_offsets(const std::map<std::string, spec::TimeOffset>& offsets);

// A sysctl key is allowed only when the container has its own namespace for
// it: net.* → network, kernel.{shm*,msg*,sem}/fs.mqueue.* → ipc,
// kernel.{hostname,domainname} → uts. Everything else would change the host.
Status validate_sysctl(const spec::Spec& spec);
Status apply_sysctl(const std::map<std::string, std::string>& sysctl);

// hostname and domainname (needs a uts namespace: validated at parse time).
Status apply_hostname(const spec::Spec& spec);

}  // namespace berth::os
