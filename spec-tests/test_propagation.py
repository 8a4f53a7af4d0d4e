"""Mount propagation between the host and a container: rootfsPropagation and
bind volumes with propagation flags, as Kubernetes uses them (Bidirectional =
an rshared volume under rootfsPropagation rshared; HostToContainer = rslave).

Every shared mount here is a tmpfs made inside the test's temp dir and marked
shared there: the host's own mounts are never touched. Whatever propagates to
the host lands below that tmpfs and is unmounted with it."""
import os
import subprocess
import time

import pytest

from lib import leaks


@pytest.fixture
def shared_tmpfs(tmp):
    """A tmpfs at <tmp>/vol in its own (new) shared peer group."""
    vol = os.path.join(tmp, "vol")
    os.mkdir(vol)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=755", "berth-test-vol", vol],
                   check=True, stdin=subprocess.DEVNULL)
    try:
        subprocess.run(["mount", "--make-shared", vol], check=True, stdin=subprocess.DEVNULL)
        yield vol
    finally:
        # deepest first: what the container propagated back, then the tmpfs
        for m in leaks.mounts_under(vol):
            leaks.umount_lazy(m)


def with_sys_admin(b):
    """The container may mount (CAP_SYS_ADMIN in every set the config has)."""
    for kind, caps in b.config["process"]["capabilities"].items():
        if "CAP_SYS_ADMIN" not in caps:
            caps.append("CAP_SYS_ADMIN")
    return b


def volume(b, source, propagation):
    b.config["mounts"].append({"destination": "/vol", "type": "bind", "source": source,
                               "options": ["rbind", "rw", propagation]})
    return b


def optional_fields(mountinfo, mountpoint):
    """The propagation fields (shared:N, master:N, ...) of the mount at mountpoint."""
    found = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == mountpoint:
            found = fields[6:fields.index("-")]  # the last one is what a lookup sees
    assert found is not None, f"no mount at {mountpoint} in:\n{mountinfo}"
    return found


def host_mounts(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4] == path]


# A mount made inside the container under an rshared volume, with
# rootfsPropagation rshared, never reached the host: berth made / rslave
# before its mounts and applied rootfsPropagation only after pivot_root, so
# the volume was "shared:N master:M" inside (runc: "shared:N").
def test_rshared_volume_mount_in_container_reaches_host(runtime, bundle, shared_tmpfs):
    os.mkdir(os.path.join(shared_tmpfs, "inner"))
    b = bundle(["sh", "-c", "mount -t tmpfs -o size=1m from-container /vol/inner && "
                            "echo container > /vol/inner/marker && probe mounts"],
               linux={"rootfsPropagation": "rshared"})
    volume(with_sys_admin(b), shared_tmpfs, "rshared").save()
    res = runtime.run(b)
    assert res.rc == 0, res
    fields = optional_fields(res.out, "/vol")
    assert any(f.startswith("shared:") for f in fields), fields
    assert not any(f.startswith("master:") for f in fields), fields
    # The container is gone; its mount lives on in the host's peer group.
    inner = os.path.join(shared_tmpfs, "inner")
    assert host_mounts(inner) == [inner]
    with open(os.path.join(inner, "marker")) as f:
        assert f.read() == "container\n"


def test_rshared_volume_sees_a_mount_the_host_makes_later(runtime, bundle, shared_tmpfs):
    os.mkdir(os.path.join(shared_tmpfs, "from-host"))
    ready = os.path.join(shared_tmpfs, "ready")
    b = bundle(["sh", "-c", "touch /vol/ready; i=0; "
                            "while [ ! -e /vol/from-host/marker ] && [ $i -lt 200 ]; do "
                            "sleep 0.05; i=$((i+1)); done; cat /vol/from-host/marker"],
               linux={"rootfsPropagation": "rshared"})
    volume(b, shared_tmpfs, "rshared").save()
    running = runtime.spawn("run", "--bundle", b.path, b.id)
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):  # the container's mount namespace exists now
        assert time.monotonic() < deadline and running.proc.poll() is None, running.wait()
        time.sleep(0.02)
    target = os.path.join(shared_tmpfs, "from-host")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "from-host", target],
                   check=True, stdin=subprocess.DEVNULL)
    with open(os.path.join(target, "marker"), "w") as f:
        f.write("host\n")
    res = running.wait()
    assert res.rc == 0, res
    assert res.out == "host\n"


# Without rootfsPropagation (runc's default: / rslave), a container's mounts
# stay in the container even under a volume marked rshared.
def test_default_rootfs_propagation_keeps_container_mounts_off_the_host(runtime, bundle,
                                                                       shared_tmpfs):
    os.mkdir(os.path.join(shared_tmpfs, "inner"))
    b = bundle(["sh", "-c", "mount -t tmpfs -o size=1m from-container /vol/inner && "
                            "probe mounts"])
    volume(with_sys_admin(b), shared_tmpfs, "rshared").save()
    res = runtime.run(b)
    assert res.rc == 0, res
    fields = optional_fields(res.out, "/vol")
    assert any(f.startswith("master:") for f in fields), fields
    inner = os.path.join(shared_tmpfs, "inner")
    assert host_mounts(inner) == []


# The rootfs on a mount shared with the host: with rootfsPropagation rshared
# that mount stays shared in the container's namespace, so the rootfs bind
# would appear on the host (and pivot_root refuses a shared parent) unless
# the rootfs's parent mount is made private first, as runc does.
def test_rootfs_on_a_shared_mount_is_not_bound_on_the_host(runtime, bundle, shared_tmpfs):
    b = bundle(["probe", "cwd"], linux={"rootfsPropagation": "rshared"})
    rootfs = os.path.join(shared_tmpfs, "rootfs")
    subprocess.run(["cp", "-a", b.rootfs, rootfs], check=True, stdin=subprocess.DEVNULL)
    b.config["root"]["path"] = rootfs
    b.save()
    res = runtime.run(b)
    assert res.rc == 0, res
    assert res.out == "/\n"
    assert leaks.mounts_under(shared_tmpfs) == [shared_tmpfs]
