#include "bundle.h"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "berth/base/sys.h"
#include "berth/json/json.h"
#include "berth/base/sha256.h"

namespace berth::shim {

Status write_runtime_record(const std::string& bundle, const RuntimeRecord& r) {
  std::string text = "binary=" + r.binary + "\nroot=" + r.root +
                     "\nsystemd_cgroup=" + (r.systemd_cgroup ? "1" : "0") + "\n";
  return sys::write_file_atomic(bundle + "/" + kRuntimeRecord, text, 0600);
}

std::optional<RuntimeRecord> read_runtime_record(const std::string& bundle) {
  auto text = sys::read_file(bundle + "/" + kRuntimeRecord, 64 * 1024);
  if (!text) return std::nullopt;
  RuntimeRecord r;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "binary")
      r.binary = value;
    else if (key == "root")
      r.root = value;
    else if (key == "systemd_cgroup")
      r.systemd_cgroup = value == "1";
  }
  if (r.binary.empty()) return std::nullopt;
  return r;
}

Status write_exit_record(const std::string& bundle, const ExitRecord& r) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%u %lld %d\n", r.exit_status,
                static_cast<long long>(r.exited_at.seconds), r.exited_at.nanos);
  return sys::write_file_atomic(bundle + "/" + kExitRecord, buf, 0600);
}

std::optional<ExitRecord> read_exit_record(const std::string& bundle) {
  auto text = sys::read_file(bundle + "/" + kExitRecord, 4096);
  if (!text) return std::nullopt;
  // "<status> <seconds> <nanos>" (strtoll, not sscanf: scanf's machinery
  // would add 40 KiB of text, and so of resident memory, to every shim).
  const char* p = text->c_str();
  long long fields[3];
  for (auto& f : fields) {
    char* end = nullptr;
    errno = 0;
    f = std::strtoll(p, &end, 10);
    if (end == p || errno != 0) return std::nullopt;
    p = end;
  }
  if (fields[0] < 0 || fields[0] > UINT32_MAX || fields[2] < 0 || fields[2] > 999999999)
    return std::nullopt;
  return ExitRecord{static_cast<uint32_t>(fields[0]),
                    sys::WallTime{fields[1], static_cast<int32_t>(fields[2])}};
}

Result<pid_t> read_pid_file(const std::string& path) {
  auto text = BERTH_VALUE(sys::read_file(path, 64));
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  while (end && (*end == '\n' || *end == ' ')) ++end;
  if (pid <= 0 || end == nullptr || *end != '\0')
    return make_error("pid file `" + path + "`: not a pid: `" + text + "`");
  return static_cast<pid_t>(pid);
}

Result<BundleSpec> parse_bundle_spec(std::string_view text) {
  auto doc = BERTH_VALUE(json::parse(text, "config.json"));
  if (!doc.is_object()) return make_error("config.json: not a JSON object");
  BundleSpec spec;
  if (const auto* a = doc.get("annotations"); a && a->is_object())
    for (const auto& [k, v] : a->members())
      if (v.is_string()) spec.annotations[k] = v.as_string();
  const auto* lx = doc.get("linux");
  const auto* nss = lx && lx->is_object() ? lx->get("namespaces") : nullptr;
  if (nss && nss->is_array()) {
    for (const auto& ns : nss->items()) {
      if (!ns.is_object()) continue;
      const auto* type = ns.get("type");
      const auto* path = ns.get("path");
      bool no_path = !path || (path->is_string() && path->as_string().empty()) || path->is_null();
      if (type && type->is_string() && type->as_string() == "pid" && no_path)
        spec.own_pid_namespace = true;
    }
  }
  return spec;
}

Result<BundleSpec> read_bundle_spec(const std::string& bundle) {
  auto text = BERTH_VALUE(sys::read_file(bundle + "/config.json"));
  return parse_bundle_spec(text);
}

std::string shim_group(const BundleSpec& spec) {
  for (const char* key : kGroupAnnotations) {
    auto it = spec.annotations.find(key);
    if (it != spec.annotations.end() && !it->second.empty()) return it->second;
  }
  return {};
}

std::string socket_path(const std::string& dir, const std::string& address, const std::string& ns,
                        const std::string& id) {
  // Go's filepath.Join cleans the address: no trailing slash.
  std::string a = address;
  while (a.size() > 1 && a.back() == '/') a.pop_back();
  return dir + "/" + sha256_hex(a + "/" + ns + "/" + id);
}

bool valid_identifier(const std::string& id) {
  if (id.empty() || id.size() > 76) return false;
  bool prev_sep = true;  // no separator first
  for (char c : id) {
    bool alnum = std::isalnum(static_cast<unsigned char>(c));
    bool sep = c == '.' || c == '_' || c == '-';
    if (!alnum && !sep) return false;
    if (sep && prev_sep) return false;
    prev_sep = sep;
  }
  return !prev_sep;
}

}  // namespace berth::shim
