"""Fixtures for berthd + berthctl end-to-end tests.

`daemon` is a private berthd per test module (own root, state, socket in
the session's temp dir; stopped by PID with SIGTERM, which must end it
cleanly, and no mount may be left under its dirs). `fresh_daemon` is one
per test, for tests that kill or restart it. `busybox_oci` is an OCI
archive of the test rootfs (lib.oci_image, built offline)."""
import os

import pytest

from lib import leaks, oci_image
from lib.berthd import Berthd, berthctl_bin, berthd_bin


def _require_binaries():
    for b in (berthd_bin(), berthctl_bin()):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} not built: run contrib/build.sh", pytrace=False)


# berthd puts containers under /berth/<id> in each hierarchy; the runtime
# removes the leaves, the parent goes with the last test daemon.
_CGROUP_PARENTS = [os.path.join("/sys/fs/cgroup", h, "berth")
                   for h in (os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else [])]


def _remove_empty_cgroup_parents():
    for p in _CGROUP_PARENTS + ["/sys/fs/cgroup/berth"]:
        try:
            os.rmdir(p)
        except OSError:
            pass  # not there, or still in use by another daemon's container


def _teardown(d):
    status = d.stop()
    _remove_empty_cgroup_parents()
    left = d.mounts()
    for m in sorted(left, key=len, reverse=True):
        os.system(f"umount -l '{m}'")
    assert status == 0, f"berthd exited {status} on SIGTERM:\n{d.read_log()[-3000:]}"
    assert not left, f"mounts left under the daemon's dirs: {left}"


@pytest.fixture(scope="module")
def daemon(session_dir, request):
    _require_binaries()
    top = os.path.join(session_dir, "berthd-" + request.module.__name__.rsplit(".", 1)[-1])
    d = Berthd(top).start()
    yield d
    _teardown(d)
    if not os.environ.get("BERTH_KEEP_TMP"):
        leaks.safe_rmtree(top)


@pytest.fixture
def fresh_daemon(test_env):
    _require_binaries()
    made = []

    def make(config_text=None, start=True):
        d = Berthd(os.path.join(test_env.path, f"berthd{len(made)}"), config_text)
        made.append(d)
        return d.start() if start else d

    yield make
    for d in made:
        if d.proc and d.proc.poll() is None:
            _teardown(d)


@pytest.fixture(scope="session")
def busybox_oci(session_dir, rootfs_template):
    """An OCI archive (one gzip layer) named localhost/busybox:latest."""
    path = os.path.join(session_dir, "busybox-oci.tar")
    if not os.path.exists(path):
        oci_image.build(rootfs_template, path, "localhost/busybox:latest")
    return path
