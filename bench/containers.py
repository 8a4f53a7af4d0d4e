#!/usr/bin/python3
"""Container benchmarks (issue 10): berthd + berthctl side by side with a
private containerd 1.6 (ctr, containerd-shim-runc-v2, runc), podman and,
when Debian's docker.io is installed, a private dockerd.

    sudo bench/run.sh --containers [--runs 20] [--warmup 2] [--tools berthctl,ctr,podman,docker]
                                   [--sections rm,detached,ps] [--detached 50] [--ps-containers 200]
                                   [--output FILE] [--keep]

Sections (all by default):
  rm        `run --rm busybox true`, interleaved rounds, the order rotating
            (target: berthctl <= 0.3x ctr's median)
  detached  50 `run -d busybox sleep 1000` in a row: wall time; memory per
            idle container: (daemon Pss_Anon growth + its shims' and loggers' PSS)
            / 50, berthd vs containerd (target <= 0.25x)
  ps        `berthctl ps` and `ps -a` with 200 containers (most created, a
            few running), `ctr containers ls` with as many (target <= 20 ms)

A benchmark, not a test: it never passes or fails on timing. It stops only
if a command fails. Every daemon and store lives in one temp dir under
/var/tmp; daemons are stopped by PID, containers removed, cgroups the runs
made rmdir'ed, the dir removed (unless --keep).
"""
import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from images import (BenchBerthd, Containerd, Podman, build_type, comma_list, memory_of,  # noqa: E402
                    remove_temp_dir, run, stop_berthd, timed, tool_version, umount_under, write_results)
from lib.berthd import berthctl_bin  # noqa: E402
from shim_rss import own_memory_cgroup, remove_cgroups, summary  # noqa: E402

REPO = os.path.dirname(BENCH_DIR)
BUSYBOX_IMAGE = os.path.join(REPO, "contrib", "busybox-image.py")
IMAGE = "localhost/busybox:latest"
ALL_TOOLS = ("berthctl", "ctr", "podman", "docker")
ALL_SECTIONS = ("rm", "detached", "ps")
TARGETS = {"rm_vs_ctr": 0.3, "idle_memory_vs_containerd": 0.25, "ps_ms": 20.0}


def log(msg):
    print(msg, flush=True)


def die(msg):
    print(f"containers.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def docker_unavailable():
    """Why docker is not run, or "" (never: a private dockerd in a test
    network namespace is not wired in yet, see bench/README.md)."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "docker.io"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.endswith(" installed"):
        return "Debian's docker.io is not installed (dpkg-query docker.io: " + (
            r.stdout.strip() or r.stderr.strip() or "unknown") + ")"
    return "a private dockerd in a test network namespace is not implemented in containers.py yet"


def berthd_cgroup_parents():
    """berthd gives containers the cgroupsPath /berth/<id>: the `berth` dir in
    each hierarchy, which the benchmark removes at the end if it made it."""
    from shim_rss import cgroup_mounts
    return [os.path.join(h, "berth") for h in cgroup_mounts()]


def helper_processes(shim_name, needle, child_names=()):
    """pid -> name of the shims (`shim_name` with `needle` in their argv) and
    of their children named in `child_names` (the log drivers they start)."""
    found, children = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/status") as f:
                ppid = int(next(line for line in f if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration):
            continue
        base = os.path.basename(argv[0]).decode(errors="replace")
        if base == shim_name and any(needle.encode() in a for a in argv):
            found[int(entry)] = base
        elif base in child_names:
            children[int(entry)] = (base, ppid)
    for pid, (base, ppid) in children.items():
        if ppid in found:
            found[pid] = base
    return found


def pss_of(pids):
    """Sum of Pss (kB) of `pids` and how many were still there."""
    total, seen = 0, 0
    for pid in pids:
        try:
            total += memory_of(pid)["pss"]
            seen += 1
        except (OSError, KeyError):
            pass
    return total, seen


# -------------------------------------------------------------------- peers
class BerthdPeer:
    name = "berthctl"

    def __init__(self, top, level, runtime=None):
        self.d = BenchBerthd(top, level, f'default-runtime = "{runtime}"\n' if runtime else None)

    def start(self, archive):
        self.d.start()
        self.d.ctl("load", "-i", archive)
        return self

    def ctl(self, *args):
        return [berthctl_bin(), "--address", self.d.socket, *args]

    def run_rm(self, _rnd):
        return timed(self.ctl("run", "--rm", IMAGE, "true"))

    def helpers(self):
        # shims run with the daemon's state dir in their argv, loggers are their children
        return helper_processes("berth-shim", self.d.state, ("berth-logger",))

    def remove_all(self):
        ids = self.d.ctl("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self.d.ctl("rm", "-f", *ids, timeout=600)

    def stop(self):
        try:
            if self.d.proc and self.d.proc.poll() is None:
                self.remove_all()
        finally:  # a failed rm (or a missing berthctl) must not leave berthd running
            stop_berthd(self.d)


class CtrPeer:
    name = "ctr"

    def __init__(self, top, cgroup_base):
        self.c = Containerd(top)
        self.cg = cgroup_base + "/ctr"

    def start(self, archive):
        self.c.start()
        self.c.ctr("image", "import", archive)
        return self

    def ctr(self, *args):
        return self.c.ctr_argv(*args)

    def run_rm(self, rnd):
        cid = f"rm-{rnd}"
        return timed(self.ctr("run", "--rm", "--fifo-dir", self.c.fifo_dir, "--cgroup", f"{self.cg}/{cid}",
                              IMAGE, cid, "true"))

    def run_d(self, cid):
        return self.ctr("run", "-d", "--fifo-dir", self.c.fifo_dir, "--cgroup", f"{self.cg}/{cid}",
                        IMAGE, cid, "sleep", "1000")

    def helpers(self):
        return {pid: "containerd-shim-runc-v2" for pid in self.c.shim_pids()}

    def remove_all(self):
        tasks = self.c.ctr("tasks", "ls", "-q").stdout.split()
        for t in tasks:
            self.c.ctr("tasks", "kill", "-s", "SIGKILL", t, check=False)
        for t in tasks:
            self.c.ctr("tasks", "delete", "-f", t, check=False)
        ids = self.c.ctr("containers", "ls", "-q").stdout.split()
        if ids:
            self.c.ctr("containers", "delete", *ids, check=False)

    def stop(self):
        self.c.stop()


class PodmanPeer:
    name = "podman"

    def __init__(self, top, cgroup_base):
        self.top, self.cg = top, cgroup_base + "/podman"
        self.p = None

    def start(self, archive):
        # overlay when a private --root supports it, vfs otherwise
        for driver in ("overlay", "vfs"):
            p = Podman(os.path.join(self.top, driver), driver)
            r = run(p.argv("load", "-q", "-i", archive), env=p.env, check=False)
            if r.returncode == 0:
                self.p, self.driver = p, driver
                return self
            log(f"podman: {driver} load failed: {r.stderr.strip()[-300:]}")
            umount_under(p.top)
        raise RuntimeError("podman load failed with overlay and vfs")

    def run_rm(self, _rnd):
        # no network (berthd's default, and ctr run's: a netns with lo only),
        # a cgroup under ours, not /libpod_parent at the hierarchy roots;
        # RLIMIT_NOFILE 1024 as containerd's default spec, RLIMIT_NPROC 1024:
        # podman asks for 1048576 and 4194304, which root without
        # CAP_SYS_RESOURCE cannot set here (even our own hard NPROC fails)
        return self.p.timed("run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024",
                            "--ulimit", "nproc=1024:1024", "--cgroup-parent", self.cg, IMAGE, "true")

    def stop(self):
        if self.p:
            ids = self.p("ps", "-aq", check=False).stdout.split()
            if ids:
                self.p("rm", "-f", *ids, check=False)
        umount_under(self.top)


# ----------------------------------------------------------------- sections
def bench_rm(args, peers, results):
    samples = {p.name: [] for p in peers}
    order = list(peers)
    for rnd in range(args.warmup + args.runs):
        line = []
        for p in order:
            ms = p.run_rm(rnd)
            line.append(f"{p.name} {ms:.0f}")
            if rnd >= args.warmup:
                samples[p.name].append(ms)
        if rnd % 5 == 4 or rnd == args.warmup + args.runs - 1:
            log(f"  run --rm round {rnd + 1}/{args.warmup + args.runs}: " + ", ".join(line))
        order = order[1:] + order[:1]
    results["rm"] = {name: summary(v) | {"samples_ms": v} for name, v in samples.items()}


def idle_memory(daemon_pid, before, helpers, count):
    after = memory_of(daemon_pid)
    helper_pss, alive = pss_of(helpers)
    kinds = {}
    for pid, kind in helpers.items():
        kinds[kind] = kinds.get(kind, 0) + 1
    # The daemon's anonymous memory: its file pages' PSS moves with whoever
    # else maps the same libraries at that moment, not with the containers.
    growth = after["pss_anon"] - before["pss_anon"]
    return {"daemon_before": before, "daemon_after": after, "daemon_anon_growth_kb": growth,
            "daemon_rss_growth_kb": after["vmrss"] - before["vmrss"], "helpers": kinds,
            "helpers_alive": alive, "helpers_pss_kb": helper_pss,
            "per_container_kb": (growth + helper_pss) / count}


def bench_detached(args, ctx, results):
    out = {}
    n = args.detached
    b = ctx.get("berthctl")
    if b:
        b.remove_all()
        time.sleep(1)
        before = memory_of(b.d.proc.pid)
        t0 = time.perf_counter_ns()
        for i in range(n):
            run(b.ctl("run", "-d", "--name", f"idle-{i}", IMAGE, "sleep", "1000"))
        wall = (time.perf_counter_ns() - t0) / 1e6
        time.sleep(2)  # shims and loggers settle, the daemon's allocator too
        helpers = b.helpers()
        out["berthctl"] = {"wall_ms": wall, **idle_memory(b.d.proc.pid, before, helpers, n)}
        b.remove_all()
    c = ctx.get("ctr")
    if c:
        time.sleep(1)
        before = memory_of(c.c.proc.pid)
        t0 = time.perf_counter_ns()
        for i in range(n):
            run(c.run_d(f"idle-{i}"))
        wall = (time.perf_counter_ns() - t0) / 1e6
        time.sleep(2)
        out["ctr"] = {"wall_ms": wall, **idle_memory(c.c.proc.pid, before, c.helpers(), n)}
        c.remove_all()
    results["detached"] = out


def bench_ps(args, ctx, results):
    out = {}
    total, running = args.ps_containers, args.ps_running
    b = ctx.get("berthctl")
    if b:
        b.remove_all()
        t0 = time.perf_counter_ns()
        for i in range(running):
            run(b.ctl("run", "-d", "--name", f"up-{i}", IMAGE, "sleep", "1000"))
        for i in range(total - running):
            run(b.ctl("create", "--name", f"made-{i}", IMAGE, "true"))
        out["setup_ms"] = (time.perf_counter_ns() - t0) / 1e6
        listed = len(b.d.ctl("ps", "-aq").stdout.split())
        if listed != total:
            raise RuntimeError(f"berthctl ps -a lists {listed} containers, expected {total}")
        for label, argv in ((f"berthctl ps ({running} running)", b.ctl("ps")),
                            (f"berthctl ps -a ({total})", b.ctl("ps", "-a")),
                            (f"berthctl ps -aq ({total})", b.ctl("ps", "-aq"))):
            timed(argv)  # one warm-up
            out[label] = summary([timed(argv) for _ in range(args.ps_runs)])
        b.remove_all()
    c = ctx.get("ctr")
    if c:
        for i in range(total):
            c.c.ctr("containers", "create", IMAGE, f"made-{i}", "true")
        argv = c.ctr("containers", "ls")
        timed(argv)
        out[f"ctr containers ls ({total})"] = summary([timed(argv) for _ in range(args.ps_runs)])
        c.remove_all()
    results["ps"] = out


# ------------------------------------------------------------------ report
def fmt_ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def met(ok):
    return "met" if ok else "NOT met"


def print_report(results, meta):
    lines = []
    rm = results.get("rm")
    if rm:
        lines.append(f"\n`run --rm {IMAGE} true`, {meta['runs']} interleaved rounds")
        lines.append(f"{'tool':<10} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'max ms':>8} {'/ctr':>6}")
        ctr = rm.get("ctr", {}).get("median", 0)
        for name, s in rm.items():
            lines.append(f"{name:<10} {s['median']:>10.1f} {s['p90']:>8.1f} {s['min']:>8.1f} {s['max']:>8.1f} "
                         f"{fmt_ratio(s['median'], ctr):>6}")
        if "berthctl" in rm and ctr:
            v = rm["berthctl"]["median"] / ctr
            lines.append(f"berthctl run --rm / ctr run --rm x{v:.2f} (target <= {TARGETS['rm_vs_ctr']}: "
                         f"{met(v <= TARGETS['rm_vs_ctr'])})")
    det = results.get("detached")
    if det:
        n = meta["detached"]
        lines.append(f"\n{n} x `run -d {IMAGE} sleep 1000` in a row, then idle memory (kB; per container: "
                     f"(daemon Pss_Anon growth + helpers' PSS) / {n})")
        lines.append(f"{'daemon':<10} {'wall ms':>8} {'ms each':>8} {'daemon +anon':>12} {'daemon +RSS':>11} "
                     f"{'helpers PSS':>11} {'per container':>13}  helpers")
        for name, r in det.items():
            helpers = ", ".join(f"{v} {k}" for k, v in sorted(r["helpers"].items()))
            lines.append(f"{name:<10} {r['wall_ms']:>8.0f} {r['wall_ms'] / n:>8.1f} {r['daemon_anon_growth_kb']:>12} "
                         f"{r['daemon_rss_growth_kb']:>11} {r['helpers_pss_kb']:>11} "
                         f"{r['per_container_kb']:>13.0f}  {helpers}")
        if "berthctl" in det and "ctr" in det:
            v = det["berthctl"]["per_container_kb"] / det["ctr"]["per_container_kb"]
            w = det["berthctl"]["wall_ms"] / det["ctr"]["wall_ms"]
            lines.append(f"berthd/containerd: memory per idle container x{v:.2f} (target <= "
                         f"{TARGETS['idle_memory_vs_containerd']}: {met(v <= TARGETS['idle_memory_vs_containerd'])}), "
                         f"wall time of the {n} runs x{w:.2f}")
    ps = results.get("ps")
    if ps:
        lines.append(f"\n{'command':<32} {'runs':>4} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'max ms':>8}")
        for label, s in ps.items():
            if label == "setup_ms":
                continue
            mark = ""
            if label.startswith("berthctl ps"):
                mark = f"  {met(s['median'] <= TARGETS['ps_ms'])} (<= {TARGETS['ps_ms']:.0f} ms)"
            lines.append(f"{label:<32} {s['n']:>4} {s['median']:>10.2f} {s['p90']:>8.2f} {s['min']:>8.2f} "
                         f"{s['max']:>8.2f}{mark}")
        if "setup_ms" in ps:
            lines.append(f"(berthctl: the {meta['ps_containers']} containers took {ps['setup_ms'] / 1000:.1f} s "
                         f"to create and start)")
    lines.append("")
    for name, why in meta["skipped"].items():
        lines.append(f"skipped {name}: {why}")
    if meta.get("podman_driver"):
        lines.append(f"podman storage driver: {meta['podman_driver']}")
    lines.append(f"load average {meta['loadavg_start'][0]:.2f} -> {meta['loadavg_end'][0]:.2f} (1 min) "
                 f"on {os.cpu_count()} CPUs; berthd {meta['berthd_build']}, runtime {meta['runtime']}")
    text = "\n".join(lines)
    print(text)
    return text


# -------------------------------------------------------------------- main
def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--tools", default=",".join(ALL_TOOLS))
    p.add_argument("--sections", default=",".join(ALL_SECTIONS))
    p.add_argument("--detached", type=int, default=50, help="containers started with run -d")
    p.add_argument("--ps-containers", type=int, default=200)
    p.add_argument("--ps-running", type=int, default=10, help="of --ps-containers, how many run")
    p.add_argument("--ps-runs", type=int, default=20)
    p.add_argument("--berthd-log-level", default="info")
    p.add_argument("--runtime", help="berthd's default-runtime (default: the berth beside berthd's build); "
                   "create copies it into a memfd, so an unstripped build costs ~20 ms more per run")
    p.add_argument("--output", help="JSON result (default bench/results/containers-<date>.json, plus .md)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = p.parse_args()
    a.tools = comma_list(p, "--tools", a.tools, ALL_TOOLS)
    a.sections = comma_list(p, "--sections", a.sections, ALL_SECTIONS)
    if "berthctl" not in a.tools:
        p.error("--tools: berthctl is what is measured")
    return a


def check_environment():
    if os.geteuid() != 0:
        die("must run as root (sudo bench/run.sh --containers)")
    if os.environ.get("BERTH_BENCH_IN_NS") != "1":
        die("run it through bench/run.sh --containers (a private mount namespace)")
    from lib.berthd import berthd_bin
    for b in (berthd_bin(), berthctl_bin(), "/usr/bin/ctr", "/usr/bin/podman"):
        if not os.access(b, os.X_OK):
            die(f"missing {b} (contrib/build.sh, apt-get install containerd podman)")


def main():
    args = parse_args()
    check_environment()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    tmp = tempfile.mkdtemp(prefix="bct-", dir="/var/tmp")
    cgroup_base = f"{own_memory_cgroup()}/berth-cbench-{os.getpid()}"
    meta = {"date": stamp, "loadavg_start": os.getloadavg(), "host": platform.node(),
            "kernel": platform.release(), "cpus": os.cpu_count(), "berthd_build": build_type(),
            "versions": {"podman": tool_version(["/usr/bin/podman", "--version"]),
                         "containerd": tool_version(["/usr/bin/containerd", "--version"]),
                         "runc": tool_version(["/usr/sbin/runc", "--version"])},
            "runs": args.runs, "warmup": args.warmup, "detached": args.detached,
            "ps_containers": args.ps_containers, "tools": args.tools, "sections": args.sections,
            "cgroup_base": cgroup_base, "skipped": {},
            "runtime": args.runtime or "(berthd's default)"}
    if "docker" in args.tools:
        meta["skipped"]["docker"] = docker_unavailable()
        log(f"docker skipped: {meta['skipped']['docker']}")
    results, ctx, started = {}, {}, []
    new_berth_cgroups = [d for d in berthd_cgroup_parents() if not os.path.isdir(d)]
    try:
        archive = os.path.join(tmp, "busybox.tar")
        run([sys.executable, BUSYBOX_IMAGE, archive, IMAGE])
        peers = [BerthdPeer(os.path.join(tmp, "berthd"), args.berthd_log_level, args.runtime)]
        if "ctr" in args.tools:
            peers.append(CtrPeer(os.path.join(tmp, "containerd"), cgroup_base))
        if "podman" in args.tools:
            peers.append(PodmanPeer(os.path.join(tmp, "podman"), cgroup_base))
        for p in peers:
            started.append(p)
            p.start(archive)
            ctx[p.name] = p
        if "podman" in ctx:
            meta["podman_driver"] = ctx["podman"].driver
        if "rm" in args.sections:
            log("run --rm ...")
            bench_rm(args, peers, results)
        if "detached" in args.sections:
            log(f"{args.detached} x run -d ...")
            bench_detached(args, ctx, results)
        if "ps" in args.sections:
            log(f"ps with {args.ps_containers} containers ...")
            bench_ps(args, ctx, results)
    finally:
        for p in reversed(started):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup {p.name}: {e}")
        remove_cgroups(cgroup_base)
        for d in new_berth_cgroups:
            try:
                os.rmdir(d)
            except OSError as e:
                if os.path.isdir(d):
                    log(f"note: {d} left behind: {e.strerror}")
        remove_temp_dir(tmp, args.keep)

    meta["loadavg_end"] = os.getloadavg()
    text = print_report(results, meta)
    write_results(args.output or os.path.join(BENCH_DIR, "results", f"containers-{stamp}.json"),
                  f"berthd container benchmarks, {stamp}", meta, results, text)

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
