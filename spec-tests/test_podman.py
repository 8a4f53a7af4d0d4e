"""podman (Debian's 4.3) driving the runtime under test through conmon, with
cgroups (cgroupfs manager, nested under the test's cgroup) and without
(`--cgroups=disabled`, for which podman passes crun's global
`--cgroup-manager disabled` to create).

podman decides whether a runtime may run without cgroups by its name: the
basename of `--runtime` must be listed in containers.conf's engine table
under `runtime_supports_nocgroup` (podman 4.3 reads that singular key; the
plural `runtime_supports_nocgroups` that its documentation names is ignored,
with only a debug message). Its default list is crun and krun, so each test
writes its own containers.conf naming the runtime under test.

Everything podman keeps lives in the test's temp dir: image and container
storage (vfs: no overlay mounts), run root, libpod's tmp dir (exit files,
events file), network config; the runtime's state goes to the test's state
dir through a wrapper that adds `--root`. The image is built offline from the
test rootfs (lib.oci_image) and loaded from an OCI archive.
"""
import os
import subprocess
import time

import pytest

from lib import cgroups, leaks, oci_image

PODMAN = "/usr/bin/podman"
CONMON = "/usr/bin/conmon"
IMAGE = "localhost/busybox:latest"
# podman 4.3 asks for RLIMIT_NOFILE and RLIMIT_NPROC of 1048576, above this
# host's hard limits, which root cannot raise here (no CAP_SYS_RESOURCE).
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


@pytest.fixture(scope="module")
def image_archive(session_dir, rootfs_template):
    for tool in (PODMAN, CONMON):
        if not os.access(tool, os.X_OK):
            pytest.skip(f"{tool} missing: install podman (contrib/install-deps.sh)")
    tar = os.path.join(session_dir, "podman-busybox-oci.tar")
    if not os.path.exists(tar):
        oci_image.build(rootfs_template, tar, IMAGE)
    return tar


class Podman:
    def __init__(self, top, berth, state_dir, image_archive):
        self.top = top
        self.state_dir = state_dir
        conf = os.path.join(top, "containers.conf")
        with open(conf, "w") as f:
            f.write("[engine]\n"
                    f'runtime_supports_nocgroup = ["crun", "krun", "{os.path.basename(berth)}"]\n')
        # conmon's exit command (`podman container cleanup`, which deletes the
        # container from the runtime) repeats --runtime but not
        # --runtime-flag: a wrapper of the runtime's name adds --root.
        wrapper = os.path.join(top, "bin", os.path.basename(berth))
        os.makedirs(os.path.dirname(wrapper))
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec {berth} --root {state_dir} "$@"\n')
        os.chmod(wrapper, 0o755)
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.env.pop("NOTIFY_SOCKET", None)
        self.base = [PODMAN, "--root", os.path.join(top, "root"),
                     "--runroot", os.path.join(top, "runroot"),
                     "--tmpdir", os.path.join(top, "tmpdir"),
                     "--network-config-dir", os.path.join(top, "net"),
                     "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                     "--events-backend", "file",
                     "--runtime", wrapper]
        self.run("load", "-i", image_archive)

    def run(self, *args, check=True, timeout=120):
        res = subprocess.run(self.base + list(args), env=self.env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=timeout)
        if check:
            assert res.returncode == 0, (
                f"$ podman {' '.join(args)}\n-> exit {res.returncode}\n"
                f"stdout: {res.stdout[-2000:]!r}\nstderr: {res.stderr[-2000:]!r}")
        return res

    def run_to_exit(self, *args):
        """`podman run` detached, then wait, logs and rm, each step checked."""
        self.run("run", "-d", "--name", "c0", *args)
        self.run("wait", "c0")
        res = self.run("logs", "c0")
        self.run("rm", "c0")
        return res

    def cleanup(self):
        """Remove every container and wait for conmon and podman's exit
        commands (`podman container cleanup`, started by conmon) to end:
        their cwd is under the test dir."""
        self.run("rm", "--all", "--force", check=False)
        deadline = time.monotonic() + 30
        while leaks.processes_of(self.top, set(), "\0") or leaks.state_entries(self.state_dir):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)


@pytest.fixture
def podman(berth, test_env, image_archive):
    top = os.path.join(test_env.path, "podman")
    os.makedirs(top)
    p = Podman(top, berth, test_env.state_dir, image_archive)
    yield p
    p.cleanup()


def memory_cgroup(cgroup_text):
    for line in cgroup_text.splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return None


def runtime_containers(runtime):
    res = runtime.list("--format", "json")
    assert res.ok, res
    return {c["id"]: c["status"] for c in (res.json() or [])}


def wait_runtime_containers(runtime, want, timeout=30):
    """podman deletes a `run --rm` container in the background too (conmon's
    exit command, `podman container cleanup --rm`): wait for the runtime's
    state to settle."""
    deadline = time.monotonic() + timeout
    while (got := runtime_containers(runtime)) != want:
        assert time.monotonic() < deadline, f"runtime state {got}, expected {want}"
        time.sleep(0.1)


def test_podman_runs_berth_with_cgroups(podman, runtime, test_env):
    parent = cgroups.container_path(test_env.new_id())
    try:
        res = podman.run_to_exit("--network", "none", *ULIMITS, "--cgroup-parent", parent,
                                 IMAGE, "sh", "-c", "echo hello from podman; cat /proc/self/cgroup")
        assert "hello from podman" in res.stdout, res
        # The container's own cgroup, made by the runtime under podman's parent.
        assert memory_cgroup(res.stdout.split("\n", 1)[1]).startswith(parent + "/libpod-"), res
        wait_runtime_containers(runtime, {})

        res = podman.run("run", "-d", "--name", "c1", "--network", "none", *ULIMITS,
                         "--cgroup-parent", parent, IMAGE, "sleep", "100")
        cid = res.stdout.strip()
        assert runtime_containers(runtime) == {cid: "running"}
        podman.run("stop", "-t", "0", "c1")
        podman.run("rm", "c1")
        wait_runtime_containers(runtime, {})
    finally:
        podman.cleanup()
        # podman's conmon cgroup and the parent it made in every hierarchy
        for h in cgroups.hierarchies():
            for d in (h + parent + "/conmon", h + parent):
                if os.path.isdir(d):
                    cgroups.rmdir_retry(d)


@pytest.mark.runc_differs("runc has no --cgroup-manager=disabled")
def test_podman_runs_berth_with_cgroups_disabled(podman, runtime):
    before = set(leaks.cgroups_under(cgroups.test_base()))
    res = podman.run_to_exit("--cgroups=disabled", "--network", "none", *ULIMITS,
                             IMAGE, "sh", "-c", "echo hello from podman; cat /proc/self/cgroup")
    assert "hello from podman" in res.stdout, res
    # conmon and the container stay in podman's cgroup, which is ours.
    assert memory_cgroup(res.stdout.split("\n", 1)[1]) == cgroups.own_memory_cgroup(), res
    wait_runtime_containers(runtime, {})

    res = podman.run("run", "-d", "--name", "c1", "--cgroups=disabled", "--network", "none",
                     *ULIMITS, IMAGE, "sleep", "100")
    cid = res.stdout.strip()
    assert runtime_containers(runtime) == {cid: "running"}
    # Commands podman runs without the flag find the container's state.
    podman.run("stop", "-t", "0", "c1")
    podman.run("rm", "c1")
    wait_runtime_containers(runtime, {})
    assert set(leaks.cgroups_under(cgroups.test_base())) == before
