// prepare(): parse and check everything that can be checked before the
// first side effect, so that bad input leaves nothing behind.
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>

#include "berth/base/sys.h"
#include "berth/json/json.h"
#include "berth/cgroups/devices.h"
#include "berth/linux/lsm.h"
#include "prepared.h"

namespace berth::container {

namespace {

Result<std::string> absolute_bundle(const std::string& bundle) {
  char buf[PATH_MAX];
  if (::realpath(bundle.c_str(), buf) == nullptr) return sys_error("bundle", bundle);
  return std::string(buf);
}

// Every requested capability must be in our own bounding set: otherwise
// capset fails in the init with a bare EPERM (this host withholds
// CAP_SYS_RESOURCE from root).
Status check_capabilities_available(const os::CapabilitySets& sets) {
  uint64_t wanted =
      sets.bounding | sets.effective | sets.permitted | sets.inheritable | sets.ambient;
  for (int cap = 0; cap < 64; ++cap) {
    if (!(wanted & (uint64_t{1} << cap))) continue;
    int in_bounding = sys::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding == 1) continue;
    if (in_bounding < 0) continue;  // beyond the kernel's last capability
    char* name = ::cap_to_name(static_cast<cap_value_t>(cap));
    std::string text = name ? name : std::to_string(cap);
    ::cap_free(name);
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return make_error("config.json: process.capabilities: " + text +
                          " is not in berth's own bounding set (the host withholds it), so no "
                          "container can be given it",
                      EPERM);
  }
  return {};
}

// sethostname(2) must reach a UTS namespace of the container's own: a new one,
// or one joined by path (a pod's), which is just as private. Only the
// runtime's own namespace (the host's, in practice) is refused.
Status check_private_uts(const spec::Spec& s, const os::NamespacePlan& plan,
                         const std::string& config_path) {
  std::string field = s.hostname.empty() ? "domainname" : "hostname";
  const auto* uts = s.find_namespace(spec::NamespaceType::kUts);
  if (uts == nullptr) return make_error(config_path + ": " + field + ": needs a uts namespace");
  for (const auto& ns : plan.joined) {
    if (ns.type != spec::NamespaceType::kUts) continue;
    auto theirs = BERTH_VALUE(sys::fstat(ns.fd, ns.path));
    auto ours = BERTH_VALUE(sys::stat("/proc/self/ns/uts"));
    if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
      return make_error(config_path + ": " + field + ": the uts namespace `" + ns.path +
                        "` is berth's own; setting it would rename the host");
  }
  return {};
}

// Without a cgroup no limit can be applied, and the runtime spec requires an
// error for a property a runtime cannot apply. Device rules are let through,
// as crun does: podman sends a deny-all rule with every config, including
// those for `--cgroups=disabled`. Nothing enforces them then: a process with
// CAP_MKNOD can make and open any device node, which is what running without
// cgroups means.
Status check_no_cgroup_resources(const std::string& raw_json, const std::string& config_path) {
  if (raw_json.empty()) return {};
  auto resources = BERTH_VALUE(json::parse(raw_json, config_path + ": linux.resources"));
  if (!resources.is_object()) return {};
  for (const auto& [key, value] : resources.members()) {
    if (key == "devices" || value.is_null()) continue;
    if ((value.is_object() && value.members().empty()) ||
        (value.is_array() && value.items().empty()))
      continue;
    return make_error(config_path + ": linux.resources." + key +
                          ": needs a cgroup, but berth runs with --cgroup-manager=disabled",
                      EINVAL);
  }
  return {};
}

}  // namespace

Result<Prepared> prepare(const Globals& globals, const CreateOptions& options) {
  if (globals.systemd_cgroup)
    return make_error("--systemd-cgroup: the systemd cgroup driver is not supported yet", ENOTSUP);
  BERTH_TRY(validate_id(options.id));
  Prepared p;
  p.options = options;
  p.bundle = BERTH_VALUE(absolute_bundle(options.bundle));
  std::string config_path = p.bundle + "/config.json";
  auto text = sys::read_file(config_path, spec::kMaxConfigSize);
  if (!text) return std::move(text).error();
  p.config_text = std::move(*text);
  p.spec = BERTH_VALUE(spec::parse_spec(p.config_text, config_path));
  const auto& s = p.spec;
  if (!s.process) return make_error(config_path + ": process: required to create a container");
  if (!s.linux_) return make_error(config_path + ": linux: required on Linux");
  if (s.linux_->intel_rdt_raw)
    return make_error(config_path + ": linux.intelRdt: not supported", ENOTSUP);
  if (s.process->terminal && options.console_socket.empty() && !options.relay_console)
    return make_error("process.terminal is true: --console-socket is required", EINVAL);
  if (!s.process->terminal && !options.console_socket.empty())
    return make_error("--console-socket given but process.terminal is false", EINVAL);
  if (options.preserve_fds < 0) return make_error("--preserve-fds: must not be negative");
  BERTH_TRY(os::check_lsm(*s.process, os::detect_lsm(), config_path + ": process."));

  p.rootfs = BERTH_VALUE(os::plan_rootfs(s, p.bundle));
  p.rootfs.no_pivot = options.no_pivot;
  p.namespaces = BERTH_VALUE(os::plan_namespaces(s));
  BERTH_TRY(os::validate_sysctl(s));
  if (!s.hostname.empty() || !s.domainname.empty())
    BERTH_TRY(check_private_uts(s, p.namespaces, config_path));
  if (s.process->capabilities) {
    p.capabilities = BERTH_VALUE(os::resolve_capabilities(*s.process->capabilities));
    p.has_capabilities = true;
    BERTH_TRY(check_capabilities_available(p.capabilities));
  }
  BERTH_TRY(os::check_rlimits(s.process->rlimits));
  const auto& uid_maps = s.linux_->uid_mappings;
  const auto& gid_maps = s.linux_->gid_mappings;
  const auto* user_ns = s.find_namespace(spec::NamespaceType::kUser);
  if (user_ns && user_ns->path.empty() && (uid_maps.empty() || gid_maps.empty()))
    return make_error(config_path +
                      ": linux.uidMappings: a new user namespace needs uid and gid mappings");

  auto layout = BERTH_VALUE(cgroups::detect_layout());
  p.resources = BERTH_VALUE(
      cgroups::parse_resources(s.linux_->resources.raw_json, config_path + ": linux.resources"));
  // The device list the cgroup gets, as runc builds it: the config's rules,
  // then the runtime's default allow list. linux.devices entries get no
  // automatic access: a node may exist and still be denied.
  if (!p.resources.devices.empty())
    for (auto& rule : cgroups::default_device_rules()) p.resources.devices.push_back(rule);
  p.cgroup_layout = layout;
  p.rootfs.pure_cgroup2 = layout.pure_v2();
  // Without cgroups the placement stays empty: create makes and joins
  // nothing, the container stays in the caller's cgroups, and a `cgroup`
  // mount shows an empty tmpfs (or, pure cgroup2 with a cgroup namespace,
  // the caller's cgroup as its root).
  if (globals.cgroups_disabled)
    BERTH_TRY(check_no_cgroup_resources(s.linux_->resources.raw_json, config_path));
  else
    p.cgroup = BERTH_VALUE(cgroups::plan_placement(layout, s.linux_->cgroups_path, options.id));
  for (size_t i = 0; i < layout.hierarchies.size() && i < p.cgroup.dirs.size(); ++i) {
    const auto& h = layout.hierarchies[i];
    std::string name = h.mount_point.substr(h.mount_point.rfind('/') + 1);
    p.rootfs.cgroup_binds.push_back({name, p.cgroup.dirs[i]});
  }
  p.runtime_hooks = !s.hooks.prestart.empty() || !s.hooks.create_runtime.empty();
  if (s.linux_->seccomp) {
    p.seccomp = BERTH_VALUE(os::compile_seccomp(*s.linux_->seccomp));
    for (const auto& w : p.seccomp->warnings)
      std::fprintf(stderr, "berth: warning: %s\n", w.c_str());
  }
  return p;
}

Result<UniqueFd> connect_seccomp_listener(const spec::Spec& spec,
                                          const os::SeccompProgram* program) {
  if (program == nullptr || !program->notify) return UniqueFd();
  const auto& path = spec.linux_->seccomp->listener_path;
  if (path.empty())
    return make_error("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
  auto conn = sys::connect_unix(path);
  if (!conn) return std::move(conn).error().wrap("linux.seccomp.listenerPath");
  return conn;
}

std::string hook_state_json(const std::string& id, ContainerStatus status, pid_t pid,
                            const std::string& bundle,
                            const std::map<std::string, std::string>& annotations) {
  State st;
  st.oci_version = "1.2.0";
  st.id = id;
  st.status = status;
  st.pid = pid;
  st.bundle = bundle;
  st.annotations = annotations;
  // Hooks get the spec's state object: runc's extra fields are harmless.
  return state_json(st, false);
}

}  // namespace berth::container
