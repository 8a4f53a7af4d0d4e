"""Debian's docker-registry 2.8.2 on 127.0.0.1 for end-to-end tests.

    with registry(tmp) as reg:                       # anonymous
    with registry(tmp, auth="basic", users={"u": "p"}) as reg:
    with registry(tmp, auth="token", users={"u": "p"},
                  grants={"u": ("pull",)}) as reg:   # Bearer tokens (token_server.py)
        push_oci_archive(reg, "image.tar", "app:1")
        reg.host        # "127.0.0.1:PORT", what references name
        reg.url         # "http://127.0.0.1:PORT"

Every file (config, storage, htpasswd, token signer, log) lives in a private
dir under `tmp`; the registry is stopped by its PID on exit, and a token
server runs in a thread of the test process. Nothing listens beyond
127.0.0.1. skopeo runs in a private mount namespace with its blob-info
cache on a scratch dir, so root's /var/lib/containers/cache is untouched.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from lib.token_server import TokenServer

REGISTRY_BIN = "/usr/bin/docker-registry"
SKOPEO = "/usr/bin/skopeo"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    def __init__(self, directory, port, auth, users, token_server, log_path):
        self.dir, self.port, self.auth = directory, port, auth
        self.users = dict(users or {})
        self.token_server = token_server
        self.log_path = log_path
        self.host = f"127.0.0.1:{port}"
        self.url = f"http://{self.host}"
        self.pid = None

    def creds(self, user=None):
        """"user:password" for skopeo's --creds (the first user by default)."""
        if not self.users:
            return None
        user = user or next(iter(self.users))
        return f"{user}:{self.users[user]}"

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def _config(directory, port, auth, token_server):
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {directory}/data",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        # a random per-run secret: the registry would otherwise warn and make one
        f"  secret: {os.urandom(16).hex()}",
    ]
    if auth == "basic":
        lines += ["auth:", "  htpasswd:", "    realm: berth-test",
                  f"    path: {directory}/htpasswd"]
    elif auth == "token":
        lines += ["auth:", "  token:", f"    realm: {token_server.realm}",
                  f"    service: {token_server.service}", f"    issuer: {token_server.issuer}",
                  f"    rootcertbundle: {token_server.cert_path}"]
    return "\n".join(lines) + "\n"


def _write_htpasswd(path, users):
    entries = []
    for user, password in users.items():
        # docker-registry accepts bcrypt entries only
        out = subprocess.run(["htpasswd", "-Bbn", user, password], check=True,
                             capture_output=True, text=True).stdout
        entries.append(out.strip())
    with open(path, "w") as f:
        f.write("\n".join(entries) + "\n")
    os.chmod(path, 0o600)


def _wait_ready(reg, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}:\n{reg.log()}")
        try:
            urllib.request.urlopen(reg.url + "/v2/", timeout=1).close()
            return
        except urllib.error.HTTPError as e:
            if e.code == 401:  # up, asking for credentials
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry not ready on {reg.url} after {timeout}s:\n{reg.log()}")


@contextlib.contextmanager
def registry(tmp, auth=None, users=None, grants=None, anonymous=()):
    """auth: None, "basic" or "token"; users {name: password}; for "token",
    grants {name: actions} (default pull and push) and the anonymous actions."""
    if auth not in (None, "basic", "token"):
        raise ValueError(f"registry auth {auth!r}: want None, 'basic' or 'token'")
    if not os.path.exists(REGISTRY_BIN):
        import pytest
        pytest.skip("requires docker-registry (Debian package docker-registry)")
    directory = tempfile.mkdtemp(prefix="registry-", dir=tmp)
    os.makedirs(os.path.join(directory, "data"))
    users = dict(users or ({"berth": "berth-pass"} if auth else {}))
    token_server = None
    proc = None
    try:
        if auth == "basic":
            _write_htpasswd(os.path.join(directory, "htpasswd"), users)
        elif auth == "token":
            token_server = TokenServer(directory, users=users, grants=grants,
                                       anonymous=anonymous).start()
        port = free_port()
        config = os.path.join(directory, "config.yml")
        with open(config, "w") as f:
            f.write(_config(directory, port, auth, token_server))
        log_path = os.path.join(directory, "registry.log")
        reg = Registry(directory, port, auth, users, token_server, log_path)
        with open(log_path, "w") as log:
            proc = subprocess.Popen([REGISTRY_BIN, "serve", config], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, cwd=directory)
        reg.pid = proc.pid
        _wait_ready(reg, proc)
        yield reg
    finally:
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if token_server is not None:
            token_server.stop()
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(directory, ignore_errors=True)


def skopeo(args, tmp, check=True, timeout=120):
    """Runs skopeo in a private mount namespace whose
    /var/lib/containers/cache is a scratch dir under `tmp` (skopeo as root
    otherwise writes its blob-info cache on the host)."""
    scratch = tempfile.mkdtemp(prefix="skopeo-cache-", dir=tmp)
    cache = "/var/lib/containers/cache"
    script = (f'mkdir -p {cache} && mount --bind "$0" {cache} && exec "$@"')
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                               script, scratch, SKOPEO] + list(args),
                              capture_output=True, text=True, check=check, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def push_oci_archive(reg, archive, ref, creds=None, tmp=None):
    """skopeo copy oci-archive:ARCHIVE docker://HOST/REF (`creds` "user:pass",
    the registry's first user by default when it has auth)."""
    args = ["copy", "--quiet", "--dest-tls-verify=false"]
    creds = creds or (reg.creds() if reg.auth else None)
    if creds:
        args += ["--dest-creds", creds]
    args += [f"oci-archive:{archive}", f"docker://{reg.host}/{ref}"]
    result = skopeo(args, tmp or reg.dir, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy to {reg.host}/{ref} failed: {result.stderr.strip()}")
    return result
