// berth-oci-spec: prints the config.json generate_spec makes (or, with an
// "exec" member, the exec's process) for a JSON description on stdin:
//
//   {"id": "<64 hex>", "rootfs": "/abs", "image": {<OCI image config>},
//    "config": {<core::ContainerConfig fields, snake_case>},
//    "mounts": [{"type", "source", "target", "read_only", "propagation", "options"}],
//    "hostname_file", "hosts_file", "resolv_file", "namespace_paths": {},
//    "cgroup_v2", "cgroups_path", "init_path", "host_capabilities", "kernel_release",
//    "exec": {"args", "env", "user", "working_dir", "tty", "privileged"}}
//
// A test tool for spec-tests/supervisor/test_oci_spec.py; errors go to
// stderr with exit status 1.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "berth/base/sys.h"
#include "berth/json/json.h"
#include "berth/oci/spec.h"

using berth::json::Value;

namespace {

std::string str(const Value& o, std::string_view k) {
  const Value* v = o.get(k);
  return v && v->is_string() ? v->as_string() : std::string();
}

bool flag(const Value& o, std::string_view k) {
  const Value* v = o.get(k);
  return v && v->is_bool() && v->as_bool();
}

int64_t num(const Value& o, std::string_view k) {
  const Value* v = o.get(k);
  return v && v->is_number() ? v->as_i64().value_or(0) : 0;
}

std::vector<std::string> strs(const Value& o, std::string_view k) {
  std::vector<std::string> out;
  if (const Value* v = o.get(k); v && v->is_array())
    for (const auto& s : v->items()) out.push_back(s.as_string());
  return out;
}

std::map<std::string, std::string> smap(const Value& o, std::string_view k) {
  std::map<std::string, std::string> out;
  if (const Value* v = o.get(k); v && v->is_object())
    for (const auto& [key, val] : v->members()) out[key] = val.as_string();
  return out;
}

std::vector<berth::core::MountSpec> mounts(const Value& o, std::string_view k) {
  std::vector<berth::core::MountSpec> out;
  if (const Value* v = o.get(k); v && v->is_array())
    for (const auto& m : v->items())
      out.push_back({str(m, "type"), str(m, "source"), str(m, "target"), flag(m, "read_only"),
                     str(m, "propagation"), strs(m, "options")});
  return out;
}

berth::core::ContainerConfig container_config(const Value& o) {
  berth::core::ContainerConfig c;
  c.cmd = strs(o, "cmd");
  if (o.get("entrypoint")) c.entrypoint = strs(o, "entrypoint");
  c.env = strs(o, "env");
  c.working_dir = str(o, "working_dir");
  c.user = str(o, "user");
  c.group_add = strs(o, "group_add");
  c.tty = flag(o, "tty");
  c.hostname = str(o, "hostname");
  c.domainname = str(o, "domainname");
  c.read_only = flag(o, "read_only");
  c.privileged = flag(o, "privileged");
  c.cap_add = strs(o, "cap_add");
  c.cap_drop = strs(o, "cap_drop");
  c.seccomp_profile = str(o, "seccomp_profile");
  c.no_new_privileges = flag(o, "no_new_privileges");
  c.resources = {num(o, "memory"), num(o, "memory_swap"), num(o, "nano_cpus"), num(o, "cpu_shares"),
                 num(o, "pids_limit")};
  if (const Value* v = o.get("ulimits"); v && v->is_array())
    for (const auto& u : v->items())
      c.ulimits.push_back({str(u, "name"), num(u, "soft"), num(u, "hard")});
  if (const Value* v = o.get("devices"); v && v->is_array())
    for (const auto& d : v->items())
      c.devices.push_back({str(d, "host_path"), str(d, "container_path"),
                           str(d, "permissions").empty() ? "rwm" : str(d, "permissions")});
  c.init = flag(o, "init");
  c.shm_size = num(o, "shm_size");
  c.sysctls = smap(o, "sysctls");
  c.ipc_mode = str(o, "ipc_mode");
  c.pid_mode = str(o, "pid_mode");
  c.uts_mode = str(o, "uts_mode");
  c.network_mode = str(o, "network_mode");
  return c;
}

}  // namespace

int main() {
  auto input = berth::sys::read_all(berth::BorrowedFd(STDIN_FILENO), 16 << 20, "stdin");
  if (!input.ok()) {
    std::fprintf(stderr, "%s\n", input.error().to_string().c_str());
    return 1;
  }
  auto doc = berth::json::parse(*input, "stdin");
  if (!doc.ok() || !doc->is_object()) {
    std::fprintf(stderr, "stdin: not a JSON object\n");
    return 1;
  }
  const Value empty = Value::object({});
  const Value* cfg = doc->get("config");
  auto config = container_config(cfg ? *cfg : empty);
  std::string image_text =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]"
      "}}";
  if (const Value* img = doc->get("image")) {
    berth::json::Writer w;
    w.value(*img);
    image_text = w.str();
  }
  auto image = berth::core::parse_config(image_text, "image config");
  if (!image.ok()) {
    std::fprintf(stderr, "%s\n", image.error().to_string().c_str());
    return 1;
  }
  berth::oci::SpecInput in;
  in.id = str(*doc, "id");
  in.config = &config;
  in.image = &*image;
  in.rootfs = str(*doc, "rootfs");
  in.hostname_file = str(*doc, "hostname_file");
  in.hosts_file = str(*doc, "hosts_file");
  in.resolv_file = str(*doc, "resolv_file");
  in.mounts = mounts(*doc, "mounts");
  in.namespace_paths = smap(*doc, "namespace_paths");
  in.cgroup_v2 = flag(*doc, "cgroup_v2");
  in.cgroups_path = str(*doc, "cgroups_path");
  in.init_path = str(*doc, "init_path");
  if (const Value* v = doc->get("host_capabilities"); v && v->is_number())
    in.host_capabilities = v->as_u64();
  in.kernel_release = str(*doc, "kernel_release");
  berth::Result<std::string> out = std::string();
  if (const Value* e = doc->get("exec")) {
    berth::oci::ExecOptions exec{strs(*e, "args"),       strs(*e, "env"), str(*e, "user"),
                                 str(*e, "working_dir"), flag(*e, "tty"), flag(*e, "privileged")};
    out = berth::oci::generate_exec_process(in, exec);
  } else {
    // berthd's order: the working dir is made in the mounted rootfs, then
    // the spec is written.
    auto made = berth::oci::create_working_dir(in);
    out = made.ok() ? berth::oci::generate_spec(in) : berth::Result<std::string>(made.error());
  }
  if (!out.ok()) {
    std::fprintf(stderr, "%s\n", out.error().to_string().c_str());
    return 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}
