"""berth-shim under a private containerd 1.6: the pieces spec-tests/containerd/
test_shim.py and bench/shim_rss.py share.

ShimContainerd is a PrivateContainerd (lib/containerd.py) with
 * a PATH whose first directory holds `containerd-shim-berth-v2` (the shim
   under test) and `berth` (the OCI runtime the shim runs: berth, runc, or
   crun through lib/crun-hybrid.sh), so that `ctr run --runtime
   io.containerd.berth.v2` uses them;
 * a child subreaper (lib/subreaper.py) above containerd: shims and the
   containers orphaned by a dead shim are reaped at once instead of staying
   zombies of this host's slow PID 1;
 * restart() (containerd only: shims and tasks live on) and a stop() that
   also ends the processes the subreapers took in.
"""
import fcntl
import gzip
import hashlib
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tarfile
import termios
import time

from . import oci_image, paths
from .containerd import CTR, NAMESPACE, PrivateContainerd

LIB = os.path.dirname(os.path.abspath(__file__))
SUBREAPER = os.path.join(LIB, "subreaper.py")
CRUN_WRAPPER = os.path.join(LIB, "crun-hybrid.sh")
SHIM_RUNTIME = "io.containerd.berth.v2"


def shim_bin():
    """The shim under test: $BERTH_SHIM_BIN, or <build>/shim/berth-shim."""
    return os.environ.get("BERTH_SHIM_BIN") or os.path.join(paths.build_dir(), "shim", "berth-shim")


def project_berth_bin():
    """The project's runtime (not $BERTH_BIN, which may name runc)."""
    return os.environ.get("BERTH_PROJECT_BIN") or os.path.join(paths.build_dir(), "runtime", "cli", "berth")


def runtime_binary(name):
    """The binary the shim runs as `berth` for a runtime name."""
    if name == "berth":
        return project_berth_bin()
    if name == "runc":
        return "/usr/sbin/runc"
    if name == "crun":
        return CRUN_WRAPPER
    raise ValueError(name)


def make_bin_dir(path, shim, runtime):
    os.makedirs(path, exist_ok=True)
    for name, target in (("containerd-shim-berth-v2", shim), ("berth", runtime)):
        link = os.path.join(path, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    return path


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_gone(pids, timeout=10.0):
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


class ShimContainerd(PrivateContainerd):
    def __init__(self, base, bin_dir):
        super().__init__(base)
        self.bin_dir = bin_dir
        self.containerd_pid = None
        self._reapers = []  # subreapers of earlier containerd runs (restart)

    def _env(self):
        env = dict(os.environ)
        env["PATH"] = self.bin_dir + ":" + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        return env

    def start(self, timeout=20):
        for d in ("root", "state", "run", "opt"):
            os.makedirs(os.path.join(self.base, d), exist_ok=True)
        os.makedirs(self.fifo_dir, exist_ok=True)
        os.makedirs("/run/containerd", exist_ok=True)
        config = os.path.join(self.base, "config.toml")
        with open(config, "w") as f:
            f.write(self._config())
        pidfile = os.path.join(self.base, "containerd.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, SUBREAPER, pidfile, "--",
                 "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                 'mount --bind "$0" /run/containerd && exec "$@"',
                 os.path.join(self.base, "run"), "/usr/bin/containerd", "--config", config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=self._env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode}: {self.log()}")
            if self.containerd_pid is None and os.path.exists(pidfile):
                with open(pidfile) as f:
                    self.containerd_pid = int(f.read())
            if self.containerd_pid and self.ctr("version", check=False, timeout=5).returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"containerd did not answer within {timeout}s: {self.log()}")

    def _stop_containerd(self):
        if self.containerd_pid is None:
            return
        try:
            os.kill(self.containerd_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if wait_gone([self.containerd_pid], 10):
            os.kill(self.containerd_pid, signal.SIGKILL)
            wait_gone([self.containerd_pid], 5)
        self.containerd_pid = None

    def restart(self):
        """containerd stops and starts again; shims and their tasks live on
        (their subreaper too, until they are gone)."""
        self._stop_containerd()
        self._reapers.append(self.proc)
        self.proc = None
        return self.start()

    def mount_namespace_pid(self):
        return self.containerd_pid

    def stop(self):
        if self.proc is None and not self._reapers:
            return
        if self.proc is not None and self.proc.poll() is None and self.containerd_pid:
            tasks = self.ctr("tasks", "ls", "-q", check=False, timeout=10).stdout.split()
            for t in tasks:
                self.ctr("tasks", "kill", "-s", "SIGKILL", t, check=False, timeout=10)
            for t in tasks:
                self.ctr("tasks", "delete", "-f", t, check=False, timeout=20)
            for c in self.ctr("containers", "ls", "-q", check=False, timeout=10).stdout.split():
                self.ctr("containers", "delete", c, check=False, timeout=10)
        self._stop_containerd()
        for pid in self.shim_pids():
            print(f"killing leftover shim {pid}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Each subreaper exits once everything it took in is gone.
        for reaper in [p for p in [self.proc, *self._reapers] if p is not None]:
            try:
                reaper.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"subreaper {reaper.pid} still has children; killing it")
                reaper.kill()
                reaper.wait()
        self.proc = None
        self._reapers = []

    def subreaper_pids(self):
        return [p.pid for p in [self.proc, *self._reapers] if p is not None and p.poll() is None]

    # ---------------------------------------------------------------- ctr
    def ctr_input(self, *args, input="", timeout=60):
        argv = [CTR, "--address", self.address, "--namespace", NAMESPACE, *map(str, args)]
        res = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        print(f"$ {' '.join(argv)} < {input[:100]!r}\n-> exit {res.returncode}\n"
              f"stdout: {res.stdout[-2000:]!r}\nstderr: {res.stderr[-2000:]!r}")
        return res

    def ctr_pty(self, *args, timeout=60, rows=24, cols=80):
        """ctr on a pseudo-terminal (run -t, exec -t); (exit code, output)."""
        argv = [CTR, "--address", self.address, "--namespace", NAMESPACE, *map(str, args)]
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        try:
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        finally:
            os.close(slave)
        chunks = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: the slave side is closed
                        break
                    if not data:
                        break
                    chunks.append(data)
                elif proc.poll() is not None:
                    break
            rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        out = b"".join(chunks).decode(errors="replace")
        print(f"$ {' '.join(argv)} (pty)\n-> exit {rc}\noutput: {out[-2000:]!r}")
        return rc, out

    def task_status(self, cid):
        """(pid, STATUS) from `ctr task ls`, or None when there is no task."""
        for line in self.ctr("tasks", "ls", check=False).stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return int(f[1]), f[-1]
        return None

    def wait_status(self, cid, status, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            st = self.task_status(cid)
            if st and st[1] == status:
                return st
            assert time.monotonic() < deadline, f"task {cid}: {st}, not {status}"
            time.sleep(0.1)

    def remove(self, cid):
        """Kill, delete and remove container cid, whatever state it is in."""
        if self.task_status(cid):
            self.ctr("tasks", "kill", "-a", "-s", "SIGKILL", cid, check=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                st = self.task_status(cid)
                if not st or st[1] in ("STOPPED", "UNKNOWN"):
                    break
                time.sleep(0.1)
            self.ctr("tasks", "delete", "-f", cid, check=False)
        self.ctr("containers", "delete", cid, check=False)

    def bundle(self, cid):
        return os.path.join(self.base, "state", "io.containerd.runtime.v2.task", NAMESPACE, cid)

    def shim_address(self, cid):
        with open(os.path.join(self.bundle(cid), "address")) as f:
            return f.read().strip()

    def shim_pid_of(self, cid):
        """The pid of the shim serving cid: the owner of its socket."""
        sock = self.shim_address(cid).removeprefix("unix://")
        target = os.path.join(self.base, "run", os.path.relpath(sock, "/run/containerd"))
        ino = os.stat(target).st_ino
        inodes = set()
        with open("/proc/net/unix") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 8 and fields[-1] == sock:
                    inodes.add(fields[6])
        for pid in self.shim_pids():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
            except OSError:
                continue
        raise AssertionError(f"no shim listens on {sock} (inode {ino})")

    def mounts_in_containerd_ns(self, under):
        with open(f"/proc/{self.containerd_pid}/mountinfo") as f:
            return [line.split()[4] for line in f if line.split()[4].startswith(under)]


class EventLog:
    """`ctr events` in the background; events() parses what it printed:
    <date> <time> <zone> <UTC> <namespace> <topic> <json>."""

    def __init__(self, ctrd, path):
        self.path = path
        self.out = open(path, "w")
        self.proc = subprocess.Popen(
            [CTR, "--address", ctrd.address, "--namespace", NAMESPACE, "events"],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(0.3)  # let the subscription settle

    def events(self, container=None):
        found = []
        with open(self.path) as f:
            for line in f:
                parts = line.split(None, 6)
                if len(parts) < 7 or not parts[5].startswith("/"):
                    continue
                try:
                    body = json.loads(parts[6])
                except ValueError:
                    continue
                ids = (body.get("container_id"), body.get("id"))
                if container is None or container in ids:
                    found.append((parts[5], body))
        return found

    def wait_for(self, container, topic, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(t == topic for t, _ in self.events(container)):
                return True
            time.sleep(0.1)
        return False

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.out.close()


def shim_processes():
    """{pid: argv} of every containerd-shim* process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).startswith(b"containerd-shim"):
            out[int(name)] = [a.decode(errors="replace") for a in argv if a]
    return out


def process_memory(pid):
    """RSS and PSS in kB (smaps_rollup), thread count."""
    info = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:", "Private_Clean:", "Private_Dirty:", "Shared_Clean:", "Pss_Anon:",
                            "Pss_File:"):
                info[parts[0].rstrip(":").lower()] = int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                info["threads"] = int(line.split()[1])
    return info


# ------------------------------------------------------------------- images
def build_layered_image(rootfs, out_tar, name, extra_layers):
    """An OCI image of rootfs plus `extra_layers` one-file layers on top
    (/layers/NNN): a rootfs overlay whose lowerdir list exceeds a page."""
    blobs = {}

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    raws = [oci_image.layer_tar(rootfs)]
    for i in range(extra_layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            if i == 0:
                d = tarfile.TarInfo("layers")
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, oci_image.EPOCH
                tar.addfile(d)
            data = f"{i}\n".encode()
            info = tarfile.TarInfo(f"layers/{i:03d}")
            info.size, info.mode, info.mtime = len(data), 0o644, oci_image.EPOCH
            tar.addfile(info, io.BytesIO(data))
        raws.append(buf.getvalue())
    layer_descs = [put(gzip.compress(raw, compresslevel=1, mtime=0)) for raw in raws]
    arch = oci_image._arch()
    config = {
        "architecture": arch, "os": "linux", "created": oci_image.CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r in raws]},
        "history": [{"created": oci_image.CREATED, "created_by": "berth spec-tests lib/shim_e2e.py"}] * len(raws),
    }
    config_desc = put(oci_image._dump(config))
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **d} for d in layer_descs],
    }
    manifest_desc = put(oci_image._dump(manifest))
    tag = name.rsplit(":", 1)[1]
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                            "platform": {"architecture": arch, "os": "linux"},
                            "annotations": {"io.containerd.image.name": name,
                                            "org.opencontainers.image.ref.name": tag}}]}
    files = [("oci-layout", oci_image._dump({"imageLayoutVersion": "1.0.0"})), ("index.json", oci_image._dump(index))]
    files += [(f"blobs/sha256/{d.split(':')[1]}", data) for d, data in sorted(blobs.items())]
    with tarfile.open(out_tar, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirname in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(dirname)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, oci_image.EPOCH
            tar.addfile(info)
        for arcname, data in files:
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, oci_image.EPOCH
            tar.addfile(info, io.BytesIO(data))
    return manifest_desc["digest"]
