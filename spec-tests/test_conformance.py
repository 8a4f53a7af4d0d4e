"""Runtime-spec 1.2 conformance where berth once deviated (issue 8): a config
without a mount namespace, a hostname in a UTS namespace joined by path,
ociVersion as SemVer, and LSM properties the host cannot apply."""
import json
import os
import socket
import subprocess
import time

import pytest

from lib.config import remove_namespace, set_namespace


def mount_table():
    """mount id -> (mount point, options, optional fields such as shared:N)."""
    table = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            table[fields[0]] = (fields[4], fields[5], tuple(fields[6:sep]))
    return table


def assert_host_mounts_unchanged(before, after, tmp):
    changed = {mid: (before[mid], after[mid]) for mid in before.keys() & after.keys()
               if before[mid] != after[mid]}
    assert not changed, f"host mounts changed: {changed}"
    added = [after[mid] for mid in after.keys() - before.keys()
             if after[mid][0] == "/" or after[mid][0].startswith(tmp)]
    assert not added, f"mounts added to the host's table: {added}"


def no_mount_namespace(b):
    """The config without a mount namespace and without anything that needs one."""
    remove_namespace(b.config, "mount")
    b.config["mounts"] = []
    b.config["linux"].pop("maskedPaths", None)
    b.config["linux"].pop("readonlyPaths", None)
    return b.save()


# ------------------------------------------------- item 1: no mount namespace
def test_config_without_mount_namespace_runs_chrooted_and_leaves_host_mounts_alone(
        runtime, bundle, tmp):
    if runtime.is_runc:
        pytest.skip("runc makes the host's / rslave without a mount namespace")
    b = bundle(["sh", "-c", "cat /marker; ls /proc | wc -l"])
    with open(os.path.join(b.rootfs, "marker"), "w") as f:
        f.write("inside the rootfs\n")
    no_mount_namespace(b)
    before = mount_table()
    res = runtime.run(b)
    after = mount_table()
    assert res.rc == 0, res
    # the image's own /proc, empty: nothing was mounted
    assert res.out.split("\n") == ["inside the rootfs", "0", ""], res
    assert_host_mounts_unchanged(before, after, tmp)
    assert not any(b.rootfs in mp for mp, _, _ in after.values())


def test_exec_into_container_without_mount_namespace_enters_its_rootfs(runtime, bundle, tmp):
    if runtime.is_runc:
        pytest.skip("runc makes the host's / rslave without a mount namespace")
    b = bundle(["probe", "sleep"])
    with open(os.path.join(b.rootfs, "marker"), "w") as f:
        f.write("inside the rootfs\n")
    no_mount_namespace(b)
    before = mount_table()
    assert runtime.run(b, "--detach").ok
    try:
        res = runtime.cmd("exec", b.id, "sh", "-c", "cat /marker; probe cwd")
        assert res.rc == 0, res
        assert res.out == "inside the rootfs\n/\n", res
        # the exec'd process's root is the init's, not the host's /
        pid = runtime.state(b.id)["pid"]
        assert os.stat(f"/proc/{pid}/root").st_ino == os.stat(b.rootfs).st_ino
    finally:
        runtime.kill(b.id, "KILL")
        runtime.wait_status(b.id, "stopped")
        assert runtime.delete(b.id).ok
    assert_host_mounts_unchanged(before, mount_table(), tmp)


@pytest.mark.runc_differs("runc mounts them in the host's mount namespace")
@pytest.mark.parametrize("field, value", [
    ("mounts", [{"destination": "/proc", "type": "proc", "source": "proc"}]),
    ("linux.maskedPaths", ["/proc/kcore"]),
    ("linux.readonlyPaths", ["/proc/sys"]),
    ("linux.rootfsPropagation", "rslave"),
    ("root.readonly", True),
])
def test_config_without_mount_namespace_refuses_what_needs_a_mount(runtime, bundle, tmp,
                                                                   field, value):
    if runtime.is_runc:
        pytest.skip("runc would mount these on the host")
    b = no_mount_namespace(bundle())
    section, key = field.split(".") if "." in field else (None, field)
    (b.config[section] if section else b.config)[key] = value
    before = mount_table()
    res = runtime.run(b.save())
    assert res.rc == 1, res
    assert field in res.err and "needs a mount namespace" in res.err, res
    assert_host_mounts_unchanged(before, mount_table(), tmp)


# ---------------------------------------------- item 2: joined UTS namespace
@pytest.fixture
def uts_holder():
    """A process in a UTS namespace of its own, to be joined by path."""
    proc = subprocess.Popen(["unshare", "--uts", "sleep", "60"], stdin=subprocess.DEVNULL)
    ours = os.readlink("/proc/self/ns/uts")
    deadline = time.monotonic() + 5
    while os.readlink(f"/proc/{proc.pid}/ns/uts") == ours:
        assert time.monotonic() < deadline, "unshare --uts did not unshare"
        time.sleep(0.01)
    yield proc.pid
    proc.kill()
    proc.wait()


def test_hostname_is_set_in_a_uts_namespace_joined_by_path(runtime, bundle, uts_holder):
    host_name = socket.gethostname()
    b = bundle(["probe", "hostname"], hostname="joined-box")
    set_namespace(b.config, "uts", f"/proc/{uts_holder}/ns/uts")
    res = runtime.run(b.save())
    assert res.rc == 0, res
    assert res.out.startswith("hostname=joined-box "), res
    seen = subprocess.run(["nsenter", "-t", str(uts_holder), "-u", "hostname"],
                          capture_output=True, text=True, check=True).stdout
    assert seen == "joined-box\n"
    assert socket.gethostname() == host_name


def test_hostname_in_the_runtimes_own_uts_namespace_is_refused(runtime, bundle):
    host_name = socket.gethostname()
    b = bundle(["probe", "hostname"], hostname="not-the-host")
    set_namespace(b.config, "uts", f"/proc/{os.getpid()}/ns/uts")
    res = runtime.run(b.save())
    assert socket.gethostname() == host_name
    assert res.rc == 1, res
    if not runtime.is_runc:
        assert "hostname" in res.err and "rename the host" in res.err, res


# ----------------------------------------------------------- item 4: ociVersion
@pytest.mark.runc_differs("runc accepts any ociVersion")
@pytest.mark.parametrize("version, words", [
    ("invalid", ["ociVersion", "is not a SemVer 2.0 version", "1.0.0 to 1.2.x"]),
    ("1.2", ["ociVersion", "is not a SemVer 2.0 version"]),
    ("2.0.0", ["ociVersion", "is not supported", "1.0.0 to 1.2.x"]),
])
def test_oci_version_that_is_not_semver_1_x_is_refused(runtime, bundle, version, words):
    b = bundle(ociVersion=version)
    res = runtime.run(b)
    assert res.rc == 1, res
    for word in words:
        assert word in res.err, res


@pytest.mark.parametrize("version", ["1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.0", "1.3.0"])
def test_oci_version_semver_1_x_is_accepted(runtime, bundle, version):
    res = runtime.run(bundle(["true"], ociVersion=version))
    assert res.rc == 0, res


# ---------------------------------------------------------- item 5: LSM fields
def apparmor_enabled():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().startswith("Y")
    except OSError:
        return False


def selinux_enabled():
    return os.path.exists("/sys/fs/selinux/enforce")


@pytest.mark.parametrize("field, text, enabled", [
    ("apparmorProfile", "AppArmor is not enabled on this host", apparmor_enabled),
    ("selinuxLabel", "SELinux is not enabled on this host", selinux_enabled),
])
def test_lsm_property_the_host_lacks_is_refused(runtime, bundle, field, text, enabled):
    if enabled():
        pytest.skip(f"this host has the LSM for process.{field}")
    b = bundle(["true"], process={field: "berth-test-label"})
    res = runtime.run(b)
    assert res.rc == 1, res
    if not runtime.is_runc:
        assert f"process.{field}" in res.err and text in res.err, res


@pytest.mark.parametrize("field", ["apparmorProfile", "selinuxLabel"])
def test_empty_lsm_property_is_accepted(runtime, bundle, field):
    res = runtime.run(bundle(["true"], process={field: ""}))
    assert res.rc == 0, res


def test_exec_process_file_with_apparmor_profile_is_refused(runtime, bundle, tmp):
    if apparmor_enabled():
        pytest.skip("this host has AppArmor")
    b = bundle(["probe", "sleep"])
    assert runtime.run(b, "--detach").ok
    try:
        path = os.path.join(tmp, "process.json")
        with open(path, "w") as f:
            json.dump({"args": ["true"], "cwd": "/", "env": ["PATH=/bin"],
                       "apparmorProfile": "berth-test-profile"}, f)
        res = runtime.cmd("exec", "--process", path, b.id)
        assert res.rc != 0, res
        if not runtime.is_runc:
            assert "apparmorProfile" in res.err and "AppArmor is not enabled" in res.err, res
    finally:
        runtime.kill(b.id, "KILL")
        runtime.wait_status(b.id, "stopped")
        assert runtime.delete(b.id).ok
