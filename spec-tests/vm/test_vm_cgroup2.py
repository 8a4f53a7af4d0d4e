"""The pure cgroup v2 tier: berth in a QEMU VM booted with cgroup_no_v1=all.

This host's cgroups are hybrid, so cgroup2's controllers, BPF device
programs, cgroup.freeze and cgroup.kill are tested in a VM (run-vm-tier.sh:
Debian's kernel under QEMU TCG, a busybox initramfs, real berth containers).
The VM runs once per session; each of its results is one test here. The list
of expected results is fixed: a result the VM did not report is a failure.

Skipped, with the reason, when qemu-system-x86_64 or a kernel image is
missing (contrib/install-deps.sh installs both). Knobs: see run-vm-tier.sh
(BERTH_VM_TIMEOUT, BERTH_VM_MEM, BERTH_VM_KERNEL...). The serial console is
saved to <build>/test-results/vm-console.log (or the session's temp dir).
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from lib import paths

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "run-vm-tier.sh")
GUEST_TESTS = os.path.join(HERE, "guest", "tests")

# One per guest/tests/NN-<name>.sh, in run order.
EXPECTED = [
    "pure-cgroup2",
    "container-view",
    "memory-oom",
    "pids-limit",
    "cpu-max",
    "devices",
    "seccomp",
    "pause-resume",
    "kill-all",
    "update",
    "relative-path",
    "relative-populated-caller",
    "delete",
]
RUNC_DIFFERS = {
    "relative-populated-caller":
        "runc 1.1 puts a relative cgroupsPath under the parent of the caller's cgroup",
}

VM_TIMEOUT = int(os.environ.get("BERTH_VM_TIMEOUT", "150"))
RESULT = re.compile(r"^VMTEST (\S+) (PASS|FAIL)(?: (.*))?$")


def missing_prerequisite():
    if not shutil.which("qemu-system-x86_64"):
        return ("qemu-system-x86_64 not installed (apt package qemu-system-x86; "
                "contrib/install-deps.sh installs it)")
    kernel = os.environ.get("BERTH_VM_KERNEL")
    if kernel:
        if not os.access(kernel, os.R_OK):
            return f"BERTH_VM_KERNEL={kernel} is not readable"
    elif not glob.glob("/boot/vmlinuz-*"):
        return ("no kernel image in /boot (apt package linux-image-cloud-amd64; "
                "contrib/install-deps.sh installs it)")
    return None


class VmRun:
    def __init__(self, returncode, stdout, console, elapsed, log_path):
        self.returncode = returncode
        self.console = console
        self.elapsed = elapsed
        self.log_path = log_path
        self.results = {}
        for line in stdout.splitlines():
            m = RESULT.match(line.strip())
            if m and m.group(1) not in self.results:
                self.results[m.group(1)] = (m.group(2), m.group(3) or "")
        self.host_line = next((line for line in stdout.splitlines()
                               if line.startswith("VMTEST-HOST ")), "")

    def block(self, name):
        """What test `name` printed on the console (between its START and
        result lines)."""
        out, inside = [], False
        for line in self.console.splitlines():
            if line.startswith(f"VMTEST-START {name}"):
                inside = True
            elif inside:
                if line.startswith(f"VMTEST {name} "):
                    break
                out.append(line)
        return "\n".join(out[-60:])

    def tail(self, n=40):
        return "\n".join(self.console.splitlines()[-n:])


def console_log_path(session_dir):
    results = os.path.join(paths.build_dir(), "test-results")
    return os.path.join(results if os.path.isdir(results) else session_dir, "vm-console.log")


def stop_group(proc):
    """SIGTERM to the script's process group (its trap kills qemu and removes
    its temp dir), SIGKILL if that does not end it."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="session")
def vm_run(berth, session_dir):
    reason = missing_prerequisite()
    if reason:
        print(f"vm tier skipped: {reason}")
        pytest.skip(reason)
    log_path = console_log_path(session_dir)
    env = dict(os.environ, BERTH_BIN=berth, BERTH_VM_LOG=log_path,
               BERTH_VM_TIMEOUT=str(VM_TIMEOUT))
    start = time.monotonic()
    # Own process group: if even the script's own timeout fails, the whole
    # group (the script, its qemu) is killed, never left running.
    proc = subprocess.Popen(["bash", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=VM_TIMEOUT + 60)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        stdout, stderr = proc.communicate()
        stderr += f"\n(killed: run-vm-tier.sh exceeded {VM_TIMEOUT + 60}s)"
    except BaseException:  # interrupted: its own session gets no Ctrl-C
        stop_group(proc)
        raise
    elapsed = time.monotonic() - start
    if proc.returncode == 77:
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else "prerequisite missing"
        print(f"vm tier skipped: {reason}")
        pytest.skip(reason)
    run = VmRun(proc.returncode, stdout, stderr.replace("\r", ""), elapsed, log_path)
    print(f"vm tier: exit {proc.returncode} in {elapsed:.1f}s; {run.host_line}; "
          f"console: {log_path}")
    return run


def test_expected_list_matches_guest_tests():
    """EXPECTED is the contract: it must name exactly the guest's tests."""
    names = [re.sub(r"^\d+-", "", os.path.basename(f)[:-3])
             for f in sorted(glob.glob(os.path.join(GUEST_TESTS, "*.sh")))]
    assert names == EXPECTED


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.runc_differs(RUNC_DIFFERS[n])) if n in RUNC_DIFFERS else n
    for n in EXPECTED])
def test_vm(vm_run, name):
    if name not in vm_run.results:
        pytest.fail(f"the VM reported no result for {name} (run-vm-tier.sh exit "
                    f"{vm_run.returncode}, {vm_run.host_line or 'no VMTEST-HOST line'})\n"
                    f"console tail:\n{vm_run.tail()}", pytrace=False)
    verdict, detail = vm_run.results[name]
    if verdict != "PASS":
        pytest.fail(f"{name}: {detail}\n--- its console output:\n{vm_run.block(name)}",
                    pytrace=False)


def test_vm_run_complete(vm_run):
    """The run as a whole: no result beyond the expected ones, the guest's
    summary agrees, and the VM finished in time."""
    unexpected = sorted(set(vm_run.results) - set(EXPECTED))
    assert not unexpected, f"results not in EXPECTED: {unexpected}"
    assert "timed_out=0" in vm_run.host_line, \
        f"{vm_run.host_line or 'no VMTEST-HOST line'}\n{vm_run.tail()}"
    assert "VMTEST-DONE" in vm_run.console, vm_run.tail()
