#include "bundle.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "berth/base/sys.h"
#include "common/sha256.h"

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
    if (key == "binary") r.binary = value;
    else if (key == "root") r.root = value;
    else if (key == "systemd_cgroup") r.systemd_cgroup = value == "1";
  }
  if (r.binary.empty()) return std::nullopt;
  return r;
}

Status write_exit_record(const std::string& bundle, const ExitRecord& r) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%u %lld %d\n", r.exit_status, static_cast<long long>(r.exited_at.seconds),
                r.exited_at.nanos);
  return sys::write_file_atomic(bundle + "/" + kExitRecord, buf, 0600);
}

std::optional<ExitRecord> read_exit_record(const std::string& bundle) {
  auto text = sys::read_file(bundle + "/" + kExitRecord, 4096);
  if (!text) return std::nullopt;
  unsigned status = 0;
  long long seconds = 0;
  int nanos = 0;
  if (std::sscanf(text->c_str(), "%u %lld %d", &status, &seconds, &nanos) != 3) return std::nullopt;
  return ExitRecord{status, shim_sys::WallTime{seconds, nanos}};
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

std::string socket_path(const std::string& dir, const std::string& address, const std::string& ns,
                        const std::string& id) {
  // Go's filepath.Join cleans the address: no trailing slash.
  std::string a = address;
  while (a.size() > 1 && a.back() == '/') a.pop_back();
  return dir + "/" + shim_sys::sha256_hex(a + "/" + ns + "/" + id);
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
