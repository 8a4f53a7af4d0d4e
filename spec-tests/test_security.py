"""Isolation properties a runtime must never get wrong: leaked fds
(CVE-2024-21626), the host binary reachable from the container
(CVE-2019-5736), capabilities, no_new_privs, masked and read-only paths, and
symlinks in the image that try to make the runtime act on host paths
(CVE-2021-30465, the /dev/null trick). Escape tests aim only at decoys inside
the test's own temp dir and check them before and after."""
import os
import time

import pytest

from lib import caps, leaks
from lib.config import DEFAULT_CAPS, MASKED_PATHS


def fd_numbers(out):
    return sorted(int(line.split()[0]) for line in out.splitlines() if line.strip())


# ------------------------------------------------------------------------- fds
def test_only_stdio_fds_in_container_via_run(runtime, bundle):
    res = runtime.run(bundle(["probe", "fds"]))
    assert res.rc == 0, res
    assert fd_numbers(res.out) == [0, 1, 2], res.out


def test_only_stdio_fds_in_container_via_create_start(runtime, bundle):
    b = bundle(["probe", "fds"])
    created = runtime.create(b)
    assert created.ok, created
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "stopped")
    assert fd_numbers(created.read_out()) == [0, 1, 2], created.read_out()
    assert runtime.delete(b.id).ok


def test_host_fd_given_to_runtime_does_not_reach_container(runtime, bundle, tmp):
    # An fd the runtime inherits without --preserve-fds (here: a directory fd
    # of the host, the shape of CVE-2024-21626) must be closed before exec.
    b = bundle(["probe", "fds"])
    fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    try:
        res = runtime.run(b, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert res.rc == 0, res
    assert fd_numbers(res.out) == [0, 1, 2], res.out
    assert tmp not in [line.split(" ", 1)[-1] for line in res.out.splitlines()]


def test_preserve_fds_passes_exactly_the_requested_fds(runtime, bundle, tmp):
    b = bundle(["probe", "fds"])
    path = os.path.join(tmp, "passed.txt")
    with open(path, "w") as f:
        f.write("x")
    fd = os.open(path, os.O_RDONLY)
    try:
        # the runtime gets the file as fds 3 and 4; only 3 is preserved
        res = runtime.run(b, "--preserve-fds", "1", fd_map={3: fd, 4: fd})
    finally:
        os.close(fd)
    assert res.rc == 0, res
    assert fd_numbers(res.out) == [0, 1, 2, 3], res.out
    assert path in res.out


def test_init_cwd_cannot_be_a_leaked_host_directory(runtime, bundle, tmp):
    # CVE-2024-21626 through the init: process.cwd names a descriptor the
    # runtime inherited. A relative read of a decoy only the host directory
    # holds shows the escape (getcwd would only say "(unreachable)").
    decoy = os.path.join(tmp, "decoy-cwd")
    with open(decoy, "w") as f:
        f.write("HOST-DECOY\n")
    fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    try:
        b = bundle(["sh", "-c", "probe read decoy-cwd; ls"], process={"cwd": f"/proc/self/fd/{fd}"})
        res = runtime.run(b, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert "HOST-DECOY" not in res.out, f"the container read the host's directory:\n{res}"
    assert "decoy-cwd" not in res.out, f"the container listed the host's directory:\n{res}"
    assert res.rc != 0, res


def test_waiting_runtime_holds_no_path_descriptors(runtime, bundle):
    # A foreground `run` and `exec` live as long as their process: a file or
    # directory they keep open (the bundle, the rootfs, a cgroup dir, the
    # state dir) is one a later bug could hand to the container, and it pins
    # the file system. Only stdio and anonymous descriptors may stay.
    b = bundle(["probe", "sleep"])
    fg_run = runtime.spawn("run", "--bundle", b.path, b.id)
    runtime.wait_status(b.id, "running")
    fg_exec = runtime.spawn("exec", b.id, "probe", "sleep")
    deadline = time.monotonic() + 10
    while len(runtime.ps(b.id, "--format", "json").json()) < 2:
        assert time.monotonic() < deadline, "the exec'd process never appeared"
        time.sleep(0.05)
    try:
        assert leaks.path_fds(fg_run.pid) == {}, leaks.fd_targets(fg_run.pid)
        assert leaks.path_fds(fg_exec.pid) == {}, leaks.fd_targets(fg_exec.pid)
    finally:
        runtime.kill(b.id, "KILL", all=True)
        fg_exec.wait()
        fg_run.wait()


# ---------------------------------------------------------------- host binary
@pytest.mark.runc_differs("runc 1.1 runs init from a read-only bind mount of its own inode")
def test_created_init_is_not_the_runtime_binary(runtime, bundle, berth):
    # CVE-2019-5736: a container process that can open the runtime's own
    # binary through /proc/<pid>/exe can overwrite it on the host.
    b = bundle(["probe", "sleep"])
    assert runtime.create(b).ok
    pid = runtime.state(b.id)["pid"]
    exe = os.stat(f"/proc/{pid}/exe")
    host = os.stat(os.path.realpath(berth))
    assert (exe.st_dev, exe.st_ino) != (host.st_dev, host.st_ino), \
        f"/proc/{pid}/exe of the created container is the host's {berth}"
    assert runtime.delete(b.id, force=True).ok


def test_container_sees_only_its_own_binaries(runtime, bundle, berth):
    b = bundle(["sh", "-c", f"probe exe; probe stat {os.path.realpath(berth)}"])
    res = runtime.run(b)
    assert "/proc/self/exe /bin/probe" in res.out, res
    assert "/proc/1/exe /bin/sh" in res.out or "/proc/1/exe /bin/busybox" in res.out, res
    assert "ENOENT" in res.out, res


# ------------------------------------------------------------------------ caps
def probe_caps(runtime, b):
    res = runtime.run(b)
    assert res.rc == 0, res
    return caps.parse_status(res.out)


def test_default_caps_match_config(runtime, bundle):
    got = probe_caps(runtime, bundle(["probe", "caps"]))
    want = caps.mask(DEFAULT_CAPS)
    assert got == {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0}


def test_each_capability_set_is_applied(runtime, bundle):
    b = bundle(["probe", "caps"])
    # For uid 0 the kernel sets effective = permitted at exec, and with
    # no_new_privs permitted can only shrink: so permitted (= effective) and
    # bounding and inheritable are each observable after exec.
    b.config["process"]["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "inheritable": ["CAP_KILL"],
        "ambient": [],
    }
    got = probe_caps(runtime, b.save())
    assert got == {
        "CapBnd": caps.mask(["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"]),
        "CapPrm": caps.mask(["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]),
        "CapEff": caps.mask(["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]),
        "CapInh": caps.mask(["CAP_KILL"]),
        "CapAmb": 0,
    }


def test_ambient_caps_survive_for_non_root_user(runtime, bundle):
    b = bundle(["probe", "caps"], process={"user": {"uid": 1000, "gid": 1000}})
    nbs = ["CAP_NET_BIND_SERVICE"]
    b.config["process"]["capabilities"] = {k: nbs for k in (
        "bounding", "permitted", "effective", "inheritable", "ambient")}
    got = probe_caps(runtime, b.save())
    assert got["CapAmb"] == caps.mask(nbs)
    assert got["CapEff"] == caps.mask(nbs)


def test_no_caps_for_empty_config(runtime, bundle):
    b = bundle(["probe", "caps"])
    b.config["process"]["capabilities"] = {}
    got = probe_caps(runtime, b.save())
    assert got == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}


def test_capability_the_runtime_lacks_fails_clearly(runtime, bundle):
    # This host withholds CAP_SYS_RESOURCE from root: asking for it must be a
    # clear error, not a silently smaller set.
    if caps.host_effective() & caps.mask(["CAP_SYS_RESOURCE"]):
        pytest.skip("this host grants CAP_SYS_RESOURCE: nothing to refuse")
    b = bundle(["probe", "caps"])
    b.config["process"]["capabilities"] = {k: ["CAP_SYS_RESOURCE"] for k in (
        "bounding", "permitted", "effective")}
    res = runtime.run(b.save())
    assert res.rc != 0, res
    if not runtime.is_runc:  # runc says only "operation not permitted"
        assert "CAP_SYS_RESOURCE" in res.err, res


# ------------------------------------------------------------- no_new_privs
@pytest.mark.parametrize("nnp,want", [(True, "1"), (False, "0")])
def test_no_new_privileges(runtime, bundle, nnp, want):
    b = bundle(["probe", "nnp"], process={"noNewPrivileges": nnp})
    res = runtime.run(b)
    assert res.rc == 0, res
    assert res.out.split() == ["NoNewPrivs:", want]


# -------------------------------------------------- masked and read-only paths
def test_masked_files_read_empty(runtime, bundle):
    # only the masked files this kernel has (e.g. /proc/kcore may be absent)
    files = [p for p in MASKED_PATHS if os.path.isfile(p)] + ["/etc/group"]
    assert len(files) > 1
    b = bundle(["sh", "-c", f"for f in {' '.join(files)}; do "
                            "echo \"$f:$(probe read $f | wc -c)\"; done"])
    b.config["linux"]["maskedPaths"].append("/etc/group")
    res = runtime.run(b.save())
    assert res.rc == 0, res
    assert res.out.split() == [f"{f}:0" for f in files]


def test_masked_directories_are_empty_and_read_only(runtime, bundle):
    b = bundle(["sh", "-c", "ls -A /sys/firmware /home; probe write /home/x y"])
    b.config["linux"]["maskedPaths"].append("/home")
    res = runtime.run(b.save())
    assert res.out.split() == ["/home:", "/sys/firmware:", "EROFS"], res


def mount_table(mountinfo):
    """{mount point: (per-mount options, fs type)} of the topmost mount at
    each point, from /proc/self/mountinfo text."""
    table = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        sep = fields.index("-")
        table[fields[4]] = (set(fields[5].split(",")), fields[sep + 1])
    return table


def test_every_masked_path_is_covered_in_mountinfo(runtime, bundle):
    # Reading a masked file proves little when it is empty anyway (/proc/acpi
    # has nothing to show on many hosts): each masked path this kernel has
    # must be a mount point of its own, a read-only empty tmpfs for a
    # directory, the null device for a file.
    b = bundle(["probe", "mounts"])
    b.config["linux"]["maskedPaths"] += ["/etc/group", "/home"]
    res = runtime.run(b.save())
    assert res.rc == 0, res
    table = mount_table(res.out)
    checked = 0
    for path in b.config["linux"]["maskedPaths"]:
        host = os.path.join(b.rootfs, path[1:]) if path in ("/etc/group", "/home") else path
        if not os.path.exists(host):
            continue
        assert path in table, f"masked path {path} is not a mount point:\n{res.out}"
        opts, fstype = table[path]
        if os.path.isdir(host):
            assert fstype == "tmpfs" and "ro" in opts, (path, opts, fstype)
        else:
            assert fstype in ("devtmpfs", "tmpfs"), (path, opts, fstype)
        checked += 1
    assert checked >= 4, res.out


def test_every_readonly_path_is_a_read_only_mount(runtime, bundle):
    b = bundle(["probe", "mounts"])
    b.config["linux"]["readonlyPaths"].append("/home/tester")
    res = runtime.run(b.save())
    assert res.rc == 0, res
    table = mount_table(res.out)
    for path in b.config["linux"]["readonlyPaths"]:
        if path != "/home/tester" and not os.path.exists(path):
            continue
        assert path in table, f"read-only path {path} is not a mount point:\n{res.out}"
        assert "ro" in table[path][0], (path, table[path])


@pytest.mark.parametrize("path", ["/proc/sys/kernel/domainname", "/proc/sys/net/ipv4/ip_forward"])
def test_readonly_proc_paths(runtime, bundle, path):
    # Both are namespaced (uts, net), so even a broken runtime changes no host
    # state. EROFS comes from the read-only mount, before the kernel parses "x".
    res = runtime.run(bundle(["probe", "write", path, "x"]))
    assert res.rc == 1, res
    assert res.out.strip() == "EROFS"


def test_configured_readonly_path(runtime, bundle):
    b = bundle(["sh", "-c", "probe write /home/tester/f x; probe write /tmp/f x"])
    b.config["linux"]["readonlyPaths"].append("/home/tester")
    res = runtime.run(b.save())
    assert res.out.split() == ["EROFS", "ok"], res


# ----------------------------------------------- symlinks planted in the image
def snapshot(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return f.read(), st.st_mtime_ns, st.st_ino


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_dev_null_symlink_in_image_does_not_reach_host(runtime, bundle, tmp, style):
    # The image brings its own /dev (no tmpfs over it) where null is a symlink
    # to a host path; a runtime that opens or bind-mounts the image's
    # /dev/null from the host side (for masked paths, stdio, device setup)
    # would use the decoy instead.
    decoy = os.path.join(tmp, "decoy-null")
    with open(decoy, "w") as f:
        f.write("DECOY\n")
    before = snapshot(decoy)
    b = bundle(["sh", "-c", "echo overwritten > /dev/null; probe read /proc/kcore; "
                            "probe read /proc/keys; echo done"])
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    devnull = os.path.join(b.rootfs, "dev", "null")
    os.symlink(decoy if style == "absolute" else os.path.relpath(decoy, os.path.dirname(devnull)),
               devnull)
    res = runtime.run(b.save())
    assert snapshot(decoy) == before, "the host-side decoy was written"
    assert "DECOY" not in res.out, f"a masked path shows the decoy:\n{res}"
    # the container really ran every step (a failed start proves nothing)
    assert res.rc == 0, res
    assert res.out.endswith("done\n"), res


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_mount_destination_through_symlink_stays_in_rootfs(runtime, bundle, tmp, style):
    # /mnt-link in the image points at a host directory; the mount's
    # destination below it must be created and mounted inside the rootfs
    # (the link resolved as if the rootfs were /), never on the host.
    decoy = os.path.join(tmp, "decoy-dir")
    os.mkdir(decoy)
    with open(os.path.join(decoy, "marker"), "w") as f:
        f.write("decoy")
    b = bundle(["probe", "mounts"])
    link = os.path.join(b.rootfs, "mnt-link")
    os.symlink(decoy if style == "absolute" else "../../../decoy-dir", link)
    b.config["mounts"].append({"destination": "/mnt-link/sub", "type": "tmpfs",
                               "source": "tmpfs", "options": ["size=1m"]})
    res = runtime.run(b.save())
    assert os.listdir(decoy) == ["marker"], "the runtime created a directory on the host"
    assert res.rc == 0, res
    mountpoints = [line.split()[4] for line in res.out.splitlines()]
    resolved = decoy if style == "absolute" else "/decoy-dir"
    assert resolved + "/sub" in mountpoints, res.out


def test_bind_mount_file_destination_through_symlink_stays_in_rootfs(runtime, bundle, tmp):
    decoy = os.path.join(tmp, "decoy-dir")
    os.mkdir(decoy)
    source = os.path.join(tmp, "payload")
    with open(source, "w") as f:
        f.write("payload\n")
    b = bundle(["cat", "/file-link"])
    os.symlink(os.path.join(decoy, "created-by-runtime"), os.path.join(b.rootfs, "file-link"))
    b.config["mounts"].append({"destination": "/file-link", "type": "bind",
                               "source": source, "options": ["bind", "ro"]})
    res = runtime.run(b.save())
    assert os.listdir(decoy) == [], "the runtime created a file on the host"
    assert res.rc == 0, res
    assert res.out == "payload\n"
