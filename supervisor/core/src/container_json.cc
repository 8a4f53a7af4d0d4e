// The JSON form of ContainerConfig and ContainerState (container.h), one
// table of fields each way, through lib/json.

#include "berth/core/container.h"
#include "berth/json/json.h"

namespace berth::core {

namespace {

using json::Value;
using json::Writer;

void put_strings(Writer& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

void put_map(Writer& w, std::string_view key, const std::map<std::string, std::string>& m) {
  w.key(key).begin_object();
  for (const auto& [k, v] : m) w.key(k).string(v);
  w.end_object();
}

// Reading: each getter leaves the field alone when the key is absent and
// fails naming the key when it has the wrong type.
struct Reader {
  const Value& obj;
  std::string what;
  Error bad(std::string_view key, std::string_view want) const {
    return make_error(what + ": `" + std::string(key) + "` is not " + std::string(want), EINVAL);
  }
  Status str(std::string_view key, std::string& out) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    if (!v->is_string()) return bad(key, "a string");
    out = v->as_string();
    return ok_status();
  }
  Status boolean(std::string_view key, bool& out) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    if (!v->is_bool()) return bad(key, "a boolean");
    out = v->as_bool();
    return ok_status();
  }
  template <typename Int>
  Status integer(std::string_view key, Int& out) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    auto n = v->is_number() ? v->as_i64() : std::nullopt;
    if (!n) return bad(key, "an integer");
    out = static_cast<Int>(*n);
    return ok_status();
  }
  Status strings(std::string_view key, std::vector<std::string>& out) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    if (!v->is_array()) return bad(key, "an array of strings");
    out.clear();
    for (const auto& item : v->items()) {
      if (!item.is_string()) return bad(key, "an array of strings");
      out.push_back(item.as_string());
    }
    return ok_status();
  }
  Status map(std::string_view key, std::map<std::string, std::string>& out) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    if (!v->is_object()) return bad(key, "an object of strings");
    out.clear();
    for (const auto& [k, item] : v->members()) {
      if (!item.is_string()) return bad(key, "an object of strings");
      out.emplace(k, item.as_string());
    }
    return ok_status();
  }
  // Arrays of objects: each item read by `one`.
  template <typename T, typename F>
  Status objects(std::string_view key, std::vector<T>& out, F one) const {
    const Value* v = obj.get(key);
    if (!v) return ok_status();
    if (!v->is_array()) return bad(key, "an array of objects");
    out.clear();
    for (const auto& item : v->items()) {
      if (!item.is_object()) return bad(key, "an array of objects");
      T t;
      BERTH_TRY(one(Reader{item, what + " " + std::string(key)}, t));
      out.push_back(std::move(t));
    }
    return ok_status();
  }
};

}  // namespace

std::string to_json(const ContainerConfig& c) {
  Writer w;
  w.begin_object();
  w.key("image").string(c.image);
  put_strings(w, "cmd", c.cmd);
  if (c.entrypoint) put_strings(w, "entrypoint", *c.entrypoint);
  put_strings(w, "env", c.env);
  w.key("working_dir").string(c.working_dir);
  w.key("user").string(c.user);
  put_strings(w, "group_add", c.group_add);
  w.key("tty").boolean(c.tty);
  w.key("open_stdin").boolean(c.open_stdin);
  w.key("stop_signal").string(c.stop_signal);
  if (c.stop_timeout) w.key("stop_timeout").integer(*c.stop_timeout);
  w.key("hostname").string(c.hostname);
  w.key("domainname").string(c.domainname);
  put_map(w, "labels", c.labels);
  w.key("mounts").begin_array();
  for (const auto& m : c.mounts) {
    w.begin_object();
    w.key("type").string(m.type).key("source").string(m.source).key("target").string(m.target);
    w.key("read_only").boolean(m.read_only).key("propagation").string(m.propagation);
    put_strings(w, "options", m.options);
    w.end_object();
  }
  w.end_array();
  w.key("read_only").boolean(c.read_only);
  w.key("privileged").boolean(c.privileged);
  put_strings(w, "cap_add", c.cap_add);
  put_strings(w, "cap_drop", c.cap_drop);
  w.key("seccomp_profile").string(c.seccomp_profile);
  w.key("no_new_privileges").boolean(c.no_new_privileges);
  w.key("resources").begin_object();
  w.key("memory").integer(c.resources.memory).key("memory_swap").integer(c.resources.memory_swap);
  w.key("nano_cpus")
      .integer(c.resources.nano_cpus)
      .key("cpu_shares")
      .integer(c.resources.cpu_shares);
  w.key("pids_limit").integer(c.resources.pids_limit);
  w.end_object();
  w.key("ulimits").begin_array();
  for (const auto& u : c.ulimits)
    w.begin_object()
        .key("name")
        .string(u.name)
        .key("soft")
        .integer(u.soft)
        .key("hard")
        .integer(u.hard)
        .end_object();
  w.end_array();
  w.key("devices").begin_array();
  for (const auto& d : c.devices)
    w.begin_object()
        .key("host_path")
        .string(d.host_path)
        .key("container_path")
        .string(d.container_path)
        .key("permissions")
        .string(d.permissions)
        .end_object();
  w.end_array();
  w.key("init").boolean(c.init);
  w.key("shm_size").integer(c.shm_size);
  put_map(w, "sysctls", c.sysctls);
  w.key("ipc_mode").string(c.ipc_mode).key("pid_mode").string(c.pid_mode);
  w.key("uts_mode").string(c.uts_mode).key("network_mode").string(c.network_mode);
  w.key("runtime").string(c.runtime);
  w.key("restart").begin_object().key("name").string(c.restart.name);
  w.key("max_retries").integer(c.restart.max_retries).end_object();
  w.key("auto_remove").boolean(c.auto_remove);
  put_map(w, "log_options", c.log_options);
  w.end_object();
  return w.str();
}

Result<ContainerConfig> container_config_from_json(std::string_view text, std::string_view what) {
  auto doc = BERTH_VALUE(json::parse(text, what));
  if (!doc.is_object()) return make_error(std::string(what) + ": not a JSON object", EINVAL);
  Reader r{doc, std::string(what)};
  ContainerConfig c;
  BERTH_TRY(r.str("image", c.image));
  BERTH_TRY(r.strings("cmd", c.cmd));
  if (doc.get("entrypoint")) {
    c.entrypoint.emplace();
    BERTH_TRY(r.strings("entrypoint", *c.entrypoint));
  }
  BERTH_TRY(r.strings("env", c.env));
  BERTH_TRY(r.str("working_dir", c.working_dir));
  BERTH_TRY(r.str("user", c.user));
  BERTH_TRY(r.strings("group_add", c.group_add));
  BERTH_TRY(r.boolean("tty", c.tty));
  BERTH_TRY(r.boolean("open_stdin", c.open_stdin));
  BERTH_TRY(r.str("stop_signal", c.stop_signal));
  if (doc.get("stop_timeout")) {
    int t = 0;
    BERTH_TRY(r.integer("stop_timeout", t));
    c.stop_timeout = t;
  }
  BERTH_TRY(r.str("hostname", c.hostname));
  BERTH_TRY(r.str("domainname", c.domainname));
  BERTH_TRY(r.map("labels", c.labels));
  BERTH_TRY(r.objects("mounts", c.mounts, [](const Reader& m, MountSpec& out) -> Status {
    BERTH_TRY(m.str("type", out.type));
    BERTH_TRY(m.str("source", out.source));
    BERTH_TRY(m.str("target", out.target));
    BERTH_TRY(m.boolean("read_only", out.read_only));
    BERTH_TRY(m.str("propagation", out.propagation));
    return m.strings("options", out.options);
  }));
  BERTH_TRY(r.boolean("read_only", c.read_only));
  BERTH_TRY(r.boolean("privileged", c.privileged));
  BERTH_TRY(r.strings("cap_add", c.cap_add));
  BERTH_TRY(r.strings("cap_drop", c.cap_drop));
  BERTH_TRY(r.str("seccomp_profile", c.seccomp_profile));
  BERTH_TRY(r.boolean("no_new_privileges", c.no_new_privileges));
  if (const Value* res = doc.get("resources"); res && res->is_object()) {
    Reader rr{*res, std::string(what) + " resources"};
    BERTH_TRY(rr.integer("memory", c.resources.memory));
    BERTH_TRY(rr.integer("memory_swap", c.resources.memory_swap));
    BERTH_TRY(rr.integer("nano_cpus", c.resources.nano_cpus));
    BERTH_TRY(rr.integer("cpu_shares", c.resources.cpu_shares));
    BERTH_TRY(rr.integer("pids_limit", c.resources.pids_limit));
  }
  BERTH_TRY(r.objects("ulimits", c.ulimits, [](const Reader& u, Ulimit& out) -> Status {
    BERTH_TRY(u.str("name", out.name));
    BERTH_TRY(u.integer("soft", out.soft));
    return u.integer("hard", out.hard);
  }));
  BERTH_TRY(r.objects("devices", c.devices, [](const Reader& d, DeviceMapping& out) -> Status {
    BERTH_TRY(d.str("host_path", out.host_path));
    BERTH_TRY(d.str("container_path", out.container_path));
    return d.str("permissions", out.permissions);
  }));
  BERTH_TRY(r.boolean("init", c.init));
  BERTH_TRY(r.integer("shm_size", c.shm_size));
  BERTH_TRY(r.map("sysctls", c.sysctls));
  BERTH_TRY(r.str("ipc_mode", c.ipc_mode));
  BERTH_TRY(r.str("pid_mode", c.pid_mode));
  BERTH_TRY(r.str("uts_mode", c.uts_mode));
  BERTH_TRY(r.str("network_mode", c.network_mode));
  BERTH_TRY(r.str("runtime", c.runtime));
  if (const Value* rp = doc.get("restart"); rp && rp->is_object()) {
    Reader rr{*rp, std::string(what) + " restart"};
    BERTH_TRY(rr.str("name", c.restart.name));
    BERTH_TRY(rr.integer("max_retries", c.restart.max_retries));
  }
  BERTH_TRY(r.boolean("auto_remove", c.auto_remove));
  BERTH_TRY(r.map("log_options", c.log_options));
  return c;
}

std::string to_json(const ContainerState& s) {
  Writer w;
  w.begin_object();
  w.key("status").string(to_string(s.status));
  w.key("pid").integer(s.pid).key("exit_code").integer(s.exit_code);
  w.key("oom_killed").boolean(s.oom_killed).key("error").string(s.error);
  w.key("started_at_ns").integer(s.started_at_ns).key("finished_at_ns").integer(s.finished_at_ns);
  w.key("restart_count").integer(s.restart_count);
  w.key("stopped_by_user").boolean(s.stopped_by_user);
  w.end_object();
  return w.str();
}

Result<ContainerState> container_state_from_json(std::string_view text, std::string_view what) {
  auto doc = BERTH_VALUE(json::parse(text, what));
  if (!doc.is_object()) return make_error(std::string(what) + ": not a JSON object", EINVAL);
  Reader r{doc, std::string(what)};
  ContainerState s;
  std::string status;
  BERTH_TRY(r.str("status", status));
  auto parsed = container_status_from(status);
  if (!parsed) return make_error(std::string(what) + ": unknown status `" + status + "`", EINVAL);
  s.status = *parsed;
  BERTH_TRY(r.integer("pid", s.pid));
  BERTH_TRY(r.integer("exit_code", s.exit_code));
  BERTH_TRY(r.boolean("oom_killed", s.oom_killed));
  BERTH_TRY(r.str("error", s.error));
  BERTH_TRY(r.integer("started_at_ns", s.started_at_ns));
  BERTH_TRY(r.integer("finished_at_ns", s.finished_at_ns));
  BERTH_TRY(r.integer("restart_count", s.restart_count));
  BERTH_TRY(r.boolean("stopped_by_user", s.stopped_by_user));
  return s;
}

}  // namespace berth::core
