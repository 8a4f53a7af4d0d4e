// The container's init (I in sync_protocol.h): forked from `berth create`,
// it builds the container around itself and finally execs the process.
// Single-threaded and between clone and exec: no exceptions, no threads.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
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
#include "process_exec.h"
#include "sync_protocol.h"

namespace berth::container {

namespace {

class Init {
 public:
  Init(const Prepared& p, const InitChannels& ch) : p_(p), ch_(ch), sync_(ch.sync) {}

  [[noreturn]] void run() {
    sys::prctl(PR_SET_NAME, "berth:[1:INIT]");
    // Until exec (which resets it) no process of the container may ptrace
    // this one or open its /proc files, which still reach host state.
    sys::prctl(PR_SET_DUMPABLE, 0);
    sys::close_fd(ch_.state_lock);  // or the flock would stay held until exec
    sys::close_fd(ch_.parent_end);
    auto st = setup();
    if (!st) fail(st.error());
    // Created: wait for `start`.
    auto conn = sys::accept(BorrowedFd(ch_.exec_listener));
    if (!conn) sys::exit_immediately(1);
    sys::close_fd(ch_.exec_listener);
    char byte;
    if (sys::read(conn->get(), &byte, 1) != 1) sys::exit_immediately(1);
    auto ex = finalize_and_exec(conn->get());
    // Only reached on failure: `start` reports this text.
    std::string text = ex.error().to_string();
    (void)sys::write_all(*conn, text, "exec.sock");
    sys::exit_immediately(127);
  }

 private:
  [[noreturn]] void fail(const Error& e) {
    (void)sync::send(sync_, sync::Type::kError, sync::encode_error(e));
    sys::exit_immediately(1);
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
      if (sys::setresgid(0, 0, 0) != 0) return sys_error("setresgid in user namespace");
      if (sys::setresuid(0, 0, 0) != 0) return sys_error("setresuid in user namespace");
    }
    // Now that the parent has put us into the container's cgroup, a new
    // cgroup namespace is rooted there.
    if (p_.namespaces.new_cgroup) BERTH_TRY_CTX(sys::unshare(CLONE_NEWCGROUP), "cgroup namespace");
    if (!p_.options.no_new_keyring) {
      // A fresh session keyring: no key of the caller's reaches the container.
      std::string name = "_ses." + p_.options.id;
      if (sys::join_session_keyring(name.c_str()) < 0 && errno != ENOSYS && errno != EPERM &&
          errno != EACCES)
        return sys_error("join session keyring");
    }
    os::Rootfs rootfs(p_.rootfs);
    BERTH_TRY(rootfs.mount_all());
    if (p_.runtime_hooks) {
      BERTH_TRY(sync::send(sync_, sync::Type::kRunHooks));
      auto done = BERTH_VALUE(sync::receive(sync_));
      if (done.type != sync::Type::kHooksDone)
        return make_error("sync: expected hooks done", EPROTO);
    }
    BERTH_TRY(os::run_hooks(spec.hooks.create_container, "createContainer", go.payload));
    BERTH_TRY(os::apply_sysctl(spec.linux_->sysctl));
    BERTH_TRY(os::apply_hostname(spec));
    seccomp_conn_ =
        BERTH_VALUE(connect_seccomp_listener(spec, p_.seccomp ? &*p_.seccomp : nullptr));
    if (p_.seccomp && p_.seccomp->notify)
      seccomp_message_ = BERTH_VALUE(
          os::seccomp_listener_message(go.payload, spec.linux_->seccomp->listener_metadata));
    BERTH_TRY(rootfs.finish());
    if (proc.terminal) BERTH_TRY(setup_console());
    if (spec.linux_->personality_domain)
      BERTH_TRY(os::apply_personality(*spec.linux_->personality_domain));
    if (proc.oom_score_adj) BERTH_TRY(os::apply_oom_score_adj(*proc.oom_score_adj));
    BERTH_TRY(os::apply_rlimits(proc.rlimits));
    exec_path_ = BERTH_VALUE(find_executable(proc.args[0], proc.env));
    BERTH_TRY(sync::send(sync_, sync::Type::kReady));
    sys::close_fd(ch_.sync);
    return {};
  }

  Status setup_console() {
    const char* ptmx = sys::access("/dev/pts/ptmx", F_OK) == 0 ? "/dev/pts/ptmx" : "/dev/ptmx";
    auto pty = BERTH_VALUE(os::open_pty(ptmx, p_.spec.process->console_size));
    int fd = pty.master.get();
    BERTH_TRY(
        sync::send(sync_, sync::Type::kConsole, pty.slave_path, std::span<const int>(&fd, 1)));
    pty.master.reset();
    BERTH_TRY(os::make_controlling_terminal(pty.slave));
    return {};
  }

  // After `start`: startContainer hooks, then identity, privileges, exec.
  Status finalize_and_exec(int start_conn) {
    const auto& spec = p_.spec;
    BERTH_TRY(os::run_hooks(spec.hooks.start_container, "startContainer",
                            hook_state_json(p_.options.id, ContainerStatus::kRunning, sys::getpid(),
                                            p_.bundle, spec.annotations)));
    ExecSecurity security;
    security.capabilities = p_.has_capabilities ? &p_.capabilities : nullptr;
    security.in_user_namespace = spec.has_namespace(spec::NamespaceType::kUser);
    security.preserve_fds = p_.options.preserve_fds;
    security.seccomp = p_.seccomp ? &*p_.seccomp : nullptr;
    security.seccomp_listener_conn = seccomp_conn_.get();
    security.seccomp_listener_message = seccomp_message_;
    security.keep_fds = {start_conn};  // `start` reads a failure from it
    return exec_process(*spec.process, security, exec_path_);
  }

  const Prepared& p_;
  const InitChannels& ch_;
  BorrowedFd sync_;
  std::string exec_path_;
  UniqueFd seccomp_conn_;
  std::string seccomp_message_;
};

}  // namespace

void run_init(const Prepared& prepared, const InitChannels& channels) {
  Init init(prepared, channels);
  init.run();
}

}  // namespace berth::container
