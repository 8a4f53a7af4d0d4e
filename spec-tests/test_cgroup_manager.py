"""Running without cgroups (crun's global `--cgroup-manager=disabled`, which
podman passes for `--cgroups=disabled`) and the global `--rootless` flag.

Without a cgroup the container stays in the caller's own cgroups: nothing is
made under any hierarchy, limits are refused when asked for, and the commands
that work on a cgroup (pause, resume, update, events, ps) fail saying so.
Later commands need no flag: the state remembers that there is no cgroup.
"""
import os

import pytest

from lib import cgroups

DISABLED = ("--cgroup-manager=disabled",)

pytestmark = pytest.mark.runc_differs("runc has no --cgroup-manager flag and implements --rootless")


def memory_cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return path
    return None


def test_cgroup_manager_disabled_makes_and_joins_no_cgroup(runtime, bundle):
    b = bundle(["sleep", "100"])
    res = runtime.create(b, global_args=DISABLED)
    assert res.ok, res
    assert runtime.start(b.id).ok
    pid = runtime.state(b.id)["pid"]
    # The init stays where berth ran: in the test process's own memory cgroup,
    # not in the cgroupsPath the config names.
    assert memory_cgroup_of(pid) == memory_cgroup_of(os.getpid())
    assert cgroups.container_dirs_anywhere(b.id) == []
    # Later commands need no flag: kill and delete work as usual.
    assert runtime.kill(b.id, "KILL").ok
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok


def test_cgroup_manager_disabled_run_and_exec(runtime, bundle):
    b = bundle(["sleep", "100"])
    res = runtime.run(b, "--detach", global_args=DISABLED)
    assert res.ok, res
    ex = runtime.cmd("exec", b.id, "cat", "/proc/self/cgroup")
    assert ex.ok, ex
    own = memory_cgroup_of(os.getpid())
    assert any(line.split(":", 2)[1] == "memory" and line.split(":", 2)[2] == own
               for line in ex.out.splitlines()), ex
    assert runtime.delete(b.id, force=True).ok
    assert cgroups.container_dirs_anywhere(b.id) == []


@pytest.mark.parametrize("args,what", [
    (("pause",), "pause"),
    (("resume",), "resume"),
    (("update", "--pids-limit", "10"), "update"),
    (("events", "--stats"), "read stats of"),
    (("events", "--interval", "1s"), "watch events of"),
    (("ps",), "list the processes of"),
], ids=["pause", "resume", "update", "events-stats", "events-stream", "ps"])
def test_cgroup_commands_fail_clearly_without_a_cgroup(runtime, bundle, args, what):
    b = bundle(["sleep", "100"])
    assert runtime.run(b, "--detach", global_args=DISABLED).ok
    res = runtime.cmd(*args, b.id)
    assert res.rc != 0, res
    assert f"cannot {what} container `{b.id}`: it has no cgroup" in res.err, res
    assert runtime.state(b.id)["status"] == "running"
    assert runtime.delete(b.id, force=True).ok


def test_kill_all_without_a_cgroup_signals_the_init(runtime, bundle):
    b = bundle(["sleep", "100"])
    assert runtime.run(b, "--detach", global_args=DISABLED).ok
    assert runtime.kill(b.id, "KILL", all=True).ok
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok


def test_cgroup_manager_disabled_refuses_limits(runtime, bundle):
    b = bundle(["true"], linux={"resources": {"memory": {"limit": 64 << 20}}})
    res = runtime.create(b, global_args=DISABLED)
    assert res.rc != 0, res
    assert "linux.resources.memory: needs a cgroup" in res.err, res


def test_cgroup_manager_disabled_accepts_device_rules(runtime, bundle):
    # podman sends a deny-all device rule with every config, --cgroups=disabled
    # included; crun accepts it, and so must berth for podman to work.
    b = bundle(["true"], linux={"resources": {"devices": [{"allow": False, "access": "rwm"}]}})
    res = runtime.run(b, global_args=DISABLED)
    assert res.ok, res


@pytest.mark.parametrize("value,message", [
    ("systemd", "--cgroup-manager: the systemd cgroup driver is not supported"),
    ("bogus", "--cgroup-manager: must be cgroupfs or disabled, got `bogus`"),
])
def test_cgroup_manager_bad_values_are_refused(runtime, bundle, value, message):
    b = bundle(["true"])
    res = runtime.run(b, global_args=(f"--cgroup-manager={value}",))
    assert res.rc != 0, res
    assert message in res.err, res
    res = runtime.list(global_args=(f"--cgroup-manager={value}",))
    assert res.rc != 0 and message in res.err, res


def test_cgroup_manager_cgroupfs_is_the_default(runtime, bundle):
    b = bundle(["true"])
    assert runtime.run(b, global_args=("--cgroup-manager", "cgroupfs")).ok


def test_rootless_true_is_refused(runtime, bundle):
    b = bundle(["true"])
    res = runtime.run(b, global_args=("--rootless=true",))
    assert res.rc != 0, res
    assert "--rootless: rootless containers are not supported" in res.err, res
    assert cgroups.container_dirs_anywhere(b.id) == []
    res = runtime.list(global_args=("--rootless", "true"))
    assert res.rc != 0 and "not supported" in res.err, res


@pytest.mark.parametrize("value", ["false", "auto"])
def test_rootless_false_and_auto_are_accepted_as_root(runtime, bundle, value):
    b = bundle(["true"])
    res = runtime.run(b, global_args=(f"--rootless={value}",))
    assert res.ok, res


def test_rootless_bad_value_is_refused(runtime):
    res = runtime.list(global_args=("--rootless=maybe",))
    assert res.rc != 0, res
    assert "--rootless: must be true, false or auto, got `maybe`" in res.err, res
