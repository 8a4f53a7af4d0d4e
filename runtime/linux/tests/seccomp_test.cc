#include "berth/linux/seccomp.h"

#include <doctest/doctest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/json/json.h"

using berth::os::compile_seccomp;
using berth::os::load_seccomp;
using berth::os::SeccompProgram;
namespace spec = berth::spec;

namespace {

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                          std::optional<uint32_t> errno_ret = {},
                          std::vector<spec::SeccompArg> args = {}) {
  spec::SeccompSyscall sc;
  sc.names = std::move(names);
  sc.action = std::move(action);
  sc.errno_ret = errno_ret;
  sc.args = std::move(args);
  return sc;
}

spec::Seccomp profile(std::string default_action, std::vector<spec::SeccompSyscall> rules) {
  spec::Seccomp s;
  s.default_action = std::move(default_action);
  s.syscalls = std::move(rules);
  return s;
}

// The minimum a child needs to end after a deny-by-default filter.
spec::SeccompSyscall allow_exit() { return rule({"exit", "exit_group"}, "SCMP_ACT_ALLOW"); }

SeccompProgram compile_ok(const spec::Seccomp& s) {
  auto p = compile_seccomp(s);
  if (!p) FAIL(p.error().to_string());
  return std::move(p).value();
}

std::string compile_error(const spec::Seccomp& s) {
  auto p = compile_seccomp(s);
  REQUIRE_FALSE(p.ok());
  return p.error().to_string();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// The errno of a raw syscall's result: 0 when it succeeded.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

// Loads `p` in a forked child (the test process itself stays unfiltered)
// and runs fn there. Returns fn's result as the exit code, or 128 + signal
// when the filter killed the child. fn returns an errno so that a failure
// shows what the syscall answered.
template <class F>
int run_filtered(const SeccompProgram& p, F fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Set no_new_privs so that the test also runs without CAP_SYS_ADMIN.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(200);
    auto st = load_seccomp(p, nullptr);
    if (!st) {
      std::fprintf(stderr, "child: %s\n", st.error().to_string().c_str());
      ::_exit(201);
    }
    // exit_group directly: _exit goes through sanitizer interceptors that
    // make syscalls a deny-by-default filter refuses.
    ::syscall(SYS_exit_group, fn());
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int getcwd_errno() {
  char buf[256];
  return errno_of(::syscall(SYS_getcwd, buf, sizeof buf));
}

// getpriority(PRIO_USER, who) reaches the kernel with two plain integer
// arguments and has no side effect: a good target for argument filters.
int getpriority_errno(long which, long who) {
  return errno_of(::syscall(SYS_getpriority, which, who));
}

}  // namespace

TEST_CASE("SCMP_ACT_ERRNO: getcwd fails with EPERM, or with errnoRet") {
  auto p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")}));
  CHECK_FALSE(p.notify);
  CHECK(p.warnings.empty());
  CHECK(run_filtered(p, getcwd_errno) == EPERM);

  p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO", ENOTTY)}));
  CHECK(run_filtered(p, getcwd_errno) == ENOTTY);
  // The test process itself is not filtered.
  CHECK(getcwd_errno() == 0);
}

TEST_CASE("actions: each does what the kernel documents") {
  struct Case {
    const char* action;
    int expected;  // errno, or 128 + signal
  };
  const Case cases[] = {
      {"SCMP_ACT_KILL_PROCESS", 128 + SIGSYS},
      {"SCMP_ACT_KILL_THREAD", 128 + SIGSYS},  // the only thread: the process dies
      {"SCMP_ACT_KILL", 128 + SIGSYS},
      {"SCMP_ACT_TRAP", 128 + SIGSYS},  // SIGSYS with its default disposition
      {"SCMP_ACT_TRACE", ENOSYS},       // no tracer attached: the kernel answers ENOSYS
      {"SCMP_ACT_LOG", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.action);
    auto p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, c.action)}));
    CHECK(run_filtered(p, getcwd_errno) == c.expected);
  }
}

TEST_CASE("defaultAction with defaultErrnoRet; ALLOW rules let syscalls through") {
  auto s = profile("SCMP_ACT_ERRNO", {allow_exit(), rule({"getppid"}, "SCMP_ACT_ALLOW")});
  s.default_errno_ret = EACCES;
  auto p = compile_ok(s);
  CHECK(run_filtered(p, [] {
          if (errno_of(::syscall(SYS_getppid)) != 0) return 99;
          return getcwd_errno();
        }) == EACCES);
}

TEST_CASE("args: every operator on getpriority's second argument") {
  struct Case {
    const char* op;
    uint64_t value, value_two;
    long denied_who, allowed_who;
  };
  const Case cases[] = {
      {"SCMP_CMP_EQ", 1000, 0, 1000, 1001},
      {"SCMP_CMP_NE", 1000, 0, 1001, 1000},
      {"SCMP_CMP_LT", 1000, 0, 999, 1000},
      {"SCMP_CMP_LE", 1000, 0, 1000, 1001},
      {"SCMP_CMP_GT", 1000, 0, 1001, 1000},
      {"SCMP_CMP_GE", 1000, 0, 1000, 999},
      // value is the mask, valueTwo the datum.
      {"SCMP_CMP_MASKED_EQ", 0xff00, 0x1200, 0x1234, 0x1334},
  };
  for (const Case& c : cases) {
    CAPTURE(c.op);
    spec::SeccompArg arg{1, c.value, c.value_two, c.op};
    auto p = compile_ok(
        profile("SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", EACCES, {arg})}));
    CHECK(run_filtered(p, [&] { return getpriority_errno(PRIO_USER, c.denied_who); }) == EACCES);
    CHECK(run_filtered(p, [&] { return getpriority_errno(PRIO_USER, c.allowed_who); }) != EACCES);
  }
}

TEST_CASE("args: same index ORed, different indexes ANDed (as runc)") {
  SUBCASE("same index") {
    auto p = compile_ok(profile(
        "SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", EACCES,
                                {{1, 1000, 0, "SCMP_CMP_EQ"}, {1, 2000, 0, "SCMP_CMP_EQ"}})}));
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_USER, 1000); }) == EACCES);
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_USER, 2000); }) == EACCES);
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_USER, 3000); }) != EACCES);
  }
  SUBCASE("different indexes") {
    auto p = compile_ok(profile(
        "SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", EACCES,
                                {{0, PRIO_USER, 0, "SCMP_CMP_EQ"}, {1, 1000, 0, "SCMP_CMP_EQ"}})}));
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_USER, 1000); }) == EACCES);
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_USER, 2000); }) != EACCES);
    CHECK(run_filtered(p, [] { return getpriority_errno(PRIO_PGRP, 1000); }) != EACCES);
  }
}

TEST_CASE("args: personality allowed only for the query value") {
  // Docker's profile allows personality(0xffffffff) (a query) and denies
  // changes by default.
  auto p = compile_ok(
      profile("SCMP_ACT_ERRNO", {allow_exit(), rule({"personality"}, "SCMP_ACT_ALLOW", std::nullopt,
                                                    {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}})}));
  CHECK(run_filtered(p, [] { return errno_of(::syscall(SYS_personality, 0xffffffffUL)); }) == 0);
  CHECK(run_filtered(p, [] { return errno_of(::syscall(SYS_personality, 0UL)); }) == EPERM);
}

TEST_CASE("ENOSYS for syscalls newer than the profile") {
  // The highest syscall named is exit_group (231 on x86_64): clone3 (435),
  // openat2 (437) and 463 (setxattrat, Linux 6.13, unknown to libseccomp
  // 2.5.4) get ENOSYS, so libc falls back; getcwd (79) is older, so the
  // profile meant to deny it: EPERM.
  auto check = [](const SeccompProgram& p) {
    CHECK(run_filtered(p, [] {
            return errno_of(::syscall(SYS_openat2, -1, nullptr, nullptr, 0));
          }) == ENOSYS);
    CHECK(run_filtered(p, [] { return errno_of(::syscall(SYS_clone3, nullptr, 0)); }) == ENOSYS);
    CHECK(run_filtered(p, [] { return errno_of(::syscall(463, 0, 0, 0, 0, 0)); }) == ENOSYS);
    CHECK(run_filtered(p, getcwd_errno) == EPERM);
  };
  auto s = profile("SCMP_ACT_ERRNO", {allow_exit(), rule({"read", "write"}, "SCMP_ACT_ALLOW")});
  SUBCASE("native architecture only") { check(compile_ok(s)); }
  SUBCASE("x86_64, x86 and x32 listed") {
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    check(compile_ok(s));
  }
  SUBCASE("a named syscall raises the threshold") {
    s.syscalls.push_back(rule({"openat2"}, "SCMP_ACT_ERRNO", EXDEV));
    auto p = compile_ok(s);
    CHECK(run_filtered(p, [] {
            return errno_of(::syscall(SYS_openat2, -1, nullptr, nullptr, 0));
          }) == EXDEV);
    CHECK(run_filtered(p, [] { return errno_of(::syscall(SYS_clone3, nullptr, 0)); }) == EPERM);
    CHECK(run_filtered(p, [] { return errno_of(::syscall(463, 0, 0, 0, 0, 0)); }) == ENOSYS);
  }
  SUBCASE("not with a permissive default") {
    auto p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")}));
    // clone3 with a null argument fails inside the kernel, not in the filter.
    CHECK(run_filtered(p, [] { return errno_of(::syscall(SYS_clone3, nullptr, 0)); }) != ENOSYS);
  }
}

TEST_CASE("unknown syscall names are skipped with a warning") {
  auto p = compile_ok(
      profile("SCMP_ACT_ALLOW", {rule({"getcwd", "no_such_syscall"}, "SCMP_ACT_ERRNO")}));
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0] ==
        "linux.seccomp.syscalls[0].names[1]: unknown syscall \"no_such_syscall\" ignored");
  CHECK(run_filtered(p, getcwd_errno) == EPERM);
}

TEST_CASE("bad profiles: errors name the field") {
  CHECK(compile_error(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_FOO")})) ==
        "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"");
  // An unknown action is reported as such, even with an errnoRet.
  CHECK(compile_error(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_FOO", EPERM)})) ==
        "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"");
  CHECK(compile_error(profile("SCMP_ACT_BAR", {})) ==
        "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BAR\"");

  auto s = profile("SCMP_ACT_ALLOW", {});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO"};
  CHECK(compile_error(s) ==
        "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"");
  s.architectures = {"x86_64"};
  CHECK(compile_error(s) == "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");

  s = profile("SCMP_ACT_ALLOW", {});
  s.flags = {"SECCOMP_FILTER_FLAG_FOO"};
  CHECK(compile_error(s) == "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");

  CHECK(compile_error(
            profile("SCMP_ACT_ERRNO", {allow_exit(), rule({"getcwd"}, "SCMP_ACT_ALLOW", EPERM)})) ==
        "linux.seccomp.syscalls[1].errnoRet: not allowed with action \"SCMP_ACT_ALLOW\"");
  CHECK(contains(
      compile_error(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO", 70000)})),
      "linux.seccomp.syscalls[0].errnoRet: 70000 does not fit"));
  CHECK(compile_error(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                      {{6, 0, 0, "SCMP_CMP_EQ"}})})) ==
        "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 6");
  CHECK(compile_error(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                      {{0, 0, 0, "SCMP_CMP_XX"}})})) ==
        "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\"");
  CHECK(contains(compile_error(profile("SCMP_ACT_NOTIFY", {})),
                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"));
}

TEST_CASE("flags become seccomp(2) flags") {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto p = compile_ok(s);
  // Linux >= 4.17 knows LOG and SPEC_ALLOW.
  CHECK(p.flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  REQUIRE(p.warnings.size() == 1);
  CHECK(contains(p.warnings[0],
                 "linux.seccomp.flags[2]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
                 "ignored: no SCMP_ACT_NOTIFY rule"));
  CHECK(run_filtered(p, getcwd_errno) == EPERM);

  // TSYNC with a listener needs TSYNC_ESRCH (Linux 5.7).
  s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  p = compile_ok(s);
  CHECK(p.notify);
  CHECK(p.flags == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
}

TEST_CASE("seccomp_listener_message: the spec's container process state") {
  auto msg = berth::os::seccomp_listener_message(
      R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"})",
      "MKNOD=/dev/null");
  REQUIRE(msg.ok());
  auto v = berth::json::parse(*msg, "message");
  REQUIRE(v.ok());
  CHECK(v->get("ociVersion")->as_string() == "1.2.0");
  REQUIRE(v->get("fds")->items().size() == 1);
  CHECK(v->get("fds")->items()[0].as_string() == "seccompFd");
  CHECK(v->get("pid")->as_i64() == 42);
  CHECK(v->get("metadata")->as_string() == "MKNOD=/dev/null");
  CHECK(v->get("state")->get("id")->as_string() == "c1");

  msg = berth::os::seccomp_listener_message(R"({"ociVersion":"1.2.0","id":"c1","pid":7})", "");
  REQUIRE(msg.ok());
  CHECK(berth::json::parse(*msg, "message")->get("metadata") == nullptr);

  msg = berth::os::seccomp_listener_message(R"({"ociVersion":"1.2.0","id":"c1"})", "");
  REQUIRE_FALSE(msg.ok());
  CHECK(msg.error().to_string() == "seccomp listener state: pid: must be a positive integer");
  CHECK_FALSE(berth::os::seccomp_listener_message("[]", "").ok());
}

TEST_CASE("SCMP_ACT_NOTIFY: the agent gets the listener and answers getppid") {
  auto p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  REQUIRE(p.notify);

  char dir_template[] = "/tmp/berth-seccomp-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  std::string dir = dir_template;
  auto remove_dir = berth::ScopeGuard([&] { (void)berth::sys::remove_all(dir); });
  std::string path = dir + "/agent.sock";
  auto agent = berth::sys::listen_unix(path, 1);
  REQUIRE(agent.ok());

  constexpr long kAnswer = 4242;
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(200);
    berth::UniqueFd listener;
    auto st = load_seccomp(p, &listener);
    if (!st) ::_exit(201);
    auto msg = berth::os::seccomp_listener_message(
        R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":)" +
            std::to_string(::getpid()) + "}",
        "meta");
    if (!msg) ::_exit(202);
    if (!berth::os::send_seccomp_listener(path, listener, *msg)) ::_exit(203);
    listener.reset();
    ::_exit(::syscall(SYS_getppid) == kAnswer ? 0 : 1);
  }
  // Never leave a child blocked in a notified syscall behind a failed check.
  auto reap = berth::ScopeGuard([&] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  });

  struct pollfd pfd {
    agent->get(), POLLIN, 0
  };
  REQUIRE(::poll(&pfd, 1, 5000) == 1);
  auto conn = berth::sys::accept(*agent);
  REQUIRE(conn.ok());
  auto message = berth::sys::recv_message(*conn);
  REQUIRE(message.ok());
  REQUIRE(message->fds.size() == 1);
  auto state = berth::json::parse(message->data, "message");
  REQUIRE(state.ok());
  CHECK(state->get("fds")->items()[0].as_string() == "seccompFd");
  CHECK(state->get("pid")->as_i64() == pid);
  CHECK(state->get("metadata")->as_string() == "meta");
  const berth::UniqueFd& notify_fd = message->fds[0];

  pfd = {notify_fd.get(), POLLIN, 0};
  REQUIRE(::poll(&pfd, 1, 5000) == 1);
  struct seccomp_notif req;
  std::memset(&req, 0, sizeof req);  // the kernel refuses a dirty buffer
  REQUIRE(::ioctl(notify_fd.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
  CHECK(req.data.nr == SYS_getppid);
  CHECK(static_cast<pid_t>(req.pid) == pid);
  struct seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.val = kAnswer;
  REQUIRE(::ioctl(notify_fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);

  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  reap.dismiss();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("load_seccomp: a NOTIFY program needs somewhere to put the listener") {
  auto p = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  auto st = load_seccomp(p, nullptr);  // refused before any syscall: safe in the test process
  REQUIRE_FALSE(st.ok());
  CHECK(contains(st.error().to_string(), "no listener"));
}
