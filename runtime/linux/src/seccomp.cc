// load_seccomp (in the init) and the SCMP_ACT_NOTIFY listener hand-off.

#include "berth/linux/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "berth/base/sys.h"
#include "berth/json/json.h"

namespace berth::os {

Status load_seccomp(const SeccompProgram& p, UniqueFd* listener) {
  if (p.notify && listener == nullptr)
    return make_error(
        "seccomp: the filter has SCMP_ACT_NOTIFY rules but no listener was asked for");
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(p.bpf.size());
  prog.filter = const_cast<struct sock_filter*>(p.bpf.data());
  unsigned int flags = p.flags | (p.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0U);
  // seccomp(2) rather than prctl(PR_SET_SECCOMP), which takes no flags.
  long rc = sys::seccomp_set_mode_filter(flags, &prog);
  if (rc < 0) {
    int err = errno;
    if (err == EACCES && sys::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
      return sys_error(err, "seccomp: load filter (needs no_new_privs or CAP_SYS_ADMIN)");
    return sys_error(err, "seccomp: load filter of " + std::to_string(p.bpf.size()) +
                              " instructions with flags " + std::to_string(flags));
  }
  if (p.notify) listener->reset(static_cast<int>(rc));  // the kernel made it O_CLOEXEC
  return {};
}

Result<std::string> seccomp_listener_message(std::string_view state_json,
                                             std::string_view metadata) {
  constexpr std::string_view kWhat = "seccomp listener state";
  json::Value state = BERTH_VALUE(json::parse(state_json, kWhat));
  if (!state.is_object()) return make_error(std::string(kWhat) + ": must be an object");
  const json::Value* version = state.get("ociVersion");
  if (version == nullptr || !version->is_string())
    return make_error(std::string(kWhat) + ": ociVersion: must be a string");
  const json::Value* pid_value = state.get("pid");
  auto pid = pid_value != nullptr ? pid_value->as_i64() : std::nullopt;
  if (!pid || *pid <= 0)
    return make_error(std::string(kWhat) + ": pid: must be a positive integer");

  json::Writer w;
  w.begin_object();
  w.key("ociVersion").string(version->as_string());
  w.key("fds").begin_array().string("seccompFd").end_array();
  w.key("pid").integer(*pid);
  if (!metadata.empty()) w.key("metadata").string(metadata);
  w.key("state").value(state);
  w.end_object();
  if (!w.ok()) return make_error(std::string(kWhat) + ": cannot write JSON");
  return w.str();
}

Status send_seccomp_listener(std::string_view listener_path, BorrowedFd notify_fd,
                             std::string_view message) {
  const std::string where = "linux.seccomp.listenerPath `" + std::string(listener_path) + "`";
  auto sock = sys::connect_unix(listener_path);
  if (!sock) return std::move(sock).error().wrap(where);
  const int fds[] = {notify_fd.get()};
  BERTH_TRY_CTX(sys::send_message(*sock, message, fds), where);
  return {};  // closing `sock` ends the one-message connection the spec asks for
}

}  // namespace berth::os
