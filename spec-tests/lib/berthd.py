"""A private berthd for end-to-end tests: its own root, state dir and
socket under the test's temp dir, started directly (no systemd here) and
stopped by PID; `ctl()` runs berthctl against it."""
import os
import signal
import subprocess
import time

from lib import leaks, paths


def berthd_bin():
    return os.environ.get("BERTHD_BIN") or os.path.join(paths.build_dir(), "supervisor", "daemon", "berthd")


def berthctl_bin():
    return os.environ.get("BERTHCTL_BIN") or os.path.join(paths.build_dir(), "supervisor", "ctl", "berthctl")


class Berthd:
    def __init__(self, top, config_text=None, extra_args=()):
        self.top = top
        self.root = os.path.join(top, "root")
        self.state = os.path.join(top, "state")
        self.socket = os.path.join(self.state, "berthd.sock")
        self.log = os.path.join(top, "berthd.log")
        self.auth_config = os.path.join(top, "docker-config.json")
        self.config = os.path.join(top, "berthd.toml")
        text = f'auth-config = "{self.auth_config}"\n' + (config_text or "")
        os.makedirs(top, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(text)
        self.extra_args = list(extra_args)
        self.proc = None

    def start(self, timeout=20):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [berthd_bin(), "--root", self.root, "--state", self.state, "--config", self.config,
             "--log-level", "debug", *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"berthd exited {self.proc.returncode}: {self.read_log()[-2000:]}")
            if os.path.exists(self.socket) and self.ctl("version", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"berthd did not come up in {timeout}s: {self.read_log()[-2000:]}")

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the daemon by PID; returns its exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.logf.close()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()

    def ctl_args(self):
        return [berthctl_bin(), "--address", self.socket]

    def ctl(self, *args, input=None, check=True, timeout=120, env=None, text=True):
        e = dict(os.environ)
        e.pop("BERTH_ADDRESS", None)
        if env:
            e.update(env)
        r = subprocess.run([berthctl_bin(), "--address", self.socket, *args], input=input,
                           capture_output=True, text=text, timeout=timeout, env=e,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError(f"berthctl {' '.join(args)} exited {r.returncode}:\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def mounts(self):
        return leaks.mounts_under(self.top)
