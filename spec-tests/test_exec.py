"""`exec`: a new process in a running container, with runc's CLI
(exec <id> <cmd> [args], --process, -t/--console-socket, --cwd, -e, -u, -g,
-c, --no-new-privs, -d/--pid-file, --preserve-fds). The exec'd process must
land in the container's namespaces and cgroup with the init's confinement
(capabilities, no_new_privs, seccomp) and nothing of the host (fds)."""
import errno
import json
import os
import signal
import time

import pytest

from lib import caps
from lib.config import DEFAULT_CAPS, set_namespace
from lib.console import ConsoleSocket

NS_KINDS = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")


def running(runtime, b):
    """run --detach; the container keeps running (b's args must not exit)."""
    res = runtime.run(b, "--detach")
    assert res.ok, res
    return res


def stop_and_delete(runtime, cid):
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert runtime.delete(cid).ok


def exec_(runtime, cid, *args, flags=(), **kw):
    return runtime.cmd("exec", *flags, cid, *args, **kw)


def exec_ok(runtime, cid, *args, flags=(), **kw):
    res = exec_(runtime, cid, *args, flags=flags, **kw)
    assert res.rc == 0, res
    return res.out


@pytest.fixture
def box(runtime, bundle):
    """A running container (probe sleep) for tests that only exec into it;
    killed and deleted afterwards."""
    b = bundle(["probe", "sleep"])
    running(runtime, b)
    yield b
    stop_and_delete(runtime, b.id)


def fd_numbers(out):
    return sorted(int(line.split()[0]) for line in out.splitlines() if line.strip())


def host_ns(pid):
    return {k: os.readlink(f"/proc/{pid}/ns/{k}") for k in NS_KINDS
            if os.path.exists(f"/proc/{pid}/ns/{k}")}


def host_cgroup(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return sorted(f.read().splitlines())


def read_pid_file(path):
    with open(path) as f:
        return int(f.read().strip())


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# ------------------------------------------------------------------ basics
def test_exec_runs_command_with_args(runtime, box):
    out = exec_ok(runtime, box.id, "sh", "-c", 'for a in "$@"; do echo "<$a>"; done',
                  "sh", "a b", "", "$HOME")
    assert out == "<a b>\n<>\n<$HOME>\n"


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exec_exit_code_propagates(runtime, box, code):
    res = exec_(runtime, box.id, "probe", "exit", str(code))
    assert res.rc == code, res


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_exec_exit_code_of_signalled_process(runtime, box, sig):
    # not the namespace's init, so it can signal itself
    res = exec_(runtime, box.id, "sh", "-c", f"kill -{sig.name.removeprefix('SIG')} $$; sleep 5")
    assert res.rc == 128 + sig, res


def test_exec_process_killed_from_host(runtime, box):
    started = runtime.spawn("exec", box.id, "sh", "-c", "echo up; exec probe sleep")
    runtime.wait_output(started, "up\n")
    init = runtime.state(box.id)["pid"]
    pids = [p for p in runtime.ps(box.id, "--format", "json").json() if p != init]
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    res = started.wait()
    assert res.rc == 128 + signal.SIGKILL, res
    # the container itself is unaffected
    assert runtime.state(box.id)["status"] == "running"


def test_foreground_exec_forwards_signals(runtime, box):
    started = runtime.spawn("exec", box.id, "probe", "signal-wait")
    runtime.wait_output(started, "ready\n")
    started.proc.send_signal(signal.SIGUSR1)
    res = started.wait()
    assert res.rc == 0 and res.out == "ready\nUSR1\n", res


def test_exec_missing_binary_fails_clearly(runtime, box):
    res = exec_(runtime, box.id, "no-such-binary")
    assert res.rc != 0, res
    assert "no-such-binary" in res.err, res
    assert res.out == ""
    # nothing started: only the init remains
    assert runtime.ps(box.id, "--format", "json").json() == [runtime.state(box.id)["pid"]]


def test_exec_into_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    assert runtime.create(b).ok
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "stopped")
    res = exec_(runtime, b.id, "echo", "hi")
    assert res.rc != 0, res
    assert "stopped" in res.err, res
    assert "hi" not in res.out
    assert runtime.delete(b.id).ok


def test_exec_into_unknown_container_fails(runtime):
    res = exec_(runtime, "no-such-container", "echo", "hi")
    assert res.rc != 0, res
    if not runtime.is_runc:  # runc: "container does not exist"
        assert "no-such-container" in res.err, res


def test_exec_without_command_fails(runtime, box):
    res = exec_(runtime, box.id)
    assert res.rc != 0, res


# ------------------------------------------------------------- --process
def test_exec_process_file(runtime, box, tmp):
    proc = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
        "args": ["sh", "-c", "echo $FOO; probe cwd; probe ids"],
        "env": ["PATH=/bin", "FOO=from-file"],
        "cwd": "/home/tester",
        "noNewPrivileges": True,
    }
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    out = exec_ok(runtime, box.id, flags=("--process", path))
    assert out.splitlines() == ["from-file", "/home/tester",
                                "uid=1000 gid=1000 euid=1000 egid=1000 groups=5"]


def test_exec_process_file_invalid(runtime, box, tmp):
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        f.write('{"args": "not a list", "cwd": "/"}')
    res = exec_(runtime, box.id, flags=("--process", path))
    assert res.rc != 0, res
    assert runtime.ps(box.id, "--format", "json").json() == [runtime.state(box.id)["pid"]]


def test_exec_process_file_with_terminal_needs_console_socket(runtime, box, tmp):
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        json.dump({"terminal": True, "user": {"uid": 0, "gid": 0}, "args": ["probe", "tty"],
                   "env": ["PATH=/bin"], "cwd": "/"}, f)
    res = exec_(runtime, box.id, flags=("--process", path, "--detach"))
    assert res.rc != 0, res
    assert "console" in res.err.lower(), res
    assert runtime.ps(box.id, "--format", "json").json() == [runtime.state(box.id)["pid"]]


# ------------------------------------------------------- per-exec overrides
def test_exec_inherits_the_container_process_settings(runtime, bundle):
    b = bundle(["probe", "sleep"], process={"cwd": "/tmp", "env": ["PATH=/bin", "FROM=config"],
                                            "user": {"uid": 1000, "gid": 1000}})
    running(runtime, b)
    out = exec_ok(runtime, b.id, "sh", "-c", "echo $FROM; probe cwd; probe ids")
    assert out.splitlines() == ["config", "/tmp", "uid=1000 gid=1000 euid=1000 egid=1000 groups="]
    stop_and_delete(runtime, b.id)


def test_exec_cwd(runtime, box):
    assert exec_ok(runtime, box.id, "probe", "cwd", flags=("--cwd", "/home/tester")) == \
        "/home/tester\n"


def test_exec_env_adds_and_overrides(runtime, box):
    out = exec_ok(runtime, box.id, "env",
                  flags=("-e", "TERM=dumb", "-e", "FOO=1", "-e", "FOO=2", "-e", "BAR=x y"))
    env = out.splitlines()
    assert [e for e in env if e.startswith("TERM=")] == ["TERM=dumb"], env
    assert [e for e in env if e.startswith("FOO=")] == ["FOO=2"], env
    assert "BAR=x y" in env, env
    assert any(e.startswith("PATH=") for e in env), env


def test_exec_user_uid_gid(runtime, box):
    out = exec_ok(runtime, box.id, "sh", "-c", "probe ids; echo $HOME", flags=("-u", "1000:1000"))
    # HOME from the container's /etc/passwd, as for the init
    assert out.splitlines() == ["uid=1000 gid=1000 euid=1000 egid=1000 groups=", "/home/tester"]


def test_exec_user_uid_only(runtime, box):
    out = exec_ok(runtime, box.id, "probe", "ids", flags=("--user", "1000"))
    assert out.startswith("uid=1000 "), out
    assert " euid=1000 " in out, out


def test_exec_additional_gids(runtime, box):
    out = exec_ok(runtime, box.id, "probe", "ids",
                  flags=("-u", "1000:1000", "--additional-gids", "5", "--additional-gids", "100"))
    fields = out.split()
    assert fields[:4] == ["uid=1000", "gid=1000", "euid=1000", "egid=1000"], out
    assert sorted(fields[4].removeprefix("groups=").split(",")) == ["100", "5"], out


def test_exec_missing_cwd_fails(runtime, box):
    res = exec_(runtime, box.id, "probe", "cwd", flags=("--cwd", "/no/such/dir"))
    assert res.rc != 0, res
    assert res.out == "", res
    assert runtime.ps(box.id, "--format", "json").json() == [runtime.state(box.id)["pid"]]


def test_exec_bad_user_fails(runtime, box):
    res = exec_(runtime, box.id, "probe", "ids", flags=("-u", "notanumber:x"))
    assert res.rc != 0, res
    assert "uid=" not in res.out


def test_exec_cap_adds_a_capability(runtime, box):
    base = caps.parse_status(exec_ok(runtime, box.id, "probe", "caps"))
    assert base["CapEff"] == caps.mask(DEFAULT_CAPS)
    got = caps.parse_status(exec_ok(runtime, box.id, "probe", "caps",
                                    flags=("-c", "CAP_NET_RAW", "-c", "CAP_SYS_CHROOT")))
    want = caps.mask(DEFAULT_CAPS + ["CAP_NET_RAW", "CAP_SYS_CHROOT"])
    assert got["CapEff"] == want, got
    assert got["CapPrm"] == want, got
    assert got["CapBnd"] & want == want, got


def test_exec_cap_the_runtime_lacks_fails_clearly(runtime, box):
    if caps.host_effective() & caps.mask(["CAP_SYS_RESOURCE"]):
        pytest.skip("this host grants CAP_SYS_RESOURCE: nothing to refuse")
    res = exec_(runtime, box.id, "probe", "caps", flags=("-c", "CAP_SYS_RESOURCE"))
    assert res.rc != 0, res
    assert "CapEff" not in res.out, res
    if not runtime.is_runc:  # runc says only "operation not permitted"
        assert "CAP_SYS_RESOURCE" in res.err, res


@pytest.mark.runc_differs("runc 1.1 ignores an unknown capability with a warning")
def test_exec_unknown_cap_fails(runtime, box):
    res = exec_(runtime, box.id, "probe", "caps", flags=("--cap", "CAP_NO_SUCH"))
    assert res.rc != 0, res
    assert "CAP_NO_SUCH" in res.err, res


@pytest.mark.parametrize("flag,want", [((), "0"), (("--no-new-privs",), "1")])
def test_exec_no_new_privs(runtime, bundle, flag, want):
    b = bundle(["probe", "sleep"], process={"noNewPrivileges": False})
    running(runtime, b)
    assert exec_ok(runtime, b.id, "probe", "nnp", flags=flag).split() == ["NoNewPrivs:", want]
    stop_and_delete(runtime, b.id)


def test_exec_apparmor_is_refused_clearly(runtime, box):
    res = exec_(runtime, box.id, "true", flags=("--apparmor", "some-profile"))
    assert res.rc != 0, res
    assert "apparmor" in res.err.lower(), res


# ------------------------------------------------- terminal, detach, fds
def test_exec_tty_detached_through_console_socket(runtime, box, tmp):
    # containerd's way: exec --detach --tty --console-socket S --pid-file P
    console = ConsoleSocket(os.path.join(tmp, "console.sock"))
    pid_file = os.path.join(tmp, "exec.pid")
    try:
        res = exec_(runtime, box.id, "sh", "-c", "probe tty; echo $TERM",
                    flags=("--detach", "--tty", "--console-socket", console.path,
                           "--pid-file", pid_file))
        assert res.ok, res
        console.receive()
        out = console.read_until_closed().replace("\r\n", "\n")
    finally:
        console.close()
    assert "isatty0=1\nisatty1=1\nisatty2=1\n" in out, out
    assert "ttyname=/dev/pts/" in out, out
    assert "xterm\n" in out, out
    assert read_pid_file(pid_file) > 0


@pytest.mark.runc_differs("runc's foreground exec -t uses its own stdio as the console")
def test_exec_tty_foreground_through_console_socket(runtime, box, tmp):
    console = ConsoleSocket(os.path.join(tmp, "console.sock"))
    try:
        started = runtime.spawn("exec", "-t", "--console-socket", console.path, box.id,
                                "sh", "-c", "probe tty; exit 3")
        console.receive()
        out = console.read_until_closed().replace("\r\n", "\n")
        res = started.wait()
    finally:
        console.close()
    assert res.rc == 3, res
    assert "isatty0=1\nisatty1=1\nisatty2=1\n" in out, out


def test_exec_tty_without_console_socket_fails(runtime, box):
    res = exec_(runtime, box.id, "probe", "tty", flags=("--tty", "--detach"))
    assert res.rc != 0, res


def test_exec_detach_with_pid_file(runtime, box, tmp):
    pid_file = os.path.join(tmp, "exec.pid")
    res = exec_(runtime, box.id, "probe", "sleep", flags=("-d", "--pid-file", pid_file))
    assert res.ok, res
    pid = read_pid_file(pid_file)
    assert pid_alive(pid)
    init = runtime.state(box.id)["pid"]
    assert sorted(runtime.ps(box.id, "--format", "json").json()) == sorted([init, pid])
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"probe", b"sleep"]
    # killing the container ends its exec'd processes too
    runtime.kill(box.id, "KILL")
    runtime.wait_status(box.id, "stopped")
    wait_for(lambda: not pid_alive(pid), f"exec'd pid {pid} to die")


def test_exec_foreground_with_pid_file(runtime, box, tmp):
    pid_file = os.path.join(tmp, "exec.pid")
    started = runtime.spawn("exec", "--pid-file", pid_file, box.id,
                            "sh", "-c", "echo up; exec probe sleep")
    runtime.wait_output(started, "up\n")
    pid = read_pid_file(pid_file)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"probe", b"sleep"]
    os.kill(pid, signal.SIGKILL)
    assert started.wait().rc == 128 + signal.SIGKILL


def test_exec_detach_returns_output_to_the_callers_stdout(runtime, box):
    res = exec_(runtime, box.id, "sh", "-c", "sleep 0.2; echo late", flags=("-d",))
    assert res.ok, res
    runtime.wait_output(res, "late\n")


def test_exec_has_no_leaked_fds(runtime, box, tmp):
    # an fd the runtime inherits without --preserve-fds must stay outside
    fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    try:
        res = exec_(runtime, box.id, "probe", "fds", pass_fds=(fd,))
    finally:
        os.close(fd)
    assert res.rc == 0, res
    assert fd_numbers(res.out) == [0, 1, 2], res.out
    assert tmp not in [line.split(" ", 1)[-1] for line in res.out.splitlines()], res.out


def test_exec_cwd_cannot_be_a_leaked_host_directory(runtime, box, tmp):
    # CVE-2024-21626 shape: --cwd /proc/self/fd/N with N a host fd. getcwd
    # cannot show the escape (it says "(unreachable)/..."): a relative read of
    # a decoy that only the host directory holds does.
    decoy = os.path.join(tmp, "decoy-cwd")
    with open(decoy, "w") as f:
        f.write("HOST-DECOY\n")
    fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    try:
        res = exec_(runtime, box.id, "sh", "-c", "probe read decoy-cwd; ls",
                    flags=("--cwd", f"/proc/self/fd/{fd}"), pass_fds=(fd,))
    finally:
        os.close(fd)
    assert "HOST-DECOY" not in res.out, f"the exec'd process read the host's directory:\n{res}"
    assert "decoy-cwd" not in res.out, f"the exec'd process listed the host's directory:\n{res}"
    assert res.rc != 0, res


def test_exec_preserve_fds(runtime, box, tmp):
    path = os.path.join(tmp, "passed.txt")
    with open(path, "w") as f:
        f.write("x")
    fd = os.open(path, os.O_RDONLY)
    try:
        # the runtime gets the file as fds 3 and 4; only 3 is preserved, and
        # the process can read the file through it
        res = exec_(runtime, box.id, "sh", "-c", "probe fds; cat <&3",
                    flags=("--preserve-fds", "1"), fd_map={3: fd, 4: fd})
    finally:
        os.close(fd)
    assert res.rc == 0, res
    lines = res.out.splitlines()
    assert lines[-1] == "x", res.out
    fds = dict(line.split(" ", 1) for line in lines[:-1])
    assert sorted(fds) == ["0", "1", "2", "3"] and fds["3"] == path, res.out


def test_exec_preserve_fds_exact(runtime, box, tmp):
    path = os.path.join(tmp, "passed.txt")
    with open(path, "w") as f:
        f.write("x")
    fd = os.open(path, os.O_RDONLY)
    try:
        res = exec_(runtime, box.id, "probe", "fds",
                    flags=("--preserve-fds", "2"), fd_map={3: fd, 4: fd, 5: fd})
    finally:
        os.close(fd)
    assert res.rc == 0, res
    assert fd_numbers(res.out) == [0, 1, 2, 3, 4], res.out


# -------------------------------------------- same container, same confinement
def test_exec_joins_the_containers_namespaces(runtime, box):
    init = runtime.state(box.id)["pid"]
    want = host_ns(init)
    theirs = dict(line.split() for line in exec_ok(runtime, box.id, "probe", "ns").splitlines())
    assert theirs == want


def test_exec_joins_namespaces_and_cgroup_seen_from_host(runtime, box, tmp):
    pid_file = os.path.join(tmp, "exec.pid")
    assert exec_(runtime, box.id, "probe", "sleep", flags=("-d", "--pid-file", pid_file)).ok
    pid = read_pid_file(pid_file)
    init = runtime.state(box.id)["pid"]
    assert host_ns(pid) == host_ns(init)
    assert host_cgroup(pid) == host_cgroup(init)
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    # in the container's pid namespace it has a small pid, not the init's 1
    nspid = [line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")][0]
    assert nspid[0] == str(pid) and nspid[-1] != "1", nspid


def test_exec_sees_the_containers_root(runtime, box):
    # a marker only this container's rootfs has
    with open(os.path.join(box.rootfs, "marker"), "w") as f:
        f.write("this-container\n")
    assert exec_ok(runtime, box.id, "cat", "/marker") == "this-container\n"
    assert exec_ok(runtime, box.id, "hostname") == "berth-test\n"


def test_exec_into_no_pivot_container(runtime, bundle):
    b = bundle(["probe", "sleep"])
    with open(os.path.join(b.rootfs, "marker"), "w") as f:
        f.write("this-container\n")
    assert runtime.create(b, "--no-pivot").ok
    assert runtime.start(b.id).ok
    out = exec_ok(runtime, b.id, "sh", "-c", "cat /marker; probe cwd; ls /")
    lines = out.splitlines()
    assert lines[:2] == ["this-container", "/"], out
    assert "marker" in lines[2:] and "probe" not in lines[2:], out
    stop_and_delete(runtime, b.id)


def test_exec_joins_cgroup_namespace(runtime, bundle):
    # The namespace's root is the container's cgroup (the runtime creates it
    # after placing the init), so the init and an exec'd process both see
    # "/" as their cgroup in every hierarchy.
    b = bundle(["sh", "-c", "cat /proc/self/cgroup; echo end; exec probe sleep"])
    set_namespace(b.config, "cgroup")
    res = running(runtime, b.save())
    init_view = runtime.wait_output(res, "end\n").splitlines()[:-1]
    init = runtime.state(b.id)["pid"]
    assert dict(line.split() for line in exec_ok(runtime, b.id, "probe", "ns").splitlines()) \
        == host_ns(init)
    exec_view = exec_ok(runtime, b.id, "cat", "/proc/self/cgroup").splitlines()
    stop_and_delete(runtime, b.id)
    assert [line for line in init_view if line.rsplit(":", 1)[1] != "/"] == [], \
        "the init's cgroup namespace is not rooted at its cgroup:\n" + "\n".join(init_view)
    assert exec_view == init_view


def test_exec_same_confinement_as_init(runtime, bundle):
    report = "probe caps; probe nnp; probe seccomp; probe mkdir /tmp/d; probe oom; echo end"
    b = bundle(["sh", "-c", report + "; exec probe sleep"], process={"oomScoreAdj": 300})
    b.config["process"]["capabilities"] = {k: ["CAP_CHOWN", "CAP_KILL"] for k in (
        "bounding", "permitted", "effective")}
    b.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": errno.EXDEV}]}
    res = running(runtime, b.save())
    init_out = runtime.wait_output(res, "end\n")
    exec_out = exec_ok(runtime, b.id, "sh", "-c", report)
    stop_and_delete(runtime, b.id)
    assert "Seccomp:\t2" in exec_out and "EXDEV" in exec_out and "300\n" in exec_out, exec_out
    assert exec_out == init_out


@pytest.mark.runc_differs("runc 1.1 (Go 1.19) raises the exec'd soft RLIMIT_NOFILE to the hard "
                          "limit and ignores user.umask in exec")
def test_exec_same_rlimits_and_umask_as_init(runtime, bundle):
    report = "probe rlimit NOFILE; probe umask; echo end"
    b = bundle(["sh", "-c", report + "; exec probe sleep"],
               process={"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 900}],
                        "user": {"uid": 0, "gid": 0, "umask": 0o027}})
    res = running(runtime, b)
    init_out = runtime.wait_output(res, "end\n")
    exec_out = exec_ok(runtime, b.id, "sh", "-c", report)
    stop_and_delete(runtime, b.id)
    assert exec_out == init_out == "soft=512 hard=900\nUmask:\t0027\nend\n", (init_out, exec_out)


# ------------------------------------------------------------------- locking
def test_state_lock_not_held_during_foreground_exec(runtime, box):
    started = runtime.spawn("exec", box.id, "sh", "-c", "echo up; exec probe sleep")
    runtime.wait_output(started, "up\n")
    # other commands on the same container proceed while the exec runs
    t0 = time.monotonic()
    st = runtime.state_raw(box.id, timeout=10)
    assert st.rc == 0 and st.json()["status"] == "running", st
    ps = runtime.ps(box.id, "--format", "json", timeout=10)
    assert ps.rc == 0 and len(ps.json()) == 2, ps
    second = exec_(runtime, box.id, "echo", "second", timeout=10)
    assert second.rc == 0 and second.out == "second\n", second
    assert time.monotonic() - t0 < 8
    assert started.proc.poll() is None, "the foreground exec ended early"
    assert runtime.kill(box.id, "KILL", timeout=10).ok
    res = started.wait()
    assert res.rc == 128 + signal.SIGKILL, res


# ----------------------------------------------------------- user namespace
def test_exec_in_user_namespace_container(runtime, bundle, tmp):
    b = bundle(["probe", "sleep"])
    set_namespace(b.config, "user")
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    running(runtime, b.save())
    out = exec_ok(runtime, b.id, "sh", "-c", "probe ids; cat /proc/self/uid_map")
    lines = out.splitlines()
    assert lines[0] == "uid=0 gid=0 euid=0 egid=0 groups=", out
    assert lines[1].split() == ["0", "100000", "65536"], out

    init = runtime.state(b.id)["pid"]
    pid_file = os.path.join(tmp, "exec.pid")
    assert exec_(runtime, b.id, "probe", "sleep",
                 flags=("-d", "--pid-file", pid_file, "-u", "1000:1000")).ok
    pid = read_pid_file(pid_file)
    assert host_ns(pid) == host_ns(init)
    with open(f"/proc/{pid}/status") as f:
        status = {line.split(":")[0]: line.split()[1:] for line in f}
    # container uid 1000 is host uid 101000 through the mapping
    assert status["Uid"] == ["101000"] * 4, status["Uid"]
    assert status["Gid"] == ["101000"] * 4, status["Gid"]
    stop_and_delete(runtime, b.id)


def test_exec_unmapped_user_in_user_namespace_fails(runtime, bundle):
    b = bundle(["probe", "sleep"])
    set_namespace(b.config, "user")
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    running(runtime, b.save())
    res = exec_(runtime, b.id, "probe", "ids", flags=("-u", "70000:70000"))
    assert res.rc != 0, res
    assert "uid=" not in res.out, res
    assert runtime.ps(b.id, "--format", "json").json() == [runtime.state(b.id)["pid"]]
    stop_and_delete(runtime, b.id)
