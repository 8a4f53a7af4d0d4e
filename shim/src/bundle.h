#pragma once
// Files the shim keeps in the bundle directory containerd prepared
// (<state>/io.containerd.runtime.v2.task/<ns>/<id>/), next to containerd's
// own config.json, rootfs/, log (FIFO) and work link:
//
//   file                   written by   read by            content
//   address                start        containerd         "unix:///run/containerd/s/<sha256>"
//   init.pid               runtime      shim               pid of the container's init
//   <exec-id>.pid          runtime      shim               pid of an exec
//   log.json               runtime      shim               the runtime's JSON log (--log)
//   berth-shim.runtime     server       delete action      binary=, root=, systemd_cgroup= lines
//   berth-shim.exit        server       delete action      "<exit status> <seconds> <nanos>" of the
//   init
//
// The last two let a `delete` after a shim crash clean up with the right
// runtime and report the init's true exit status.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/sys.h"

namespace berth::shim {

constexpr const char* kAddressFile = "address";
constexpr const char* kInitPidFile = "init.pid";
constexpr const char* kRuntimeRecord = "berth-shim.runtime";
constexpr const char* kExitRecord = "berth-shim.exit";

struct RuntimeRecord {
  std::string binary;
  std::string root;
  bool systemd_cgroup = false;
};

struct ExitRecord {
  uint32_t exit_status = 0;
  sys::WallTime exited_at;
};

Status write_runtime_record(const std::string& bundle, const RuntimeRecord& r);
std::optional<RuntimeRecord> read_runtime_record(const std::string& bundle);
Status write_exit_record(const std::string& bundle, const ExitRecord& r);
std::optional<ExitRecord> read_exit_record(const std::string& bundle);
Result<pid_t> read_pid_file(const std::string& path);

// What the shim reads from the bundle's config.json (runtime-spec).
struct BundleSpec {
  std::map<std::string, std::string> annotations;
  // linux.namespaces has a pid entry without a path: the container's init is
  // the init of its own pid namespace, whose exit kills every other process
  // in it. Without one (host pid namespace, or one joined by path) the
  // shim kills what is left when the init exits, as containerd-shim-runc-v2.
  bool own_pid_namespace = false;
};
Result<BundleSpec> parse_bundle_spec(std::string_view json);
Result<BundleSpec> read_bundle_spec(const std::string& bundle);

// Containers of one group share one shim (containerd-shim-runc-v2's labels,
// in its order): the value of the first annotation of these that is set.
constexpr const char* kGroupAnnotations[] = {"io.containerd.runc.v2.group",
                                             "io.kubernetes.cri.sandbox-id"};
std::string shim_group(const BundleSpec& spec);

// containerd 1.6's shim socket: <dir>/<hex sha256 of "<address>/<ns>/<id>">,
// dir /run/containerd/s unless overridden.
std::string socket_path(const std::string& dir, const std::string& address, const std::string& ns,
                        const std::string& id);

// containerd's identifier rule (ids of containers and execs end up in paths):
// alphanumerics separated by single '.', '_' or '-', at most 76 characters.
bool valid_identifier(const std::string& id);

}  // namespace berth::shim
