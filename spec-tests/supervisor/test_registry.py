"""pull, push, login and logout against Debian's docker-registry on
127.0.0.1 (anonymous, htpasswd Basic, and Bearer tokens from the tests'
own token server), with skopeo and podman as the other side: what skopeo
pushes we pull, what we push skopeo and podman pull with identical
digests. Errors: unknown tags, a registry that is down, wrong
credentials, a corrupt blob, kill -9 of berthd mid-pull and a resumed
pull."""
import json
import os
import signal
import stat
import subprocess
import threading
import time

import pytest

from lib.image_peers import PodmanImages
from lib.registry import push_oci_archive, registry, skopeo


def inspect(d, ref):
    return json.loads(d.ctl("image", "inspect", ref).stdout)[0]


def pull(d, ref, *extra, check=True):
    return d.ctl("pull", *extra, ref, check=check, timeout=300)


@pytest.fixture(scope="module")
def anon(session_dir, busybox_oci):
    with registry(session_dir) as reg:
        push_oci_archive(reg, busybox_oci, "library/busybox:latest")
        push_oci_archive(reg, busybox_oci, "library/busybox:1.36")
        yield reg


def test_pull_streams_layers_and_names_the_image(daemon, anon):
    ref = f"{anon.host}/library/busybox:latest"
    r = pull(daemon, ref)
    lines = r.stdout.splitlines()
    assert lines[0] == "latest: Pulling from library/busybox"
    assert any(line.endswith(": Pull complete") for line in lines), r.stdout
    assert any(line.startswith("Digest: sha256:") for line in lines)
    assert f"Status: Downloaded newer image for {ref}" in lines
    assert lines[-1] == ref
    info = inspect(daemon, ref)
    remote = json.loads(skopeo(["inspect", "--tls-verify=false", f"docker://{ref}"], daemon.top).stdout)
    assert info["RepoDigests"] == [f"{anon.host}/library/busybox@{remote['Digest']}"]
    assert len(info["RootFS"]["Layers"]) == len(remote["Layers"]) == 1
    # Pulled again: nothing to fetch.
    r = pull(daemon, ref)
    assert "Already exists" in r.stdout and f"Status: Image is up to date for {ref}" in r.stdout
    daemon.ctl("rmi", ref)


def test_pull_quiet_and_by_digest(daemon, anon):
    ref = f"{anon.host}/library/busybox:1.36"
    r = pull(daemon, ref, "-q")
    assert r.stdout.strip() == ref
    digest = inspect(daemon, ref)["RepoDigests"][0].split("@")[1]
    by_digest = f"{anon.host}/library/busybox@{digest}"
    r = pull(daemon, by_digest)
    assert r.stdout.splitlines()[-1] == by_digest
    assert inspect(daemon, by_digest)["Id"] == inspect(daemon, ref)["Id"]
    daemon.ctl("rmi", "-f", inspect(daemon, ref)["Id"])


def test_pull_all_tags(daemon, anon):
    pull(daemon, f"{anon.host}/library/busybox", "-a")
    refs = daemon.ctl("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert sorted(refs) == [f"{anon.host}/library/busybox:1.36", f"{anon.host}/library/busybox:latest"]
    r = pull(daemon, f"{anon.host}/library/busybox:latest", "-a", check=False)
    assert r.returncode == 1 and "tag can't be used with --all-tags/-a" in r.stderr
    daemon.ctl("rmi", "-f", inspect(daemon, f"{anon.host}/library/busybox:latest")["Id"])


def test_pull_errors(daemon, anon, test_env):
    r = pull(daemon, f"{anon.host}/library/busybox:nope", check=False)
    assert r.returncode == 1 and "manifest unknown" in r.stderr, r.stderr
    r = pull(daemon, f"{anon.host}/no/such/repo:1", check=False)
    assert r.returncode == 1 and "Error response from daemon" in r.stderr
    # A port nothing listens on.
    from lib.registry import free_port
    r = pull(daemon, f"127.0.0.1:{free_port()}/x/y:1", check=False)
    assert r.returncode == 1 and "connection refused" in r.stderr.lower(), r.stderr
    r = pull(daemon, "UPPERCASE", check=False)
    assert r.returncode == 1 and "invalid reference format" in r.stderr
    assert daemon.ctl("images", "-q").stdout == ""


def test_corrupt_blob_fails_the_pull_and_leaves_nothing(daemon, busybox_oci, test_env):
    with registry(test_env.path) as reg:
        push_oci_archive(reg, busybox_oci, "bad/blob:1")
        # Flip bytes in the stored layer: its digest no longer matches.
        blobs = os.path.join(reg.dir, "data/docker/registry/v2/blobs/sha256")
        biggest = max((os.path.join(dp, "data") for dp, _, fs in os.walk(blobs) if "data" in fs),
                      key=os.path.getsize)
        with open(biggest, "r+b") as f:
            f.seek(1000)
            f.write(b"\0" * 64)
        before = daemon.ctl("snapshot", "ls").stdout
        r = pull(daemon, f"{reg.host}/bad/blob:1", check=False)
        assert r.returncode == 1
        assert "sha256:" in r.stderr and ("digest" in r.stderr or "diffID" in r.stderr or "gzip" in r.stderr), r.stderr
        assert daemon.ctl("images", "-q").stdout == ""
        assert daemon.ctl("snapshot", "ls").stdout == before


def test_push_then_skopeo_and_podman_pull_identical_digests(daemon, anon, busybox_oci, test_env):
    daemon.ctl("load", "-i", busybox_oci)
    target = f"{anon.host}/pushed/busybox:v1"
    daemon.ctl("tag", "localhost/busybox:latest", target)
    r = daemon.ctl("push", target)
    assert f"The push refers to repository [{anon.host}/pushed/busybox]" in r.stdout
    digest = inspect(daemon, target)["RepoDigests"][0].split("@")[1]
    assert f"v1: digest: {digest}" in r.stdout
    remote = json.loads(skopeo(["inspect", "--tls-verify=false", f"docker://{target}"], test_env.path).stdout)
    assert remote["Digest"] == digest
    podman = PodmanImages(os.path.join(test_env.path, "podman"))
    podman("pull", "--tls-verify=false", target)
    ids = podman("images", "--no-trunc", "--format", "{{.ID}}").stdout.split()
    assert inspect(daemon, target)["Id"] in ids
    # Pushed again: every blob is already there.
    r = daemon.ctl("push", target)
    assert "Layer already exists" in r.stdout
    # To another repository of the same registry: mounted, not uploaded.
    other = f"{anon.host}/mounted/busybox:v1"
    daemon.ctl("tag", target, other)
    r = daemon.ctl("push", other)
    assert "Mounted from" in r.stdout, r.stdout
    daemon.ctl("rmi", "-f", inspect(daemon, target)["Id"])


def test_push_unknown_tag(daemon, anon):
    r = daemon.ctl("push", f"{anon.host}/not/here:1", check=False)
    assert r.returncode == 1 and "An image does not exist locally with the tag" in r.stderr


def test_basic_auth_login_pull_logout(daemon, busybox_oci, test_env):
    with registry(test_env.path, auth="basic", users={"alice": "s3cret"}) as reg:
        push_oci_archive(reg, busybox_oci, "private/busybox:1")
        ref = f"{reg.host}/private/busybox:1"
        r = pull(daemon, ref, check=False)
        assert r.returncode == 1 and ("authentication required" in r.stderr or "unauthorized" in r.stderr), r.stderr
        r = daemon.ctl("login", "-u", "alice", "--password-stdin", reg.host, input="wrong\n", check=False)
        assert r.returncode == 1 and "s3cret" not in r.stderr
        assert not os.path.exists(daemon.auth_config) or reg.host not in open(daemon.auth_config).read()
        r = daemon.ctl("login", "-u", "alice", "--password-stdin", reg.host, input="s3cret\n")
        assert "Login Succeeded" in r.stdout
        st = os.stat(daemon.auth_config)
        assert stat.S_IMODE(st.st_mode) == 0o600
        auths = json.load(open(daemon.auth_config))["auths"]
        import base64
        assert base64.b64decode(auths[reg.host]["auth"]).decode() == "alice:s3cret"
        pull(daemon, ref)
        assert "s3cret" not in daemon.read_log()
        r = daemon.ctl("logout", reg.host)
        assert reg.host not in json.load(open(daemon.auth_config)).get("auths", {})
        daemon.ctl("rmi", ref)


def test_token_auth_pull_and_push(daemon, busybox_oci, test_env):
    with registry(test_env.path, auth="token", users={"bob": "pw"}, grants={"bob": ("pull", "push")}) as reg:
        push_oci_archive(reg, busybox_oci, "tok/busybox:1")
        ref = f"{reg.host}/tok/busybox:1"
        r = pull(daemon, ref, check=False)
        assert r.returncode == 1
        daemon.ctl("login", "-u", "bob", "--password-stdin", reg.host, input="pw\n")
        pull(daemon, ref)
        daemon.ctl("tag", ref, f"{reg.host}/tok/copy:2")
        daemon.ctl("push", f"{reg.host}/tok/copy:2")
        out = skopeo(["inspect", "--tls-verify=false", "--creds", "bob:pw", f"docker://{reg.host}/tok/copy:2"],
                     test_env.path).stdout
        assert json.loads(out)["Digest"] == inspect(daemon, ref)["RepoDigests"][0].split("@")[1]
        daemon.ctl("logout", reg.host)
        daemon.ctl("rmi", "-f", inspect(daemon, ref)["Id"])


def test_two_clients_pulling_at_once_download_each_blob_once(daemon, anon):
    ref = f"{anon.host}/library/busybox:latest"
    daemon.ctl("image", "prune", "-a", "-f")
    mark = len(anon.log())
    results = []

    def one():
        results.append(pull(daemon, ref, check=False))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    info = inspect(daemon, ref)
    manifest = json.loads(daemon.ctl("content", "get", info["Descriptor"]["digest"]).stdout)
    layer = manifest["layers"][0]["digest"]
    gets = [line for line in anon.log()[mark:].splitlines() if f"blobs/{layer}" in line and "method=GET" in line]
    assert len(gets) == 1, gets
    daemon.ctl("rmi", ref)


def test_kill9_mid_pull_then_the_pull_completes(fresh_daemon, session_dir, test_env):
    big = os.path.join(session_dir, "big-image.tar")
    if not os.path.exists(big):
        subprocess.run(["python3", os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "busybox-image.py"),
                        big, "big:1", "--extra-mb", "40"], check=True, capture_output=True)
    with registry(test_env.path) as reg:
        push_oci_archive(reg, big, "big/image:1", tmp=test_env.path)
        d = fresh_daemon('max-concurrent-downloads = 1\n')
        ref = f"{reg.host}/big/image:1"
        proc = subprocess.Popen([*__import__("lib.berthd", fromlist=["x"]).berthctl_bin().split(), "--address", d.socket,
                                 "pull", ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until bytes of the big layer are in an ingest, then kill -9.
        deadline = time.monotonic() + 60
        ingest_dir = os.path.join(d.root, "content", "ingest")
        partial = 0
        while time.monotonic() < deadline and not partial:
            sizes = [os.path.getsize(os.path.join(dp, "data")) for dp, _, fs in os.walk(ingest_dir) if "data" in fs]
            partial = max([s for s in sizes if s > 4 << 20], default=0)
            time.sleep(0.005)
        d.kill9()
        assert partial, "the pull finished before it could be killed"
        log_mark = len(reg.log())
        proc.wait(timeout=30)
        assert proc.returncode != 0
        d.start()
        assert d.ctl("images", "-q").stdout == ""
        # No partial blob is visible; the downloaded bytes are kept.
        blobs = d.ctl("content", "ls").stdout
        r = pull(d, ref)
        assert r.stdout.splitlines()[-1] == ref
        # The registry sent only what was missing: the big layer's GET after
        # the restart wrote fewer bytes than the layer has, or none at all.
        info = inspect(d, ref)
        manifest = json.loads(d.ctl("content", "get", info["Descriptor"]["digest"]).stdout)
        big_layer = max(manifest["layers"], key=lambda l: l["size"])
        gets = [line for line in reg.log()[log_mark:].splitlines()
                if big_layer["digest"] in line and "method=GET" in line]
        written = [int(line.split("http.response.written=")[1].split()[0]) for line in gets]
        assert all(w < big_layer["size"] - partial + 1 for w in written), (written, partial, big_layer["size"])
        assert len(info["RootFS"]["Layers"]) == 2
        assert blobs.count("sha256:") <= 3  # at most manifest, config and the small layer


def test_docker_schema2_image_pulls_and_pushes_back_unchanged(daemon, anon, busybox_oci, test_env):
    skopeo(["copy", "--quiet", "--format", "v2s2", "--dest-tls-verify=false", f"oci-archive:{busybox_oci}",
            f"docker://{anon.host}/docker/format:1"], test_env.path)
    ref = f"{anon.host}/docker/format:1"
    pull(daemon, ref)
    info = inspect(daemon, ref)
    assert info["Descriptor"]["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    daemon.ctl("tag", ref, f"{anon.host}/docker/copy:1")
    daemon.ctl("push", f"{anon.host}/docker/copy:1")
    raw = skopeo(["inspect", "--raw", "--tls-verify=false", f"docker://{anon.host}/docker/copy:1"], test_env.path).stdout
    assert json.loads(raw)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    remote = json.loads(skopeo(["inspect", "--tls-verify=false", f"docker://{anon.host}/docker/copy:1"], test_env.path).stdout)
    assert remote["Digest"] == info["Descriptor"]["digest"]
    daemon.ctl("rmi", "-f", info["Id"])
