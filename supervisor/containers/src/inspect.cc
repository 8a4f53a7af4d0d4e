// docker's `container inspect` object (moby's api/types ContainerJSON, the
// fields docker 20.10 prints, in its order).

#include "berth/base/clock.h"
#include "berth/containers/service.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::containers {

namespace {

void strings(json::Writer& w, std::string_view key, const std::vector<std::string>& v,
             bool null_when_empty = true) {
  w.key(key);
  if (v.empty() && null_when_empty) {
    w.null();
    return;
  }
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

void string_map(json::Writer& w, std::string_view key,
                const std::map<std::string, std::string>& m) {
  w.key(key).begin_object();
  for (const auto& [k, v] : m) w.key(k).string(v);
  w.end_object();
}

}  // namespace

Result<std::string> ContainerService::inspect_json(std::string_view ns, const core::Container& c) {
  const auto& cfg = c.config;
  const auto& s = c.state;
  std::vector<std::string> args = cfg.entrypoint.value_or(std::vector<std::string>{});
  args.insert(args.end(), cfg.cmd.begin(), cfg.cmd.end());
  std::string path = args.empty() ? "" : args.front();
  if (!args.empty()) args.erase(args.begin());
  std::string dir = container_dir(c.id);

  json::Writer w(true);
  w.begin_object();
  w.key("Id").string(c.id);
  w.key("Created").string(rfc3339_utc(c.created_at_ns));
  w.key("Path").string(path);
  strings(w, "Args", args, false);
  w.key("State").begin_object();
  w.key("Status").string(core::to_string(s.status));
  w.key("Running").boolean(s.status == core::ContainerStatus::running ||
                           s.status == core::ContainerStatus::paused);
  w.key("Paused").boolean(s.status == core::ContainerStatus::paused);
  w.key("Restarting").boolean(s.status == core::ContainerStatus::restarting);
  w.key("OOMKilled").boolean(s.oom_killed);
  w.key("Dead").boolean(s.status == core::ContainerStatus::dead);
  w.key("Pid").integer(s.pid);
  w.key("ExitCode").integer(s.exit_code);
  w.key("Error").string(s.error);
  w.key("StartedAt").string(rfc3339_utc(s.started_at_ns));
  w.key("FinishedAt").string(rfc3339_utc(s.finished_at_ns));
  w.end_object();
  w.key("Image").string(c.image_id);
  w.key("ResolvConfPath").string(dir + "/resolv.conf");
  w.key("HostnamePath").string(dir + "/hostname");
  w.key("HostsPath").string(dir + "/hosts");
  w.key("LogPath").string(log_path(c.id));
  w.key("Name").string("/" + c.name);
  w.key("RestartCount").integer(s.restart_count);
  w.key("Driver").string(c.snapshotter);
  w.key("Platform").string("linux");
  w.key("MountLabel").string("");
  w.key("ProcessLabel").string("");
  w.key("AppArmorProfile").string("");
  w.key("ExecIDs").null();

  w.key("HostConfig").begin_object();
  std::vector<std::string> binds;
  for (const auto& m : cfg.mounts)
    if (m.type == "bind") binds.push_back(m.source + ":" + m.target + (m.read_only ? ":ro" : ""));
  strings(w, "Binds", binds);
  w.key("ContainerIDFile").string("");
  w.key("LogConfig").begin_object().key("Type").string("json-file");
  string_map(w, "Config", cfg.log_options);
  w.end_object();
  w.key("NetworkMode").string(cfg.network_mode);
  w.key("PortBindings").begin_object().end_object();
  w.key("RestartPolicy").begin_object();
  w.key("Name").string(cfg.restart.name);
  w.key("MaximumRetryCount").integer(cfg.restart.max_retries);
  w.end_object();
  w.key("AutoRemove").boolean(cfg.auto_remove);
  w.key("VolumeDriver").string("");
  w.key("VolumesFrom").null();
  strings(w, "CapAdd", cfg.cap_add);
  strings(w, "CapDrop", cfg.cap_drop);
  strings(w, "GroupAdd", cfg.group_add);
  w.key("IpcMode").string(cfg.ipc_mode.empty() ? "private" : cfg.ipc_mode);
  w.key("PidMode").string(cfg.pid_mode);
  w.key("Privileged").boolean(cfg.privileged);
  w.key("ReadonlyRootfs").boolean(cfg.read_only);
  std::vector<std::string> security;
  if (cfg.seccomp_profile == "unconfined") security.push_back("seccomp=unconfined");
  if (cfg.no_new_privileges) security.push_back("no-new-privileges");
  strings(w, "SecurityOpt", security);
  w.key("UTSMode").string(cfg.uts_mode);
  w.key("ShmSize").integer(cfg.shm_size ? cfg.shm_size : 64 << 20);
  w.key("Runtime").string(cfg.runtime.empty() ? "berth" : cfg.runtime);
  w.key("Memory").integer(cfg.resources.memory);
  w.key("MemorySwap").integer(cfg.resources.memory_swap);
  w.key("NanoCpus").integer(cfg.resources.nano_cpus);
  w.key("CpuShares").integer(cfg.resources.cpu_shares);
  w.key("PidsLimit");
  if (cfg.resources.pids_limit)
    w.integer(cfg.resources.pids_limit);
  else
    w.null();
  w.key("Ulimits");
  if (cfg.ulimits.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& u : cfg.ulimits)
      w.begin_object()
          .key("Name")
          .string(u.name)
          .key("Hard")
          .integer(u.hard)
          .key("Soft")
          .integer(u.soft)
          .end_object();
    w.end_array();
  }
  w.key("Devices").begin_array();
  for (const auto& d : cfg.devices)
    w.begin_object()
        .key("PathOnHost")
        .string(d.host_path)
        .key("PathInContainer")
        .string(d.container_path)
        .key("CgroupPermissions")
        .string(d.permissions)
        .end_object();
  w.end_array();
  w.key("Init").boolean(cfg.init);
  string_map(w, "Sysctls", cfg.sysctls);
  w.end_object();

  w.key("Mounts").begin_array();
  for (const auto& m : cfg.mounts) {
    w.begin_object();
    w.key("Type").string(m.type);
    w.key("Source").string(m.source);
    w.key("Destination").string(m.target);
    w.key("Mode").string(m.read_only ? "ro" : "");
    w.key("RW").boolean(!m.read_only);
    w.key("Propagation")
        .string(m.type == "bind" ? (m.propagation.empty() ? "rprivate" : m.propagation) : "");
    w.end_object();
  }
  w.end_array();

  w.key("Config").begin_object();
  w.key("Hostname").string(cfg.hostname.empty() ? c.id.substr(0, 12) : cfg.hostname);
  w.key("Domainname").string(cfg.domainname);
  w.key("User").string(cfg.user);
  w.key("AttachStdin").boolean(cfg.open_stdin);
  w.key("AttachStdout").boolean(true);
  w.key("AttachStderr").boolean(true);
  w.key("Tty").boolean(cfg.tty);
  w.key("OpenStdin").boolean(cfg.open_stdin);
  w.key("StdinOnce").boolean(cfg.open_stdin);
  strings(w, "Env", cfg.env);
  strings(w, "Cmd", cfg.cmd);
  w.key("Image").string(cfg.image);
  w.key("Volumes").null();
  w.key("WorkingDir").string(cfg.working_dir);
  if (cfg.entrypoint)
    strings(w, "Entrypoint", *cfg.entrypoint);
  else
    w.key("Entrypoint").null();
  w.key("OnBuild").null();
  string_map(w, "Labels", cfg.labels);
  if (!cfg.stop_signal.empty()) w.key("StopSignal").string(cfg.stop_signal);
  if (cfg.stop_timeout) w.key("StopTimeout").integer(*cfg.stop_timeout);
  w.end_object();

  w.key("NetworkSettings").begin_object();
  w.key("Networks").begin_object().key(cfg.network_mode).begin_object();
  w.key("NetworkID").string(cfg.network_mode).end_object().end_object();
  w.end_object();
  w.end_object();
  (void)ns;
  return w.str();
}

}  // namespace berth::containers
