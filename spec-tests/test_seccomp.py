"""linux.seccomp with libseccomp semantics: actions (ERRNO with errnoRet,
KILL_*, NOTIFY), allow lists under a denying default, argument conditions,
ENOSYS for syscalls newer than the profile, and how a bad profile fails.
Inside the container `probe mkdir` and `probe syscall NR [ARGS]` make exactly
the syscall under test and print its errno name (or ret=<value>)."""
import errno
import os
import time

import pytest

from lib.seccomp_agent import Reply, SeccompAgent

# x86_64 numbers of the syscalls the tests call directly
NR_GETCWD = 79
NR_MKDIR = 83
NR_MKDIRAT = 258
NR_GETPPID = 110
NR_PERSONALITY = 135
NR_CLONE3 = 435
NR_OPENAT2 = 437

MKDIR = ["mkdir", "mkdirat"]  # glibc's mkdir() uses either, depending on version

# Enough for busybox, the static probe and a runtime's last steps before
# execve, as a profile written for Linux 5.2 would list them: nothing numbered
# above rseq (334), and neither getcwd (79) nor personality (135), which the
# tests use as "old syscall the profile does not list".
ALLOW_LIST = """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select
sched_yield mremap msync mincore madvise dup dup2 pause nanosleep getitimer alarm setitimer
getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind listen
getsockname getpeername socketpair setsockopt getsockopt clone fork vfork execve exit wait4
kill uname fcntl flock fsync fdatasync truncate ftruncate getdents chdir fchdir rename mkdir
rmdir creat link unlink symlink readlink chmod fchmod chown fchown lchown umask gettimeofday
getrlimit getrusage sysinfo times getuid getgid setuid setgid geteuid getegid setpgid getppid
getpgrp setsid setreuid setregid getgroups setgroups setresuid getresuid setresgid getresgid
getpgid setfsuid setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo
rt_sigsuspend sigaltstack utime mknod statfs fstatfs getpriority setpriority sched_setparam
sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
sched_get_priority_min mlock munlock prctl arch_prctl setrlimit sync gettid readahead
getxattr lgetxattr fgetxattr listxattr tkill time futex sched_setaffinity sched_getaffinity
getdents64 set_tid_address restart_syscall fadvise64 clock_gettime clock_getres
clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes waitid openat mkdirat mknodat
fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat
pselect6 ppoll set_robust_list get_robust_list splice tee utimensat epoll_pwait signalfd
timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2
epoll_create epoll_create1 dup3 pipe2 preadv pwritev prlimit64 getcpu getrandom memfd_create
execveat copy_file_range preadv2 pwritev2 statx rseq membarrier renameat2 seccomp
ioprio_get sched_getattr sched_setattr
""".split()


def profile(default="SCMP_ACT_ALLOW", syscalls=(), **extra):
    return {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": list(syscalls), **extra}


def rule(names, action, **extra):
    return {"names": list(names), "action": action, **extra}


def allow_list_profile(extra_rules=(), **extra):
    return profile("SCMP_ACT_ERRNO", [rule(ALLOW_LIST, "SCMP_ACT_ALLOW"), *extra_rules], **extra)


def run_with(runtime, bundle, args, seccomp, **overrides):
    b = bundle(args, **overrides)
    b.config["linux"]["seccomp"] = seccomp
    return runtime.run(b.save()), b


# ------------------------------------------------------------------ actions
def test_errno_rule_with_custom_errno(runtime, bundle):
    res, b = run_with(runtime, bundle, ["sh", "-c", "probe seccomp; probe mkdir /tmp/d; probe cwd"],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV)]))
    assert res.out.split() == ["Seccomp:", "2", "EXDEV", "/"], res
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "d"))


def test_errno_rule_defaults_to_eperm(runtime, bundle):
    res, _ = run_with(runtime, bundle, ["probe", "mkdir", "/tmp/d"],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO")]))
    assert res.rc == 1 and res.out == "EPERM\n", res


@pytest.mark.parametrize("nnp", [True, False])
def test_filter_loaded_with_and_without_no_new_privileges(runtime, bundle, nnp):
    # without no_new_privs the runtime must load it while it still has
    # CAP_SYS_ADMIN; the filter must be in force either way
    res, _ = run_with(runtime, bundle, ["sh", "-c", "probe nnp; probe seccomp; probe mkdir /tmp/d"],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV)]),
                      process={"noNewPrivileges": nnp})
    assert res.out.split() == ["NoNewPrivs:", "1" if nnp else "0", "Seccomp:", "2", "EXDEV"], res


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_KILL"])
def test_kill_actions_end_the_process_with_sigsys(runtime, bundle, action):
    # RLIMIT_CORE 0: SIGSYS dumps core by default; no core file in the rootfs
    res, _ = run_with(runtime, bundle, ["probe", "mkdir", "/tmp/d"],
                      profile(syscalls=[rule(MKDIR, action)]),
                      process={"rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]})
    assert res.rc == 128 + 31, res
    assert res.out == "", res


def test_default_errno_with_allow_list(runtime, bundle):
    # busybox and the probe run on the allow list alone; the rest is EPERM
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", "echo hi | cat; ls /bin/probe; probe ids; "
                                   f"probe syscall {NR_GETCWD}"],
                      allow_list_profile())
    assert res.rc == 1, res
    assert res.out.splitlines() == ["hi", "/bin/probe", "uid=0 gid=0 euid=0 egid=0 groups=",
                                    "EPERM"], res


def test_default_errno_ret(runtime, bundle):
    res, _ = run_with(runtime, bundle, ["probe", "syscall", str(NR_GETCWD)],
                      allow_list_profile(defaultErrnoRet=errno.EXDEV))
    assert res.out == "EXDEV\n", res


# --------------------------------------------------------- argument conditions
def test_argument_condition_allows_only_the_matching_call(runtime, bundle):
    # personality(0xffffffff) only queries; any other persona is denied
    query = rule(["personality"], "SCMP_ACT_ALLOW",
                 args=[{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"}])
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", f"probe syscall {NR_PERSONALITY} 0xffffffff; "
                                   f"probe syscall {NR_PERSONALITY} 8; "
                                   f"probe syscall {NR_PERSONALITY} 0"],
                      allow_list_profile([query]))
    assert res.out.split() == ["ret=0", "EPERM", "EPERM"], res


def test_conditions_on_the_same_argument_are_ored(runtime, bundle):
    # libseccomp cannot AND two conditions on one argument: runc and crun add
    # one rule per condition, so either match denies
    deny = rule(["personality"], "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV,
                args=[{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                      {"index": 0, "value": 0x20000, "op": "SCMP_CMP_EQ"}])
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", f"probe syscall {NR_PERSONALITY} 8; "
                                   f"probe syscall {NR_PERSONALITY} 0x20000; "
                                   f"probe syscall {NR_PERSONALITY} 0xffffffff"],
                      profile(syscalls=[deny]))
    assert res.out.split() == ["EXDEV", "EXDEV", "ret=0"], res


def test_conditions_on_different_arguments_are_anded(runtime, bundle):
    # getcwd(buf, size): denied only for buf == 0 AND size == 7
    deny = rule(["getcwd"], "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV,
                args=[{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                      {"index": 1, "value": 7, "op": "SCMP_CMP_EQ"}])
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", f"probe syscall {NR_GETCWD} 0 7; probe syscall {NR_GETCWD} 0 0"],
                      profile(syscalls=[deny]))
    # getcwd(NULL, 0) itself fails with ERANGE: it reached the kernel
    assert res.out.split() == ["EXDEV", "ERANGE"], res


def test_masked_eq_condition(runtime, bundle):
    # value is the mask, valueTwo the datum: deny personas with bit 3 set
    deny = rule(["personality"], "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV,
                args=[{"index": 0, "value": 0x8, "valueTwo": 0x8, "op": "SCMP_CMP_MASKED_EQ"}])
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", f"probe syscall {NR_PERSONALITY} 0x8; "
                                   f"probe syscall {NR_PERSONALITY} 0xffffffff; "
                                   f"probe syscall {NR_PERSONALITY} 0x0"],
                      profile(syscalls=[deny]))
    assert res.out.split() == ["EXDEV", "EXDEV", "ret=0"], res


# ------------------------------------------------- syscalls newer than profile
@pytest.mark.parametrize("arches", [["SCMP_ARCH_X86_64"],
                                    ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]])
def test_syscalls_newer_than_the_profile_get_enosys(runtime, bundle, arches):
    # libc tries clone3/openat2 first and falls back only on ENOSYS; EPERM
    # from the default action would break it. An old syscall the profile
    # does not list still gets the default action. (Docker's profiles list
    # x86, x32 and x86_64 together.)
    res, _ = run_with(runtime, bundle,
                      ["sh", "-c", f"probe syscall {NR_CLONE3}; probe syscall {NR_OPENAT2}; "
                                   f"probe syscall {NR_GETCWD}"],
                      allow_list_profile(architectures=arches))
    assert res.out.split() == ["ENOSYS", "ENOSYS", "EPERM"], res


def test_newer_syscalls_keep_the_default_when_it_allows(runtime, bundle):
    # no stub under a permissive default: openat2(0, NULL, NULL) reaches the kernel
    res, _ = run_with(runtime, bundle, ["probe", "syscall", str(NR_OPENAT2)],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO")]))
    assert res.out.strip() in ("EFAULT", "EINVAL", "E2BIG"), res


def test_old_profile_without_no_new_privileges(runtime, bundle):
    # Loaded early (no no_new_privs), the filter also covers the runtime's
    # own last steps: a runtime that uses a syscall newer than the profile
    # (close_range, ...) must cope with its ENOSYS.
    res, _ = run_with(runtime, bundle, ["echo", "up"],
                      allow_list_profile([rule(["getcwd"], "SCMP_ACT_ALLOW")]),
                      process={"noNewPrivileges": False})
    assert res.rc == 0 and res.out == "up\n", res


# ------------------------------------------------------------ bad profiles
def test_unknown_syscall_name_is_skipped_with_a_warning(runtime, bundle):
    res, _ = run_with(runtime, bundle, ["probe", "mkdir", "/tmp/d"],
                      profile(syscalls=[rule(["no_such_syscall_xyz", *MKDIR],
                                             "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV)]))
    assert res.out == "EXDEV\n", res
    if not runtime.is_runc:  # runc logs it at debug level only
        assert "no_such_syscall_xyz" in res.err, res


@pytest.mark.parametrize("where", ["defaultAction", "syscalls[0].action"])
def test_unknown_action_fails_create(runtime, bundle, where):
    b = bundle()
    if where == "defaultAction":
        seccomp = profile("SCMP_ACT_FROBNICATE", [rule(MKDIR, "SCMP_ACT_ERRNO")])
    else:
        seccomp = profile(syscalls=[rule(MKDIR, "SCMP_ACT_FROBNICATE")])
    b.config["linux"]["seccomp"] = seccomp
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert "SCMP_ACT_FROBNICATE" in res.err, res
    if not runtime.is_runc:  # runc names the action, not the field
        assert where in res.err, res
    assert runtime.state_raw(b.id).rc != 0
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []


def test_unknown_architecture_fails_create(runtime, bundle):
    b = bundle()
    b.config["linux"]["seccomp"] = profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO")],
                                           architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_NOPE"])
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert "SCMP_ARCH_NOPE" in res.err, res
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []


@pytest.mark.runc_differs("runc 1.1 refuses every linux.seccomp.flags entry")
def test_known_filter_flags_are_accepted(runtime, bundle):
    res, _ = run_with(runtime, bundle, ["probe", "mkdir", "/tmp/d"],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.EXDEV)],
                              flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]))
    assert res.out == "EXDEV\n", res


def test_unknown_filter_flag_fails_create(runtime, bundle):
    b = bundle()
    b.config["linux"]["seccomp"] = profile(syscalls=[rule(MKDIR, "SCMP_ACT_ERRNO")],
                                           flags=["SECCOMP_FILTER_FLAG_NOPE"])
    res = runtime.create(b.save())
    assert res.rc == 1, res
    if not runtime.is_runc:  # runc 1.1 refuses every flag alike
        assert "SECCOMP_FILTER_FLAG_NOPE" in res.err, res
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []


def test_log_action_allows_the_syscall(runtime, bundle):
    res, b = run_with(runtime, bundle, ["probe", "mkdir", "/tmp/d"],
                      profile(syscalls=[rule(MKDIR, "SCMP_ACT_LOG")]))
    assert res.rc == 0 and res.out == "ok\n", res
    assert os.path.isdir(os.path.join(b.rootfs, "tmp", "d"))


def test_unknown_operator_fails_create(runtime, bundle):
    b = bundle()
    b.config["linux"]["seccomp"] = profile(syscalls=[rule(
        ["personality"], "SCMP_ACT_ERRNO", args=[{"index": 0, "value": 8, "op": "SCMP_CMP_NOPE"}])])
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert "SCMP_CMP_NOPE" in res.err, res
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []


# ------------------------------------------------------------ SCMP_ACT_NOTIFY
METADATA = "berth-test-metadata"


def notify_profile(tmp, names):
    return profile(syscalls=[rule(names, "SCMP_ACT_NOTIFY")],
                   listenerPath=os.path.join(tmp, "agent.sock"), listenerMetadata=METADATA)


def test_notify_agent_answers_the_syscall(runtime, bundle, tmp):
    agent = SeccompAgent(os.path.join(tmp, "agent.sock"),
                         {NR_GETPPID: Reply(val=4242), NR_MKDIR: Reply(val=0),
                          NR_MKDIRAT: Reply(val=0)})
    try:
        b = bundle(["sh", "-c", f"probe syscall {NR_GETPPID}; probe mkdir /tmp/faked"])
        b.config["linux"]["seccomp"] = notify_profile(tmp, ["getppid", *MKDIR])
        created = runtime.create(b.save())
        assert created.ok, created
        pid = runtime.state(b.id)["pid"]
        assert runtime.start(b.id).ok
        runtime.wait_status(b.id, "stopped")
        out = created.read_out()
        messages = agent.wait_messages(1)
    finally:
        agent.stop()
    assert not agent.errors, agent.errors
    # the agent's answers became the syscalls' results: getppid is 4242, and
    # mkdir "succeeded" without the kernel creating anything
    assert out == "ret=4242\nok\n", out
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "faked"))

    assert len(messages) == 1 and agent.fd_counts == [1], (messages, agent.fd_counts)
    msg = messages[0]
    assert msg["ociVersion"]
    assert msg["fds"] == ["seccompFd"]
    assert msg["pid"] == pid
    assert msg["metadata"] == METADATA
    assert msg["state"]["id"] == b.id
    assert msg["state"]["pid"] == pid
    assert msg["state"]["bundle"] == b.path
    # (sh itself asks getppid for $PPID: the probe is not the only caller)
    nrs = [nr for _, nr, _ in agent.notifications]
    assert NR_GETPPID in nrs and set(nrs) <= {NR_GETPPID, NR_MKDIR, NR_MKDIRAT}, nrs
    assert runtime.delete(b.id).ok


def test_notify_agent_gets_exec_processes_too(runtime, bundle, tmp):
    agent = SeccompAgent(os.path.join(tmp, "agent.sock"), {NR_GETPPID: Reply(val=4242)})
    try:
        b = bundle(["probe", "sleep"])
        b.config["linux"]["seccomp"] = notify_profile(tmp, ["getppid"])
        assert runtime.run(b.save(), "--detach").ok
        res = runtime.cmd("exec", b.id, "probe", "syscall", str(NR_GETPPID))
        messages = agent.wait_messages(2)
        runtime.kill(b.id, "KILL")
        runtime.wait_status(b.id, "stopped")
        assert runtime.delete(b.id).ok
    finally:
        agent.stop()
    assert not agent.errors, agent.errors
    assert res.rc == 0 and res.out == "ret=4242\n", res
    assert len(messages) == 2, messages
    assert all(m["metadata"] == METADATA and m["state"]["id"] == b.id for m in messages), messages


@pytest.mark.runc_differs("runc 1.1's foreground exec holds the connection until the exec ends")
def test_notify_listener_connection_closed_once_exec_process_runs(runtime, bundle, tmp):
    # The spec lets the state span several sendmsg calls, so an agent may
    # read it until EOF: the runtime must not keep the connection open while
    # the process it started (and whose syscalls wait for the agent) runs.
    agent = SeccompAgent(os.path.join(tmp, "agent.sock"), {NR_GETPPID: Reply(val=4242)})
    try:
        b = bundle(["probe", "sleep"])
        b.config["linux"]["seccomp"] = notify_profile(tmp, ["getppid"])
        assert runtime.run(b.save(), "--detach").ok
        running = runtime.spawn("exec", b.id, "sh", "-c",
                                f"probe syscall {NR_GETPPID}; exec probe sleep")
        runtime.wait_output(running, "ret=4242\n")
        deadline = time.monotonic() + 5
        while len(agent.connections) < 2 or not agent.connections[1]["eof"]:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        connections = [dict(c) for c in agent.connections]
        runtime.kill(b.id, "KILL")
        running.wait()
        runtime.wait_status(b.id, "stopped")
        assert runtime.delete(b.id).ok
    finally:
        agent.stop()
    assert not agent.errors, agent.errors
    assert len(connections) == 2, connections
    assert connections[1]["eof"], \
        "the exec's listener connection stays open while the exec'd process runs"


def test_notify_without_listener_path_fails_create(runtime, bundle):
    b = bundle(["probe", "syscall", str(NR_GETPPID)])
    b.config["linux"]["seccomp"] = profile(syscalls=[rule(["getppid"], "SCMP_ACT_NOTIFY")])
    res = runtime.create(b.save())
    assert res.rc == 1, res
    if not runtime.is_runc:
        assert "listenerPath" in res.err, res
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []


def test_notify_with_absent_agent_fails_create(runtime, bundle, tmp):
    b = bundle(["probe", "syscall", str(NR_GETPPID)])
    b.config["linux"]["seccomp"] = notify_profile(tmp, ["getppid"])
    res = runtime.create(b.save())
    assert res.rc == 1, res
    if not runtime.is_runc:
        assert os.path.join(tmp, "agent.sock") in res.err, res
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []
