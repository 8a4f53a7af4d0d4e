#pragma once
// Process attributes of a container process: capabilities (libcap), rlimits,
// scheduler, I/O priority, personality, oom_score_adj. Each has a resolve or
// check step that runs in the parent before anything is created (so bad input
// fails with no state left), and an apply step that the init (or an exec'd
// process) runs after clone and before exec. Apply steps allocate nothing and
// are safe between clone and exec of a single-threaded process.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "berth/base/error.h"
#include "berth/spec/spec.h"

namespace berth::os {

// Capability sets as bit masks (bit n = capability number n).
struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};
// Unknown names are an error naming the set and the name:
// "process.capabilities.bounding: unknown capability \"CAP_FOO\"".
// Names the running kernel does not know (above CAP_LAST_CAP) are dropped.
Result<CapabilitySets> resolve_capabilities(const spec::Capabilities& caps);
// Drops every capability not in `bounding` from the bounding set. Needs
// CAP_SETPCAP: call before the uid change.
Status drop_bounding_set(const CapabilitySets& sets);
// Sets effective/permitted/inheritable, then raises ambient. Call after the
// uid change (with PR_SET_KEEPCAPS set before it). A capset that fails with
// EPERM because the caller lacks a capability it asks for (this host has no
// CAP_SYS_RESOURCE) reports which one.
Status apply_capabilities(const CapabilitySets& sets);

// Rlimit names resolved in spec parsing; this checks in the parent that no
// hard limit is above the caller's own when the caller lacks
// CAP_SYS_RESOURCE: "process.rlimits: RLIMIT_NOFILE hard limit 1048576 is
// above this process's hard limit 20000 and CAP_SYS_RESOURCE is missing".
Status check_rlimits(const std::vector<spec::Rlimit>& rlimits);
Status apply_rlimits(const std::vector<spec::Rlimit>& rlimits);

// setgroups (additional gids; primary gid kept), setresgid, setresuid, umask.
// `setgroups_allowed` is false in a user namespace whose setgroups is "deny".
Status apply_user(const spec::User& user, bool setgroups_allowed);

Status apply_scheduler(const spec::Scheduler& sched);
Status apply_io_priority(const spec::IoPriority& prio);
// linux.personality: domain LINUX / LINUX32 (+ flags, none defined yet).
Status apply_personality(const std::string& domain);
// Writes /proc/self/oom_score_adj. Lowering it needs CAP_SYS_RESOURCE: the
// error says so.
Status apply_oom_score_adj(int32_t value);

}  // namespace berth::os
