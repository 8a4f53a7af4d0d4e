#include "bundle.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace berth::tasks::testing {

namespace {

std::string own_memory_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string controllers = line.substr(a + 1, b - a - 1);
    if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      std::string path = line.substr(b + 1);
      while (!path.empty() && path.back() == '/') path.pop_back();
      return path;
    }
  }
  return "";
}

std::string test_cgroup_base() {
  return own_memory_cgroup() + "/berth-tasks-" + std::to_string(getpid());
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "]";
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/btk-XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string make_bundle(const std::string& root, const std::string& id, const BundleOptions& o) {
  const std::string bundle = root + "/" + id;
  fs::create_directories(bundle + "/rootfs/bin");
  for (const char* d : {"proc", "dev", "tmp"}) fs::create_directories(bundle + "/rootfs/" + d);
  fs::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox");
  for (const char* tool : {"sh", "sleep", "echo", "cat", "true"})
    fs::create_symlink("busybox", bundle + "/rootfs/bin/" + tool);
  std::string config = o.config_override;
  if (config.empty()) {
    const std::string caps = json_list({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    std::string namespaces = "[{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}";
    if (o.pid_namespace) namespaces += ",{\"type\":\"pid\"}";
    namespaces += "]";
    config = R"({"ociVersion":"1.2.0","process":{"terminal":false,"user":{"uid":0,"gid":0},)"
             R"("args":)" +
             json_list(o.args) +
             R"(,"env":["PATH=/bin"],"cwd":"/","noNewPrivileges":true,)"
             R"("capabilities":{"bounding":)" +
             caps + R"(,"effective":)" + caps + R"(,"permitted":)" + caps +
             R"(}},"root":{"path":"rootfs"},"hostname":"tasks",)"
             R"("mounts":[{"destination":"/proc","type":"proc","source":"proc"},)"
             R"({"destination":"/dev","type":"tmpfs","source":"tmpfs",)"
             R"("options":["nosuid","mode=755","size=1024k"]}],)"
             R"("linux":{"cgroupsPath":")" +
             test_cgroup_base() + "/" + id + R"(","namespaces":)" + namespaces + "}}";
  }
  std::ofstream(bundle + "/config.json") << config;
  return bundle;
}

std::vector<pid_t> shim_pids(const std::string& shim_binary, const std::string& id) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::vector<std::string> argv;
    std::string arg;
    while (std::getline(in, arg, '\0')) argv.push_back(arg);
    if (argv.empty() || argv[0] != shim_binary) continue;
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == "-id" && argv[i + 1] == id) out.push_back(std::stoi(name));
  }
  return out;
}

bool process_alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  if (stat.empty()) return false;
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void clean_up_after(const std::string& shim_binary, const std::string& dir) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    if (cmdline.starts_with(shim_binary + '\0') && cmdline.find(dir + "/") != std::string::npos)
      kill(std::stoi(name), SIGKILL);
  }
  const std::string base = test_cgroup_base();
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    const fs::path top = h.path() / base.substr(1);
    if (!fs::is_directory(top, ec)) continue;
    dirs.push_back(top);
    for (const auto& d : fs::recursive_directory_iterator(top, ec))
      if (d.is_directory(ec)) dirs.push_back(d.path());
  }
  for (const auto& d : dirs) {
    std::istringstream procs(read_text(d / "cgroup.procs"));
    for (pid_t pid; procs >> pid;) kill(pid, SIGKILL);
  }
  // Deepest first; a cgroup empties once its killed processes are reaped.
  for (int attempt = 0; attempt < 50; ++attempt) {
    bool left = false;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
      if (rmdir(it->c_str()) != 0 && errno != ENOENT) left = true;
    if (!left) return;
    usleep(100 * 1000);
  }
}

}  // namespace berth::tasks::testing
