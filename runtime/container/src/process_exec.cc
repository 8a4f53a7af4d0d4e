#include "process_exec.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "berth/base/sys.h"

namespace berth::container {

namespace {

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return {};
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return sys::fstatat(sys::kAtFdcwd, path.c_str(), &st, 0) == 0 && S_ISREG(st.st_mode) &&
         (st.st_mode & 0111) && sys::access(path.c_str(), X_OK) == 0;
}

// HOME from the container's /etc/passwd when the config does not set it.
std::string home_for(uint32_t uid) {
  auto passwd = sys::read_file("/etc/passwd", 1 << 20);
  if (!passwd) return "/";
  size_t i = 0;
  while (i < passwd->size()) {
    size_t end = passwd->find('\n', i);
    if (end == std::string::npos) end = passwd->size();
    std::string line = passwd->substr(i, end - i);
    i = end + 1;
    std::vector<std::string> fields;
    size_t a = 0;
    for (size_t b; (b = line.find(':', a)) != std::string::npos; a = b + 1)
      fields.push_back(line.substr(a, b - a));
    fields.push_back(line.substr(a));
    if (fields.size() >= 6 && fields[2] == std::to_string(uid)) return fields[5];
  }
  return "/";
}

bool cwd_reachable() {
  char buf[4096];
  return sys::getcwd(buf, sizeof buf) != nullptr && buf[0] == '/';
}

// The cwd must be inside the container, not a directory reached through a
// leaked host descriptor (CVE-2024-21626): getcwd says "(unreachable)" then.
// Checked before any seccomp filter is loaded, since a profile may deny
// getcwd, and with the runtime's own credentials (as runc first tries):
// returns the directory's identity, or nothing when only the container's
// user may enter it (EACCES on a root-squashed mount).
Result<std::optional<struct stat>> check_cwd(const std::string& cwd) {
  if (sys::chdir(cwd.c_str()) != 0) {
    if (errno == EACCES || errno == EPERM) return std::optional<struct stat>();
    return sys_error("chdir", cwd).wrap("process.cwd");
  }
  if (!cwd_reachable())
    return make_error("process.cwd: `" + cwd + "` is outside the container", EPERM);
  return std::optional<struct stat>(BERTH_VALUE(sys::stat(".")));
}

// The cwd entered as the container's user, so its permissions apply. The
// directory must be the one check_cwd saw; when that check could not enter
// it, getcwd decides now (and a filter denying it fails closed).
Status enter_cwd(const std::string& cwd, const std::optional<struct stat>& checked) {
  if (sys::chdir(cwd.c_str()) != 0) return sys_error("chdir", cwd).wrap("process.cwd");
  if (checked) {
    auto now = BERTH_VALUE(sys::stat("."));
    if (now.st_dev == checked->st_dev && now.st_ino == checked->st_ino) return {};
  } else if (cwd_reachable()) {
    return {};
  }
  return make_error("process.cwd: `" + cwd + "` is outside the container", EPERM);
}

// Closes every descriptor the caller gave the runtime, but stdio, the
// preserved ones and those the runtime still needs until exec, before the
// first chdir: /proc/self/fd/N of a closed descriptor names nothing, so the
// cwd check above is not the only defence (CVE-2024-21626).
Status close_inherited(const ExecSecurity& security) {
  std::vector<int> keep = security.keep_fds;
  if (security.seccomp_listener_conn >= 0) keep.push_back(security.seccomp_listener_conn);
  return sys::close_from(3 + security.preserve_fds, keep);
}

Status load_filter(const ExecSecurity& security) {
  UniqueFd listener;
  BERTH_TRY_CTX(os::load_seccomp(*security.seccomp, &listener), "linux.seccomp");
  if (listener.valid()) {
    if (security.seccomp_listener_conn < 0)
      return make_error("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    int fd = listener.get();
    BERTH_TRY_CTX(
        sys::send_message(BorrowedFd(security.seccomp_listener_conn),
                          security.seccomp_listener_message, std::span<const int>(&fd, 1)),
        "linux.seccomp.listenerPath");
    sys::close_fd(security.seccomp_listener_conn);
  }
  return {};
}

}  // namespace

Result<std::string> find_executable(const std::string& arg0, const std::vector<std::string>& env) {
  if (arg0.find('/') != std::string::npos) {
    if (is_executable_file(arg0)) return arg0;
    // Callers map these to docker's 127 (missing) and 126 (not runnable),
    // so the two causes keep runc's words apart.
    struct stat st {};
    if (sys::fstatat(sys::kAtFdcwd, arg0.c_str(), &st, 0) != 0)
      return make_error("exec `" + arg0 + "`: no such file or directory in the container", ENOENT);
    return make_error("exec `" + arg0 + "`: permission denied: not an executable file", EACCES);
  }
  std::string path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    std::string dir = path.substr(i, j - i);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + arg0;
    if (is_executable_file(candidate)) return candidate;
    i = j + 1;
  }
  return make_error("exec `" + arg0 + "`: executable file not found in $PATH", ENOENT);
}

Status exec_process(const spec::Process& proc, const ExecSecurity& security,
                    const std::string& exec_path) {
  if (proc.scheduler) BERTH_TRY(os::apply_scheduler(*proc.scheduler));
  if (proc.io_priority) BERTH_TRY(os::apply_io_priority(*proc.io_priority));
  BERTH_TRY(close_inherited(security));
  auto checked_cwd = BERTH_VALUE(check_cwd(proc.cwd));
  bool early_seccomp = security.seccomp && !proc.no_new_privileges;
  if (early_seccomp) BERTH_TRY(load_filter(security));
  if (security.capabilities) BERTH_TRY(os::drop_bounding_set(*security.capabilities));
  if (sys::prctl(PR_SET_KEEPCAPS, 1) != 0) return sys_error("prctl PR_SET_KEEPCAPS");
  bool setgroups_allowed = true;
  if (security.in_user_namespace) {
    auto text = sys::read_file("/proc/self/setgroups", 64);
    setgroups_allowed = !text || text->find("deny") == std::string::npos;
  }
  BERTH_TRY(os::apply_user(proc.user, setgroups_allowed));
  if (sys::prctl(PR_SET_KEEPCAPS, 0) != 0) return sys_error("prctl PR_SET_KEEPCAPS");
  BERTH_TRY(enter_cwd(proc.cwd, checked_cwd));
  if (security.capabilities) BERTH_TRY(os::apply_capabilities(*security.capabilities));
  if (proc.no_new_privileges && sys::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return sys_error("prctl PR_SET_NO_NEW_PRIVS");

  std::vector<std::string> env = proc.env;
  if (env_value(env, "HOME").empty()) env.push_back("HOME=" + home_for(proc.user.uid));
  std::vector<char*> argv, envp;
  for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // Nothing of the host's but stdio and the preserved descriptors may
  // cross the exec (CVE-2024-21626).
  BERTH_TRY(sys::cloexec_from(3 + security.preserve_fds));
  sigset_t none;
  sigemptyset(&none);
  sys::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (security.seccomp && !early_seccomp) BERTH_TRY(load_filter(security));
  sys::execve(exec_path.c_str(), argv.data(), envp.data());
  return sys_error("exec", proc.args[0]);
}

}  // namespace berth::container
