#pragma once
// The bundle's config.json (runtime-spec 1.2) for a container, from the
// user's options (core::ContainerConfig) and the image's config, with
// docker 20.10's defaults and override rules: what `docker run` would hand
// runc for the same flags. Reads only the rootfs' /etc/passwd and /etc/group
// (in-root, never through a symlink out of it), host device nodes named by
// --device (and /dev for --privileged) and, unless given here, the host
// facts below (kernel release, the daemon's own capabilities).
//
// Errors are invalid_argument (EINVAL) naming the option, in docker's words
// where docker has some ("unable to find user nobody2: no matching entries
// in passwd file", "unknown capability: \"CAP_FOO\"").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/container.h"
#include "berth/core/image.h"

namespace berth::oci {

struct SpecInput {
  std::string id;                                 // 64 hex
  const core::ContainerConfig* config = nullptr;  // the user's options
  const core::ImageConfig* image = nullptr;       // the image's config
  // Absolute host path of the mounted rootfs: root.path, and where the
  // image's /etc/passwd and /etc/group are read from.
  std::string rootfs;
  // Host files berthd wrote, bind-mounted at /etc/hostname, /etc/hosts and
  // /etc/resolv.conf (empty: not mounted).
  std::string hostname_file, hosts_file, resolv_file;
  // Resolved user mounts: bind and volume sources are host paths here.
  std::vector<core::MountSpec> mounts;
  // "ipc", "pid", "uts", "network" → /proc/PID/ns/X of the container named
  // by a container:NAME mode; "shm" → that container's /dev/shm source, bound
  // at /dev/shm with --ipc container:NAME (docker shares it; absent: a
  // private /dev/shm).
  std::map<std::string, std::string> namespace_paths;
  bool cgroup_v2 = false;    // docker's default cgroupns is private on v2 hosts
  std::string cgroups_path;  // linux.cgroupsPath ("/berth/<id>")
  // Host path of the init for --init (docker-init, tini): bound at
  // /sbin/docker-init and put in front of the command.
  std::string init_path;

  // Host facts; empty means "read from this host" (tests pin them).
  std::optional<uint64_t> host_capabilities;  // CapEff of the daemon: --privileged gets these
  std::string kernel_release;                 // seccomp minKernel rules ("6.1.0-13-amd64")
  std::string host_dev = "/dev";              // device nodes --privileged passes through
  int host_cpus = 0;                          // --cpus upper bound (0: this host's online CPUs)
};

// config.json text.
Result<std::string> generate_spec(const SpecInput& in);

// Creates the process' working directory (-w, else the image's) in the
// rootfs when the image lacks it, as docker's SetupWorkingDirectory does at
// create: runc would make it at start, berth and crun refuse a missing cwd.
// Each component is resolved in-root, so an image's symlink cannot point
// the mkdir at a host directory. Call with the rootfs mounted, before create.
Status create_working_dir(const SpecInput& in);

// `exec` options (docker exec -e -u -w --privileged -t).
struct ExecOptions {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string user;         // empty: the container's user
  std::string working_dir;  // empty: the container's working dir
  bool tty = false;
  bool privileged = false;
};

// An OCI Process object for an exec into the container described by `in`:
// the container's environment, user, capabilities and rlimits rules with
// the exec's options on top, as docker builds it.
Result<std::string> generate_exec_process(const SpecInput& in, const ExecOptions& exec);

// The built-in default seccomp profile (docker's profile format: the same
// allow-list and conditional rules as moby's default), as compiled in.
std::string_view default_seccomp_profile();

}  // namespace berth::oci
