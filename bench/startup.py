#!/usr/bin/python3
"""Startup benchmark: `<runtime> --root <state> run <id>` of a busybox `true` bundle.

Runs berth, crun and runc side by side, interleaved round-robin (each round runs
every runtime once; the order rotates from round to round so no runtime always
follows the same neighbour), and reports per runtime the median, p90 and min wall
time and the median peak RSS, plus berth/crun and berth/runc ratios, as a table
and as JSON. Standard library only (Debian's /usr/bin/python3).

Meant to be started by bench/run.sh, which puts it in a private mount namespace
with /sys/fs/cgroup/unified out of the way so crun 1.8.1 accepts the host's
hybrid cgroup layout and all three runtimes see the same (cgroup v1) world.

How one run is measured (see README.md for the why):
  * a tiny busybox `sh` helper is started BEFORE the clock: it forks a subshell
    that blocks reading a "go" pipe, prints the subshell's pid and exits. This
    process is a child subreaper, so the subshell is re-parented to us;
  * clock start = perf_counter_ns(); write the go byte; the subshell execs the
    runtime; os.wait4(subshell) returns; clock stop;
  * ru_maxrss from that wait4 is the peak RSS of the runtime process and every
    descendant it waited for (the maximum of them, not the sum). Spawning the
    runtime straight from Python would not do: execve records the *old* mm's
    high-water mark in the process's maxrss, and a vfork/fork child's old mm is
    Python's (~8 MiB), which would swamp crun's and berth's numbers.
"""

import argparse
import ctypes
import datetime
import errno
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
BUSYBOX = "/bin/busybox"  # Debian busybox-static
PR_SET_CHILD_SUBREAPER = 36

# The helper: fork a subshell that waits for one line on fd 3, then execs the
# runtime with stdin /dev/null and stdout on the run's log (fd 2). `$!` goes to
# our pid pipe (fd 1). Explicit redirections: an async list's stdin would
# otherwise be /dev/null.
HELPER_SCRIPT = ('( read -r _ <&3 || exit 126; exec 3<&- </dev/null; exec "$@" ) >&2 & '
                 'echo $!')

DEFAULT_RUNTIMES = ("berth", "crun", "runc")


def die(msg):
    print(f"startup.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def warn(msg):
    print(f"startup.py: warning: {msg}", file=sys.stderr)


# ----------------------------------------------------------------- environment

def own_memory_cgroup():
    """This process's memory cgroup (v1 'memory' line, else the v2 '0::' line)."""
    v2 = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return path
            if hid == "0" and controllers == "":
                v2 = path
    if v2 is None:
        die("no memory cgroup in /proc/self/cgroup")
    return v2


def mountinfo():
    """(mount point, fs type) for every mount, in mount order."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].replace("\\040", " ")
            out.append((point, fields[sep + 1]))
    return out


def visible_mounts():
    """Mount point -> fs type of the topmost mount there."""
    top = {}
    for point, fstype in mountinfo():
        top[point] = fstype
    return top


def cgroup_hierarchies():
    """Mount points of every visible cgroup/cgroup2 hierarchy."""
    return sorted(p for p, t in visible_mounts().items() if t in ("cgroup", "cgroup2"))


def check_environment(args):
    if os.geteuid() != 0:
        die("must run as root (the runtimes create namespaces and cgroups)")
    try:
        private = os.readlink("/proc/self/ns/mnt") != os.readlink("/proc/1/ns/mnt")
    except OSError:  # /proc/1/ns may be out of reach: trust run.sh's marker
        private = os.environ.get("BERTH_BENCH_IN_NS") == "1"
    unified = visible_mounts().get("/sys/fs/cgroup/unified")
    env = {"private_mount_ns": private,
           "sys_fs_cgroup_unified": unified or "not mounted"}
    if not private:
        warn("not in a private mount namespace: start through bench/run.sh")
    if unified == "cgroup2":
        warn("/sys/fs/cgroup/unified is a cgroup2 mount (hybrid layout): crun 1.8.1 "
             "refuses it; start through bench/run.sh, which covers it")
    elif (unified is None and os.path.isdir("/sys/fs/cgroup/unified")
          and "crun" in getattr(args, "runtimes", ["crun"])):
        # crun would mkdir + write cgroup.procs into the directory underneath,
        # which is the host's /sys/fs/cgroup tmpfs: cover it, don't unmount it.
        die("/sys/fs/cgroup/unified is an unmounted directory: crun would litter the "
            "host's /sys/fs/cgroup tmpfs there; cover it with a tmpfs (bench/run.sh does)")
    return env


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except OSError as e:
        return f"? ({e})"


def build_type_of(binary):
    """CMAKE_BUILD_TYPE from the CMakeCache.txt of the build tree holding binary, or None."""
    d = os.path.dirname(os.path.realpath(binary))
    while d != "/":
        cache = os.path.join(d, "CMakeCache.txt")
        if os.path.exists(cache):
            with open(cache) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        return line.split("=", 1)[1].strip() or "(none)"
            return None
        d = os.path.dirname(d)
    return None


# ---------------------------------------------------------------------- bundle

def build_rootfs(rootfs):
    """A busybox rootfs: the static binary plus one symlink per applet in /bin."""
    if not os.access(BUSYBOX, os.X_OK):
        die(f"{BUSYBOX} missing: apt-get install busybox-static")
    for d in ("bin", "dev", "etc", "proc", "root", "sys", "tmp"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")
    if not os.path.lexists(os.path.join(rootfs, "bin", "true")):
        die("busybox has no `true` applet")


def bench_config(rootfs, cgroups_path, args_=("true",)):
    """runc's `runc spec` defaults, minus the terminal, the /sys/fs/cgroup mount and
    the ambient capability set.

    Ambient: `runc spec` lists the three caps as ambient but not inheritable, so the
    kernel refuses PR_CAP_AMBIENT_RAISE; runc and crun ignore that failure (the set
    is a no-op for them) while berth (0.1.0) fails the start. Leaving the set out
    gives all three the same effective capabilities, as containerd's defaults do.
    """
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args_),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: caps for k in
                             ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


def write_config(bundle, config):
    tmp = os.path.join(bundle, "config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(config, f, indent=1)
    os.replace(tmp, os.path.join(bundle, "config.json"))


# --------------------------------------------------------------------- cgroups

class CgroupJanitor:
    """Removes the cgroup directories this benchmark caused to exist, and only those.

    The runtimes create `<hierarchy>/<own memory cgroup>/berth-bench-<pid>/<rt>-<n>`
    in every v1 hierarchy (mkdir -p). In hierarchies where this process sits at the
    root, the ancestors `<own memory cgroup>` may not exist yet and get created too:
    we record which ancestors existed before the first run and remove, deepest first,
    only directories under berth-bench-<pid> and ancestors that were not there.
    Cgroup directories are removed with rmdir only (never recursively unlinked).
    """

    def __init__(self, base):
        self.base = base  # absolute cgroup path of berth-bench-<pid>
        self.preexisting = set()
        parts = [p for p in base.split("/") if p]
        self.ancestors = ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]
        for h in cgroup_hierarchies():
            for a in self.ancestors + [base]:
                if os.path.isdir(h + a):
                    self.preexisting.add(h + a)
        if any(p.endswith(base) for p in self.preexisting):
            die(f"cgroup {base} already exists somewhere: refusing to share it")

    def leftovers(self, name):
        """Hierarchies that still hold the cgroup <base>/<name>."""
        return [h for h in cgroup_hierarchies() if os.path.isdir(h + self.base + "/" + name)]

    @staticmethod
    def _rmdir(path, quiet=False):
        for attempt in range(50):
            try:
                os.rmdir(path)
                return True
            except FileNotFoundError:
                return True
            except OSError as e:
                if e.errno != errno.EBUSY or attempt == 49:
                    if not quiet:
                        warn(f"rmdir {path}: {e.strerror}")
                    return False
                time.sleep(0.02)  # an exiting task may still be charged
        return False

    def cleanup(self):
        """rmdir what we caused to exist, deepest first; returns (paths, all ok)."""
        removed = []
        ok = True
        for h in cgroup_hierarchies():
            top = h + self.base
            if os.path.isdir(top) and top not in self.preexisting:
                walk = [w[0] for w in os.walk(top)]
                for path in sorted(walk, key=lambda p: (-p.count("/"), p)):
                    ok = self._rmdir(path) and ok
                    removed.append(path)
            for a in reversed(self.ancestors):
                path = h + a
                if path not in self.preexisting and os.path.isdir(path):
                    # Shared with whoever else nests under our cgroup: best effort.
                    if self._rmdir(path, quiet=True):
                        removed.append(path)
        return removed, ok


# ---------------------------------------------------------------------- runner

class Runner:
    def __init__(self, timeout):
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG": "C"}
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            die(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
        self.strays = 0
        self.timeout = timeout

        def on_alarm(_sig, _frame):
            raise TimeoutError()
        signal.signal(signal.SIGALRM, on_alarm)

    def run(self, argv, log_path):
        """Time argv; return (ns, exit status, ru_maxrss KiB)."""
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
        try:
            actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, pid_w, 1),
                       (os.POSIX_SPAWN_DUP2, log, 2), (os.POSIX_SPAWN_DUP2, go_r, 3)]
            helper = os.posix_spawn(BUSYBOX, [BUSYBOX, "sh", "-c", HELPER_SCRIPT, "sh"] + argv,
                                    self.env, file_actions=actions)
            os.close(pid_w)
            pid_w = -1
            with os.fdopen(pid_r, closefd=False) as f:
                line = f.readline()
            _, st, _ = os.wait4(helper, 0)
            if st != 0 or not line.strip().isdigit():
                raise RuntimeError(f"helper shell failed (status {st}, output {line!r})")
            child = int(line)
            # The helper has exited: `child` is now ours (subreaper), blocked on go_r.
            signal.alarm(self.timeout)
            try:
                t0 = time.perf_counter_ns()
                os.write(go_w, b"\n")
                _, status, ru = os.wait4(child, 0)
                t1 = time.perf_counter_ns()
            except TimeoutError:
                os.kill(child, signal.SIGKILL)
                os.wait4(child, 0)
                raise RuntimeError(f"{argv[0]} did not finish within {self.timeout} s "
                                   f"(killed; its output: {log_path}, kept with --keep)") from None
            finally:
                signal.alarm(0)
        finally:
            for fd in (log, devnull, go_r, go_w, pid_r, pid_w):
                if fd >= 0:
                    os.close(fd)
        self.reap_strays()
        return t1 - t0, status, ru.ru_maxrss

    def reap_strays(self):
        """Orphans of a runtime land on us (subreaper): reap them, count them."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.strays += 1


def describe_status(status):
    if os.WIFEXITED(status):
        return f"exit code {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"status {status:#x}"


# ------------------------------------------------------------------ statistics

def percentile(sorted_vals, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_vals:
        return float("nan")
    pos = (len(sorted_vals) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def summarize(samples):
    lat = sorted(s["ns"] / 1e6 for s in samples)
    rss = sorted(s["maxrss_kib"] for s in samples)
    return {
        "runs": len(samples),
        "latency_ms": {"median": statistics.median(lat), "p90": percentile(lat, 0.9),
                       "min": lat[0], "max": lat[-1], "mean": statistics.fmean(lat),
                       "stdev": statistics.stdev(lat) if len(lat) > 1 else 0.0},
        "peak_rss_kib": {"median": statistics.median(rss), "min": rss[0], "max": rss[-1]},
    }


def ratio(a, b):
    return a / b if b else float("nan")


# ------------------------------------------------------------------------ main

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=50, help="measured rounds (default 50)")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first (default 3)")
    p.add_argument("--berth", default=os.environ.get("BERTH"),
                   help="berth binary (default $BERTH, else build/runtime/cli/berth)")
    p.add_argument("--crun", default=shutil.which("crun") or "/usr/bin/crun")
    p.add_argument("--runc", default=shutil.which("runc") or "/usr/sbin/runc")
    p.add_argument("--runtimes", default=",".join(DEFAULT_RUNTIMES),
                   help="comma-separated subset of berth,crun,runc")
    p.add_argument("--output", help="JSON path (default bench/results/startup-<date>.json)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per run (default 120)")
    p.add_argument("--state-on-disk", action="store_true",
                   help="keep the runtimes' --root dirs on the temp dir's filesystem "
                        "instead of a private tmpfs")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=PATH",
                   help="also run another berth binary (same CLI) in the rounds, e.g. "
                        "berth-static=/tmp/berth-static; reported with its ratio to berth; "
                        "repeatable")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (bundle, logs)")
    a = p.parse_args()
    if a.runs < 1 or a.warmup < 0:
        p.error("--runs must be >= 1 and --warmup >= 0")
    if not a.berth:
        a.berth = os.path.join(REPO, "build", "runtime", "cli", "berth")
    a.runtimes = [r for r in a.runtimes.split(",") if r]
    for r in a.runtimes:
        if r not in DEFAULT_RUNTIMES:
            p.error(f"unknown runtime {r}")
    a.variants = {}
    for v in a.variant:
        name, sep, path = v.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_.]*(-[a-z0-9_.]+)+", name) \
                or name in DEFAULT_RUNTIMES or name in a.variants:
            p.error(f"--variant {v!r}: want NAME=PATH, NAME like berth-xyz, unique")
        a.variants[name] = os.path.abspath(path)
    a.runtimes += list(a.variants)
    return a


def preflight(name, binary, runner, rt):
    """One unmeasured run; returns None if it worked, else why it failed."""
    log = os.path.join(rt["logs"], "preflight.log")
    config = bench_config(rt["rootfs"], rt["cgroup"](0, "preflight"))
    write_config(rt["bundle"], config)
    cid = f"{name}-preflight"
    _, status, _ = runner.run([binary, "--root", rt["state"], "run", "--bundle", rt["bundle"],
                               cid], log)
    if status == 0:
        return None
    with open(log, errors="replace") as f:
        text = f.read().strip()
    return f"{describe_status(status)}: {text[-2000:] or '(no output)'}"


def delete_leftovers(name, binary, state):
    """Force-delete any container the runtime still lists under our private root."""
    left = []
    try:
        out = subprocess.run([binary, "--root", state, "list", "-q"], capture_output=True,
                             text=True, timeout=30)
        left = out.stdout.split()
    except (OSError, subprocess.TimeoutExpired) as e:
        warn(f"{name} list: {e}")
    for cid in left:
        warn(f"{name}: container {cid} left behind, deleting it")
        subprocess.run([binary, "--root", state, "delete", "--force", cid],
                       capture_output=True, timeout=30)
    return left


def print_table(results, ratios, harness):
    print()
    w = max([8] + [len(n) for n in results])
    hdr = f"{'runtime':<{w}} {'runs':>5} {'median ms':>10} {'p90 ms':>9} {'min ms':>9} " \
          f"{'peak RSS (median)':>18}"
    print(hdr)
    print("-" * len(hdr))
    for name, r in results.items():
        lat, rss = r["latency_ms"], r["peak_rss_kib"]
        print(f"{name:<{w}} {r['runs']:>5} {lat['median']:>10.2f} {lat['p90']:>9.2f} "
              f"{lat['min']:>9.2f} {rss['median'] / 1024:>14.2f} MiB")
    if harness:
        print(f"{'(floor)':<{w}} {harness['runs']:>5} {harness['latency_ms']['median']:>10.2f} "
              f"{harness['latency_ms']['p90']:>9.2f} {harness['latency_ms']['min']:>9.2f} "
              f"{harness['peak_rss_kib']['median'] / 1024:>14.2f} MiB   "
              "<- harness running busybox `true` directly")
    if ratios:
        print()
        for k, v in ratios.items():
            print(f"{k:<{w + 6}} latency x{v['median_latency']:.2f}   peak RSS x{v['median_peak_rss']:.2f}")
    print()


def setup(args, workdir, base, env):
    """Rootfs, per-runtime bundle/state/log dirs; returns (runtimes, state_fs)."""
    rootfs = os.path.join(workdir, "rootfs")
    build_rootfs(rootfs)
    # State dirs: on a private tmpfs by default, as /run is on most hosts (not on
    # this one: /run is on the root ext4 here). --state-on-disk keeps them in the
    # temp dir, where any fsync of state files shows up.
    state_root = os.path.join(workdir, "state")
    os.makedirs(state_root, mode=0o700)
    state_fs = "disk"
    if not args.state_on_disk:
        if env["private_mount_ns"]:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700",
                            "berth-bench-state", state_root], check=True)
            state_fs = "tmpfs"
        else:
            warn("not in a private mount namespace: state dirs stay on disk")
    rts = {}
    for r in args.runtimes:
        rt = {"bundle": os.path.join(workdir, "bundle-" + r),
              "state": os.path.join(state_root, r),
              "logs": os.path.join(workdir, "logs-" + r),
              "rootfs": rootfs,
              "cgroup": (lambda n, tag, r=r: f"{base}/{r}-{tag}{n}")}
        for d in (rt["bundle"], rt["state"], rt["logs"]):
            os.makedirs(d, mode=0o700)
        rts[r] = rt
    return rts, state_fs


def measure(args, binaries, runner, rts, env, workdir, samples, failed):
    """Preflight, harness floor, then the interleaved rounds; returns the floor."""
    # Preflight: one run each; a runtime that cannot run the bundle here is
    # dropped with its error (crun on a visible hybrid layout, typically).
    for r in list(rts):
        why = preflight(r, binaries[r], runner, rts[r])
        if why:
            failed[r] = why
            del rts[r]
            print(f"*** {r} cannot run the bundle in this environment; leaving it out.\n"
                  f"    {r} said: {why}", file=sys.stderr)
            if r == "crun" and env["sys_fs_cgroup_unified"] == "cgroup2":
                print("    (crun 1.8.1 rejects the hybrid cgroup layout: run through "
                      "bench/run.sh, which hides /sys/fs/cgroup/unified)", file=sys.stderr)
    if "berth" not in rts:
        die("berth itself failed the preflight run; nothing to compare")
    if len(rts) < len(args.runtimes):
        print(f"*** comparing {' vs '.join(rts)} only", file=sys.stderr)

    # Harness floor: the same spawn path running busybox `true` directly.
    floor = []
    for _ in range(max(10, min(args.runs, 30))):
        ns, st, rss = runner.run([BUSYBOX, "true"], os.path.join(workdir, "floor.log"))
        if st != 0:
            die(f"busybox true through the harness: {describe_status(st)}")
        floor.append({"ns": ns, "maxrss_kib": rss})

    names = list(rts)
    for rnd in range(args.warmup + args.runs):
        k = rnd % len(names)
        order = names[k:] + names[:k]
        measured = rnd >= args.warmup
        n = rnd - args.warmup if measured else rnd
        tag = "" if measured else "warm"
        for r in order:
            rt = rts[r]
            cid = f"{r}-{tag}{n}"
            write_config(rt["bundle"], bench_config(rt["rootfs"], rt["cgroup"](n, tag)))
            log = os.path.join(rt["logs"], f"{cid}.log")
            ns, status, rss = runner.run(
                [binaries[r], "--root", rt["state"], "run", "--bundle", rt["bundle"], cid], log)
            if status != 0:
                with open(log, errors="replace") as f:
                    text = f.read().strip()
                die(f"{r} run {cid} failed ({describe_status(status)}):\n{text[-3000:]}")
            if measured:
                samples[r].append({"ns": ns, "maxrss_kib": rss, "round": n,
                                   "position": order.index(r)})
            os.unlink(log)
        if measured and (n + 1) % 10 == 0:
            print(f"  {n + 1}/{args.runs} rounds", file=sys.stderr)
    return summarize(floor)


def cleanup(args, binaries, runner, janitor, base, workdir, state_fs):
    """Containers, cgroups, temp dirs, whatever happened before.

    Returns (report dict, ok)."""
    leftovers = {}
    for r in args.runtimes:
        state = os.path.join(workdir, "state", r)
        if os.path.isdir(state):
            left = delete_leftovers(r, binaries[r], state)
            if left:
                leftovers[r] = left
    runner.reap_strays()
    cg_leftover = {}  # runtime -> ["<hierarchy>:<container cgroup>", ...]
    for h in cgroup_hierarchies():
        if os.path.isdir(h + base):
            for d in sorted(os.listdir(h + base)):
                if os.path.isdir(os.path.join(h + base, d)):
                    owner = max((r for r in args.runtimes if d.startswith(r + "-")),
                                key=len, default="?")
                    cg_leftover.setdefault(owner, []).append(f"{os.path.basename(h)}:{d}")
    removed, ok = janitor.cleanup()
    if state_fs == "tmpfs" and subprocess.run(["umount", os.path.join(workdir, "state")]
                                              ).returncode != 0:
        warn("umount of the state tmpfs failed")
    if args.keep:
        print(f"kept {workdir} (a tmpfs state dir vanishes with the namespace)",
              file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"containers_left_after_run": leftovers,
            "container_cgroups_left_after_run": cg_leftover,
            "cgroup_dirs_removed": removed,
            "orphans_reaped": runner.strays}, ok


def main():
    args = parse_args()
    env = check_environment(args)
    binaries = {"berth": args.berth, "crun": args.crun, "runc": args.runc, **args.variants}
    for r in args.runtimes:
        if not os.access(binaries[r], os.X_OK):
            die(f"{r}: no executable at {binaries[r]}")

    base = f"{own_memory_cgroup().rstrip('/')}/berth-bench-{os.getpid()}"
    janitor = CgroupJanitor(base)
    runner = Runner(args.timeout)
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "loadavg_start": os.getloadavg()},
        "environment": env,
        "cgroup_parent": base,
        "runs": args.runs, "warmup_rounds": args.warmup,
        "runtimes": {r: {"binary": binaries[r],
                         "version": tool_version([binaries[r], "--version"])}
                     for r in args.runtimes},
        "method": "wall time perf_counter_ns from go signal to wait4; ru_maxrss of wait4 "
                  "(max over the runtime process and descendants it reaped)",
    }
    for r in ["berth"] + list(args.variants):
        if r in meta["runtimes"]:
            bt = build_type_of(binaries[r])
            meta["runtimes"][r]["build_type"] = bt
            if bt == "Debug":
                warn(f"{binaries[r]} is a Debug build: for numbers worth comparing, "
                     "use a Release/RelWithDebInfo build (--berth or BERTH=)")

    failed = {}
    samples = {r: [] for r in args.runtimes}
    harness = None
    state_fs = "disk"
    interrupted = False
    fatal = None
    workdir = tempfile.mkdtemp(prefix="berth-bench-")
    try:
        rts, state_fs = setup(args, workdir, base, env)
        harness = measure(args, binaries, runner, rts, env, workdir, samples, failed)
    except KeyboardInterrupt:
        interrupted = True
    except RuntimeError as e:
        fatal = str(e)
    finally:
        cleanup_report, cleanup_ok = cleanup(args, binaries, runner, janitor, base, workdir,
                                             state_fs)
    if interrupted:
        print("interrupted; cleaned up", file=sys.stderr)
        return 130
    if fatal:
        die(fatal)

    results = {r: summarize(samples[r]) for r in rts}
    ratios = {}
    if "berth" in results:
        for other in ("crun", "runc"):
            if other in results:
                ratios[f"berth/{other}"] = {
                    "median_latency": ratio(results["berth"]["latency_ms"]["median"],
                                            results[other]["latency_ms"]["median"]),
                    "median_peak_rss": ratio(results["berth"]["peak_rss_kib"]["median"],
                                             results[other]["peak_rss_kib"]["median"]),
                }
        for v in args.variants:
            if v in results:
                ratios[f"{v}/berth"] = {
                    "median_latency": ratio(results[v]["latency_ms"]["median"],
                                            results["berth"]["latency_ms"]["median"]),
                    "median_peak_rss": ratio(results[v]["peak_rss_kib"]["median"],
                                             results["berth"]["peak_rss_kib"]["median"]),
                }
    meta["host"]["loadavg_end"] = os.getloadavg()
    meta["state_fs"] = state_fs
    report = {**meta, "results": results, "ratios": ratios, "harness_floor": harness,
              "excluded": failed, "cleanup": cleanup_report,
              "samples": {r: samples[r] for r in rts}}

    print_table(results, ratios, harness)
    for r in rts:
        m = meta["runtimes"][r]
        extra = f", {m['build_type']} build" if m.get("build_type") else ""
        print(f"{r}: {m['binary']} ({m['version']}{extra})")
    print(f"state dirs on {state_fs}; load average {meta['host']['loadavg_start'][0]:.2f} "
          f"-> {meta['host']['loadavg_end'][0]:.2f} (1 min)")
    for r, why in failed.items():
        print(f"NOTE: {r} excluded: {why.splitlines()[0]}")
    for r, left in cleanup_report["containers_left_after_run"].items():
        print(f"NOTE: {r} left {len(left)} container(s) in its state dir after `run`")
    for r, left in cleanup_report["container_cgroups_left_after_run"].items():
        print(f"NOTE: {r} left {len(left)} container cgroup dir(s) behind after `run` "
              f"(removed now), e.g. {', '.join(left[:4])}")
    if runner.strays:
        print(f"NOTE: reaped {runner.strays} orphaned process(es)")

    out = args.output or os.path.join(
        BENCH_DIR, "results", f"startup-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    summary = {k: report[k] for k in ("date", "runs", "state_fs", "results", "ratios",
                                      "harness_floor", "excluded")}
    print(json.dumps(summary, indent=1))
    print(f"\nfull JSON (with every sample): {out}")
    return 0 if cleanup_ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
