#pragma once
// Seccomp filters from linux.seccomp (OCI runtime-spec config-linux.md).
//
// Two steps, like the other process attributes:
//  - compile_seccomp() runs in the PARENT before anything is created: it
//    builds the filter with libseccomp, exports it as classic BPF and checks
//    it, so that a bad profile fails with no state left and libseccomp (which
//    allocates) never runs between clone and exec.
//  - load_seccomp() runs in the INIT and allocates nothing: one seccomp(2).
//
// Ordering for the caller (the init):
//  - seccomp(2) needs no_new_privs or CAP_SYS_ADMIN. With
//    process.noNewPrivileges true, set PR_SET_NO_NEW_PRIVS and load as late
//    as possible, right before execve. With it false, load BEFORE dropping
//    capabilities and changing uid (the init still has CAP_SYS_ADMIN then),
//    as the spec requires; syscalls made after the load run under the filter.
//  - Every syscall the init makes after the load (including execve and, with
//    SCMP_ACT_NOTIFY, the ones that pass the listener on) is filtered. A
//    profile that denies execve kills the container before it starts; one that
//    NOTIFYs a syscall the init makes before the agent holds the listener
//    deadlocks the init. runc refuses NOTIFY on write(2) for this reason.
//
// Listener protocol (SCMP_ACT_NOTIFY with linux.seccomp.listenerPath), per
// the spec's "container process state":
//
//   runtime -> agent  one AF_UNIX SOCK_STREAM connection, one message:
//     payload  {"ociVersion": ..., "fds": ["seccompFd"], "pid": <init pid>,
//               "metadata": <listenerMetadata, omitted when empty>,
//               "state": <the container state>}
//     SCM_RIGHTS  [seccompFd]  (the listener returned by load_seccomp)
//   then the runtime closes the connection; nothing comes back.

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/spec/spec.h"

namespace berth::os {

struct SeccompProgram {
  // The classic BPF program handed to seccomp(2) unchanged.
  std::vector<struct sock_filter> bpf;
  // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags, already restricted to
  // what this kernel supports. NEW_LISTENER is not included: load_seccomp
  // adds it when `notify` is set.
  unsigned int flags = 0;
  // Some rule uses SCMP_ACT_NOTIFY: loading returns a listener descriptor.
  bool notify = false;
  // Things skipped rather than refused (a syscall name libseccomp does not
  // know, a flag this kernel lacks): for the caller to log.
  std::vector<std::string> warnings;
};

// Builds the filter for `s`. Errors name the field:
// "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"",
// "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_FOO\"".
//
// Semantics that are not obvious from the spec:
//  - Syscall names libseccomp does not know are skipped with a warning (a
//    profile written for a newer kernel must still run on an older one).
//  - Several args on the same index are ORed: each arg becomes its own rule
//    (libseccomp refuses two conditions on one argument in one rule). When
//    all indexes differ the args are ANDed in one rule. This is what runc and
//    crun do, and profiles are written against them.
//  - errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE (where
//    it is the tracer's message), as in runc.
//  - SCMP_ACT_NOTIFY as defaultAction is refused: the agent would have to
//    answer every syscall of the init before it has the listener.
//  - When the default action denies (anything but ALLOW, LOG or TRACE, and
//    not ERRNO(ENOSYS)), syscalls numbered above the highest one the profile
//    names return ENOSYS instead: see seccomp_compile.cc.
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& s);

// Installs `p` on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER).
// When p.notify is set, `listener` (which must then be non-null) receives the
// notification descriptor (CLOEXEC); pass it on with send_seccomp_listener.
// Allocates nothing on success.
Status load_seccomp(const SeccompProgram& p, UniqueFd* listener);

// The listener message payload (see the table above) from the container
// state JSON (as given to hooks: ociVersion, id, status, pid, bundle, ...)
// and linux.seccomp.listenerMetadata. The state must be an object with a
// string ociVersion and an integer pid.
Result<std::string> seccomp_listener_message(std::string_view state_json,
                                             std::string_view metadata);

// Connects to listener_path, sends `message` with notify_fd as SCM_RIGHTS,
// and closes the connection (the spec allows one state per connection).
Status send_seccomp_listener(std::string_view listener_path, BorrowedFd notify_fd,
                             std::string_view message);

}  // namespace berth::os
