"""The runtime under containerd 1.6's stock shim (containerd-shim-runc-v2),
driven by ctr: the calls containerd makes in production."""
import time

import pytest

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
    assert "137" in deleted.stdout or deleted.stdout.strip() == "", deleted.stdout
    containerd.ctr("containers", "delete", cid)
    assert cid not in containerd.ctr("containers", "ls", "-q").stdout.split()


def test_kill_all_processes_of_task(containerd, ctr_run):
    cid, res = ctr_run("-d", args=["sh", "-c", "probe sleep & probe sleep & wait"])
    assert res.returncode == 0, res.stderr
    wait_task_status(containerd, cid, "RUNNING")
    containerd.ctr("tasks", "kill", "--all", "-s", "SIGKILL", cid)
    wait_task_status(containerd, cid, "STOPPED")
    containerd.ctr("tasks", "delete", cid)
    containerd.ctr("containers", "delete", cid)
