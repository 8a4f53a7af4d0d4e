#!/usr/bin/python3
"""The built-in busybox image, made offline from Debian's busybox-static.

    contrib/busybox-image.py OUT.tar [NAME] [--extra-mb N] [--extra-layers K]
        NAME defaults to busybox:latest; --extra-mb adds K more layers (default
        1) holding N MiB of deterministic incompressible data in all (what the
        pull benchmarks fetch)

Writes an OCI image layout as one tar (oci-layout, index.json,
blobs/sha256/*; one gzip layer) that `berthctl load` reads. The output is
byte-for-byte reproducible for a given /bin/busybox: sorted entries,
numeric owners, fixed mtimes, gzip without a timestamp. No registry is
reachable from the machines berth is built on, so this is the image the
README's first command loads.
"""
import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile

BUSYBOX = "/bin/busybox"
EPOCH = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"


def dump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def arch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, kind, mode=0o755, data=None, link=None):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, EPOCH
            if link:
                info.linkname = link
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
        for d, mode in (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555), ("root", 0o700),
                        ("sys", 0o555), ("tmp", 0o1777), ("usr", 0o755), ("var", 0o755)):
            add(d, tarfile.DIRTYPE, mode)
        with open(BUSYBOX, "rb") as f:
            add("bin/busybox", tarfile.REGTYPE, 0o755, f.read())
        applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
        for a in sorted(set(applets) - {"busybox"}):
            add(f"bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        add("etc/passwd", tarfile.REGTYPE, 0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    return buf.getvalue()


def data_layer(index, size):
    """A layer with /data/blob<index>.bin: `size` bytes of a sha256 counter
    stream (incompressible, the same on every machine)."""
    chunks, counter = [], 0
    total = 0
    while total < size:
        block = hashlib.sha256(f"{index}:{counter}".encode()).digest()
        counter += 1
        chunks.append(block)
        total += len(block)
    data = b"".join(chunks)[:size]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo("data")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, EPOCH
        tar.addfile(d)
        f = tarfile.TarInfo(f"data/blob{index}.bin")
        f.size, f.mode, f.mtime = len(data), 0o644, EPOCH
        tar.addfile(f, io.BytesIO(data))
    return buf.getvalue()


def build(out, name, extra_mb=0, extra_layers=1):
    blobs = {}

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    raws = [layer()]
    if extra_mb:
        per = extra_mb * (1 << 20) // extra_layers
        raws += [data_layer(i, per) for i in range(extra_layers)]
    layer_descs = [put(gzip.compress(raw, compresslevel=6 if i else 9, mtime=0)) for i, raw in enumerate(raws)]
    config = {
        "architecture": arch(), "os": "linux", "created": CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r in raws]},
        "history": [{"created": CREATED, "created_by": "berth contrib/busybox-image.py (Debian busybox-static)"}]
                   + [{"created": CREATED, "created_by": f"data layer {i}"} for i in range(len(raws) - 1)],
    }
    config_desc = put(dump(config))
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **d} for d in layer_descs]}
    manifest_desc = put(dump(manifest))
    full = name if "/" in name.split(":")[0] else "docker.io/library/" + name
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                            "platform": {"architecture": arch(), "os": "linux"},
                            "annotations": {"io.containerd.image.name": full,
                                            "org.opencontainers.image.ref.name": tag}}]}
    files = [("oci-layout", dump({"imageLayoutVersion": "1.0.0"})), ("index.json", dump(index))]
    files += [(f"blobs/sha256/{d[7:]}", data) for d, data in sorted(blobs.items())]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for arcname, data in files:
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)
    return manifest_desc["digest"]


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("out")
    p.add_argument("name", nargs="?", default="busybox:latest")
    p.add_argument("--extra-mb", type=int, default=0)
    p.add_argument("--extra-layers", type=int, default=1)
    a = p.parse_args()
    print(build(a.out, a.name, a.extra_mb, a.extra_layers))
