"""Driving the runtime under test through its runc-compatible CLI."""
import itertools
import json
import os
import shlex
import subprocess
import time

DEFAULT_TIMEOUT = 30  # seconds for one runtime command; tests never wait longer


class Result:
    """One finished runtime command: exit code and what it printed. stdout and
    stderr go to files, not pipes, so a container that inherits them (create,
    run --detach) can never make us block, and its later output stays readable
    through read_out()."""

    def __init__(self, argv, rc, out_path, err_path, duration):
        self.argv, self.rc, self.duration = argv, rc, duration
        self.out_path, self.err_path = out_path, err_path
        self.out = self.read_out()
        self.err = _read(err_path)

    def read_out(self):
        return _read(self.out_path)

    @property
    def ok(self):
        return self.rc == 0

    def json(self):
        return json.loads(self.out)

    def __str__(self):
        return (f"$ {shlex.join(self.argv)}\n-> exit {self.rc} in {self.duration:.2f}s\n"
                f"stdout: {self.out[-2000:]!r}\nstderr: {self.err[-2000:]!r}")


def _read(path):
    with open(path, errors="replace") as f:
        return f.read()


class Running:
    """A runtime command still running; wait() turns it into a Result."""

    def __init__(self, proc, argv, out_path, err_path):
        self.proc, self.argv, self.out_path, self.err_path = proc, argv, out_path, err_path
        self.start = time.monotonic()

    @property
    def pid(self):
        return self.proc.pid

    def read_out(self):
        return _read(self.out_path)

    def wait(self, timeout=DEFAULT_TIMEOUT):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            res = Result(self.argv, None, self.out_path, self.err_path,
                         time.monotonic() - self.start)
            print(res)
            raise AssertionError(f"runtime command timed out after {timeout}s:\n{res}")
        except BaseException:  # e.g. the per-test timeout: never leave it running
            self.proc.kill()
            self.proc.wait()
            raise
        res = Result(self.argv, rc, self.out_path, self.err_path, time.monotonic() - self.start)
        print(res)
        return res


class Runtime:
    """`<binary> --root <per-test state dir> ...` with a timeout. Every call is
    printed, so a failing test shows its whole transcript."""

    def __init__(self, binary, state_dir, io_dir, flavor):
        self.binary, self.state_dir, self.io_dir, self.flavor = binary, state_dir, io_dir, flavor
        self._seq = itertools.count(1)
        self._spawned = []
        os.makedirs(io_dir, exist_ok=True)

    @property
    def is_runc(self):
        return self.flavor == "runc"

    def spawn(self, *args, global_args=(), stdin=None, env=None, pass_fds=(), fd_map=None,
              root=True):
        """Start a runtime command without waiting (e.g. a foreground `run`
        that another call will signal); finish it with .wait().
        fd_map {child_fd: our_fd} places fds at fixed numbers in the runtime
        (for --preserve-fds, which passes fds 3..3+N-1)."""
        argv = [self.binary]
        if root:
            argv += ["--root", self.state_dir]
        argv += list(global_args) + [str(a) for a in args]
        n = next(self._seq)
        out_path = os.path.join(self.io_dir, f"{n:03d}.out")
        err_path = os.path.join(self.io_dir, f"{n:03d}.err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            preexec = None
            if fd_map:
                # runs in the child before close_fds, so the dup2'd fds survive
                def preexec():
                    for target, fd in fd_map.items():
                        os.dup2(fd, target)
                pass_fds = tuple(pass_fds) + tuple(fd_map)
            proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                    stdout=out, stderr=err, env=env, pass_fds=pass_fds,
                                    preexec_fn=preexec)
        running = Running(proc, argv, out_path, err_path)
        self._spawned.append(running)
        return running

    def close(self):
        """Kill commands the test left running (never the containers: those
        are the leak check's business); returns them, described, for the
        leak check to report."""
        left = []
        for running in self._spawned:
            if running.proc.poll() is None:
                left.append(f"{running.pid} {shlex.join(running.argv)}")
                running.proc.kill()
                running.proc.wait()
        return left

    def cmd(self, *args, timeout=DEFAULT_TIMEOUT, **kw):
        return self.spawn(*args, **kw).wait(timeout)

    def ok(self, *args, **kw):
        """cmd() that must succeed."""
        res = self.cmd(*args, **kw)
        assert res.rc == 0, f"expected success:\n{res}"
        return res

    # --- verbs ---------------------------------------------------------------
    def create(self, bundle, *flags, id=None, **kw):
        return self.cmd("create", "--bundle", bundle.path, *flags, id or bundle.id, **kw)

    def start(self, cid, **kw):
        return self.cmd("start", cid, **kw)

    def run(self, bundle, *flags, id=None, **kw):
        return self.cmd("run", "--bundle", bundle.path, *flags, id or bundle.id, **kw)

    def state_raw(self, cid, **kw):
        return self.cmd("state", cid, **kw)

    def state(self, cid):
        res = self.ok("state", cid)
        return res.json()

    def kill(self, cid, signal=None, all=False, **kw):
        args = ["kill"] + (["--all"] if all else []) + [cid]
        if signal is not None:
            args.append(str(signal))
        return self.cmd(*args, **kw)

    def delete(self, cid, force=False, **kw):
        return self.cmd("delete", *(["--force"] if force else []), cid, **kw)

    def list(self, *flags, **kw):
        return self.cmd("list", *flags, **kw)

    def ps(self, cid, *flags, **kw):
        return self.cmd("ps", *flags, cid, **kw)

    # --- waiting -------------------------------------------------------------
    def wait_status(self, cid, status, timeout=10):
        """Poll `state` until the container reports `status`; returns the state."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            res = self.cmd("state", cid)
            if res.rc == 0:
                last = res.json()
                if last.get("status") == status:
                    return last
            if time.monotonic() >= deadline:
                raise AssertionError(f"container {cid} not {status} after {timeout}s; "
                                     f"last state: {last or res}")
            time.sleep(0.05)

    def wait_output(self, res, text, timeout=10):
        """Wait until a created/started container has written `text` to the
        stdout it inherited from `res` (a create or run --detach)."""
        deadline = time.monotonic() + timeout
        while text not in res.read_out():
            if time.monotonic() >= deadline:
                raise AssertionError(f"{text!r} not in container output after {timeout}s: "
                                     f"{res.read_out()!r}")
            time.sleep(0.05)
        return res.read_out()
