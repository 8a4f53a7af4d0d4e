"""Fixtures for berth's end-to-end tests.

Every test gets its own temp dir (bundles, state dir, command output), its
containers' cgroups under <own memory cgroup>/berth-test-<pid>/<id>, and an
after-test check that nothing leaked: mounts, processes, state entries,
cgroups (also at the runtime's default path, for a test without
cgroupsPath), runtime commands still running. Leaks fail the test and are then removed, so one broken test never
breaks the next.

Environment:
  BERTH_BIN        runtime under test (default <build>/runtime/cli/berth);
                   BERTH_BIN=/usr/sbin/runc validates the tests themselves
  BERTH_BUILD_DIR  build dir (default <repo>/build)
  BERTH_KEEP_TMP=1 keep each test's temp dir for debugging
  BERTH_TEST_TIMEOUT  seconds one test may take (default 120)
"""
import json
import os
import signal
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cgroups, leaks, paths, rootfs  # noqa: E402
from lib.config import make_config  # noqa: E402
from lib.runtime import Runtime  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("BERTH_TEST_TIMEOUT", "120"))


def pytest_configure(config):
    # Files and dirs the tests create (rootfs, bundles, temp dirs) must be
    # readable by container users other than root, whatever umask CI has.
    os.umask(0o022)
    config.addinivalue_line(
        "markers", "runc_differs(reason): berth knowingly differs from runc here; "
                   "expected to fail when BERTH_BIN is runc")
    config.addinivalue_line("markers", "containerd: needs a private containerd")


def pytest_report_header(config):
    binary = paths.berth_bin()
    return [f"runtime under test: {binary} ({paths.runtime_flavor(binary)})",
            f"test cgroups under: {cgroups.test_base()}"]


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        # Containers need root here: no test can say anything useful without it.
        skip = pytest.mark.skip(reason="end-to-end tests require root (run with sudo)")
        for item in items:
            item.add_marker(skip)
        return
    flavor = paths.runtime_flavor(paths.berth_bin())
    for item in items:
        for mark in item.iter_markers("runc_differs"):
            if flavor != "berth":
                reason = mark.args[0] if mark.args else "berth differs from runc"
                item.add_marker(pytest.mark.xfail(reason=f"{flavor} differs: {reason}",
                                                  strict=False))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item: the leak check must know whether
    # the test itself already failed.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # A hung runtime must not eat CI's time budget: bound every test.
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT}s (BERTH_TEST_TIMEOUT)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------- session fixtures
@pytest.fixture(scope="session")
def berth():
    binary = paths.berth_bin()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"runtime binary {binary} not found: run contrib/build.sh or set BERTH_BIN",
                    pytrace=False)
    return binary


@pytest.fixture(scope="session")
def flavor(berth):
    return paths.runtime_flavor(berth)


@pytest.fixture(scope="session")
def session_dir():
    """Scratch dir for the whole run, and the owner of the session's cgroups."""
    leaks.reap_stale_sessions("/tmp", cgroups.own_memory_cgroup())
    # the pid in the name lets a later run recognise this dir as stale
    top = tempfile.mkdtemp(prefix=f"berth-e2e-{os.getpid()}-", dir="/tmp")
    # searchable by everyone: a container root mapped to another uid (user
    # namespace tests) must still reach its rootfs below this dir
    os.chmod(top, 0o755)
    base = cgroups.test_base()
    preexisting = cgroups.existing_ancestors(base)
    yield top
    # Remove berth-test-<pid> in every hierarchy, deepest first, and the
    # ancestors of it that did not exist before this session (in v1 hierarchies
    # other than memory, the runtime created our memory path's mirror).
    parts = [p for p in base.split("/") if p]
    for h in cgroups.hierarchies():
        top_cg = h + base
        if os.path.isdir(top_cg):
            for d in cgroups.subdirs_deepest_first(top_cg) + [top_cg]:
                cgroups.rmdir_retry(d, timeout=0.5)
        for i in range(len(parts) - 1, 0, -1):
            d = os.path.join(h, *parts[:i])
            if d not in preexisting and os.path.isdir(d):
                try:
                    os.rmdir(d)
                except OSError:
                    break  # not empty: someone else uses it
    if not os.environ.get("BERTH_KEEP_TMP"):
        leaks.safe_rmtree(top)


@pytest.fixture(scope="session")
def probe(session_dir):
    return paths.probe_bin(session_dir)


@pytest.fixture(scope="session")
def rootfs_template(session_dir, probe):
    """The busybox rootfs, built once; bundles copy it."""
    return rootfs.build_rootfs(os.path.join(session_dir, "template", "rootfs"), probe)


# ------------------------------------------------------------------ per test
class TestEnv:
    """One test's private area: temp dir, runtime state dir, the rootfs
    directories of its bundles (to recognise its container processes)."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, path):
        self.path = path
        self.state_dir = os.path.join(path, "state")
        self.io_dir = os.path.join(path, "io")
        self.root_ids = set()
        # (container id, linux.cgroupsPath or None) of every bundle saved:
        # the leak check looks for those cgroups wherever they are
        self.cgroup_requests = set()
        self.container_ids = set()
        self.left_commands = []
        self._ids = 0

    def new_id(self):
        # the session's pid makes ids unique among parallel runs on this
        # host: the leak check looks for cgroups named after them
        self._ids += 1
        cid = f"t{os.getpid()}-{os.path.basename(self.path)}-{self._ids}"
        self.container_ids.add(cid)
        return cid


_test_counter = 0


@pytest.fixture(autouse=True)
def test_env(request, session_dir):
    global _test_counter
    _test_counter += 1
    env = TestEnv(os.path.join(session_dir, f"{_test_counter:03d}"))
    os.makedirs(env.path)
    yield env
    _check_and_clean(request, env)


def _check_and_clean(request, env):
    """Fail the test if it leaked, then remove the leak so later tests are not
    affected. A test that already failed is not failed twice: its leftovers
    are only printed (they are likely a consequence of that failure)."""
    if not os.path.isdir(env.path):
        return
    binary = paths.berth_bin()
    base = cgroups.test_base()
    problems = []
    entries = leaks.state_entries(env.state_dir)
    if entries:
        problems.append(f"state dir entries left: {entries}")
    procs = leaks.processes_of(env.path, env.root_ids, base + "/")
    if procs:
        problems.append("processes left: " + "; ".join(
            f"{leaks.describe_pid(p)} ({why})" for p, why in procs.items()))
    mounts = leaks.mounts_under(env.path)
    if mounts:
        problems.append(f"mounts left: {mounts}")
    left_cgroups = leaks.cgroups_under(base)
    left_cgroups += [d for d in leaks.requested_cgroup_dirs(env.cgroup_requests)
                     if d not in left_cgroups]
    if left_cgroups:
        problems.append(f"cgroups left: {left_cgroups}")
    # a test that removed cgroupsPath: the runtime's default <own>/<id>
    ids = env.container_ids | set(entries)
    left_default = leaks.default_cgroups_of(ids)
    if left_default:
        problems.append(f"cgroups left at the default path: {left_default}")
    if env.left_commands:
        problems.append("runtime commands left running: " + "; ".join(env.left_commands))

    leaks.force_cleanup(binary, env.state_dir, env.path, env.root_ids, base, ids,
                        env.cgroup_requests)
    if not os.environ.get("BERTH_KEEP_TMP"):
        leaks.safe_rmtree(env.path)

    call = getattr(request.node, "rep_call", None)
    if problems:
        msg = "leak check after test:\n  " + "\n  ".join(problems)
        if call is not None and call.passed:
            pytest.fail(msg, pytrace=False)
        print(msg)


@pytest.fixture
def runtime(berth, flavor, test_env):
    rt = Runtime(berth, test_env.state_dir, test_env.io_dir, flavor)
    yield rt
    test_env.left_commands.extend(rt.close())


class Bundle:
    def __init__(self, cid, path, config, env=None):
        self.id, self.path, self.config = cid, path, config
        self.env = env
        self.rootfs = os.path.join(path, "rootfs")
        self.config_path = os.path.join(path, "config.json")

    def save(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=1)
        if self.env is not None:
            path = (self.config.get("linux") or {}).get("cgroupsPath")
            self.env.cgroup_requests.add((self.id, path if isinstance(path, str) else None))
        return self

    def write_raw(self, data):
        """Replace config.json by arbitrary bytes or text (error tests)."""
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(self.config_path, mode) as f:
            f.write(data)
        return self


@pytest.fixture
def bundle(test_env, rootfs_template):
    """Factory: bundle(args=None, id=None, **overrides) -> Bundle with a copy
    of the rootfs and a saved config.json (see lib.config.make_config)."""

    def make(args=None, id=None, **overrides):
        cid = id or test_env.new_id()
        test_env.container_ids.add(cid)
        path = os.path.join(test_env.path, cid)
        os.makedirs(path)
        rootfs.copy_rootfs(rootfs_template, os.path.join(path, "rootfs"))
        st = os.stat(os.path.join(path, "rootfs"))
        test_env.root_ids.add((st.st_dev, st.st_ino))
        config = make_config(args, cgroups_path=cgroups.container_path(cid), **overrides)
        return Bundle(cid, path, config, test_env).save()

    return make


@pytest.fixture
def tmp(test_env):
    """The test's own temp dir (decoys, sockets, hook markers live here)."""
    return test_env.path
