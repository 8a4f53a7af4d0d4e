"""Controlling a live container through its cgroup: pause/resume (freezer),
kill --all, update (--resources file, stdin, runc's flags), events (--stats,
the --interval stream, OOM events).

The effects are checked where the kernel shows them: the container's cgroup
files (lib.cgroups.read, v1 hierarchies on this hybrid host) and
/proc/<pid>/status of its processes."""
import json
import os
import time

import pytest

from lib import cgroups
from lib.config import remove_namespace

MiB = 1024 * 1024

# Writes an increasing counter into /tmp/count of its rootfs every 20 ms:
# whether it advances tells from the host whether the container runs.
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done"


def started(runtime, b):
    res = runtime.create(b)
    assert res.ok, res
    assert runtime.start(b.id).ok
    return res


def stop_and_delete(runtime, cid):
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert runtime.delete(cid).ok


def proc_state(pid):
    """The one-letter state of /proc/<pid>/status ("R", "S", "D", "Z"), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
    except FileNotFoundError:
        return None
    return None


def pid_alive(pid):
    return proc_state(pid) not in (None, "Z", "X")


def wait_dead(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"pid {pid} still alive after {timeout}s"
        time.sleep(0.05)


def read_counter(b):
    try:
        with open(os.path.join(b.rootfs, "tmp", "count")) as f:
            text = f.read().strip()
        return int(text) if text else None
    except FileNotFoundError:
        return None


def wait_counter(b, above=0, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        n = read_counter(b)
        if n is not None and n > above:
            return n
        assert time.monotonic() < deadline, f"counter not above {above} after {timeout}s: {n}"
        time.sleep(0.02)


def has_v1(controller):
    return os.path.ismount(os.path.join(cgroups.CGROUP_ROOT, controller))


def ps(runtime, cid):
    res = runtime.ps(cid, "--format", "json")
    assert res.ok, res
    return res.json()


# ------------------------------------------------------------------- pause
def test_pause_freezes_and_resume_thaws(runtime, bundle):
    b = bundle(["sh", "-c", "probe sleep & " + COUNTER])
    started(runtime, b)
    wait_counter(b)

    assert runtime.cmd("pause", b.id).ok
    pids = ps(runtime, b.id)  # frozen: the list holds still
    assert len(pids) >= 2, pids  # the shell and the background probe
    assert runtime.state(b.id)["status"] == "paused"
    if has_v1("freezer"):
        assert cgroups.read("freezer", b.id, "freezer.state") == "FROZEN"
    # frozen tasks sleep uninterruptibly (the v1 freezer reports them as D)
    for pid in pids:
        assert proc_state(pid) == "D", (pid, proc_state(pid))
    frozen_at = read_counter(b)
    time.sleep(0.5)
    assert read_counter(b) == frozen_at, "the container kept running while paused"

    assert runtime.cmd("resume", b.id).ok
    assert runtime.state(b.id)["status"] == "running"
    if has_v1("freezer"):
        assert cgroups.read("freezer", b.id, "freezer.state") == "THAWED"
    wait_counter(b, above=frozen_at)
    # (the counter's usleep children come and go: look at those still there)
    assert proc_state(pids[0]) in ("R", "S"), (pids[0], proc_state(pids[0]))
    for pid in pids:
        assert proc_state(pid) in ("R", "S", None, "Z"), (pid, proc_state(pid))
    stop_and_delete(runtime, b.id)


def test_pause_twice_and_resume_of_running_fail(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    res = runtime.cmd("resume", b.id)
    assert res.rc != 0, res
    assert runtime.state(b.id)["status"] == "running"
    assert runtime.cmd("pause", b.id).ok
    res = runtime.cmd("pause", b.id)
    assert res.rc != 0, res
    assert runtime.state(b.id)["status"] == "paused"
    assert runtime.cmd("resume", b.id).ok
    stop_and_delete(runtime, b.id)


def test_pause_of_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    res = runtime.cmd("pause", b.id)
    assert res.rc != 0, res
    if not runtime.is_runc:
        assert "stopped" in res.err, res
    assert runtime.state(b.id)["status"] == "stopped"
    res = runtime.cmd("resume", b.id)
    assert res.rc != 0, res
    assert runtime.delete(b.id).ok


def test_delete_force_of_paused_container(runtime, bundle):
    b = bundle(["sh", "-c", "probe sleep & exec probe sleep"])
    started(runtime, b)
    pids = ps(runtime, b.id)
    assert runtime.cmd("pause", b.id).ok
    assert runtime.delete(b.id, force=True).ok
    for pid in pids:
        wait_dead(pid)


# ---------------------------------------------------------------- kill --all
def test_kill_all_kills_background_children(runtime, bundle):
    # a child in its own session and a plain background child, both
    # reparented to the container's init once their shell exits
    b = bundle(["sh", "-c", "setsid probe sleep & (probe sleep &); probe sleep & "
                            "echo up; exec probe sleep"])
    out = started(runtime, b)
    runtime.wait_output(out, "up\n")
    deadline = time.monotonic() + 5
    while len(pids := ps(runtime, b.id)) < 4:
        assert time.monotonic() < deadline, pids
        time.sleep(0.05)
    assert runtime.kill(b.id, "KILL", all=True).ok
    runtime.wait_status(b.id, "stopped")
    for pid in pids:
        wait_dead(pid)
    assert runtime.delete(b.id).ok


def test_kill_all_without_pid_namespace(runtime, bundle):
    # Without its own pid namespace, the init's death does not take the other
    # processes with it: only --all reaches them (containerd's shim relies on
    # it for containers sharing the host's pid namespace).
    b = bundle(["sh", "-c", "probe sleep & echo child=$!; exec probe sleep"])
    remove_namespace(b.config, "pid")
    out = started(runtime, b.save())
    text = runtime.wait_output(out, "\n")
    child = int(text.split("child=")[1].split()[0])
    init = runtime.state(b.id)["pid"]
    assert pid_alive(child)
    assert runtime.kill(b.id, "KILL", all=True).ok
    runtime.wait_status(b.id, "stopped")
    wait_dead(init)
    wait_dead(child)
    assert runtime.delete(b.id).ok


def test_kill_all_after_init_died_reaches_the_rest(runtime, bundle):
    # Host pid namespace: the init is killed alone, the container is stopped,
    # its child lives on in the cgroup; `kill --all` of the stopped container
    # must still reach it (runc allows --all on a stopped container).
    b = bundle(["sh", "-c", "probe sleep & echo child=$!; exec probe sleep"])
    remove_namespace(b.config, "pid")
    out = started(runtime, b.save())
    text = runtime.wait_output(out, "\n")
    child = int(text.split("child=")[1].split()[0])
    assert runtime.kill(b.id, "KILL").ok
    runtime.wait_status(b.id, "stopped")
    assert pid_alive(child)
    res = runtime.kill(b.id, "KILL", all=True)
    assert res.ok, res
    wait_dead(child)
    assert runtime.delete(b.id).ok


def test_delete_of_stopped_container_kills_leftovers(runtime, bundle):
    # Host pid namespace, init dead, a child left in the cgroup: `delete`
    # must not leave it running in a cgroup it then fails to remove (runc's
    # destroy SIGKILLs every process left when there is no own pid namespace).
    b = bundle(["sh", "-c", "probe sleep & echo child=$!; exec probe sleep"])
    remove_namespace(b.config, "pid")
    out = started(runtime, b.save())
    text = runtime.wait_output(out, "\n")
    child = int(text.split("child=")[1].split()[0])
    assert runtime.kill(b.id, "KILL").ok
    runtime.wait_status(b.id, "stopped")
    res = runtime.delete(b.id)
    assert res.ok, res
    wait_dead(child)
    assert cgroups.container_dirs_anywhere(b.id) == []


def test_kill_all_of_paused_container(runtime, bundle):
    # frozen processes cannot act on a signal: the runtime must let them
    # die (runc freezes, signals and thaws)
    b = bundle(["sh", "-c", "probe sleep & exec probe sleep"])
    started(runtime, b)
    pids = ps(runtime, b.id)
    assert runtime.cmd("pause", b.id).ok
    assert runtime.kill(b.id, "KILL", all=True).ok
    runtime.wait_status(b.id, "stopped")
    for pid in pids:
        wait_dead(pid)
    assert runtime.delete(b.id).ok


# --------------------------------------------------------------------- update
BASE_RESOURCES = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 100},
                  "cpu": {"shares": 1024}}


def update_target(bundle, resources=None):
    b = bundle(["probe", "sleep"])
    b.config["linux"]["resources"].update(resources or BASE_RESOURCES)
    return b.save()


def test_update_with_resources_file(runtime, bundle, tmp):
    b = update_target(bundle)
    started(runtime, b)
    path = os.path.join(tmp, "resources.json")
    with open(path, "w") as f:
        json.dump({"memory": {"limit": 128 * MiB, "reservation": 32 * MiB},
                   "pids": {"limit": 42},
                   "cpu": {"shares": 256, "quota": 20000, "period": 100000}}, f)
    res = runtime.cmd("update", "--resources", path, b.id)
    assert res.ok, res
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == 128 * MiB
    assert int(cgroups.read("memory", b.id, "memory.soft_limit_in_bytes")) == 32 * MiB
    assert cgroups.read("pids", b.id, "pids.max") == "42"
    assert cgroups.read("cpu", b.id, "cpu.shares") == "256"
    assert cgroups.read("cpu", b.id, "cpu.cfs_quota_us") == "20000"
    assert cgroups.read("cpu", b.id, "cpu.cfs_period_us") == "100000"
    assert runtime.state(b.id)["status"] == "running"
    stop_and_delete(runtime, b.id)


def test_update_with_resources_from_stdin(runtime, bundle, tmp):
    b = update_target(bundle)
    started(runtime, b)
    path = os.path.join(tmp, "stdin.json")
    with open(path, "w") as f:
        json.dump({"pids": {"limit": 17}, "memory": {"limit": 96 * MiB}}, f)
    with open(path) as stdin:
        res = runtime.cmd("update", "-r", "-", b.id, stdin=stdin)
    assert res.ok, res
    assert cgroups.read("pids", b.id, "pids.max") == "17"
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == 96 * MiB
    stop_and_delete(runtime, b.id)


def test_update_with_runc_flags(runtime, bundle):
    b = update_target(bundle)
    started(runtime, b)
    cpu = max(int(x) for x in open("/sys/devices/system/cpu/online").read()
              .strip().replace("-", ",").split(","))
    res = runtime.cmd("update", "--memory", str(80 * MiB), "--memory-swap", str(160 * MiB),
                      "--cpu-quota", "30000", "--cpu-period", "60000", "--cpu-share", "300",
                      "--pids-limit", "33", "--cpuset-cpus", str(cpu), b.id)
    assert res.ok, res
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == 80 * MiB
    memsw = os.path.join(cgroups.container_dir("memory", b.id), "memory.memsw.limit_in_bytes")
    if os.path.exists(memsw):
        assert int(cgroups.read("memory", b.id, "memory.memsw.limit_in_bytes")) == 160 * MiB
    assert cgroups.read("cpu", b.id, "cpu.cfs_quota_us") == "30000"
    assert cgroups.read("cpu", b.id, "cpu.cfs_period_us") == "60000"
    assert cgroups.read("cpu", b.id, "cpu.shares") == "300"
    assert cgroups.read("pids", b.id, "pids.max") == "33"
    assert cgroups.read("cpuset", b.id, "cpuset.cpus") == str(cpu)
    stop_and_delete(runtime, b.id)


def test_update_memory_flags_take_units(runtime, bundle):
    # runc parses the memory flags with go-units' RAMInBytes: "96m", "1g"
    # (binary units, case-insensitive, optional "b").
    b = update_target(bundle)
    started(runtime, b)
    res = runtime.cmd("update", "--memory", "96m", "--memory-reservation", "48MB",
                      "--memory-swap", "1g", b.id)
    assert res.ok, res
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == 96 * MiB
    assert int(cgroups.read("memory", b.id, "memory.soft_limit_in_bytes")) == 48 * MiB
    memsw = os.path.join(cgroups.container_dir("memory", b.id), "memory.memsw.limit_in_bytes")
    if os.path.exists(memsw):
        assert int(cgroups.read("memory", b.id, "memory.memsw.limit_in_bytes")) == 1024 * MiB
    stop_and_delete(runtime, b.id)


def test_update_memory_and_swap_down_then_up(runtime, bundle):
    # v1 wants limit <= memsw after every write: shrinking both must write the
    # limit first, growing both the memsw first.
    b = update_target(bundle, {"memory": {"limit": 128 * MiB, "swap": 256 * MiB}})
    started(runtime, b)
    memsw = os.path.join(cgroups.container_dir("memory", b.id), "memory.memsw.limit_in_bytes")
    if not os.path.exists(memsw):
        stop_and_delete(runtime, b.id)
        pytest.skip("no swap accounting (memory.memsw.*) on this kernel")
    for limit, swap in ((32 * MiB, 48 * MiB), (256 * MiB, 512 * MiB)):
        res = runtime.cmd("update", "--memory", str(limit), "--memory-swap", str(swap), b.id)
        assert res.ok, res
        assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == limit
        assert int(cgroups.read("memory", b.id, "memory.memsw.limit_in_bytes")) == swap
    stop_and_delete(runtime, b.id)


def test_update_of_paused_container(runtime, bundle):
    b = update_target(bundle)
    started(runtime, b)
    assert runtime.cmd("pause", b.id).ok
    res = runtime.cmd("update", "--pids-limit", "21", b.id)
    assert res.ok, res
    assert cgroups.read("pids", b.id, "pids.max") == "21"
    assert runtime.state(b.id)["status"] == "paused"
    assert runtime.cmd("resume", b.id).ok
    stop_and_delete(runtime, b.id)


def test_update_of_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    res = runtime.cmd("update", "--pids-limit", "10", b.id)
    assert res.rc != 0, res
    if not runtime.is_runc:
        assert "stopped" in res.err, res
    assert runtime.delete(b.id).ok


@pytest.mark.parametrize("resources,field", [
    ({"memory": {"limit": -2}}, "memory.limit"),
    ({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}}, "memory.swap"),
    ({"cpu": {"cpus": "4096"}}, "cpu.cpus"),
], ids=["negative-limit", "swap-below-limit", "cpus-offline"])
def test_update_with_bad_values_fails_and_changes_nothing(runtime, bundle, tmp, resources,
                                                          field):
    b = update_target(bundle)
    started(runtime, b)
    before = {(h, f): cgroups.read(h, b.id, f) for h, f in (
        ("memory", "memory.limit_in_bytes"), ("pids", "pids.max"), ("cpu", "cpu.shares"),
        ("cpuset", "cpuset.cpus"))}
    path = os.path.join(tmp, "bad.json")
    with open(path, "w") as f:
        json.dump(resources, f)
    res = runtime.cmd("update", "--resources", path, b.id)
    assert res.rc != 0, res
    if not runtime.is_runc:
        assert field in res.err, res
    after = {k: cgroups.read(k[0], b.id, k[1]) for k in before}
    assert after == before
    assert runtime.state(b.id)["status"] == "running"
    stop_and_delete(runtime, b.id)


# --------------------------------------------------------------------- events
def test_events_stats_shape(runtime, bundle):
    b = bundle(["sh", "-c", "probe sleep & exec probe sleep"],
               linux={"resources": {"memory": {"limit": 64 * MiB}, "pids": {"limit": 77}}})
    started(runtime, b)
    deadline = time.monotonic() + 5
    while len(ps(runtime, b.id)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    res = runtime.cmd("events", "--stats", b.id)
    assert res.ok, res
    lines = res.out.splitlines()
    assert len(lines) == 1, res  # one JSON object on one line
    event = json.loads(lines[0])
    assert event["type"] == "stats"
    assert event["id"] == b.id
    data = event["data"]
    for key in ("cpu", "memory", "pids"):
        assert isinstance(data.get(key), dict), (key, data)
    assert data["pids"]["current"] == 2, data["pids"]
    assert data["pids"]["limit"] == 77, data["pids"]
    assert data["memory"]["usage"]["usage"] > 0, data["memory"]
    assert data["memory"]["usage"]["limit"] == 64 * MiB, data["memory"]
    assert data["cpu"]["usage"]["total"] > 0, data["cpu"]
    stop_and_delete(runtime, b.id)


def test_events_stats_of_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    res = runtime.cmd("events", "--stats", b.id)
    assert res.rc != 0, res
    assert runtime.delete(b.id).ok


def stream_lines(running):
    return [json.loads(line) for line in running.read_out().splitlines() if line.strip()]


def wait_stream(running, pred, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        events = stream_lines(running)
        if pred(events):
            return events
        assert running.proc.poll() is None or pred(stream_lines(running)), \
            f"events ended early (exit {running.proc.returncode}): {running.read_out()!r}"
        assert time.monotonic() < deadline, f"timed out; stream so far: {events}"
        time.sleep(0.05)


@pytest.mark.runc_differs("runc 1.1's event stream goes on after the container stopped")
def test_events_interval_streams_until_the_container_exits(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    stream = runtime.spawn("events", "--interval", "200ms", b.id)
    t0 = time.monotonic()
    events = wait_stream(stream, lambda ev: len(ev) >= 4)
    # four samples at 200 ms: well under 5 s (the default interval)
    assert time.monotonic() - t0 < 4, events
    assert all(e["type"] == "stats" and e["id"] == b.id for e in events), events
    assert all("memory" in e["data"] and "pids" in e["data"] for e in events), events
    assert runtime.kill(b.id, "KILL").ok
    runtime.wait_status(b.id, "stopped")
    res = stream.wait(timeout=10)  # the stream ends by itself
    assert res.rc == 0, res
    assert runtime.delete(b.id).ok


def test_events_reports_oom(runtime, bundle):
    # The shell waits for /tmp/go, then a child allocates past the limit and
    # is OOM-killed; the shell (the init) lives on.
    script = ("while [ ! -e /tmp/go ]; do usleep 50000; done; "
              "dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?; exec probe sleep")
    b = bundle(["sh", "-c", script],
               linux={"resources": {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}}})
    out = started(runtime, b)
    stream = runtime.spawn("events", "--interval", "1s", b.id)
    wait_stream(stream, lambda ev: len(ev) >= 1)
    with open(os.path.join(b.rootfs, "tmp", "go"), "w"):
        pass
    runtime.wait_output(out, "dd=")
    events = wait_stream(stream, lambda ev: any(e["type"] == "oom" for e in ev))
    oom = [e for e in events if e["type"] == "oom"]
    assert len(oom) == 1, events
    assert oom[0]["id"] == b.id, oom
    stop_and_delete(runtime, b.id)
    assert stream.wait(timeout=10).rc == 0
