#!/usr/bin/python3
"""Shim footprint benchmark: berth-shim vs containerd-shim-runc-v2.

Under a private containerd 1.6 (spec-tests/lib/shim_e2e.ShimContainerd: own
root, state, sockets, a private mount namespace; stopped by PID), with the
same OCI runtime behind both shims (runc by default):

  * idle footprint: N idle containers (`sleep`) per shim; for every shim
    process RSS and PSS (and their anon/file parts) from
    /proc/<pid>/smaps_rollup, and its thread count;
  * latency: `ctr run --rm <busybox> true` wall time, interleaved rounds
    (the order of the shims alternates), median / p90 / min.

Both shims run as containerd-shim-berth-v2 (`--runtime
io.containerd.berth.v2`) from a bin dir first in containerd's PATH, next to
`berth` and `runc` -> the runtime (berth-shim runs `berth`,
containerd-shim-runc-v2 `runc`), so the two containerd instances are
configured identically and both shims drive the same runtime. The N shims of one kind run together, and the two kinds one
after the other: PSS divides a shared page among the processes that map
it, so N copies of one binary share its file pages and nothing is shared
across the two kinds. Standard library only (Debian's /usr/bin/python3);
needs root.

    sudo /usr/bin/python3 bench/shim_rss.py [--containers 10] [--runs 20]
         [--berth-shim PATH] [--runc-shim PATH] [--runtime runc|berth|PATH]
         [--output FILE] [--keep]

Targets (issue "berth-shim ... smaller than conmon"): per shim PSS <= 0.5 MB,
RSS <= 2 MB, one thread.
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "spec-tests"))

from lib import oci_image  # noqa: E402
from lib.shim_e2e import (SHIM_RUNTIME, ShimContainerd, make_bin_dir, process_memory,  # noqa: E402
                          wait_gone)

BUSYBOX = "/bin/busybox"
IMAGE = "localhost/shimbench-busybox:latest"
RUNC_SHIM = "/usr/bin/containerd-shim-runc-v2"
TARGETS = {"pss_kb": 512, "rss_kb": 2048, "threads": 1}


def die(msg):
    print(f"shim_rss.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def own_memory_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return path.rstrip("/")
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line.rstrip("\n")[3:].rstrip("/")
    return ""


def cgroup_mounts():
    """Mount points of cgroup hierarchies, without those covered by a later
    mount (run.sh's tmpfs over /sys/fs/cgroup/unified: what runtimes leave
    there are plain files and dirs, gone with its namespace)."""
    top = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4].startswith("/sys/fs/cgroup"):
                top[fields[4]] = fields[fields.index("-") + 1]
    return sorted(mp for mp, fstype in top.items() if fstype in ("cgroup", "cgroup2"))


def remove_cgroups(base):
    """rmdir base and everything below it in every hierarchy, deepest first."""
    for h in cgroup_mounts():
        top = h + base
        if not os.path.isdir(top):
            continue
        dirs = []
        for dirpath, dirnames, _ in os.walk(top, topdown=False):
            dirs.extend(os.path.join(dirpath, d) for d in dirnames)
        for d in dirs + [top]:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def build_image(work):
    rootfs = os.path.join(work, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("dev", "proc", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
    tar = os.path.join(work, "busybox.tar")
    oci_image.build(rootfs, tar, IMAGE)
    return tar


def quiet_ctr(ctrd, *args, timeout=60):
    argv = ["/usr/bin/ctr", "--address", ctrd.address, "--namespace", "berth-test", *map(str, args)]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def p90(values):
    s = sorted(values)
    k = (len(s) - 1) * 0.9
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values):
    return {"median": statistics.median(values), "p90": p90(values), "min": min(values), "max": max(values),
            "mean": statistics.fmean(values), "n": len(values)}


def measure_idle(ctrd, name, count, cg_base):
    ids = [f"{name}-idle-{i}" for i in range(count)]
    for cid in ids:
        r = quiet_ctr(ctrd, "run", "-d", "--fifo-dir", ctrd.fifo_dir, "--runtime", SHIM_RUNTIME,
                      "--cgroup", f"{cg_base}/{cid}", IMAGE, cid, "sleep", "1000000")
        if r.returncode != 0:
            die(f"{name}: ctr run -d {cid}: {r.stderr.strip()}")
    time.sleep(2)  # let every shim settle (the Go runtime's GC, first events)
    shims = {}
    for cid in ids:
        pid = ctrd.shim_pid_of(cid)
        shims[pid] = {"container": cid, **process_memory(pid)}
    return ids, shims


def remove_all(ctrd, ids):
    for cid in ids:
        quiet_ctr(ctrd, "tasks", "kill", "-s", "SIGKILL", cid)
    time.sleep(0.5)
    for cid in ids:
        quiet_ctr(ctrd, "tasks", "delete", "-f", cid)
        quiet_ctr(ctrd, "containers", "delete", cid)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", type=int, default=10, help="idle containers per shim (default 10)")
    ap.add_argument("--runs", type=int, default=20, help="measured `ctr run --rm` per shim (default 20)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--berth-shim", default=os.path.join(REPO, "build", "shim", "berth-shim"))
    ap.add_argument("--runc-shim", default=RUNC_SHIM)
    ap.add_argument("--runtime", default="runc",
                    help="the OCI runtime behind both shims: runc, berth (build/runtime/cli/berth) or a path")
    ap.add_argument("--output", help="JSON file (default bench/results/shim-rss-<date>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    if os.geteuid() != 0:
        die("must run as root")
    runtime = {"runc": "/usr/sbin/runc", "berth": os.path.join(REPO, "build", "runtime", "cli", "berth")}.get(
        args.runtime, args.runtime)
    for tool in ("/usr/bin/containerd", "/usr/bin/ctr", BUSYBOX, runtime, args.berth_shim, args.runc_shim):
        if not os.access(tool, os.X_OK):
            die(f"{tool} not found")
    berth_shim = os.path.realpath(args.berth_shim)
    cache = os.path.join(os.path.dirname(os.path.dirname(berth_shim)), "CMakeCache.txt")
    build_type = ""
    if os.path.exists(cache):
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    build_type = line.strip().split("=", 1)[1]
    if build_type in ("Debug", ""):
        print(f"shim_rss.py: warning: {berth_shim} is a {build_type or 'unknown'} build; measure an optimized "
              "one (-DCMAKE_BUILD_TYPE=MinSizeRel, --berth-shim PATH)", file=sys.stderr)

    work = tempfile.mkdtemp(prefix=f"berth-shimbench-{os.getpid()}-", dir="/tmp")
    os.chmod(work, 0o755)
    cg_base = f"{own_memory_cgroup()}/berth-shimbench-{os.getpid()}"
    configs = [("berth-shim", berth_shim), ("runc-v2", os.path.realpath(args.runc_shim))]
    ctrds = {}
    result = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
              "kernel": platform.release(), "runtime": runtime, "shims": dict(configs),
              "berth_shim_build_type": build_type, "containers": args.containers, "runs": args.runs,
              "load_start": os.getloadavg()[0]}
    try:
        tar = build_image(work)
        for name, shim in configs:
            bin_dir = make_bin_dir(os.path.join(work, name, "bin"), shim, runtime)
            # containerd-shim-runc-v2 runs `runc` from PATH: the same runtime.
            os.symlink(runtime, os.path.join(bin_dir, "runc"))
            ctrd = ShimContainerd(os.path.join(work, name), bin_dir)
            with open(os.path.join(work, "ctr.log"), "a") as log, contextlib.redirect_stdout(log):
                ctrd.start()
            r = quiet_ctr(ctrd, "image", "import", tar)
            if r.returncode != 0:
                die(f"{name}: image import: {r.stderr.strip()}")
            ctrds[name] = ctrd

        # --- latency: `ctr run --rm IMAGE id true`, interleaved
        samples = {name: [] for name, _ in configs}
        total = args.warmup + args.runs
        for i in range(total):
            order = configs if i % 2 == 0 else list(reversed(configs))
            for name, _ in order:
                ctrd = ctrds[name]
                cid = f"{name}-run-{i}"
                t0 = time.perf_counter()
                r = quiet_ctr(ctrd, "run", "--rm", "--fifo-dir", ctrd.fifo_dir, "--runtime", SHIM_RUNTIME,
                              "--cgroup", f"{cg_base}/{cid}", IMAGE, cid, "true")
                ms = (time.perf_counter() - t0) * 1000
                if r.returncode != 0:
                    die(f"{name}: ctr run --rm {cid}: {r.stderr.strip()}")
                if i >= args.warmup:
                    samples[name].append(ms)
        result["latency_ms"] = {name: {**summary(v), "samples": v} for name, v in samples.items()}

        # --- idle footprint, one kind of shim at a time
        result["idle"] = {}
        for name, _ in configs:
            ids, shims = measure_idle(ctrds[name], name, args.containers, cg_base)
            per = list(shims.values())
            result["idle"][name] = {
                "shims": len(shims),
                "rss_kb": summary([s["rss"] for s in per]),
                "pss_kb": summary([s["pss"] for s in per]),
                "pss_anon_kb": summary([s.get("pss_anon", 0) for s in per]),
                "pss_file_kb": summary([s.get("pss_file", 0) for s in per]),
                "threads": summary([s["threads"] for s in per]),
                "total_pss_kb": sum(s["pss"] for s in per),
                "per_shim": {str(pid): s for pid, s in shims.items()},
            }
            remove_all(ctrds[name], ids)
            wait_gone(list(shims), 10)
    finally:
        with open(os.path.join(work, "ctr.log"), "a") as log, contextlib.redirect_stdout(log):
            for ctrd in ctrds.values():
                ctrd.stop()
        remove_cgroups(cg_base)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    result["load_end"] = os.getloadavg()[0]

    b, r = result["idle"]["berth-shim"], result["idle"]["runc-v2"]
    lb, lr = result["latency_ms"]["berth-shim"], result["latency_ms"]["runc-v2"]
    print(f"\n{args.containers} idle containers per shim, runtime {runtime}; "
          f"berth-shim {berth_shim} ({build_type or '?'} build)\n")
    print(f"{'shim':<12}{'RSS kB':>10}{'PSS kB':>10}{'PSS anon':>10}{'PSS file':>10}{'threads':>9}"
          f"{'sum PSS kB':>12}")
    print("-" * 73)
    for name, v in (("berth-shim", b), ("runc-v2", r)):
        print(f"{name:<12}{v['rss_kb']['median']:>10.0f}{v['pss_kb']['median']:>10.0f}"
              f"{v['pss_anon_kb']['median']:>10.0f}{v['pss_file_kb']['median']:>10.0f}"
              f"{v['threads']['median']:>9.0f}{v['total_pss_kb']:>12.0f}")
    print(f"\n`ctr run --rm {IMAGE} true`, {args.runs} runs each, interleaved\n")
    print(f"{'shim':<12}{'median ms':>11}{'p90 ms':>9}{'min ms':>9}")
    print("-" * 41)
    for name, v in (("berth-shim", lb), ("runc-v2", lr)):
        print(f"{name:<12}{v['median']:>11.1f}{v['p90']:>9.1f}{v['min']:>9.1f}")
    ratios = {
        "rss": b["rss_kb"]["median"] / r["rss_kb"]["median"],
        "pss": b["pss_kb"]["median"] / r["pss_kb"]["median"],
        "threads": b["threads"]["median"] / r["threads"]["median"],
        "latency": lb["median"] / lr["median"],
    }
    result["ratios_berth_over_runc_v2"] = ratios
    met = {
        "pss": b["pss_kb"]["median"] <= TARGETS["pss_kb"],
        "rss": b["rss_kb"]["median"] <= TARGETS["rss_kb"],
        "threads": b["threads"]["max"] <= TARGETS["threads"],
    }
    result["targets_met"] = met
    print(f"\nberth-shim/runc-v2   RSS x{ratios['rss']:.2f}   PSS x{ratios['pss']:.2f}   "
          f"threads x{ratios['threads']:.2f}   run --rm latency x{ratios['latency']:.2f}")
    print(f"targets (PSS <= {TARGETS['pss_kb']} kB, RSS <= {TARGETS['rss_kb']} kB, "
          f"{TARGETS['threads']} thread): " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()))
    print(f"load average: {result['load_start']:.2f} at start, {result['load_end']:.2f} at end")

    out = args.output or os.path.join(BENCH_DIR, "results",
                                      f"shim-rss-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
