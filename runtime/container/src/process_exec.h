#pragma once
// The last steps of every container process (the init after `start`, and
// each `exec`): identity, privileges, then execve. One implementation so an
// exec'd process never gets weaker security than the init.

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/linux/process_attrs.h"
#include "berth/linux/seccomp.h"
#include "berth/spec/spec.h"

namespace berth::container {

struct ExecSecurity {
  const os::CapabilitySets* capabilities = nullptr;  // null: leave as is
  bool in_user_namespace = false;
  int preserve_fds = 0;
  const os::SeccompProgram* seccomp = nullptr;  // null: no filter
  // For SCMP_ACT_NOTIFY: a connection to linux.seccomp.listenerPath made
  // while host paths were still reachable, and the message to send with
  // the listener descriptor.
  int seccomp_listener_conn = -1;
  std::string seccomp_listener_message;
  // Descriptors above the preserved ones that the runtime still uses until
  // exec (the channel that reports a failure); every other one is closed.
  std::vector<int> keep_fds;
};

// args[0] looked up in the container's PATH (from env), as execvp would.
Result<std::string> find_executable(const std::string& arg0, const std::vector<std::string>& env);

// Order (each step needs what the previous one still has):
//   scheduler, ioprio → close inherited descriptors → cwd checked (chdir +
//   getcwd, before any filter: a profile may deny getcwd) → [seccomp, when
//   no_new_privs is off: loading a filter then needs CAP_SYS_ADMIN, so
//   before any capability is dropped (runtime spec)] → bounding set (needs
//   CAP_SETPCAP) → keep caps across the uid change → uid/gids → cwd as that
//   user (the checked directory) → capability sets → no_new_privs →
//   close-on-exec every kept fd → [seccomp, when no_new_privs is on: as late
//   as possible, so the filter sees only execve] → execve.
// Returns only on failure.
Status exec_process(const spec::Process& proc, const ExecSecurity& security,
                    const std::string& exec_path);

}  // namespace berth::container
