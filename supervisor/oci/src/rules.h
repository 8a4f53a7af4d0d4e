#pragma once
// The rules generate_spec applies, one function per part of the spec, each
// docker 20.10's behaviour for its flags (the moby function it mirrors is
// named at each). Internal to berth_oci; the unit tests call them directly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/container.h"
#include "berth/core/image.h"
#include "berth/json/json.h"
#include "berth/oci/spec.h"
#include "model.h"

namespace berth::oci {

// --- process (process.cc) ---------------------------------------------------
// Entrypoint + Cmd after docker's merge (daemon/create.go): `--entrypoint`
// given replaces the image's and drops its Cmd; `--entrypoint ""` clears it.
Result<std::vector<std::string>> command_of(const core::ContainerConfig& c,
                                            const core::ImageConfig& image);
// Config.Env after docker's merge (user's first, then the image's keys the
// user did not set), on top of PATH, HOSTNAME and TERM
// (Container.CreateDaemonEnvironment); "K" without "=" unsets K.
std::vector<std::string> container_env(const core::ContainerConfig& c,
                                       const core::ImageConfig& image, std::string_view hostname,
                                       bool tty);
// defaults with overrides replacing equal keys or appended; "K" removes K
// (container.ReplaceOrAppendEnvValues).
std::vector<std::string> replace_or_append_env(std::vector<std::string> defaults,
                                               const std::vector<std::string>& overrides);
// --ulimit: "nofile" → RLIMIT_NOFILE, checked as go-units does.
Result<std::vector<Rlimit>> rlimits_of(const std::vector<core::Ulimit>& ulimits);

// --- users (user.cc) ----------------------------------------------------------
// `spec` ("name", "uid", "uid:gid", "name:group", "" = root) resolved as
// runc's user.GetExecUser does, in the given passwd and group texts
// (nullopt: the file does not exist), plus --group-add. additional_gids
// starts with the primary gid, as docker's getUser does.
Result<User> resolve_user_in(std::optional<std::string_view> passwd,
                             std::optional<std::string_view> group, std::string_view spec,
                             const std::vector<std::string>& group_add);
// The same, reading <rootfs>/etc/passwd and /etc/group in-root: a symlink
// in the image resolves inside the rootfs, never to the host's files.
Result<User> resolve_user(std::string_view rootfs, std::string_view spec,
                          const std::vector<std::string>& group_add);

// --- capabilities (caps.cc) -------------------------------------------------
const std::vector<std::string>& default_capabilities();  // docker's 14
// Names of the capabilities in a CapEff-style mask, by number.
std::vector<std::string> capabilities_in(uint64_t mask);
// CapEff of this process (/proc/self/status).
Result<uint64_t> current_capabilities();
// caps.TweakCapabilities: defaults, --cap-add/--cap-drop ("ALL", "CAP_"
// optional, any case), or everything `host` has with --privileged.
Result<std::vector<std::string>> tweak_capabilities(const std::vector<std::string>& adds,
                                                    const std::vector<std::string>& drops,
                                                    bool privileged, uint64_t host);
// oci.SetCapabilities: effective and permitted only for uid 0 (what execve
// would leave a non-root user).
Capabilities capabilities_for(const std::vector<std::string>& caps, uint32_t uid);

// --- mounts (mounts.cc) -----------------------------------------------------
// filepath.Clean for an absolute path: no "//", ".", ".." or trailing '/'.
std::string clean_path(std::string_view p);
// Docker's defaults, filtered and adjusted (WithMounts), then the user's,
// network files' and tmpfs mounts by destination depth.
Result<std::vector<Mount>> build_mounts(const SpecInput& in, Spec& spec);

// --- linux (linux.cc) -------------------------------------------------------
Result<std::vector<Namespace>> build_namespaces(const SpecInput& in);
// runc's check that a sysctl lives in a namespace the container owns.
Status validate_sysctls(const std::map<std::string, std::string>& sysctls,
                        const std::vector<Namespace>& namespaces);
// --device nodes (and every host device with --privileged) and the device
// cgroup rules: deny all, docker's default allows, then each --device.
Status build_devices(const SpecInput& in, Spec& spec);
// --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit.
// host_cpus bounds --cpus, as docker's "Range of CPUs" check.
Result<Resources> build_resources(const core::Resources& r, int host_cpus);
extern const std::vector<std::string> kMaskedPaths, kReadonlyPaths;

// --- seccomp (seccomp.cc) ---------------------------------------------------
// A profile in docker's format (defaultAction, architectures or archMap,
// syscalls with name/names, args, includes/excludes on caps, arches and
// minKernel) to the OCI form for this host's architecture, the container's
// bounding set and kernel. nullopt: the profile disables seccomp (no
// defaultAction and no syscalls), as docker's setupSeccomp.
Result<std::optional<Seccomp>> convert_seccomp(std::string_view profile,
                                               const std::vector<std::string>& bounding,
                                               std::string_view kernel_release,
                                               std::string_view source);

// --- output (write.cc) --------------------------------------------------------
void write_process(json::Writer& w, const Process& p);
Result<std::string> write_spec(const Spec& spec);

}  // namespace berth::oci
