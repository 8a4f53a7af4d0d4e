#pragma once
// Everything `create` decides before it changes anything on the host: the
// parsed config and the plans derived from it. The init is forked from the
// creating process, so it reads this same structure from its copy of memory.

#include <optional>
#include <string>

#include "berth/cgroups/cgroups.h"
#include "berth/cgroups/resources.h"
#include "berth/container/container.h"
#include "berth/linux/namespaces.h"
#include "berth/linux/process_attrs.h"
#include "berth/linux/rootfs.h"
#include "berth/linux/seccomp.h"
#include "berth/spec/spec.h"

namespace berth::container {

struct Prepared {
  CreateOptions options;
  std::string bundle;       // absolute
  std::string config_text;  // as read, copied into the state dir
  spec::Spec spec;
  os::RootfsPlan rootfs;
  os::NamespacePlan namespaces;
  os::CapabilitySets capabilities;
  bool has_capabilities = false;
  cgroups::Layout cgroup_layout;
  cgroups::Placement cgroup;
  cgroups::Resources resources;               // parsed and checked here, applied by create
  bool runtime_hooks = false;                 // prestart or createRuntime hooks present
  std::optional<os::SeccompProgram> seccomp;  // compiled here, loaded by the init
};

// The descriptors the init needs; everything else it inherited is closed
// or close-on-exec before the container's process runs.
struct InitChannels {
  int sync = -1;           // socketpair end to P
  int exec_listener = -1;  // exec.sock
  int state_lock = -1;     // P's locked state dir fd: closed first thing
  int parent_end = -1;     // P's end of the socketpair: closed so P's exit reads as EOF
};

// A connection to linux.seccomp.listenerPath, made while host paths are
// reachable, for a filter with SCMP_ACT_NOTIFY; -1 when not needed.
Result<UniqueFd> connect_seccomp_listener(const spec::Spec& spec,
                                          const os::SeccompProgram* program);

[[noreturn]] void run_init(const Prepared& prepared, const InitChannels& channels);

// Parses, validates and plans, without side effects.
Result<Prepared> prepare(const Globals& globals, const CreateOptions& options);

// Runs hooks of one kind with the given state.
std::string hook_state_json(const std::string& id, ContainerStatus status, pid_t pid,
                            const std::string& bundle,
                            const std::map<std::string, std::string>& annotations);

}  // namespace berth::container
