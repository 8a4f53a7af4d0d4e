"""The runtime under containerd 1.6's stock shim (containerd-shim-runc-v2),
driven by ctr: the calls containerd makes in production."""
import os
import time

import pytest

from lib import leaks
from lib.shim_e2e import wait_gone

pytestmark = pytest.mark.containerd


def wait_task_status(containerd, cid, status, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        out = containerd.ctr("tasks", "ls", check=False).stdout
        for line in out.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == cid and fields[-1] == status:
                return
        assert time.monotonic() < deadline, f"task {cid} not {status}: {out}"
        time.sleep(0.1)


def test_run_rm_prints_output(containerd, ctr_run):
    cid, res = ctr_run("--rm", args=["echo", "hi"])
    assert res.returncode == 0, res.stderr
    assert res.stdout == "hi\n"
    assert cid not in containerd.ctr("containers", "ls", "-q").stdout.split()


@pytest.mark.parametrize("code", [0, 3, 42])
def test_run_exit_code_propagates(ctr_run, code):
    _, res = ctr_run("--rm", args=["probe", "exit", str(code)])
    assert res.returncode == code, res.stderr


def test_run_sees_its_own_process_view(ctr_run):
    _, res = ctr_run("--rm", args=["sh", "-c", "echo $$; probe fds"])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "1"  # the container's init in its own pid namespace
    assert sorted(int(line.split()[0]) for line in lines[1:]) == [0, 1, 2]


def test_detached_task_ps_kill_delete(containerd, ctr_run):
    cid, res = ctr_run("-d", args=["probe", "sleep"])
    assert res.returncode == 0, res.stderr
    wait_task_status(containerd, cid, "RUNNING")

    ps = containerd.ctr("tasks", "ps", cid)
    pids = [line.split()[0] for line in ps.stdout.splitlines()[1:] if line.strip()]
    assert len(pids) == 1, ps.stdout

    containerd.ctr("tasks", "kill", "-s", "SIGKILL", cid)
    wait_task_status(containerd, cid, "STOPPED")
    deleted = containerd.ctr("tasks", "delete", cid)
    # ctr 1.6 reports the exit status it got from the shim only as a warning
    assert "exit code 137" in deleted.stderr, deleted.stderr
    containerd.ctr("containers", "delete", cid)
    assert cid not in containerd.ctr("containers", "ls", "-q").stdout.split()


def test_kill_all_processes_of_task(containerd, ctr_run):
    cid, res = ctr_run("-d", args=["sh", "-c", "probe sleep & probe sleep & wait"])
    assert res.returncode == 0, res.stderr
    wait_task_status(containerd, cid, "RUNNING")
    deadline = time.monotonic() + 10
    while len(pids := task_pids(containerd, cid)) < 3:
        assert time.monotonic() < deadline, pids
        time.sleep(0.1)
    # SIGTERM, not SIGKILL: the init (a shell without a handler, pid 1 of its
    # namespace) ignores it, so only a signal sent to every process ends the
    # children, and with them the shell's `wait`.
    containerd.ctr("tasks", "kill", "--all", "-s", "SIGTERM", cid)
    assert wait_gone(pids, 10) == [], [leaks.describe_pid(p) for p in pids]
    wait_task_status(containerd, cid, "STOPPED")
    containerd.ctr("tasks", "delete", cid)
    containerd.ctr("containers", "delete", cid)


# containerd-shim-runc-v2 passes a kill of an exited-but-not-deleted task to
# the runtime and reads its error: runc's "container not running" means
# "process already finished" (NotFound, which containerd's CRI ignores when
# it stops a container); anything else was "unknown error after kill", and
# berth's "container `ID` is not running" was anything else.
def test_kill_of_exited_task_is_process_already_finished(containerd, ctr_run):
    cid, res = ctr_run("-d", args=["probe", "exit", "0"])
    assert res.returncode == 0, res.stderr
    wait_task_status(containerd, cid, "STOPPED")
    kill = containerd.ctr("tasks", "kill", "-s", "SIGTERM", cid, check=False)
    err = kill.stderr
    assert "unknown error after kill" not in err, err
    assert kill.returncode == 0 or "process already finished" in err, err
    containerd.ctr("tasks", "delete", cid)
    containerd.ctr("containers", "delete", cid)


# ------------------------------------------------------------------------ exec
# containerd-shim-runc-v2 runs `<runtime> exec --process F --detach
# --pid-file P [--console-socket S] <id>` and then waits for the process itself.
def task_pid(containerd, cid):
    for line in containerd.ctr("tasks", "ls").stdout.splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == cid:
            return int(fields[1])
    raise AssertionError(f"no task {cid}")


def task_pids(containerd, cid):
    ps = containerd.ctr("tasks", "ps", cid)
    return sorted(int(line.split()[0]) for line in ps.stdout.splitlines()[1:] if line.strip())


def ctr_exec(containerd, cid, exec_id, *args, flags=(), check=False, timeout=60):
    return containerd.ctr("tasks", "exec", "--fifo-dir", containerd.fifo_dir,
                          "--exec-id", exec_id, *flags, cid, *args, check=check, timeout=timeout)


def end_task(containerd, cid):
    containerd.ctr("tasks", "kill", "-s", "SIGKILL", cid)
    wait_task_status(containerd, cid, "STOPPED")
    containerd.ctr("tasks", "delete", cid)
    containerd.ctr("containers", "delete", cid)


@pytest.fixture
def task(containerd, ctr_run):
    """A running task (probe sleep) to exec into; ended afterwards."""
    cid, res = ctr_run("-d", args=["probe", "sleep"])
    assert res.returncode == 0, res.stderr
    wait_task_status(containerd, cid, "RUNNING")
    yield cid
    end_task(containerd, cid)


def test_exec_without_tty(containerd, task):
    res = ctr_exec(containerd, task, "e1", "sh", "-c", "echo hi; probe ns; probe fds")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "hi"
    init = task_pid(containerd, task)
    ns = dict(line.split() for line in lines[1:] if not line[0].isdigit())
    for kind in ("ipc", "mnt", "net", "pid", "uts"):
        assert ns[kind] == os.readlink(f"/proc/{init}/ns/{kind}"), kind
    # stdio only: the fifos containerd opened, nothing of the shim or runtime
    assert sorted(int(line.split()[0]) for line in lines[1:] if line[0].isdigit()) == [0, 1, 2]


@pytest.mark.parametrize("code", [0, 5, 42])
def test_exec_exit_code_propagates(containerd, task, code):
    res = ctr_exec(containerd, task, f"e{code}", "probe", "exit", str(code))
    assert res.returncode == code, res.stderr


def test_exec_with_tty(containerd, task):
    rc, out = containerd.ctr_tty("tasks", "exec", "--fifo-dir", containerd.fifo_dir,
                                 "--exec-id", "etty", "-t", task,
                                 # ctr resizes the pty only after the start
                                 "sh", "-c", "sleep 1; probe tty", rows=30, cols=90)
    assert rc == 0, out
    out = out.replace("\r", "")  # both the container's and our pty add one
    assert "isatty0=1\nisatty1=1\nisatty2=1\n" in out, out
    assert "ttyname=/dev/pts/" in out, out
    assert "rows=30 cols=90" in out, out


def test_exec_detached_then_ps_and_kill_all(containerd, task):
    init = task_pid(containerd, task)
    res = ctr_exec(containerd, task, "bg", "probe", "sleep", flags=("-d",))
    assert res.returncode == 0, res.stderr
    pids = task_pids(containerd, task)
    assert len(pids) == 2 and init in pids, pids
    (exec_pid,) = [p for p in pids if p != init]
    with open(f"/proc/{exec_pid}/cgroup") as f, open(f"/proc/{init}/cgroup") as g:
        assert f.read() == g.read()

    # SIGTERM to every process: the exec'd one dies; the namespace's init
    # has no handler for it and survives, so the task keeps running
    containerd.ctr("tasks", "kill", "-a", "-s", "SIGTERM", task)
    deadline = time.monotonic() + 10
    while task_pids(containerd, task) != [init]:
        assert time.monotonic() < deadline, task_pids(containerd, task)
        time.sleep(0.1)
    wait_task_status(containerd, task, "RUNNING")


def test_kill_without_all_spares_exec_processes(containerd, task):
    init = task_pid(containerd, task)
    assert ctr_exec(containerd, task, "bg", "probe", "sleep", flags=("-d",)).returncode == 0
    containerd.ctr("tasks", "kill", "-s", "SIGTERM", task)  # the init ignores it
    time.sleep(0.5)
    assert len(task_pids(containerd, task)) == 2
    assert init in task_pids(containerd, task)


def test_exec_of_missing_binary_fails(containerd, task):
    res = ctr_exec(containerd, task, "missing", "no-such-binary")
    assert res.returncode != 0
    assert "no-such-binary" in res.stderr, res.stderr
    assert len(task_pids(containerd, task)) == 1
