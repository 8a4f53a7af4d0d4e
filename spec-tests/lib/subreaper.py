"""A child subreaper for a private containerd and its shims.

    python3 subreaper.py PIDFILE -- COMMAND [ARGS...]

Runs COMMAND (containerd) as its child and writes its pid to PIDFILE. Being
PR_SET_CHILD_SUBREAPER, it inherits every process orphaned below it: a
shim's server once `shim start` has exited, and a container's processes once
their shim died. It reaps them at once, so tests can assert "no zombie left"
(this host's PID 1 reaps orphans only after a long while). SIGTERM and
SIGINT go to COMMAND. It exits when it has no child left at all (COMMAND and
every orphan it took in), with COMMAND's exit status.
"""
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit(__doc__)
    pidfile, command = argv[1], argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl PR_SET_CHILD_SUBREAPER: {os.strerror(ctypes.get_errno())}")
    child = subprocess.Popen(command)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(child.pid))
    os.rename(tmp, pidfile)

    main_status = None

    def forward(signum, _frame):
        if main_status is None:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child.pid:
            main_status = os.waitstatus_to_exitcode(status)
            child.returncode = main_status  # Popen must not wait for it again
    code = main_status if main_status is not None else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv)
