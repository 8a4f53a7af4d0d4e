"""Where the repository, the build and the binaries under test are."""
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_TESTS = os.path.join(REPO, "spec-tests")
PROBE_SRC = os.path.join(SPEC_TESTS, "probe", "probe.c")


def build_dir():
    return os.environ.get("BERTH_BUILD_DIR") or os.path.join(REPO, "build")


def berth_bin():
    """The runtime under test: $BERTH_BIN, or the one contrib/build.sh built."""
    return os.environ.get("BERTH_BIN") or os.path.join(build_dir(), "runtime", "cli", "berth")


def runtime_flavor(binary):
    """'runc', 'crun' or 'berth': lets tests mark where berth knowingly differs
    from runc, so a validation run against runc shows those as expected."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=10, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    first = (out.split() or [""])[0]
    if first in ("runc", "crun"):
        return first
    name = os.path.basename(binary)
    return name if name in ("runc", "crun") else "berth"


def probe_bin(scratch_dir):
    """Path of the static probe: the one contrib/build.sh made if it is up to
    date, else compiled here into scratch_dir (so `pytest` alone works)."""
    built = os.path.join(build_dir(), "spec-tests", "probe")
    if os.path.exists(built) and os.path.getmtime(built) >= os.path.getmtime(PROBE_SRC):
        return built
    out = os.path.join(scratch_dir, "probe")
    subprocess.run(["gcc", "-static", "-Os", "-o", out, PROBE_SRC], check=True,
                   stdin=subprocess.DEVNULL)
    return out
