"""Image verbs that need no registry: load (every archive layout the peers
write), save (read back by podman and skopeo), images, inspect, history,
tag, rmi, import, prune, system df — and the errors of each."""
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from lib import oci_image
from lib.image_peers import PodmanImages, skopeo

NAME = "localhost/busybox:latest"


def load(daemon, path, *extra):
    return daemon.ctl("load", "-i", path, *extra)


def image_refs(daemon):
    out = daemon.ctl("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    return sorted(line for line in out.splitlines() if line)


def inspect(daemon, ref):
    return json.loads(daemon.ctl("image", "inspect", ref).stdout)[0]


@pytest.fixture
def loaded(daemon, busybox_oci):
    r = load(daemon, busybox_oci)
    assert "Loaded image: localhost/busybox:latest" in r.stdout
    yield daemon
    daemon.ctl("rmi", "-f", NAME, check=False)


def test_load_oci_archive_then_inspect_shape(loaded, busybox_oci):
    info = inspect(loaded, NAME)
    assert info["Id"].startswith("sha256:") and len(info["Id"]) == 71
    assert info["RepoTags"] == ["localhost/busybox:latest"]
    assert info["Os"] == "linux" and info["Architecture"] == "amd64"
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["Config"]["Env"][0].startswith("PATH=")
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    assert info["Created"] == "2024-01-01T00:00:00Z"
    assert info["Size"] > 1_000_000  # busybox + probe, unpacked


def test_layers_unpacked_into_committed_snapshot(loaded):
    info = inspect(loaded, NAME)
    chain = info["RootFS"]["Layers"][0]  # one layer: chain ID = diffID
    out = loaded.ctl("snapshot", "ls").stdout
    assert chain in out and "Committed" in out
    fs = [os.path.join(dp) for dp, _, files in os.walk(os.path.join(loaded.root, "snapshots")) if "busybox" in files]
    assert fs, "busybox binary not found in any snapshot directory"


def test_images_list_quiet_and_format(loaded):
    ids = loaded.ctl("images", "-q").stdout.split()
    info = inspect(loaded, NAME)
    assert ids == [info["Id"][7:19]]
    assert loaded.ctl("images", "-q", "--no-trunc").stdout.split() == [info["Id"]]
    table = loaded.ctl("images").stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert table[1].split()[:3] == ["localhost/busybox", "latest", info["Id"][7:19]]


def test_tag_untag_and_delete(loaded):
    loaded.ctl("tag", NAME, "example.com/team/app:v1")
    assert image_refs(loaded) == ["example.com/team/app:v1", "localhost/busybox:latest"]
    # Two names: removing one only untags.
    r = loaded.ctl("rmi", "example.com/team/app:v1")
    assert r.stdout.strip() == "Untagged: example.com/team/app:v1"
    assert image_refs(loaded) == ["localhost/busybox:latest"]
    # The last name: untag and delete, and the content goes with it.
    info = inspect(loaded, NAME)
    r = loaded.ctl("rmi", NAME)
    assert r.stdout.splitlines() == ["Untagged: localhost/busybox:latest", f"Deleted: {info['Id']}"]
    assert loaded.ctl("images", "-q").stdout == ""
    assert loaded.ctl("content", "ls").stdout.count("sha256:") == 0
    assert info["RootFS"]["Layers"][0] not in loaded.ctl("snapshot", "ls").stdout


def test_rmi_by_id_with_two_repositories_needs_force(loaded):
    loaded.ctl("tag", NAME, "other/name:x")
    image_id = inspect(loaded, NAME)["Id"][7:19]
    r = loaded.ctl("rmi", image_id, check=False)
    assert r.returncode == 1
    assert f"conflict: unable to delete {image_id} (must be forced) - image is referenced in multiple repositories" in r.stderr
    r = loaded.ctl("rmi", "-f", image_id)
    assert "Untagged: other/name:x" in r.stdout and "Deleted: sha256:" in r.stdout


def test_unknown_image_errors(daemon):
    for verb in (["image", "inspect"], ["rmi"], ["history"], ["save", "-o", "/dev/null"]):
        r = daemon.ctl(*verb, "no/such:image", check=False)
        assert r.returncode == 1, verb
        assert "No such image: no/such:image" in r.stderr, (verb, r.stderr)
    r = daemon.ctl("tag", "no/such:image", "x:y", check=False)
    assert r.returncode == 1 and "No such image: no/such:image" in r.stderr


def test_malformed_references_are_refused(loaded):
    r = loaded.ctl("tag", NAME, "team/UPPER", check=False)
    assert r.returncode == 1 and "repository name must be lowercase" in r.stderr
    r = loaded.ctl("tag", NAME, "a:b:c", check=False)
    assert r.returncode == 1 and "invalid reference format" in r.stderr


def test_history_rows(loaded):
    out = loaded.ctl("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", NAME).stdout.splitlines()
    info = inspect(loaded, NAME)
    assert out == [f"{info['Id']}|berth spec-tests lib/oci_image.py"]


def test_save_load_round_trip_keeps_ids(loaded, test_env):
    info = inspect(loaded, NAME)
    out = os.path.join(test_env.path, "saved.tar")
    loaded.ctl("save", "-o", out, NAME)
    with tarfile.open(out) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
        index = json.load(t.extractfile("index.json"))
    assert "oci-layout" in names and "repositories" in names
    assert manifest[0]["RepoTags"] == ["localhost/busybox:latest"]
    assert manifest[0]["Config"] == "blobs/sha256/" + info["Id"][7:]
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == NAME
    loaded.ctl("rmi", NAME)
    r = load(loaded, out)
    assert "Loaded image: localhost/busybox:latest" in r.stdout
    assert inspect(loaded, NAME)["Id"] == info["Id"]


def test_save_to_stdout_pipes_through_gzip_and_loads_from_stdin(loaded, test_env):
    info = inspect(loaded, NAME)
    raw = loaded.ctl("save", NAME, text=False).stdout
    loaded.ctl("rmi", NAME)
    r = loaded.ctl("load", input=gzip.compress(raw), text=False)
    assert b"Loaded image: localhost/busybox:latest" in r.stdout
    assert inspect(loaded, NAME)["Id"] == info["Id"]


def test_save_several_images_in_one_archive(loaded, test_env):
    loaded.ctl("tag", NAME, "second/image:v2")
    out = os.path.join(test_env.path, "two.tar")
    loaded.ctl("save", "-o", out, NAME, "second/image:v2")
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile("manifest.json"))
    assert sorted(manifest[0]["RepoTags"]) == ["localhost/busybox:latest", "second/image:v2"]
    loaded.ctl("rmi", "second/image:v2")


def test_podman_loads_our_save_and_skopeo_reads_it(loaded, test_env):
    info = inspect(loaded, NAME)
    out = os.path.join(test_env.path, "for-podman.tar")
    loaded.ctl("save", "-o", out, NAME)
    podman = PodmanImages(os.path.join(test_env.path, "podman"))
    podman("load", "-i", out)
    ids = podman("images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout
    assert f"{info['Id']} localhost/busybox:latest" in ids
    raw = json.loads(skopeo("inspect", "--config", "--raw", f"docker-archive:{out}").stdout)
    assert raw["rootfs"]["diff_ids"] == info["RootFS"]["Layers"]
    # The OCI side of the same archive: an OCI image layout.
    layout = os.path.join(test_env.path, "layout")
    os.makedirs(layout)
    with tarfile.open(out) as t:
        t.extractall(layout)
    raw = json.loads(skopeo("inspect", "--config", "--raw", f"oci:{layout}").stdout)
    assert raw["rootfs"]["diff_ids"] == info["RootFS"]["Layers"]


def test_load_podman_and_skopeo_archives(daemon, busybox_oci, test_env):
    podman = PodmanImages(os.path.join(test_env.path, "podman"))
    podman("load", "-i", busybox_oci)
    pod_tar = os.path.join(test_env.path, "podman-save.tar")
    podman("save", "-o", pod_tar, NAME)  # docker-archive, symlinked layers
    sk_tar = os.path.join(test_env.path, "skopeo.tar")
    skopeo("copy", f"oci-archive:{busybox_oci}", f"docker-archive:{sk_tar}:skopeo/made:v1")
    sk_oci = os.path.join(test_env.path, "skopeo-oci.tar")
    skopeo("copy", f"oci-archive:{busybox_oci}", f"oci-archive:{sk_oci}:example.com/oci/made:v2")
    for archive, name in ((pod_tar, "localhost/busybox:latest"), (sk_tar, "skopeo/made:v1"),
                          (sk_oci, "example.com/oci/made:v2")):
        r = daemon.ctl("load", "-i", archive)
        assert f"Loaded image: {name}" in r.stdout, (archive, r.stdout)
        info = json.loads(daemon.ctl("image", "inspect", name).stdout)[0]
        assert info["Config"]["Cmd"] == ["sh"]
        daemon.ctl("rmi", name)


def test_load_umoci_layout(daemon, test_env, rootfs_template):
    layout = os.path.join(test_env.path, "umoci")
    subprocess.run(["umoci", "init", "--layout", layout], check=True)
    subprocess.run(["umoci", "new", "--image", f"{layout}:v1"], check=True)
    subprocess.run(["umoci", "insert", "--image", f"{layout}:v1", os.path.join(rootfs_template, "bin"), "/bin"],
                   check=True)
    subprocess.run(["umoci", "config", "--image", f"{layout}:v1", "--config.cmd", "/bin/sh"], check=True)
    tar = os.path.join(test_env.path, "umoci.tar")
    with tarfile.open(tar, "w") as t:
        for entry in os.listdir(layout):
            t.add(os.path.join(layout, entry), arcname=entry)
    r = daemon.ctl("load", "-i", tar)
    # umoci names the tag only ("v1"): the image is loaded without a name.
    assert "Loaded image ID: sha256:" in r.stdout
    image_id = r.stdout.split("Loaded image ID: ")[1].split()[0]
    info = json.loads(daemon.ctl("image", "inspect", image_id).stdout)[0]
    assert info["Config"]["Cmd"] == ["/bin/sh"]
    daemon.ctl("rmi", image_id)


def test_load_refuses_bad_archives_and_leaves_nothing(daemon, test_env, busybox_oci):
    daemon.ctl("image", "prune", "-a", "-f")
    before = daemon.ctl("content", "ls").stdout
    not_tar = os.path.join(test_env.path, "garbage.tar")
    with open(not_tar, "wb") as f:
        f.write(os.urandom(4096))
    r = daemon.ctl("load", "-i", not_tar, check=False)
    assert r.returncode == 1 and "load:" in r.stderr
    # A blob whose name is not its digest.
    forged = os.path.join(test_env.path, "forged.tar")
    with tarfile.open(busybox_oci) as src, tarfile.open(forged, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name.startswith("blobs/sha256/") and m.size < 2000 and b"diff_ids" in data:
                data = data.replace(b"\"sh\"", b"\"xx\"")
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    r = daemon.ctl("load", "-i", forged, check=False)
    assert r.returncode == 1 and "does not match its digest" in r.stderr
    empty = os.path.join(test_env.path, "empty.tar")
    with tarfile.open(empty, "w"):
        pass
    r = daemon.ctl("load", "-i", empty, check=False)
    assert r.returncode == 1 and "neither manifest.json nor index.json" in r.stderr
    assert daemon.ctl("images", "-q").stdout == ""
    daemon.ctl("image", "prune", "-a", "-f")
    assert daemon.ctl("content", "ls").stdout == before


def test_import_rootfs_with_changes(daemon, test_env, rootfs_template):
    tar = os.path.join(test_env.path, "rootfs.tar.gz")
    subprocess.run(["tar", "-czf", tar, "-C", rootfs_template, "."], check=True)
    r = daemon.ctl("import", "-c", "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "-c", "ENV A=b",
                   "-c", "WORKDIR /tmp", "-c", "LABEL team=infra", "-c", "EXPOSE 8080",
                   "-m", "imported by a test", tar, "imported/rootfs:v1")
    assert r.stdout.strip().startswith("sha256:")
    info = inspect(daemon, "imported/rootfs:v1")
    assert info["Config"]["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert info["Config"]["Env"] == ["A=b"]
    assert info["Config"]["WorkingDir"] == "/tmp"
    assert info["Config"]["Labels"] == {"team": "infra"}
    assert info["Config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert info["Comment"] == "imported by a test"
    r = daemon.ctl("import", "-c", "FROB x", tar, check=False)
    assert r.returncode == 1 and "FROB is not a valid change command" in r.stderr
    daemon.ctl("rmi", "imported/rootfs:v1")


def test_dangling_after_retag_and_image_prune(loaded, test_env, rootfs_template):
    tar = os.path.join(test_env.path, "r.tar")
    subprocess.run(["tar", "-cf", tar, "-C", rootfs_template, "./etc"], check=True)
    daemon = loaded
    daemon.ctl("import", tar, "moving/name:v1")
    first = inspect(daemon, "moving/name:v1")["Id"]
    daemon.ctl("import", "-c", "ENV X=1", tar, "moving/name:v1")
    # The first image lost its only name: it is <none>:<none>, dangling.
    dangling = daemon.ctl("images", "--filter", "dangling=true", "-q", "--no-trunc").stdout.split()
    assert dangling == [first]
    r = daemon.ctl("image", "prune", "-f")
    assert f"deleted: {first}" in r.stdout
    assert "Total reclaimed space" in r.stdout
    assert daemon.ctl("images", "--filter", "dangling=true", "-q").stdout == ""
    daemon.ctl("rmi", "moving/name:v1")


def test_filters(loaded):
    loaded.ctl("tag", NAME, "filter/me:one")
    out = loaded.ctl("images", "--filter", "reference=filter/*", "--format", "{{.Repository}}:{{.Tag}}").stdout
    assert out.split() == ["filter/me:one"]
    r = loaded.ctl("images", "--filter", "bogus=1", check=False)
    assert r.returncode == 1 and "invalid filter 'bogus'" in r.stderr
    loaded.ctl("rmi", "filter/me:one")


def test_system_df(loaded):
    out = loaded.ctl("system", "df").stdout.splitlines()
    assert out[0].split()[:2] == ["TYPE", "TOTAL"]
    assert out[1].split()[:3] == ["Images", "1", "0"]


def test_import_from_url(daemon, test_env, rootfs_template):
    import http.server
    import threading
    subprocess.run(["tar", "-czf", os.path.join(test_env.path, "root.tgz"), "-C", rootfs_template, "./etc"], check=True)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=test_env.path, **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        r = daemon.ctl("import", "-c", "CMD [\"/bin/sh\"]", f"{base}/root.tgz", "from/url:1")
        assert r.stdout.strip().startswith("sha256:")
        assert inspect(daemon, "from/url:1")["Config"]["Cmd"] == ["/bin/sh"]
        r = daemon.ctl("import", f"{base}/missing.tgz", "from/url:2", check=False)
        assert r.returncode == 1 and "404" in r.stderr
        r = daemon.ctl("import", "ftp://127.0.0.1/x.tar", check=False)
        assert r.returncode == 1
    finally:
        server.shutdown()
        server.server_close()
    daemon.ctl("rmi", "from/url:1")
