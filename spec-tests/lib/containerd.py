"""A private containerd 1.6 for tests, never touching the host's.

Its root, state, sockets and FIFOs live under one directory. containerd 1.6
hard-codes shim sockets under /run/containerd/s, so it runs in a private mount
namespace where <dir>/run is bind-mounted on /run/containerd (shims and the
runtime inherit that namespace). It is stopped by PID, and shims still bound
to our socket afterwards (they outlive containerd by design) are killed by PID.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
NAMESPACE = "berth-test"


class PrivateContainerd:
    def __init__(self, base):
        self.base = base
        self.address = os.path.join(base, "containerd.sock")
        self.fifo_dir = os.path.join(base, "fifo")
        self.log_path = os.path.join(base, "containerd.log")
        self.proc = None

    def _config(self):
        b = self.base
        # CRI and the snapshotters this host cannot use are disabled: fewer
        # plugins, faster start, no warnings about btrfs/zfs/devmapper.
        return f"""version = 2
root = "{b}/root"
state = "{b}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{self.address}"
[ttrpc]
  address = "{self.address}.ttrpc"
[debug]
  address = "{b}/debug.sock"
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{b}/opt"
"""

    def start(self, timeout=20):
        for d in ("root", "state", "run", "opt"):
            os.makedirs(os.path.join(self.base, d), exist_ok=True)
        os.makedirs(self.fifo_dir, exist_ok=True)
        # The mount point must exist on the host. It is never removed again: a
        # concurrent private containerd may have its own mount on it.
        os.makedirs("/run/containerd", exist_ok=True)
        config = os.path.join(self.base, "config.toml")
        with open(config, "w") as f:
            f.write(self._config())
        with open(self.log_path, "w") as log:
            # unshare and sh both exec: the PID we hold is containerd's own
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                 'mount --bind "$0" /run/containerd && exec "$@"',
                 os.path.join(self.base, "run"), CONTAINERD, "--config", config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode}: {self.log()}")
            if self.ctr("version", check=False, timeout=5).returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"containerd did not answer within {timeout}s: {self.log()}")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""

    def ctr(self, *args, check=True, timeout=60):
        """Run ctr against this instance in our namespace; returns CompletedProcess."""
        argv = [CTR, "--address", self.address, "--namespace", NAMESPACE, *map(str, args)]
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout)
        print(f"$ {' '.join(argv)}\n-> exit {res.returncode}\nstdout: {res.stdout[-2000:]!r}\n"
              f"stderr: {res.stderr[-2000:]!r}")
        if check:
            assert res.returncode == 0, f"ctr {args[0]} failed: {res.stderr}"
        return res

    def ctr_tty(self, *args, timeout=60, rows=24, cols=80):
        """Run ctr with a pseudo-terminal as its stdio (`ctr task exec -t`
        needs one); returns (exit code, everything it wrote)."""
        argv = [CTR, "--address", self.address, "--namespace", NAMESPACE, *map(str, args)]
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        try:
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                    start_new_session=True)
        finally:
            os.close(slave)
        chunks = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        data = os.read(master, 4096)
                    except OSError:  # EIO: every writer closed the slave
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
        print(f"$ {' '.join(argv)} (on a pty)\n-> exit {rc}\noutput: {out[-2000:]!r}")
        return rc, out

    def shim_pids(self):
        """containerd-shim processes started with `-address <our socket>`."""
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if not argv or not os.path.basename(argv[0]).startswith(b"containerd-shim"):
                continue
            for i, a in enumerate(argv[:-1]):
                if a == b"-address" and argv[i + 1] == self.address.encode():
                    pids.append(int(name))
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # tasks first, so their shims exit on their own
            tasks = self.ctr("tasks", "ls", "-q", check=False, timeout=10).stdout.split()
            for t in tasks:
                self.ctr("tasks", "kill", "-s", "SIGKILL", t, check=False, timeout=10)
            for t in tasks:
                self.ctr("tasks", "delete", "-f", t, check=False, timeout=20)
            for c in self.ctr("containers", "ls", "-q", check=False, timeout=10).stdout.split():
                self.ctr("containers", "delete", c, check=False, timeout=10)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.shim_pids():
            print(f"killing leftover shim {pid}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
