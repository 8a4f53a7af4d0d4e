"""linux.resources: what reaches the container's cgroup files and what the
limits do to the processes inside.

This host is hybrid (ENVIRONMENT.md): v1 controllers under /sys/fs/cgroup/<c>
and a cgroup2 tree at /sys/fs/cgroup/unified with hugetlb only. The tests read
the files of the container's own cgroup directly (lib.cgroups.read), so they
check the kernel's view, not the runtime's report. Values the kernel cannot
take, or that this host has no controller for, must fail `create` with exit 1,
a message naming the field, and nothing left behind (state entry, cgroup
directory in any hierarchy, mount, process; the last three are also checked
after every test by conftest)."""
import json
import os

import pytest

from lib import cgroups

MiB = 1024 * 1024
UNIFIED = "/sys/fs/cgroup/unified"


def created(runtime, b):
    """create b; returns its state (the init waits for start)."""
    res = runtime.create(b)
    assert res.ok, res
    return runtime.state(b.id)


def started(runtime, b):
    res = runtime.create(b)
    assert res.ok, res
    assert runtime.start(b.id).ok
    return res


def stop_and_delete(runtime, cid):
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert runtime.delete(cid).ok


def assert_rejected(runtime, b, *words):
    """create must fail with exit 1 naming each of words (berth; runc's
    messages rarely name the field, so with runc only the exit code and the
    cleanup are checked), and leave no state entry and no cgroup directory."""
    res = runtime.create(b)
    assert res.rc == 1, res
    if not runtime.is_runc:
        for word in words:
            assert word in res.err, f"stderr should mention {word!r}:\n{res}"
    assert runtime.state_raw(b.id).rc != 0
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []
    assert cgroups.container_dirs_anywhere(b.id) == []
    return res


def has_v1(controller):
    return os.path.isdir(os.path.join(cgroups.CGROUP_ROOT, controller)) and \
        os.path.ismount(os.path.join(cgroups.CGROUP_ROOT, controller))


def online_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        text = f.read().strip()
    ids = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


# ---------------------------------------------------------------------- memory
def test_memory_limit_reservation_swap_swappiness(runtime, bundle):
    if not has_v1("memory"):
        pytest.skip("no v1 memory hierarchy")
    b = bundle(["probe", "sleep"], linux={"resources": {"memory": {
        "limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB, "swappiness": 10}}})
    created(runtime, b)
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == 64 * MiB
    assert int(cgroups.read("memory", b.id, "memory.soft_limit_in_bytes")) == 32 * MiB
    assert int(cgroups.read("memory", b.id, "memory.swappiness")) == 10
    memsw = os.path.join(cgroups.container_dir("memory", b.id), "memory.memsw.limit_in_bytes")
    if os.path.exists(memsw):  # swap accounting on: swap is memory+swap
        assert int(cgroups.read("memory", b.id, "memory.memsw.limit_in_bytes")) == 96 * MiB
    assert runtime.delete(b.id, force=True).ok


def test_memory_limit_minus_one_is_unlimited(runtime, bundle):
    if not has_v1("memory"):
        pytest.skip("no v1 memory hierarchy")
    b = bundle(["probe", "sleep"], linux={"resources": {"memory": {"limit": -1}}})
    created(runtime, b)
    # v1 shows "unlimited" as PAGE_COUNTER_MAX pages: 2^63-1 rounded down to a page
    unlimited = (2 ** 63 - 1) // os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PAGE_SIZE")
    assert int(cgroups.read("memory", b.id, "memory.limit_in_bytes")) == unlimited
    assert runtime.delete(b.id, force=True).ok


# Allocating past the limit: busybox dd allocates its bs-sized buffer and
# read() from /dev/zero touches every page of it.
HOG = "dd if=/dev/zero of=/dev/null bs=64M count=1"
SMALL_MEMORY = {"limit": 16 * MiB, "swap": 16 * MiB}  # swap == limit: no swap to escape to


def test_oom_kills_init_past_the_limit(runtime, bundle):
    b = bundle(HOG.split(), linux={"resources": {"memory": dict(SMALL_MEMORY)}})
    res = runtime.run(b)
    assert res.rc == 128 + 9, res


def test_oom_kill_is_seen_by_shell_stats_and_oom_control(runtime, bundle):
    b = bundle(["sh", "-c", HOG + "; echo dd=$?; exec probe sleep"],
               linux={"resources": {"memory": dict(SMALL_MEMORY)}})
    out = started(runtime, b)
    runtime.wait_output(out, "dd=")
    # the shell survives and reports its child killed by SIGKILL
    assert "dd=137\n" in out.read_out(), out.read_out()
    assert runtime.state(b.id)["status"] == "running"
    oom = cgroups.read_keyed("memory", b.id, "memory.oom_control")
    assert oom.get("oom_kill", 0) >= 1, oom
    stats = runtime.cmd("events", "--stats", b.id)
    assert stats.ok, stats
    event = json.loads(stats.out)
    assert event["type"] == "stats" and event["id"] == b.id, event
    usage = event["data"]["memory"]["usage"]
    # the peak reached the limit. (failcnt would be the natural witness, but
    # this kernel, 6.18, leaves v1's memory.failcnt at 0 even then.)
    assert usage["limit"] == 16 * MiB, usage
    assert usage["max"] == 16 * MiB, usage
    stop_and_delete(runtime, b.id)


# ------------------------------------------------------------------------- cpu
def test_cpu_shares_quota_period(runtime, bundle):
    if not has_v1("cpu"):
        pytest.skip("no v1 cpu hierarchy")
    b = bundle(["probe", "sleep"], linux={"resources": {"cpu": {
        "shares": 512, "quota": 25000, "period": 50000}}})
    created(runtime, b)
    assert int(cgroups.read("cpu", b.id, "cpu.shares")) == 512
    assert int(cgroups.read("cpu", b.id, "cpu.cfs_quota_us")) == 25000
    assert int(cgroups.read("cpu", b.id, "cpu.cfs_period_us")) == 50000
    assert runtime.delete(b.id, force=True).ok


def test_cpuset_cpus_and_mems(runtime, bundle):
    if not has_v1("cpuset"):
        pytest.skip("no v1 cpuset hierarchy")
    cpu = online_cpus()[-1]
    b = bundle(["probe", "sleep"], linux={"resources": {"cpu": {"cpus": str(cpu), "mems": "0"}}})
    st = created(runtime, b)
    assert cgroups.read("cpuset", b.id, "cpuset.cpus") == str(cpu)
    assert cgroups.read("cpuset", b.id, "cpuset.mems") == "0"
    # and the init is confined to it
    with open(f"/proc/{st['pid']}/status") as f:
        allowed = [line.split()[1] for line in f if line.startswith("Cpus_allowed_list:")]
    assert allowed == [str(cpu)]
    assert runtime.delete(b.id, force=True).ok


def test_cpus_outside_online_cpus_fail_clearly(runtime, bundle):
    bad = str(max(online_cpus()) + 1)
    b = bundle(["true"], linux={"resources": {"cpu": {"cpus": bad}}})
    res = assert_rejected(runtime, b, "linux.resources.cpu.cpus")
    if not runtime.is_runc:
        assert bad in res.err, res


# ------------------------------------------------------------------------ pids
def test_pids_limit_stops_a_fork_loop(runtime, bundle):
    if not has_v1("pids"):
        pytest.skip("no v1 pids hierarchy")
    limit = 8
    # Each `sleep &` is one more task; the shell itself is the first. The
    # fork that would make limit+1 fails (busybox sh: "can't fork") and the
    # non-interactive shell exits.
    script = "n=0; while [ $n -lt 30 ]; do sleep 30 & n=$((n+1)); echo $n; done; echo loop-ended"
    b = bundle(["sh", "-c", script], linux={"resources": {"pids": {"limit": limit}}})
    res = runtime.create(b)
    assert res.ok, res
    assert cgroups.read("pids", b.id, "pids.max") == str(limit)
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "stopped", timeout=20)
    out = res.read_out()
    with open(res.err_path) as f:  # the container's stderr
        err = f.read()
    lines = out.split()
    assert "loop-ended" not in lines, (out, err)
    assert lines and lines[-1] == str(limit - 1), (out, err)
    assert "can't fork" in err, err
    assert runtime.delete(b.id).ok


# --------------------------------------------------------------------- blockIO
def root_disk():
    """(major, minor) of the whole disk holding /: blkio throttling takes
    disks, not partitions."""
    st = os.stat("/")
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    sysdir = f"/sys/dev/block/{major}:{minor}"
    if not os.path.exists(sysdir):
        return None  # not a block device (overlay, tmpfs, ...)
    if os.path.exists(os.path.join(sysdir, "partition")):
        with open(os.path.join(os.path.realpath(sysdir), "..", "dev")) as f:
            major, minor = (int(x) for x in f.read().split(":"))
    return major, minor


def test_blkio_throttle_on_the_root_disk(runtime, bundle):
    if not has_v1("blkio"):
        pytest.skip("no v1 blkio hierarchy")
    disk = root_disk()
    if disk is None:
        pytest.skip("/ is not on a block device")
    major, minor = disk
    dev = {"major": major, "minor": minor}
    b = bundle(["probe", "sleep"], linux={"resources": {"blockIO": {
        "throttleReadBpsDevice": [dict(dev, rate=MiB)],
        "throttleWriteBpsDevice": [dict(dev, rate=2 * MiB)],
        "throttleReadIOPSDevice": [dict(dev, rate=300)],
        "throttleWriteIOPSDevice": [dict(dev, rate=200)]}}})
    created(runtime, b)
    key = f"{major}:{minor}"
    for name, rate in (("read_bps_device", MiB), ("write_bps_device", 2 * MiB),
                       ("read_iops_device", 300), ("write_iops_device", 200)):
        lines = cgroups.read("blkio", b.id, "blkio.throttle." + name).splitlines()
        assert f"{key} {rate}" in lines, (name, lines)
    assert runtime.delete(b.id, force=True).ok


def blkio_weight_file(cgroup_dir):
    """The weight file a blkio cgroup offers: blkio.weight (CFQ, gone since
    Linux 5.0), blkio.bfq.weight (BFQ loaded), or None. The root cgroup never
    shows them: look in a child."""
    for name in ("blkio.weight", "blkio.bfq.weight"):
        if os.path.exists(os.path.join(cgroup_dir, name)):
            return name
    return None


def test_blkio_weight_is_set_or_refused_clearly(runtime, bundle):
    # Depending on the kernel a v1 blkio cgroup has a weight file or none
    # (ENVIRONMENT.md: "blkio has no weight files" holds for the root only;
    # children have blkio.bfq.weight when the bfq module is loaded).
    if not has_v1("blkio"):
        pytest.skip("no v1 blkio hierarchy")
    b = bundle(["probe", "sleep"], linux={"resources": {"blockIO": {"weight": 500}}})
    res = runtime.create(b)
    parent = os.path.dirname(cgroups.container_dir("blkio", b.id))
    if res.rc == 0:
        name = blkio_weight_file(cgroups.container_dir("blkio", b.id))
        assert name is not None, "create succeeded but the cgroup has no weight file"
        # v1 BFQ prints the bare number; tolerate a "default N" form
        assert cgroups.read("blkio", b.id, name).split()[-1] == "500"
        assert runtime.delete(b.id, force=True).ok
    else:
        assert res.rc == 1, res
        if not runtime.is_runc:
            assert "linux.resources.blockIO.weight" in res.err, res
        if os.path.isdir(parent):
            assert blkio_weight_file(parent) is None, \
                f"{parent} has a weight file, yet the weight was refused:\n{res}"
        assert cgroups.container_dirs_anywhere(b.id) == []
        if os.path.isdir(runtime.state_dir):
            assert os.listdir(runtime.state_dir) == []


# --------------------------------------------------------------------- hugetlb
def unified_levels(container_id):
    """The cgroup2 directories from the mount point down to the container's
    parent: where hugetlb has to be in cgroup.subtree_control."""
    parts = [p for p in cgroups.container_path(container_id).split("/") if p][:-1]
    return [UNIFIED] + [os.path.join(UNIFIED, *parts[:i]) for i in range(1, len(parts) + 1)]


def subtree_has(level, controller):
    try:
        with open(os.path.join(level, "cgroup.subtree_control")) as f:
            return controller in f.read().split()
    except FileNotFoundError:
        return False


@pytest.fixture
def hugetlb_in_unified(bundle):
    """Skips unless the cgroup2 tree offers hugetlb and the host has 2 MB
    pages. The runtime must enable hugetlb in cgroup.subtree_control from the
    mount point down (the root included): afterwards, put back every level
    that did not have it (deepest first)."""
    if not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("no 2 MB huge pages on this host")
    if not os.path.ismount(UNIFIED):
        pytest.skip(f"{UNIFIED} is not mounted")
    with open(os.path.join(UNIFIED, "cgroup.controllers")) as f:
        if "hugetlb" not in f.read().split():
            pytest.skip(f"{UNIFIED} has no hugetlb controller")
    if has_v1("hugetlb"):
        pytest.skip("hugetlb is a v1 controller here: the runtime uses that")
    touched = []

    def before(container_id):
        touched.extend(lv for lv in unified_levels(container_id)
                       if not subtree_has(lv, "hugetlb"))

    yield before
    for level in reversed(touched):
        if not os.path.isdir(level):
            continue
        try:
            with open(os.path.join(level, "cgroup.subtree_control"), "w") as f:
                f.write("-hugetlb")
        except OSError as e:  # a child still using it: not ours to force
            print(f"could not restore {level}/cgroup.subtree_control: {e}")


@pytest.mark.runc_differs("runc 1.1 on a hybrid host sets hugetlb only through v1")
def test_hugepage_limit_in_unified_tree(runtime, bundle, hugetlb_in_unified):
    limit = 4 * 2 * MiB
    b = bundle(["probe", "sleep"], linux={"resources": {"hugepageLimits": [
        {"pageSize": "2MB", "limit": limit}]}})
    hugetlb_in_unified(b.id)
    created(runtime, b)
    assert int(cgroups.read("unified", b.id, "hugetlb.2MB.max")) == limit
    rsvd = os.path.join(cgroups.container_dir("unified", b.id), "hugetlb.2MB.rsvd.max")
    if os.path.exists(rsvd):
        assert int(cgroups.read("unified", b.id, "hugetlb.2MB.rsvd.max")) == limit
    assert runtime.delete(b.id, force=True).ok


# --------------------------------------------------------------------- devices
# What runc (and berth) append to the config's device rules: mknod of any
# node, and the standard character devices. As "type major:minor access" of
# v1's devices.list.
DEFAULT_ALLOWED = ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
                   "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm"]


def test_deny_all_allow_null(runtime, bundle):
    # /dev/berth-other is a node with a major no driver owns (240, local use):
    # allowed, its open fails with ENXIO/ENODEV; denied, with EPERM. So the
    # test never touches a real device.
    b = bundle(["sh", "-c", "probe write /dev/null x; probe write /dev/berth-other x; "
                            "probe stat /dev/berth-other"])
    b.config["linux"]["devices"] = [
        {"path": "/dev/berth-other", "type": "c", "major": 240, "minor": 7, "fileMode": 0o666}]
    b.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
    res = runtime.run(b.save())
    lines = res.out.splitlines()
    assert lines[0] == "ok", res
    assert lines[1] == "EPERM", res
    # the node exists (linux.devices made it): only the cgroup refuses it
    assert lines[2].startswith("type=chr ") and " rdev=240:7 " in lines[2], res


def test_default_device_allow_list(runtime, bundle):
    # The default config denies all; the runtime's default list (runc's)
    # still allows the standard nodes and the container's ptys.
    b = bundle(["sh", "-c", "probe write /dev/zero x; probe write /dev/full x; "
                            "probe write /dev/ptmx x; probe write /dev/tty x; echo done; "
                            "exec probe sleep"])
    out = started(runtime, b)
    runtime.wait_output(out, "done\n")
    lines = out.read_out().splitlines()
    assert lines[0] == "ok", lines   # /dev/zero
    assert lines[1] == "ENOSPC", lines  # /dev/full: opened, then full
    assert lines[2] == "ok", lines   # /dev/ptmx: a new pty pair in the container's devpts
    # /dev/tty: allowed by the cgroup, but no controlling terminal
    assert lines[3] == "ENXIO", lines
    if has_v1("devices"):
        listed = cgroups.read("devices", b.id, "devices.list").splitlines()
        assert "a *:* rwm" not in listed, listed
        for rule in DEFAULT_ALLOWED:
            assert rule in listed, (rule, listed)
    stop_and_delete(runtime, b.id)


# ------------------------------------------------------------------ bad values
@pytest.mark.parametrize("resources,field", [
    ({"memory": {"limit": -2}}, "linux.resources.memory.limit"),
    ({"memory": {"reservation": -100}}, "linux.resources.memory.reservation"),
    ({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}}, "linux.resources.memory.swap"),
    ({"memory": {"swappiness": 101}}, "linux.resources.memory.swappiness"),
    pytest.param({"pids": {"limit": -5}}, "linux.resources.pids.limit",
                 marks=pytest.mark.runc_differs("runc takes any negative pids limit as unlimited")),
    ({"cpu": {"quota": 10}}, "linux.resources.cpu.quota"),
    ({"cpu": {"cpus": "1-0"}}, "linux.resources.cpu.cpus"),
    ({"unified": {"bogus": "1"}}, 'linux.resources.unified["bogus"]'),
    ({"unified": {"memory/../x": "1"}}, "linux.resources.unified"),
    ({"network": {"classID": 42}}, "linux.resources.network.classID"),
], ids=["negative-limit", "negative-reservation", "swap-below-limit", "swappiness-101",
        "pids-negative", "quota-below-1ms", "reversed-cpus", "unified-no-dot",
        "unified-slash", "net-cls-classid"])
def test_bad_resource_values_fail_clearly(runtime, bundle, resources, field):
    if "network" in resources and has_v1("net_cls"):
        pytest.skip("this host has net_cls: classID is valid here")
    b = bundle(["true"], linux={"resources": resources})
    assert_rejected(runtime, b, field)


def test_bad_value_leaves_existing_container_alone(runtime, bundle):
    # a failed create with its own id must not touch another container's cgroup
    good = bundle(["probe", "sleep"], linux={"resources": {"pids": {"limit": 50}}})
    created(runtime, good)
    bad = bundle(["true"], linux={"resources": {"memory": {"limit": -2}}})
    res = runtime.create(bad)
    assert res.rc == 1, res
    assert cgroups.read("pids", good.id, "pids.max") == "50"
    assert runtime.state(good.id)["status"] == "created"
    assert runtime.delete(good.id, force=True).ok
