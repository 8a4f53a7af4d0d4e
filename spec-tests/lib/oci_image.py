"""Build a one-layer OCI image from a directory, offline and byte-for-byte
reproducible (fixed mtimes, numeric owners, sorted entries, gzip without a
timestamp), packed as an OCI layout tar that `ctr image import` accepts.

    python3 -m lib.oci_image ROOTFS OUT.tar [NAME:TAG]
"""
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

EPOCH = 1704067200  # 2024-01-01T00:00:00Z: every mtime and "created"
CREATED = "2024-01-01T00:00:00Z"


def _dump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def _arch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def layer_tar(rootfs):
    """Uncompressed tar of rootfs: entries sorted, owners numeric, mtimes fixed."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = []
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                entries.append(os.path.join(dirpath, name))
        for path in sorted(entries, key=lambda p: os.path.relpath(p, rootfs)):
            info = tar.gettarinfo(path, arcname=os.path.relpath(path, rootfs))
            info.mtime = EPOCH
            info.uname = info.gname = ""
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return buf.getvalue()


def build(rootfs, out_tar, name="localhost/busybox:latest"):
    """Write out_tar (OCI layout: oci-layout, index.json, blobs/sha256/*)."""
    blobs = {}

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    raw = layer_tar(rootfs)
    layer = gzip.compress(raw, compresslevel=6, mtime=0)
    layer_desc = put(layer)
    config = {
        "architecture": _arch(), "os": "linux", "created": CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "history": [{"created": CREATED, "created_by": "berth spec-tests lib/oci_image.py"}],
    }
    config_desc = put(_dump(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer_desc}],
    }
    manifest_desc = put(_dump(manifest))
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
            "platform": {"architecture": _arch(), "os": "linux"},
            # containerd names the imported image after this annotation
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }
    files = [("oci-layout", _dump({"imageLayoutVersion": "1.0.0"})), ("index.json", _dump(index))]
    files += [(f"blobs/sha256/{d.split(':')[1]}", data) for d, data in sorted(blobs.items())]

    with tarfile.open(out_tar, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirname in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(dirname)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for arcname, data in files:
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))
    return manifest_desc["digest"]


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    print(build(*sys.argv[1:]))
