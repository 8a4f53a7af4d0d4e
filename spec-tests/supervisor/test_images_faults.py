"""What the image verbs do with hostile or unusual input, and the stores'
own verbs: manifest lists with --platform, layers that try to escape their
snapshot, a full disk, namespaces, events, ctr-style content and snapshot
verbs."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import threading
import time

import pytest

from lib.registry import push_oci_archive, registry, skopeo

NAME = "localhost/busybox:latest"


def _dump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def read_layout(archive):
    with tarfile.open(archive) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    index = json.loads(files["index.json"])
    manifest = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"][7:]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"][7:]])
    return files, index, manifest, config


def write_layout(path, blobs, index):
    with tarfile.open(path, "w") as t:
        for name, data in [("oci-layout", _dump({"imageLayoutVersion": "1.0.0"})), ("index.json", _dump(index))] + \
                [(f"blobs/sha256/{hashlib.sha256(b).hexdigest()}", b) for b in blobs]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def desc(data, media_type, **extra):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data), **extra}


def multi_arch_archive(src, out, name):
    """src's image as linux/amd64 plus a linux/arm64 twin (same layer, its
    own config) under one OCI image index."""
    files, index, manifest, config = read_layout(src)
    layer = files["blobs/sha256/" + manifest["layers"][0]["digest"][7:]]
    blobs, entries = [layer], []
    for arch in ("amd64", "arm64"):
        cfg = dict(config, architecture=arch)
        cfg_bytes = _dump(cfg)
        m = dict(manifest, config=desc(cfg_bytes, "application/vnd.oci.image.config.v1+json"))
        m_bytes = _dump(m)
        blobs += [cfg_bytes, m_bytes]
        entries.append(desc(m_bytes, "application/vnd.oci.image.manifest.v1+json",
                            platform={"os": "linux", "architecture": arch}))
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    idx_bytes = _dump(idx)
    blobs.append(idx_bytes)
    write_layout(out, blobs, {"schemaVersion": 2, "manifests": [
        desc(idx_bytes, "application/vnd.oci.image.index.v1+json",
             annotations={"org.opencontainers.image.ref.name": name})]})


def hostile_archive(src, out, entries):
    """src's image with one more layer made of `entries` (TarInfo, bytes)."""
    files, index, manifest, config = read_layout(src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    gz = gzip.compress(raw, mtime=0)
    cfg = dict(config)
    cfg["rootfs"] = {"type": "layers", "diff_ids": config["rootfs"]["diff_ids"] + ["sha256:" + hashlib.sha256(raw).hexdigest()]}
    cfg_bytes = _dump(cfg)
    m = dict(manifest, config=desc(cfg_bytes, "application/vnd.oci.image.config.v1+json"),
             layers=manifest["layers"] + [desc(gz, "application/vnd.oci.image.layer.v1.tar+gzip")])
    m_bytes = _dump(m)
    layer0 = files["blobs/sha256/" + manifest["layers"][0]["digest"][7:]]
    write_layout(out, [layer0, gz, cfg_bytes, m_bytes], {"schemaVersion": 2, "manifests": [
        desc(m_bytes, "application/vnd.oci.image.manifest.v1+json",
             annotations={"io.containerd.image.name": "docker.io/library/hostile:1"})]})
    return "sha256:" + hashlib.sha256(gz).hexdigest()


def test_manifest_list_pull_picks_platform(daemon, busybox_oci, test_env):
    archive = os.path.join(test_env.path, "multi.tar")
    multi_arch_archive(busybox_oci, archive, "multi")
    with registry(test_env.path) as reg:
        skopeo(["copy", "--all", "--dest-tls-verify=false", f"oci-archive:{archive}:multi",
                f"docker://{reg.host}/multi/arch:1"], test_env.path)
        ref = f"{reg.host}/multi/arch:1"
        daemon.ctl("image", "prune", "-a", "-f")
        daemon.ctl("pull", ref)
        assert json.loads(daemon.ctl("image", "inspect", ref).stdout)[0]["Architecture"] == "amd64"
        daemon.ctl("pull", "--platform", "linux/arm64", ref)
        assert json.loads(daemon.ctl("image", "inspect", ref).stdout)[0]["Architecture"] == "arm64"
        r = daemon.ctl("pull", "--platform", "linux/s390x", ref, check=False)
        assert r.returncode == 1
        assert "no matching manifest for linux/s390x in the manifest list entries" in r.stderr
        r = daemon.ctl("pull", "--platform", "linux/", ref, check=False)
        assert r.returncode == 1
        daemon.ctl("rmi", ref)
        daemon.ctl("image", "prune", "-a", "-f")


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink-parent", "hardlink-out"])
def test_hostile_layer_is_refused_naming_layer_and_entry(daemon, busybox_oci, test_env, kind):
    decoy_dir = os.path.join(test_env.path, "decoy")
    os.makedirs(decoy_dir)
    decoy = os.path.join(decoy_dir, "target")
    with open(decoy, "w") as f:
        f.write("untouched\n")
    entries = []
    payload = b"pwned\n"

    def reg_file(name):
        i = tarfile.TarInfo(name)
        i.size = len(payload)
        return i, payload

    if kind == "dotdot":
        entries = [reg_file("../../../../../../.." + decoy)]
        bad = ".."
    elif kind == "absolute":
        entries = [reg_file(decoy)]
        bad = decoy.lstrip("/")
    elif kind == "symlink-parent":
        link = tarfile.TarInfo("escape")
        link.type, link.linkname = tarfile.SYMTYPE, decoy_dir
        entries = [(link, None), reg_file("escape/target")]
        bad = "escape/target"
    else:
        hl = tarfile.TarInfo("hard")
        hl.type, hl.linkname = tarfile.LNKTYPE, decoy
        entries = [(hl, None)]
        bad = "hard"
    archive = os.path.join(test_env.path, "hostile.tar")
    layer = hostile_archive(busybox_oci, archive, entries)
    before = daemon.ctl("snapshot", "ls").stdout
    r = daemon.ctl("load", "-i", archive, check=False)
    with open(decoy) as f:
        assert f.read() == "untouched\n"
    if kind in ("absolute", "symlink-parent"):
        # An absolute name, or a symlink to an absolute path, is resolved
        # inside the layer's root (openat2 RESOLVE_IN_ROOT), as containerd
        # resolves it: the file lands inside the snapshot, never on the host.
        assert r.returncode == 0, r.stderr
        landed = [os.path.join(dp, "target") for dp, _, fs in os.walk(os.path.join(daemon.root, "snapshots"))
                  if "target" in fs and dp.endswith(decoy_dir)]
        assert landed and open(landed[0]).read() == "pwned\n"
        daemon.ctl("rmi", "hostile:1")
        daemon.ctl("image", "prune", "-a", "-f")
        return
    assert r.returncode == 1, r.stdout
    assert f"layer {layer}" in r.stderr and "entry" in r.stderr, r.stderr
    assert daemon.ctl("images", "-q").stdout == ""
    after = daemon.ctl("snapshot", "ls").stdout
    # The refused layer's extraction snapshot is gone; only the base layer
    # (which unpacked fine) may have been committed.
    assert "Active" not in after and "extract-" not in after
    new = [line for line in after.splitlines() if line.startswith("sha256:") and line not in before.splitlines()]
    assert len(new) <= 1 and all("Committed" in line for line in new)
    daemon.ctl("image", "prune", "-a", "-f")


def test_full_disk_fails_cleanly_and_the_daemon_goes_on(fresh_daemon, busybox_oci, test_env):
    d = fresh_daemon(start=False)
    os.makedirs(d.root)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", d.root], check=True)
    try:
        d.start()
        r = d.ctl("load", "-i", busybox_oci, check=False)
        assert r.returncode == 1
        assert "no space left on device" in r.stderr.lower(), r.stderr
        assert d.ctl("images", "-q").stdout == ""
        # Nothing half-written is visible as a blob.
        for line in d.ctl("content", "ls").stdout.splitlines()[1:]:
            digest = line.split()[0]
            data = d.ctl("content", "get", digest, text=False).stdout
            assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
        assert d.ctl("version").returncode == 0
        d.stop()
    finally:
        subprocess.run(["umount", d.root], check=False)


def test_namespaces_are_separate(daemon, busybox_oci):
    daemon.ctl("load", "-i", busybox_oci)
    assert daemon.ctl("--namespace", "other", "images", "-q").stdout == ""
    r = daemon.ctl("--namespace", "other", "image", "inspect", NAME, check=False)
    assert r.returncode == 1
    r = daemon.ctl("--namespace", "bad ns!", "images", check=False)
    assert r.returncode == 1
    daemon.ctl("rmi", NAME)


def test_events_stream_image_changes(daemon, busybox_oci):
    proc = subprocess.Popen(["timeout", "20", *daemon.ctl_args(), "events", "--format", "{{.Topic}} {{.Namespace}}"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    daemon.ctl("load", "-i", busybox_oci)
    daemon.ctl("tag", NAME, "events/test:1")
    daemon.ctl("rmi", "events/test:1")
    lines = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(lines) < 3:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    proc.kill()
    proc.wait()
    assert "/images/create default" in lines
    daemon.ctl("rmi", NAME)


def test_content_and_snapshot_verbs(daemon, busybox_oci):
    daemon.ctl("load", "-i", busybox_oci)
    info = json.loads(daemon.ctl("image", "inspect", NAME).stdout)[0]
    cfg = daemon.ctl("content", "get", info["Id"], text=False).stdout
    assert "sha256:" + hashlib.sha256(cfg).hexdigest() == info["Id"]
    assert info["Id"] in daemon.ctl("content", "ls").stdout
    chain = info["RootFS"]["Layers"][0]
    snap = daemon.ctl("snapshot", "info", chain).stdout
    assert "Committed" in snap
    r = daemon.ctl("snapshot", "rm", "no-such-key", check=False)
    assert r.returncode == 1
    r = daemon.ctl("content", "get", "sha256:" + "0" * 64, check=False)
    assert r.returncode == 1
    r = daemon.ctl("content", "get", "sha256:../../etc/passwd", check=False)
    assert r.returncode == 1
    daemon.ctl("rmi", NAME)
