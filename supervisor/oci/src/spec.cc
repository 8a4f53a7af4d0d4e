// generate_spec and generate_exec_process: the rules of rules.h applied in
// the order moby's createSpec applies its options (user before
// capabilities, capabilities before seccomp: the profile's conditions read
// the bounding set).
#include "berth/oci/spec.h"

#include <unistd.h>

#include <algorithm>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace data {
// Generated from data/default-seccomp.json by cmake/embed.cmake.
extern const char kDefaultSeccomp[];
extern const size_t kDefaultSeccompSize;
}  // namespace data

std::string_view default_seccomp_profile() {
  return {data::kDefaultSeccomp, data::kDefaultSeccompSize};
}

namespace {

bool is_hex64(std::string_view id) {
  return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string first_line(std::string s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

Status check_input(const SpecInput& in) {
  if (!in.config || !in.image) return core::invalid_argument("spec: no container or image config");
  if (!is_hex64(in.id)) return core::invalid_argument("spec: id `" + in.id + "` is not 64 hex");
  if (in.rootfs.empty() || in.rootfs.front() != '/')
    return core::invalid_argument("spec: rootfs `" + in.rootfs + "` is not an absolute path");
  return ok_status();
}

// Config.Hostname as docker fills it: the user's, the host's with
// --network host, else the short id.
Result<std::string> hostname_of(const SpecInput& in) {
  if (!in.config->hostname.empty()) return in.config->hostname;
  if (in.config->network_mode == "host")
    return first_line(BERTH_VALUE(sys::read_file("/proc/sys/kernel/hostname")));
  return in.id.substr(0, 12);
}

Result<uint64_t> host_caps(const SpecInput& in) {
  if (in.host_capabilities) return *in.host_capabilities;
  return current_capabilities();
}

// The container's working dir: -w, the image's, "/"; absolute, cleaned.
Result<std::string> cwd_of(const std::string& w, const core::ImageConfig& image) {
  std::string dir = !w.empty() ? w : !image.working_dir.empty() ? image.working_dir : "/";
  if (dir.front() != '/')
    return core::invalid_argument("the working directory '" + dir +
                                  "' is invalid, it needs to be an absolute path");
  return clean_path(dir);
}

void add_home(std::vector<std::string>& env, const User& user) {
  // runc adds HOME from the image's passwd at exec; berth and crun see it
  // here already, so every runtime starts the same environment.
  bool has = std::any_of(env.begin(), env.end(),
                         [](const std::string& kv) { return kv.rfind("HOME=", 0) == 0; });
  if (!has) env.push_back("HOME=" + (user.home.empty() ? std::string("/") : user.home));
}

std::string user_of(const SpecInput& in) {
  return !in.config->user.empty() ? in.config->user : in.image->user;
}

// The container's process without its command: user, env, cwd, caps,
// rlimits, no_new_privs.
Result<Process> base_process(const SpecInput& in, const std::string& hostname) {
  const core::ContainerConfig& c = *in.config;
  Process p;
  p.terminal = c.tty;
  p.user = BERTH_VALUE(resolve_user(in.rootfs, user_of(in), c.group_add));
  p.env = container_env(c, *in.image, hostname, c.tty);
  add_home(p.env, p.user);
  p.cwd = BERTH_VALUE(cwd_of(c.working_dir, *in.image));
  auto caps = BERTH_VALUE(
      tweak_capabilities(c.cap_add, c.cap_drop, c.privileged, BERTH_VALUE(host_caps(in))));
  p.caps = capabilities_for(caps, p.user.uid);
  p.rlimits = BERTH_VALUE(rlimits_of(c.ulimits));
  p.no_new_privileges = c.no_new_privileges;
  return p;
}

Result<std::string> kernel_release(const SpecInput& in) {
  if (!in.kernel_release.empty()) return in.kernel_release;
  return first_line(BERTH_VALUE(sys::read_file("/proc/sys/kernel/osrelease")));
}

}  // namespace

Result<std::string> generate_spec(const SpecInput& in) {
  BERTH_TRY(check_input(in));
  const core::ContainerConfig& c = *in.config;
  Spec spec;
  std::string hostname = BERTH_VALUE(hostname_of(in));
  spec.process = BERTH_VALUE(base_process(in, hostname));
  spec.process.args = BERTH_VALUE(command_of(c, *in.image));
  bool pid_private = c.pid_mode.empty() || c.pid_mode == "private";
  if (c.init && pid_private) {
    spec.process.args.insert(spec.process.args.begin(), {"/sbin/docker-init", "--"});
  }

  spec.root_path = in.rootfs;
  spec.root_readonly = c.read_only;
  spec.namespaces = BERTH_VALUE(build_namespaces(in));
  auto has_ns = [&](std::string_view t) {
    return std::any_of(spec.namespaces.begin(), spec.namespaces.end(),
                       [&](const Namespace& n) { return n.type == t; });
  };
  // With the host's uts namespace the runtime must not set a hostname.
  if (has_ns("uts")) {
    spec.hostname = hostname;
    spec.domainname = c.domainname;
  }
  spec.mounts = BERTH_VALUE(build_mounts(in, spec));
  if (!c.privileged) {
    spec.masked_paths = kMaskedPaths;
    spec.readonly_paths = kReadonlyPaths;
  }
  BERTH_TRY(build_devices(in, spec));
  auto devices = std::move(spec.resources.devices);
  int cpus = in.host_cpus > 0 ? in.host_cpus : static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  spec.resources = BERTH_VALUE(build_resources(c.resources, cpus));
  spec.resources.devices = std::move(devices);

  // WithCommonOptions' defaults for a private network namespace (ping
  // without CAP_NET_RAW, low ports without CAP_NET_BIND_SERVICE); the
  // user's --sysctl wins.
  const auto& nm = c.network_mode;
  if (nm != "host" && nm.rfind("container:", 0) != 0) {
    spec.sysctl["net.ipv4.ping_group_range"] = "0 2147483647";
    spec.sysctl["net.ipv4.ip_unprivileged_port_start"] = "0";
  }
  BERTH_TRY(validate_sysctls(c.sysctls, spec.namespaces));
  for (const auto& [k, v] : c.sysctls) spec.sysctl[k] = v;

  if (c.seccomp_profile != "unconfined" && !c.privileged) {
    bool custom = !c.seccomp_profile.empty();
    spec.seccomp = BERTH_VALUE(
        convert_seccomp(custom ? std::string_view(c.seccomp_profile) : default_seccomp_profile(),
                        spec.process.caps.bounding, BERTH_VALUE(kernel_release(in)),
                        custom ? "seccomp profile" : "default seccomp profile"));
  }
  spec.cgroups_path = in.cgroups_path;
  return write_spec(spec);
}

Result<std::string> generate_exec_process(const SpecInput& in, const ExecOptions& exec) {
  BERTH_TRY(check_input(in));
  if (exec.args.empty()) return core::invalid_argument("exec: no command specified");
  const core::ContainerConfig& c = *in.config;
  std::string hostname = BERTH_VALUE(hostname_of(in));
  Process p = BERTH_VALUE(base_process(in, hostname));
  p.args = exec.args;
  p.terminal = exec.tty;
  // daemon/exec.go: the container's environment for the exec's tty, then
  // the exec's -e on top.
  p.env = replace_or_append_env(container_env(c, *in.image, hostname, exec.tty), exec.env);
  if (!exec.user.empty()) p.user = BERTH_VALUE(resolve_user(in.rootfs, exec.user, c.group_add));
  add_home(p.env, p.user);
  if (!exec.working_dir.empty()) p.cwd = BERTH_VALUE(cwd_of(exec.working_dir, *in.image));
  auto caps = exec.privileged ? capabilities_in(BERTH_VALUE(host_caps(in))) : p.caps.bounding;
  p.caps = exec.privileged ? Capabilities{caps, caps, caps} : capabilities_for(caps, p.user.uid);
  json::Writer w(true);
  write_process(w, p);
  if (!w.ok()) return make_error("exec process: the JSON writer refused the document");
  return w.str();
}

}  // namespace berth::oci
