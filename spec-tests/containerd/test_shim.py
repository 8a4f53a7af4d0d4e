"""berth-shim (containerd-shim-berth-v2) under an unmodified containerd 1.6,
driven by ctr, with each OCI runtime behind it: berth (the project's),
runc, and crun (through lib/crun-hybrid.sh on this hybrid-cgroup host).

The checks of shim/tests/e2e/ctr-lifecycle.sh, one test each, plus what the
shim added since: Stats (ctr task metrics), TaskOOM, shim groups, binary://
loggers, killing what an init without its own pid namespace leaves, the
shim's oom_score_adj, long overlay lowerdirs, and a shim killed with -9.

Every runtime gets its own private containerd (lib/shim_e2e.ShimContainerd)
whose PATH starts with a directory holding containerd-shim-berth-v2 and
`berth` (the runtime). Environment: BERTH_SHIM_BIN (default
<build>/shim/berth-shim), BERTH_PROJECT_BIN (default <build>/runtime/cli/berth),
BERTH_SHIM_RUNTIMES (default "berth,runc,crun"; "reference" runs these same
tests against containerd's own containerd-shim-runc-v2 with runc, to check
the tests themselves: what berth-shim does on purpose differently is
marked there).
"""
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from lib import cgroups, leaks, oci_image, ttrpc_client
from lib.containerd import CTR, NAMESPACE
from lib.shim_e2e import (SHIM_RUNTIME, EventLog, ShimContainerd, build_layered_image, make_bin_dir,
                          runtime_binary, shim_bin, wait_gone)

pytestmark = pytest.mark.containerd

IMAGE = "localhost/busybox:latest"
LAYERED_IMAGE = "localhost/many-layers:latest"
LAYERS = 70  # > 4 KiB of overlay lowerdir with this host's paths
REFERENCE_SHIM = "/usr/bin/containerd-shim-runc-v2"
RUNTIMES = [r for r in os.environ.get("BERTH_SHIM_RUNTIMES", "berth,runc,crun").split(",") if r]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def image_tar(session_dir, rootfs_template):
    tar = os.path.join(session_dir, "shim-busybox-oci.tar")
    oci_image.build(rootfs_template, tar, IMAGE)
    return tar


@pytest.fixture(scope="session")
def layered_image_tar(session_dir, rootfs_template):
    tar = os.path.join(session_dir, "shim-layered-oci.tar")
    build_layered_image(rootfs_template, tar, LAYERED_IMAGE, LAYERS)
    return tar


@pytest.fixture(scope="module", params=RUNTIMES)
def shimd(request, session_dir, image_tar):
    """A private containerd running berth-shim with one runtime behind it."""
    name = request.param
    for tool in ("/usr/bin/containerd", "/usr/bin/ctr"):
        if not os.access(tool, os.X_OK):
            pytest.skip(f"{tool} missing: install containerd (contrib/install-deps.sh)")
    if not os.access(shim_bin(), os.X_OK):
        pytest.fail(f"shim binary {shim_bin()} not found: build the berth-shim target", pytrace=False)
    shim = shim_bin()
    if name == "reference":
        # containerd's runc shim under our runtime name; it runs `runc`.
        shim, runtime = REFERENCE_SHIM, runtime_binary("runc")
    else:
        runtime = runtime_binary(name)
    real = "/usr/bin/crun" if name == "crun" else runtime
    for binary in (shim, real):
        if not os.access(binary, os.X_OK):
            pytest.skip(f"{binary} not installed")
    base = os.path.join(session_dir, f"shim-{name}")
    bin_dir = make_bin_dir(os.path.join(base, "bin"), shim, runtime)
    ctrd = ShimContainerd(base, bin_dir).start()
    ctrd.runtime_name = name
    ctrd.layered_imported = False
    try:
        ctrd.ctr("image", "import", image_tar)
        yield ctrd
    finally:
        ctrd.stop()
        marker = cgroups.test_base() + "/"
        leaks.kill_and_wait(list(leaks.processes_of(base, set(), marker)))


@pytest.fixture
def run(shimd, test_env):
    """run(*ctr_flags, args=[...], cid=None) -> (cid, CompletedProcess):
    `ctr run` of the image with berth-shim, in a cgroup nested under ours."""

    def do(*flags, args, cid=None, image=IMAGE, timeout=60):
        cid = cid or test_env.new_id()
        res = shimd.ctr("run", "--fifo-dir", shimd.fifo_dir, "--runtime", SHIM_RUNTIME,
                        "--cgroup", cgroups.container_path(cid), *flags, image, cid, *args,
                        check=False, timeout=timeout)
        return cid, res

    return do


def shim_fd_leaks(shimd, cid):
    """Descriptors of cid's shim that name a path it has no reason to hold:
    its log, /dev/null and the fifos of processes still running are
    expected; anything else (an ended exec's fifos, a bundle file, a
    directory) is a leak."""
    live = {cid}
    # PID INFO, where INFO is &ProcessDetails{ExecID:<id>,...} for an exec
    live.update(re.findall(r"ExecID:([^,}]+)", shimd.ctr("tasks", "ps", cid).stdout))
    allowed = [os.path.join(shimd.bundle(cid), "log")]
    for name, target in leaks.fd_targets(shimd.shim_pid_of(cid)).items():
        if target.startswith(shimd.fifo_dir + "/"):
            owner = os.path.basename(target).rsplit("-", 1)[0]
            if owner in live:
                allowed.append(target)
    return leaks.path_fds(shimd.shim_pid_of(cid), allowed)


@pytest.fixture
def task(shimd, run):
    """A detached task running `sleep`, removed afterwards; berth-shim must
    then hold no descriptor that the test's requests left behind."""
    cid, res = run("-d", args=["sleep", "1000"])
    assert res.returncode == 0, res.stderr
    shimd.wait_status(cid, "RUNNING")
    yield cid
    try:
        # (ps of a stopped task makes crun 1.8.1 crash: check running tasks)
        st = shimd.task_status(cid)
        if shimd.runtime_name != "reference" and st is not None and st[1] == "RUNNING":
            # an exec's io may still be draining for a moment after ctr returned
            deadline = time.monotonic() + 3
            while (left := shim_fd_leaks(shimd, cid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert left == {}, f"shim of {cid} holds descriptors it should have closed: {left}"
    finally:
        shimd.remove(cid)


@pytest.fixture
def events(shimd, test_env):
    log = EventLog(shimd, os.path.join(test_env.path, "events.txt"))
    yield log
    log.close()


def berth_shim_only(shimd, reason):
    """What berth-shim does and containerd-shim-runc-v2 does not."""
    if shimd.runtime_name == "reference":
        pytest.xfail(f"containerd-shim-runc-v2: {reason}")


def exec_(shimd, cid, exec_id, *args, flags=()):
    return shimd.ctr("tasks", "exec", "--fifo-dir", shimd.fifo_dir, "--exec-id", exec_id, *flags, cid, *args,
                     check=False)


# ------------------------------------------------------------- run --rm, io
def test_run_rm_prints_output_and_exit_code(shimd, run):
    cid, res = run("--rm", args=["sh", "-c", "echo hello; exit 7"])
    assert res.stdout == "hello\n", res.stderr
    assert res.returncode == 7
    assert cid not in shimd.ctr("containers", "ls", "-q").stdout.split()


def test_run_rm_30000_lines_none_lost(run):
    _, res = run("--rm", args=["sh", "-c", 'i=0; while [ $i -lt 30000 ]; do echo "line $i"; i=$((i+1)); done'])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 30000
    assert lines[-1] == "line 29999"


def test_run_rm_8mb_of_output_none_lost(run):
    _, res = run("--rm", args=["head", "-c", "8000000", "/dev/zero"], timeout=120)
    assert res.returncode == 0, res.stderr
    assert len(res.stdout) == 8000000


def test_stdin_reaches_the_container_then_eof(shimd, test_env):
    berth_shim_only(shimd, "ends the container's stdin on CloseIO only, which `ctr run` never sends")
    cid = test_env.new_id()
    res = shimd.ctr_input("run", "--rm", "--fifo-dir", shimd.fifo_dir, "--runtime", SHIM_RUNTIME,
                          "--cgroup", cgroups.container_path(cid), IMAGE, cid, "sh", "-c", "cat; echo eof",
                          input="in1\nin2\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "in1\nin2\neof\n"


def test_file_log_uri_gets_stdout_and_stderr(run, test_env):
    log = os.path.join(test_env.path, "out.log")
    _, res = run("--rm", "--log-uri", f"file://{log}", args=["sh", "-c", "echo out; echo err >&2"])
    assert res.returncode == 0, res.stderr
    with open(log) as f:
        assert sorted(f.read().split()) == ["err", "out"]


def test_tty_run_sees_a_terminal(shimd, test_env):
    cid = test_env.new_id()
    rc, out = shimd.ctr_pty("run", "--rm", "-t", "--fifo-dir", shimd.fifo_dir, "--runtime", SHIM_RUNTIME,
                            "--cgroup", cgroups.container_path(cid), IMAGE, cid,
                            "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo is-a-tty; exit 5")
    out = out.replace("\r", "")
    assert "/dev/pts/" in out, out
    assert "is-a-tty" in out, out
    assert rc == 5


def test_binary_log_uri_runs_the_logger(shimd, run, test_env):
    """containerd's binary log driver protocol: fds 3 (stdout), 4 (stderr),
    5 (ready), CONTAINER_ID / CONTAINER_NAMESPACE in the environment."""
    logdir = os.path.join(test_env.path, "logger")
    os.makedirs(logdir)
    logger = os.path.join(logdir, "logger.sh")
    with open(logger, "w") as f:
        f.write('#!/bin/sh\nenv > "$1/env"\nexec 5>&-\ncat <&3 > "$1/out" & cat <&4 > "$1/err" & wait\n'
                'echo done > "$1/done"\n')
    os.chmod(logger, 0o755)
    # binary:///path?key=value: the logger gets argv [path, key, value]
    cid, res = run("--rm", "--log-uri", f"binary://{logger}?{logdir}", args=["sh", "-c", "echo out; echo err >&2"])
    assert res.returncode == 0, res.stderr
    deadline = time.monotonic() + 10
    while not os.path.exists(os.path.join(logdir, "done")) and time.monotonic() < deadline:
        time.sleep(0.1)
    with open(os.path.join(logdir, "out")) as f:
        assert f.read() == "out\n"
    with open(os.path.join(logdir, "err")) as f:
        assert f.read() == "err\n"
    with open(os.path.join(logdir, "env")) as f:
        env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    assert env["CONTAINER_ID"] == cid
    assert env["CONTAINER_NAMESPACE"] == "berth-test"


# ------------------------------------------------------------ detached task
def test_detached_task_is_running_and_ps_lists_its_init(shimd, task):
    pid, status = shimd.task_status(task)
    assert status == "RUNNING"
    ps = shimd.ctr("tasks", "ps", task).stdout.splitlines()[1:]
    assert [int(line.split()[0]) for line in ps] == [pid]


def test_shim_socket_is_a_private_path(shimd, task):
    address = shimd.shim_address(task)
    assert address.startswith("unix:///run/containerd/s/"), address
    host_path = os.path.join(shimd.base, "run", "s", os.path.basename(address))
    assert oct(os.stat(host_path).st_mode & 0o777) == "0o600"


def test_exec_output_and_exit_code(shimd, task):
    res = exec_(shimd, task, "x1", "sh", "-c", "echo in-exec; exit 3")
    assert res.stdout == "in-exec\n", res.stderr
    assert res.returncode == 3


def test_signalled_exec_exits_128_plus_signal(shimd, task):
    res = exec_(shimd, task, "x2", "sh", "-c", "kill -9 $$")
    assert res.returncode == 137, res.stderr


def test_exec_with_tty(shimd, task):
    rc, out = shimd.ctr_pty("tasks", "exec", "--fifo-dir", shimd.fifo_dir, "--exec-id", "xt", "-t", task,
                            "sh", "-c", "tty; [ -t 0 ] && echo exec-tty; exit 4")
    out = out.replace("\r", "")
    assert "/dev/pts/" in out and "exec-tty" in out, out
    assert rc == 4


def shim_socket(shimd, cid):
    """The host path of cid's shim socket (containerd sees it under its own
    private /run/containerd)."""
    sock = shimd.shim_address(cid).removeprefix("unix://")
    return os.path.join(shimd.base, "run", os.path.relpath(sock, "/run/containerd"))


def test_close_io_ends_the_stdin_of_an_exec(shimd, task, test_env):
    # ctr keeps its end of the stdin fifo open: only CloseIO can give `cat`
    # its end of file.
    berth_shim_only(shimd, "CloseIO here does not end a non-tty exec's stdin (cat never sees EOF)")
    out_path = os.path.join(test_env.path, "exec.out")
    with open(out_path, "w") as out:
        proc = subprocess.Popen([CTR, "--address", shimd.address, "--namespace", NAMESPACE, "tasks", "exec",
                                 "--fifo-dir", shimd.fifo_dir, "--exec-id", "cio", task,
                                 "sh", "-c", "cat; echo eof"],
                                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    try:
        proc.stdin.write(b"in1\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while "in1" not in open(out_path).read():
            assert time.monotonic() < deadline, open(out_path).read()
            time.sleep(0.05)
        code, msg, _ = ttrpc_client.close_io(shim_socket(shimd, task), NAMESPACE, task, "cio")
        assert code == 0, msg
        assert proc.wait(timeout=15) == 0, open(out_path).read()
        assert open(out_path).read() == "in1\neof\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()


def test_resize_pty_sets_the_terminal_size(shimd, test_env):
    # ctr sends its terminal's size with ResizePty after the start: the
    # container's pty has no other way to learn it.
    cid = test_env.new_id()
    rc, out = shimd.ctr_pty("run", "--rm", "-t", "--fifo-dir", shimd.fifo_dir, "--runtime", SHIM_RUNTIME,
                            "--cgroup", cgroups.container_path(cid), IMAGE, cid,
                            "sh", "-c", "for i in $(seq 50); do probe tty | grep -q 'rows=0 ' || break; "
                                        "sleep 0.1; done; probe tty", rows=33, cols=97)
    assert rc == 0, out
    assert "rows=33 cols=97" in out, out


def test_update_changes_the_memory_limit(shimd, task):
    limit = cgroups.container_dir("memory", task) + "/memory.limit_in_bytes"
    if not os.path.exists(limit):
        pytest.skip(f"no v1 memory cgroup at {limit} to observe")
    resources = json.dumps({"memory": {"limit": 96 * 1024 * 1024}})
    code, msg, _ = ttrpc_client.update(shim_socket(shimd, task), NAMESPACE, task, resources)
    assert code == 0, msg
    with open(limit) as f:
        assert int(f.read()) == 96 * 1024 * 1024
    # a value the runtime refuses comes back as an error, the limit unchanged
    code, msg, _ = ttrpc_client.update(shim_socket(shimd, task), NAMESPACE, task,
                                       json.dumps({"memory": {"limit": 4096}}))
    assert code != 0, msg
    with open(limit) as f:
        assert int(f.read()) == 96 * 1024 * 1024


def test_ended_execs_leave_no_descriptor_in_the_shim(shimd, task):
    berth_shim_only(shimd, "a Go runtime's descriptors (epoll, pipes) come and go")
    shim = shimd.shim_pid_of(task)
    before = leaks.fd_targets(shim)
    for i in range(3):
        assert exec_(shimd, task, f"e{i}", "sh", "-c", "echo out; echo err >&2").returncode == 0
    assert exec_(shimd, task, "missing", "no-such-binary").returncode != 0
    rc, _ = shimd.ctr_pty("tasks", "exec", "--fifo-dir", shimd.fifo_dir, "--exec-id", "tty", "-t", task, "true")
    assert rc == 0
    shimd.ctr("tasks", "metrics", task)
    deadline = time.monotonic() + 3
    while len(after := leaks.fd_targets(shim)) != len(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(after.values()) == sorted(before.values()), (before, after)


def test_exec_detached_shows_in_ps(shimd, task):
    res = exec_(shimd, task, "bg", "sleep", "1000", flags=("-d",))
    assert res.returncode == 0, res.stderr
    ps = shimd.ctr("tasks", "ps", task).stdout
    assert "bg" in ps  # the exec id, from the shim's ProcessDetails
    assert len(ps.splitlines()[1:]) == 2


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_pause_and_resume(shimd, task):
    # The shim's reported status proves nothing by itself: the freezer must
    # hold the container's cgroup and its processes must stop running.
    pid, _ = shimd.task_status(task)
    freezer = os.path.join(cgroups.container_dir("freezer", task), "freezer.state")
    if not os.path.exists(freezer):
        pytest.skip(f"no v1 freezer cgroup at {freezer} to observe")
    shimd.ctr("tasks", "pause", task)
    assert shimd.task_status(task)[1] == "PAUSED"
    with open(freezer) as f:
        assert f.read().strip() == "FROZEN"
    assert proc_state(pid) == "D", proc_state(pid)  # the v1 freezer's frozen tasks
    shimd.ctr("tasks", "resume", task)
    assert shimd.task_status(task)[1] == "RUNNING"
    with open(freezer) as f:
        assert f.read().strip() == "THAWED"
    assert proc_state(pid) in ("R", "S"), proc_state(pid)
    assert exec_(shimd, task, "after", "true").returncode == 0


def test_kill_reports_exit_status_and_stopped(shimd, run, events):
    cid, res = run("-d", args=["sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.1; done"])
    assert res.returncode == 0, res.stderr
    try:
        shimd.wait_status(cid, "RUNNING")
        time.sleep(0.3)  # the trap is set
        shimd.ctr("tasks", "kill", "-s", "SIGTERM", cid)
        shimd.wait_status(cid, "STOPPED")
        assert events.wait_for(cid, "/tasks/exit")
        exits = [e for t, e in events.events(cid) if t == "/tasks/exit"]
        assert exits[0]["exit_status"] == 143
    finally:
        shimd.remove(cid)


def test_killed_task_exit_status_137(shimd, task, events):
    shimd.ctr("tasks", "kill", "-s", "SIGKILL", task)
    shimd.wait_status(task, "STOPPED")
    assert events.wait_for(task, "/tasks/exit")
    exits = [e for t, e in events.events(task) if t == "/tasks/exit"]
    assert exits[0]["exit_status"] == 137


def test_events_of_a_run_in_order(shimd, run, events):
    cid, res = run("--rm", args=["true"])
    assert res.returncode == 0, res.stderr
    assert events.wait_for(cid, "/tasks/delete")
    topics = [t for t, _ in events.events(cid) if t.startswith("/tasks/")]
    assert topics == ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]


def test_shim_exits_after_shutdown_and_removes_its_socket(shimd, run):
    cid, res = run("-d", args=["sleep", "1000"])
    assert res.returncode == 0, res.stderr
    shimd.wait_status(cid, "RUNNING")
    sock = os.path.join(shimd.base, "run", "s", os.path.basename(shimd.shim_address(cid)))
    shim = shimd.shim_pid_of(cid)
    shimd.remove(cid)
    assert wait_gone([shim], 10) == []
    assert not os.path.exists(sock)


# ------------------------------------------------------------------ metrics
def parse_metrics(text):
    values = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            values[parts[0]] = parts[1].strip()
    return values


def test_task_metrics_prints_real_numbers(shimd, run):
    cid, res = run("-d", args=["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000"])
    assert res.returncode == 0, res.stderr
    try:
        shimd.wait_status(cid, "RUNNING")
        time.sleep(0.5)
        out = shimd.ctr("tasks", "metrics", cid).stdout
        m = parse_metrics(out)
        # v1 (this host is hybrid: v1 controllers) as `ctr task metrics` prints it
        assert int(m["memory.usage_in_bytes"]) > 0, out
        assert int(m["memory.limit_in_bytes"]) > 0, out
        assert int(m["cpuacct.usage"]) > 0, out
        assert int(m["pids.current"]) >= 1, out
        js = shimd.ctr("tasks", "metrics", "--format", "json", cid).stdout
        assert '"memory"' in js and '"cpu"' in js, js
    finally:
        shimd.remove(cid)


def test_task_metrics_reports_the_memory_limit(shimd, run):
    cid, res = run("-d", "--memory-limit", str(64 << 20), args=["sleep", "1000"])
    assert res.returncode == 0, res.stderr
    try:
        shimd.wait_status(cid, "RUNNING")
        m = parse_metrics(shimd.ctr("tasks", "metrics", cid).stdout)
        assert int(m["memory.limit_in_bytes"]) == 64 << 20
    finally:
        shimd.remove(cid)


# ---------------------------------------------------------------------- OOM
def test_oom_kill_publishes_task_oom_before_task_exit(shimd, run, events):
    cid, res = run("--rm", "--memory-limit", str(16 << 20), args=["tail", "/dev/zero"], timeout=120)
    assert res.returncode == 137, res.stderr
    assert events.wait_for(cid, "/tasks/delete")
    topics = [t for t, _ in events.events(cid) if t.startswith("/tasks/")]
    assert "/tasks/oom" in topics, topics
    assert topics.index("/tasks/oom") < topics.index("/tasks/exit"), topics


# --------------------------------------------------------------------- groups
def test_grouped_containers_share_one_shim(shimd, run):
    group = "g-" + uuid.uuid4().hex[:12]
    a, res = run("-d", "--annotation", f"io.containerd.runc.v2.group={group}", args=["sleep", "1000"])
    assert res.returncode == 0, res.stderr
    b, res = run("-d", "--annotation", f"io.containerd.runc.v2.group={group}", args=["sleep", "1000"])
    try:
        assert res.returncode == 0, res.stderr
        shimd.wait_status(a, "RUNNING")
        shimd.wait_status(b, "RUNNING")
        assert shimd.shim_address(a) == shimd.shim_address(b)
        shim = shimd.shim_pid_of(a)
        assert shimd.shim_pid_of(b) == shim
        # One container gone: the shim stays and still serves the other.
        shimd.remove(a)
        time.sleep(0.3)
        assert wait_gone([shim], 0.5) == [shim]
        res = exec_(shimd, b, "x", "sh", "-c", "echo still-served")
        assert res.stdout == "still-served\n", res.stderr
        m = parse_metrics(shimd.ctr("tasks", "metrics", b).stdout)
        assert int(m["memory.usage_in_bytes"]) > 0
        # The last one gone: the shim exits.
        shimd.remove(b)
        assert wait_gone([shim], 10) == []
    finally:
        shimd.remove(a)
        shimd.remove(b)


def test_pod_sandbox_annotation_groups_too(shimd, run):
    sandbox = "s-" + uuid.uuid4().hex[:12]
    ann = f"io.kubernetes.cri.sandbox-id={sandbox}"
    a, _ = run("-d", "--annotation", ann, args=["sleep", "1000"])
    b, res = run("-d", "--annotation", ann, args=["sleep", "1000"])
    try:
        assert res.returncode == 0, res.stderr
        assert shimd.shim_address(a) == shimd.shim_address(b)
    finally:
        shimd.remove(a)
        shimd.remove(b)


def test_ungrouped_containers_get_a_shim_each(shimd, run):
    a, _ = run("-d", args=["sleep", "1000"])
    b, res = run("-d", args=["sleep", "1000"])
    try:
        assert res.returncode == 0, res.stderr
        assert shimd.shim_address(a) != shimd.shim_address(b)
        assert shimd.shim_pid_of(a) != shimd.shim_pid_of(b)
    finally:
        shimd.remove(a)
        shimd.remove(b)


# ------------------------------------------------- init without a pid namespace
def test_processes_left_by_an_init_sharing_a_pid_namespace_are_killed(shimd, run, task):
    """An init that joined another container's pid namespace (no pid
    namespace of its own): when it exits, the shim kills what it left, as
    containerd-shim-runc-v2 does; the namespace's owner runs on."""
    owner_pid, _ = shimd.task_status(task)
    cid, res = run("-d", "--with-ns", f"pid:/proc/{owner_pid}/ns/pid",
                   args=["sh", "-c", "sleep 1000 & sleep 1000 & sleep 2; exit 3"])
    assert res.returncode == 0, res.stderr
    try:
        init_pid, _ = shimd.wait_status(cid, "RUNNING")
        ps = [int(line.split()[0]) for line in shimd.ctr("tasks", "ps", cid).stdout.splitlines()[1:]]
        left = [p for p in ps if p != init_pid]
        assert len(left) >= 2, ps  # two sleep 1000 (and the sleep 2 while it runs)
        shimd.wait_status(cid, "STOPPED", timeout=30)
        assert wait_gone(left, 5) == [], [leaks.describe_pid(p) for p in left]
        assert shimd.task_status(task)[1] == "RUNNING"
    finally:
        shimd.remove(cid)


# ------------------------------------------------------------------ the shim
def test_shim_oom_score_adj_is_containerds_plus_one(shimd, task):
    shim = shimd.shim_pid_of(task)
    with open(f"/proc/{shimd.containerd_pid}/oom_score_adj") as f:
        containerd_score = int(f.read())
    with open(f"/proc/{shim}/oom_score_adj") as f:
        assert int(f.read()) == min(containerd_score + 1, 1000)


def test_shim_is_one_single_threaded_process(shimd, task):
    berth_shim_only(shimd, "a Go program, many threads")
    shim = shimd.shim_pid_of(task)
    with open(f"/proc/{shim}/status") as f:
        threads = [int(line.split()[1]) for line in f if line.startswith("Threads:")][0]
    assert threads == 1


def test_image_with_lowerdirs_longer_than_a_page(shimd, run, layered_image_tar):
    if not shimd.layered_imported:
        shimd.ctr("image", "import", layered_image_tar, timeout=300)
        shimd.layered_imported = True
    cid, res = run("--rm", args=["sh", "-c", "ls /layers | wc -l"], image=LAYERED_IMAGE)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(LAYERS)


# ------------------------------------------------------- containerd restarts
def test_task_survives_a_containerd_restart(shimd, run, test_env):
    cid, res = run("-d", args=["sleep", "1000"])
    assert res.returncode == 0, res.stderr
    try:
        pid, _ = shimd.wait_status(cid, "RUNNING")
        shim = shimd.shim_pid_of(cid)
        shimd.restart()
        assert shimd.task_status(cid) == (pid, "RUNNING")
        assert shimd.shim_pid_of(cid) == shim
        # still controllable: exec, ps, pause/resume, metrics, kill
        res = exec_(shimd, cid, "after", "sh", "-c", "echo after-restart")
        assert res.stdout == "after-restart\n", res.stderr
        assert int(parse_metrics(shimd.ctr("tasks", "metrics", cid).stdout)["pids.current"]) >= 1
        shimd.ctr("tasks", "pause", cid)
        assert shimd.task_status(cid)[1] == "PAUSED"
        shimd.ctr("tasks", "resume", cid)
        events = EventLog(shimd, os.path.join(test_env.path, "events-after.txt"))
        try:
            shimd.ctr("tasks", "kill", "-s", "SIGKILL", cid)
            shimd.wait_status(cid, "STOPPED")
            # the shim's event connection came back to the new containerd
            assert events.wait_for(cid, "/tasks/exit")
            exits = [e for t, e in events.events(cid) if t == "/tasks/exit"]
            assert exits[0]["exit_status"] == 137
        finally:
            events.close()
        shimd.ctr("tasks", "delete", cid)
        assert wait_gone([shim], 10) == []
    finally:
        shimd.remove(cid)


def test_shim_killed_after_the_task_exited_reports_the_saved_exit_status(shimd, run, events):
    """The task exits on its own (status 7), then its shim is killed before
    containerd deleted it: containerd's cleanup runs `shim delete`, which can
    learn the status only from the exit record the shim saved in the bundle.
    Without it the status would be the forced delete's 137."""
    berth_shim_only(shimd, "keeps no exit record; its cleanup reports 137")
    cid, res = run("-d", args=["sh", "-c", "sleep 0.5; exit 7"])
    assert res.returncode == 0, res.stderr
    try:
        shimd.wait_status(cid, "STOPPED", timeout=30)
        assert events.wait_for(cid, "/tasks/exit")
        shim = shimd.shim_pid_of(cid)
        os.kill(shim, signal.SIGKILL)
        assert wait_gone([shim], 10) == []
        # containerd publishes a second /tasks/exit from the delete's answer
        deadline = time.monotonic() + 20
        while len(exits := [e for t, e in events.events(cid) if t == "/tasks/exit"]) < 2:
            assert time.monotonic() < deadline, events.events(cid)
            time.sleep(0.1)
        assert [e["exit_status"] for e in exits] == [7, 7], exits
    finally:
        shimd.remove(cid)


def test_shim_killed_with_sigkill(shimd, run, events):
    """containerd sees the shim's connection close and runs `shim delete`:
    the task is reported exited (137), its processes are gone (no zombie:
    the subreaper above containerd reaps them at once), its rootfs is
    unmounted."""
    cid, res = run("-d", args=["sh", "-c", "sleep 1000 & exec sleep 1000"])
    assert res.returncode == 0, res.stderr
    try:
        init_pid, _ = shimd.wait_status(cid, "RUNNING")
        ps = [int(line.split()[0]) for line in shimd.ctr("tasks", "ps", cid).stdout.splitlines()[1:]]
        shim = shimd.shim_pid_of(cid)
        rootfs = os.path.join(shimd.bundle(cid), "rootfs")
        assert shimd.mounts_in_containerd_ns(rootfs) == [rootfs]
        os.kill(shim, signal.SIGKILL)
        assert events.wait_for(cid, "/tasks/exit", timeout=20), events.events(cid)
        exits = [e for t, e in events.events(cid) if t == "/tasks/exit"]
        assert exits[0]["exit_status"] == 137
        assert wait_gone([shim, *ps], 10) == []
        # gone altogether: not even a zombie
        deadline = time.monotonic() + 10
        while any(os.path.exists(f"/proc/{p}") for p in [shim, *ps]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in [shim, *ps] if os.path.exists(f"/proc/{p}")] == []
        assert shimd.mounts_in_containerd_ns(rootfs) == []
        st = shimd.task_status(cid)
        assert st is None or st[1] in ("STOPPED", "UNKNOWN"), st
    finally:
        shimd.remove(cid)
