// The model as runtime-spec JSON.
#include "rules.h"

namespace berth::oci {

namespace {

void strings(json::Writer& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

void write_mount(json::Writer& w, const Mount& m) {
  w.begin_object().key("destination").string(m.destination).key("type").string(m.type);
  w.key("source").string(m.source);
  strings(w, "options", m.options);
  w.end_object();
}

void write_resources(json::Writer& w, const Resources& r) {
  w.key("resources").begin_object().key("devices").begin_array();
  for (const auto& d : r.devices) {
    w.begin_object().key("allow").boolean(d.allow);
    if (!d.type.empty()) w.key("type").string(d.type);
    if (d.major) w.key("major").integer(*d.major);
    if (d.minor) w.key("minor").integer(*d.minor);
    w.key("access").string(d.access).end_object();
  }
  w.end_array();
  if (r.memory_limit || r.memory_swap) {
    w.key("memory").begin_object();
    if (r.memory_limit) w.key("limit").integer(*r.memory_limit);
    if (r.memory_swap) w.key("swap").integer(*r.memory_swap);
    w.end_object();
  }
  if (r.cpu_shares || r.cpu_period || r.cpu_quota) {
    w.key("cpu").begin_object();
    if (r.cpu_shares) w.key("shares").uinteger(*r.cpu_shares);
    if (r.cpu_quota) w.key("quota").integer(*r.cpu_quota);
    if (r.cpu_period) w.key("period").uinteger(*r.cpu_period);
    w.end_object();
  }
  if (r.pids_limit) w.key("pids").begin_object().key("limit").integer(*r.pids_limit).end_object();
  w.end_object();
}

void write_seccomp(json::Writer& w, const Seccomp& s) {
  w.key("seccomp").begin_object().key("defaultAction").string(s.default_action);
  if (s.default_errno_ret) w.key("defaultErrnoRet").uinteger(*s.default_errno_ret);
  if (!s.architectures.empty()) strings(w, "architectures", s.architectures);
  if (!s.flags.empty()) strings(w, "flags", s.flags);
  w.key("syscalls").begin_array();
  for (const auto& r : s.syscalls) {
    w.begin_object();
    strings(w, "names", r.names);
    w.key("action").string(r.action);
    if (r.errno_ret) w.key("errnoRet").uinteger(*r.errno_ret);
    if (!r.args.empty()) {
      w.key("args").begin_array();
      for (const auto& a : r.args)
        w.begin_object()
            .key("index")
            .uinteger(a.index)
            .key("value")
            .uinteger(a.value)
            .key("valueTwo")
            .uinteger(a.value_two)
            .key("op")
            .string(a.op)
            .end_object();
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().end_object();
}

}  // namespace

void write_process(json::Writer& w, const Process& p) {
  w.begin_object().key("terminal").boolean(p.terminal);
  w.key("user").begin_object().key("uid").uinteger(p.user.uid).key("gid").uinteger(p.user.gid);
  w.key("additionalGids").begin_array();
  for (auto g : p.user.additional_gids) w.uinteger(g);
  w.end_array().end_object();
  strings(w, "args", p.args);
  strings(w, "env", p.env);
  w.key("cwd").string(p.cwd);
  w.key("capabilities").begin_object();
  strings(w, "bounding", p.caps.bounding);
  strings(w, "effective", p.caps.effective);
  strings(w, "permitted", p.caps.permitted);
  w.end_object();
  if (!p.rlimits.empty()) {
    w.key("rlimits").begin_array();
    for (const auto& r : p.rlimits)
      w.begin_object()
          .key("type")
          .string(r.type)
          .key("hard")
          .uinteger(r.hard)
          .key("soft")
          .uinteger(r.soft)
          .end_object();
    w.end_array();
  }
  w.key("noNewPrivileges").boolean(p.no_new_privileges);
  w.end_object();
}

Result<std::string> write_spec(const Spec& s) {
  json::Writer w(true);
  w.begin_object().key("ociVersion").string("1.2.0").key("process");
  write_process(w, s.process);
  w.key("root").begin_object().key("path").string(s.root_path);
  w.key("readonly").boolean(s.root_readonly).end_object();
  if (!s.hostname.empty()) w.key("hostname").string(s.hostname);
  if (!s.domainname.empty()) w.key("domainname").string(s.domainname);
  w.key("mounts").begin_array();
  for (const auto& m : s.mounts) write_mount(w, m);
  w.end_array();

  w.key("linux").begin_object();
  if (!s.sysctl.empty()) {
    w.key("sysctl").begin_object();
    for (const auto& [k, v] : s.sysctl) w.key(k).string(v);
    w.end_object();
  }
  write_resources(w, s.resources);
  if (!s.cgroups_path.empty()) w.key("cgroupsPath").string(s.cgroups_path);
  w.key("namespaces").begin_array();
  for (const auto& n : s.namespaces) {
    w.begin_object().key("type").string(n.type);
    if (!n.path.empty()) w.key("path").string(n.path);
    w.end_object();
  }
  w.end_array();
  w.key("devices").begin_array();
  for (const auto& d : s.devices)
    w.begin_object()
        .key("path")
        .string(d.path)
        .key("type")
        .string(d.type)
        .key("major")
        .integer(d.major)
        .key("minor")
        .integer(d.minor)
        .key("fileMode")
        .uinteger(d.file_mode)
        .key("uid")
        .uinteger(d.uid)
        .key("gid")
        .uinteger(d.gid)
        .end_object();
  w.end_array();
  if (s.seccomp) write_seccomp(w, *s.seccomp);
  if (!s.rootfs_propagation.empty()) w.key("rootfsPropagation").string(s.rootfs_propagation);
  if (!s.masked_paths.empty()) strings(w, "maskedPaths", s.masked_paths);
  if (!s.readonly_paths.empty()) strings(w, "readonlyPaths", s.readonly_paths);
  w.end_object().end_object();
  if (!w.ok()) return make_error("config.json: the JSON writer refused the document");
  return w.str();
}

}  // namespace berth::oci
