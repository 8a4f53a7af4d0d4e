"""A private containerd 1.6 (see lib/containerd.py) shared by this
directory's tests, and the busybox image imported into it. containerd's shim
(containerd-shim-runc-v2) drives the runtime under test through
`ctr run --runc-binary <berth>`: the same CLI calls containerd makes in
production (create --bundle --pid-file, start, ps, kill, delete)."""
import os

import pytest

from lib import cgroups, leaks, oci_image
from lib.containerd import PrivateContainerd
from lib.shim_e2e import wait_gone

IMAGE = "localhost/busybox:latest"


@pytest.fixture(scope="session")
def containerd(session_dir):
    for tool in ("/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2"):
        if not os.access(tool, os.X_OK):
            pytest.skip(f"{tool} missing: install containerd (contrib/install-deps.sh)")
    base = os.path.join(session_dir, "containerd")
    os.makedirs(base)
    ctrd = PrivateContainerd(base).start()
    yield ctrd
    ctrd.stop()
    # Containers whose shim had to be killed: end them by their test cgroup.
    marker = cgroups.test_base() + "/"
    leaks.kill_and_wait(list(leaks.processes_of(base, set(), marker)))
    for d in leaks.cgroups_under(cgroups.test_base()):
        cgroups.rmdir_retry(d)


def _private_containerd(request):
    """The private containerd this test uses (shimd: berth-shim's), if any."""
    for name in ("shimd", "containerd"):
        if name in request.fixturenames:
            return request.getfixturevalue(name)
    return None


@pytest.fixture(autouse=True)
def no_shim_left(request):
    """Every shim a test started must be gone when it ends (its tasks
    deleted): a shim left behind holds a container's io and cgroup. Scoped to
    this test's own private containerd and the shims that appeared during
    the test."""
    ctrd = _private_containerd(request)
    before = set(ctrd.shim_pids()) if ctrd is not None else set()
    yield
    if ctrd is None or ctrd.proc is None:
        return
    new = [p for p in ctrd.shim_pids() if p not in before]
    left = wait_gone(new, 10)
    if not left:
        return
    msg = "leak check after test:\n  shims left: " + "; ".join(leaks.describe_pid(p) for p in left)
    leaks.kill_and_wait(left)
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.passed:
        pytest.fail(msg, pytrace=False)
    print(msg)


@pytest.fixture(scope="session")
def image(containerd, rootfs_template, session_dir):
    """localhost/busybox:latest (busybox + /bin/probe), built offline and imported."""
    tar = os.path.join(session_dir, "busybox-oci.tar")
    oci_image.build(rootfs_template, tar, IMAGE)
    containerd.ctr("image", "import", tar)
    assert IMAGE in containerd.ctr("image", "ls", "-q").stdout.split()
    return IMAGE


@pytest.fixture
def ctr_run(containerd, image, berth, test_env):
    """ctr_run(*flags, args=[...]) -> (container id, CompletedProcess): `ctr run`
    of the image with the runtime under test and a cgroup nested under ours."""

    def run(*flags, args, timeout=60):
        cid = test_env.new_id()
        res = containerd.ctr("run", "--fifo-dir", containerd.fifo_dir, "--runc-binary", berth,
                             "--cgroup", cgroups.container_path(cid), *flags, image, cid, *args,
                             check=False, timeout=timeout)
        return cid, res

    return run
