#pragma once
// CVE-2019-5736: a process inside a container could reach the runtime's
// host binary through /proc/<pid>/exe of a runtime process that is in the
// container (the created init, an exec) or by making the container's
// entrypoint a link to /proc/self/exe, and then overwrite it. Commands that
// put berth processes into a container first re-execute berth from a
// sealed, read-only memfd copy: /proc/<pid>/exe of every such process is
// that copy, never the host file.

namespace berth::cli {

// Re-executes the current command from a sealed memfd unless already
// running from one. Returns only on failure (which the caller reports) or
// when already cloned.
void ensure_cloned_binary(char** argv, char** envp);

}  // namespace berth::cli
