// The container's init (I in sync_protocol.h): forked from `berth create`,
// it builds the container around itself and finally execs the process.
// Single-threaded and between clone and exec: no exceptions, no threads.
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/sys.h"
#include "berth/linux/console.h"
#include "berth/linux/hooks.h"
#include "prepared.h"
#include "sync_protocol.h"

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
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
         ::access(path.c_str(), X_OK) == 0;
}

// args[0] looked up in the container's PATH, as execvp would, but before
// `start` so that a typo fails `create` with a clear error.
Result<std::string> find_executable(const std::string& arg0, const std::vector<std::string>& env) {
  if (arg0.find('/') != std::string::npos) {
    if (is_executable_file(arg0)) return arg0;
    return make_error("exec `" + arg0 + "`: not an executable file in the container", ENOENT);
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

// The checks that follow chdir: the cwd must be inside the container, not a
// directory reached through a leaked host descriptor (CVE-2024-21626).
Status enter_cwd(const std::string& cwd) {
  if (::chdir(cwd.c_str()) != 0) return sys_error("chdir", cwd).wrap("process.cwd");
  char buf[4096];
  if (::getcwd(buf, sizeof buf) == nullptr || buf[0] != '/')
    return make_error("process.cwd: `" + cwd + "` is outside the container", EPERM);
  return {};
}

class Init {
 public:
  Init(const Prepared& p, const InitChannels& ch) : p_(p), ch_(ch), sync_(ch.sync) {}

  [[noreturn]] void run() {
    ::prctl(PR_SET_NAME, "berth:[1:INIT]");
    ::close(ch_.state_lock);  // or the flock would stay held until exec
    ::close(ch_.parent_end);
    auto st = setup();
    if (!st) fail(st.error());
    // Created: wait for `start`.
    auto conn = sys::accept(BorrowedFd(ch_.exec_listener));
    if (!conn) ::_exit(1);
    ::close(ch_.exec_listener);
    char byte;
    if (::read(conn->get(), &byte, 1) != 1) ::_exit(1);
    auto ex = finalize_and_exec();
    // Only reached on failure: `start` reports this text.
    std::string text = ex.error().to_string();
    (void)sys::write_all(*conn, text, "exec.sock");
    ::_exit(127);
  }

 private:
  [[noreturn]] void fail(const Error& e) {
    (void)sync::send(sync_, sync::Type::kError, sync::encode_error(e));
    ::_exit(1);
  }

  Status setup() {
    auto go = BERTH_VALUE(sync::receive(sync_));
    if (go.type != sync::Type::kGo) return make_error("sync: expected go", EPROTO);
    const auto& spec = p_.spec;
    const auto& proc = *spec.process;
    const auto* user_ns = spec.find_namespace(spec::NamespaceType::kUser);
    if (user_ns && user_ns->path.empty()) {
      // Mappings are written now: become the namespace's root, so the rest
      // of the setup runs with its full capabilities.
      if (::setresgid(0, 0, 0) != 0) return sys_error("setresgid in user namespace");
      if (::setresuid(0, 0, 0) != 0) return sys_error("setresuid in user namespace");
    }
    if (!p_.options.no_new_keyring) {
      // A fresh session keyring: no key of the caller's reaches the container.
      std::string name = "_ses." + p_.options.id;
      if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS &&
          errno != EPERM && errno != EACCES)
        return sys_error("join session keyring");
    }
    os::Rootfs rootfs(p_.rootfs);
    BERTH_TRY(rootfs.mount_all());
    if (p_.runtime_hooks) {
      BERTH_TRY(sync::send(sync_, sync::Type::kRunHooks));
      auto done = BERTH_VALUE(sync::receive(sync_));
      if (done.type != sync::Type::kHooksDone) return make_error("sync: expected hooks done", EPROTO);
    }
    BERTH_TRY(os::run_hooks(spec.hooks.create_container, "createContainer", go.payload));
    BERTH_TRY(os::apply_sysctl(spec.linux_->sysctl));
    BERTH_TRY(os::apply_hostname(spec));
    BERTH_TRY(rootfs.finish());
    if (proc.terminal) BERTH_TRY(setup_console());
    if (spec.linux_->personality_domain)
      BERTH_TRY(os::apply_personality(*spec.linux_->personality_domain));
    if (proc.oom_score_adj) BERTH_TRY(os::apply_oom_score_adj(*proc.oom_score_adj));
    BERTH_TRY(os::apply_rlimits(proc.rlimits));
    exec_path_ = BERTH_VALUE(find_executable(proc.args[0], proc.env));
    BERTH_TRY(sync::send(sync_, sync::Type::kReady));
    ::close(ch_.sync);
    return {};
  }

  Status setup_console() {
    const char* ptmx = ::access("/dev/pts/ptmx", F_OK) == 0 ? "/dev/pts/ptmx" : "/dev/ptmx";
    auto pty = BERTH_VALUE(os::open_pty(ptmx, p_.spec.process->console_size));
    int fd = pty.master.get();
    BERTH_TRY(sync::send(sync_, sync::Type::kConsole, pty.slave_path, std::span<const int>(&fd, 1)));
    pty.master.reset();
    BERTH_TRY(os::make_controlling_terminal(pty.slave));
    return {};
  }

  // After `start`: startContainer hooks, then the identity and privileges
  // of the process, in the order the kernel requires:
  //   bounding set (needs CAP_SETPCAP) → keep caps across the uid change →
  //   uid/gid → cwd as that user → capability sets → no_new_privs → exec.
  Status finalize_and_exec() {
    const auto& spec = p_.spec;
    const auto& proc = *spec.process;
    BERTH_TRY(os::run_hooks(spec.hooks.start_container, "startContainer",
                            hook_state_json(p_.options.id, ContainerStatus::kRunning, ::getpid(),
                                            p_.bundle, spec.annotations)));
    if (proc.scheduler) BERTH_TRY(os::apply_scheduler(*proc.scheduler));
    if (proc.io_priority) BERTH_TRY(os::apply_io_priority(*proc.io_priority));
    if (p_.has_capabilities) BERTH_TRY(os::drop_bounding_set(p_.capabilities));
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0) return sys_error("prctl PR_SET_KEEPCAPS");
    const auto* user_ns = spec.find_namespace(spec::NamespaceType::kUser);
    bool setgroups_allowed = true;
    if (user_ns) {
      auto text = sys::read_file("/proc/self/setgroups", 64);
      setgroups_allowed = !text || text->find("deny") == std::string::npos;
    }
    BERTH_TRY(os::apply_user(proc.user, setgroups_allowed));
    if (::prctl(PR_SET_KEEPCAPS, 0) != 0) return sys_error("prctl PR_SET_KEEPCAPS");
    BERTH_TRY(enter_cwd(proc.cwd));
    if (p_.has_capabilities) BERTH_TRY(os::apply_capabilities(p_.capabilities));
    if (proc.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
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
    BERTH_TRY(sys::cloexec_from(3 + p_.options.preserve_fds));
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(exec_path_.c_str(), argv.data(), envp.data());
    return sys_error("exec", proc.args[0]);
  }

  const Prepared& p_;
  const InitChannels& ch_;
  BorrowedFd sync_;
  std::string exec_path_;
};

}  // namespace

void run_init(const Prepared& prepared, const InitChannels& channels) {
  Init init(prepared, channels);
  init.run();
}

}  // namespace berth::container
