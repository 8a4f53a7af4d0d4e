#include "runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/sys.h"
#include "berth/base/sys.h"
#include "berth/json/json.h"

namespace berth::shim {

Result<std::string> resolve_runtime_binary(const std::string& name) {
  if (name.empty()) return make_error("runtime binary: empty name");
  if (name.find('/') != std::string::npos) {
    if (!sys::is_executable(name))
      return make_error("runtime binary `" + name + "`: not an executable file", ENOENT);
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (sys::is_executable(candidate)) return candidate;
    }
    start = end + 1;
  }
  if (auto self = sys::readlink("/proc/self/exe")) {
    std::string candidate = self->substr(0, self->rfind('/')) + "/" + name;
    if (sys::is_executable(candidate)) return candidate;
  }
  return make_error("runtime binary `" + name + "`: not found in PATH nor next to the shim",
                    ENOENT);
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
  return s.substr(i);
}

off_t file_size(const std::string& path) {
  struct stat st {};
  return sys::fstatat(sys::kAtFdcwd, path.c_str(), &st, 0) == 0 ? st.st_size : 0;
}

std::string read_from(const std::string& path, off_t offset) {
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) return {};
  if (sys::lseek(fd->get(), offset, SEEK_SET) < 0) return {};
  auto text = sys::read_all(*fd, 1u << 20, path);
  return text ? *text : std::string();
}

}  // namespace

std::string last_error_in_json_log(std::string_view text) {
  std::string found;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // A runtime may also print plain text (a Go panic, a crash of its init)
    // into the same file: such lines are not its error entries.
    auto entry = json::parse(line, "runtime log");
    if (!entry || !entry->is_object()) continue;
    const json::Value* level = entry->get("level");
    const json::Value* msg = entry->get("msg");
    if (level && level->is_string() && level->as_string() == "error" && msg && msg->is_string())
      found = msg->as_string();
  }
  return found;
}

std::vector<std::string> Runtime::command(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {config_.binary};
  if (!config_.root.empty()) argv.insert(argv.end(), {"--root", config_.root});
  if (!config_.log.empty()) argv.insert(argv.end(), {"--log", config_.log, "--log-format", "json"});
  if (config_.systemd_cgroup) argv.push_back("--systemd-cgroup");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void Runtime::run(std::string verb, std::vector<std::string> args, Stdio stdio, bool capture,
                  Done done) {
  CommandSpec spec;
  spec.capture = capture;
  args.insert(args.begin(), verb);
  spec.argv = command(args);
  for (int i = 0; i < 3; ++i) spec.stdio[i] = stdio.fds[i];
  // Errors of this call are the log lines it appends.
  off_t log_offset = config_.log.empty() ? 0 : file_size(config_.log);
  std::string log = config_.log;
  std::string binary = config_.binary.substr(config_.binary.rfind('/') + 1);
  runner_.run(
      spec, [done = std::move(done), verb, log, log_offset, binary](Result<CommandResult> r) {
        if (!r) {
          done(r.error().wrap(binary + " " + verb), {});
          return;
        }
        if (r->exit_code == 0) {
          done(ok_status(), *r);
          return;
        }
        std::string why =
            log.empty() ? std::string() : last_error_in_json_log(read_from(log, log_offset));
        if (why.empty()) why = trim(r->err);
        if (why.empty()) why = "exit status " + std::to_string(r->exit_code);
        done(Error(0, binary + " " + verb + " failed: " + why), *r);
      });
}

void Runtime::create(const std::string& id, const std::string& bundle, const std::string& pid_file,
                     const std::string& console_socket, Stdio stdio, Done done) {
  std::vector<std::string> args = {"--bundle", bundle, "--pid-file", pid_file};
  if (!console_socket.empty()) args.insert(args.end(), {"--console-socket", console_socket});
  args.push_back(id);
  run("create", std::move(args), stdio, false, std::move(done));
}

void Runtime::start(const std::string& id, Done done) {
  run("start", {id}, {}, true, std::move(done));
}

void Runtime::kill(const std::string& id, int signal, bool all, Done done) {
  std::vector<std::string> args;
  if (all) args.push_back("--all");
  args.insert(args.end(), {id, std::to_string(signal)});
  run("kill", std::move(args), {}, true, std::move(done));
}

void Runtime::remove(const std::string& id, bool force, Done done) {
  std::vector<std::string> args;
  if (force) args.push_back("--force");
  args.push_back(id);
  run("delete", std::move(args), {}, true, std::move(done));
}

void Runtime::ps(const std::string& id, Done done) {
  run("ps", {"--format", "json", id}, {}, true, std::move(done));
}

void Runtime::pause(const std::string& id, Done done) {
  run("pause", {id}, {}, true, std::move(done));
}
void Runtime::resume(const std::string& id, Done done) {
  run("resume", {id}, {}, true, std::move(done));
}

void Runtime::exec(const std::string& id, const std::string& process_json,
                   const std::string& pid_file, const std::string& console_socket, Stdio stdio,
                   Done done) {
  std::vector<std::string> args = {"--process", process_json, "--detach", "--pid-file", pid_file};
  if (!console_socket.empty()) args.insert(args.end(), {"--console-socket", console_socket});
  args.push_back(id);
  run("exec", std::move(args), stdio, false, std::move(done));
}

}  // namespace berth::shim
