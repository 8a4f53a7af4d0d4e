#!/usr/bin/python3
"""Smallest memory limit under which `<runtime> run` of a busybox `true` bundle works.

For each runtime (berth, crun, runc), binary-searches linux.resources.memory.limit
(with swap = limit, so no swap to escape to) between --max (64 MiB) and --min
(64 KiB) at --granularity (16 KiB) for the smallest limit under which `run`
exits 0. Every probed limit must succeed --repeat times in a row to count as
working. The found minimum is then re-run --confirm times to show how stable
it is, and the largest failing limit's error is kept to show what breaks first.
The searches of the runtimes advance in lockstep (one probe each per step, the
order rotating) so machine load hits them alike. runc's own regression test
uses 6 MB (tests/integration/update.bats, "runc run with low memory limit").

Started by `bench/run.sh --min-memory` (private mount namespace, /sys/fs/cgroup/
unified covered so that crun accepts the host). Bundle, cgroup nesting and
cleanup, spawning and the state tmpfs are bench/startup.py's, imported.

What counts against the limit is whatever is charged to the container's memory
cgroup from the moment the runtime moves its init there: the runtime's own
process(es) inside the cgroup (their anonymous memory and the kernel memory of
page tables, namespaces and mounts), not page cache already charged elsewhere
(the binaries are cached by earlier runs). It is a property of the runtime's
design (how much of it runs inside the container's cgroup, and when it sets
the limit) as much as of its size.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import startup  # noqa: E402
from startup import (DEFAULT_RUNTIMES, REPO, BENCH_DIR, die,  # noqa: E402
                     describe_status)

KiB = 1024


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--berth", default=os.environ.get("BERTH"),
                   help="berth binary (default $BERTH, else build/runtime/cli/berth)")
    p.add_argument("--crun", default=shutil.which("crun") or "/usr/bin/crun")
    p.add_argument("--runc", default=shutil.which("runc") or "/usr/sbin/runc")
    p.add_argument("--runtimes", default=",".join(DEFAULT_RUNTIMES),
                   help="comma-separated subset of berth,crun,runc")
    p.add_argument("--max", type=int, default=64 * 1024, metavar="KIB",
                   help="largest limit tried, KiB (default 65536 = 64 MiB)")
    p.add_argument("--min", type=int, default=64, metavar="KIB",
                   help="smallest limit tried, KiB (default 64)")
    p.add_argument("--granularity", type=int, default=16, metavar="KIB",
                   help="search resolution, KiB, a multiple of the page size (default 16)")
    p.add_argument("--repeat", type=int, default=3,
                   help="successes in a row for a limit to count as working (default 3)")
    p.add_argument("--confirm", type=int, default=10,
                   help="re-runs at the found minimum (default 10)")
    p.add_argument("--output", help="JSON path (default bench/results/min-memory-<date>.json)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per run (default 60)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (bundle, logs)")
    a = p.parse_args()
    page = os.sysconf("SC_PAGE_SIZE") // KiB
    if a.granularity < page or a.granularity % page:
        p.error(f"--granularity must be a multiple of the page size ({page} KiB)")
    if not (0 < a.min < a.max) or a.repeat < 1 or a.confirm < 0:
        p.error("want 0 < --min < --max, --repeat >= 1, --confirm >= 0")
    if not a.berth:
        a.berth = os.path.join(REPO, "build", "runtime", "cli", "berth")
    a.runtimes = [r for r in a.runtimes.split(",") if r]
    for r in a.runtimes:
        if r not in DEFAULT_RUNTIMES:
            p.error(f"unknown runtime {r}")
    a.variants = {}
    a.state_on_disk = False
    return a


def fmt_kib(kib):
    return f"{kib / 1024:.2f} MiB ({kib} KiB)" if kib >= 1024 else f"{kib} KiB"


class Prober:
    """One `run` of the `true` bundle under a memory limit, each with a fresh
    id and cgroup, which are removed right after (a failed run may leave them)."""

    def __init__(self, args, binaries, runner, janitor, rts):
        self.args, self.binaries, self.runner, self.janitor, self.rts = \
            args, binaries, runner, janitor, rts
        self.n = 0
        self.runs = {r: 0 for r in rts}
        self.left_behind = {r: [] for r in rts}  # cgroups/containers a failed run left

    def once(self, r, limit_kib):
        """(ok, why): why is the exit status and the end of the output on failure."""
        self.n += 1
        self.runs[r] += 1
        rt = self.rts[r]
        name = f"{r}-m{self.n}"
        config = startup.bench_config(rt["rootfs"], f"{self.janitor.base}/{name}")
        limit = limit_kib * KiB
        config["linux"]["resources"]["memory"] = {"limit": limit, "swap": limit}
        startup.write_config(rt["bundle"], config)
        log = os.path.join(rt["logs"], f"{name}.log")
        try:
            _, status, _ = self.runner.run(
                [self.binaries[r], "--root", rt["state"], "run", "--bundle", rt["bundle"], name],
                log)
            why = None if status == 0 else describe_status(status)
        except RuntimeError as e:  # timed out (and killed)
            why = str(e).splitlines()[0]
        oom_kills = self._oom_kills(name)
        if why:
            with open(log, errors="replace") as f:
                tail = f.read().strip().splitlines()
            why += ": " + (" | ".join(tail[-3:]) if tail else "(no output)")
            if oom_kills:
                why += f" [memory.oom_control oom_kill {oom_kills}]"
        self._clean(r, name)
        os.unlink(log)
        return why is None, why

    def _oom_kills(self, name):
        path = f"/sys/fs/cgroup/memory{self.janitor.base}/{name}/memory.oom_control"
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _clean(self, r, name):
        left = startup.delete_leftovers(r, self.binaries[r], self.rts[r]["state"])
        dirs = self.janitor.leftovers(name)
        if left or dirs:
            self.left_behind[r].append({"id": name, "containers": left,
                                        "cgroups": [os.path.basename(h) for h in dirs]})
        for h in dirs:
            self.janitor._rmdir(h + self.janitor.base + "/" + name)

    def works(self, r, limit_kib):
        """All of --repeat runs succeed; returns (ok, why of the first failure)."""
        for _ in range(self.args.repeat):
            ok, why = self.once(r, limit_kib)
            if not ok:
                return False, why
        return True, None


def search(args, prober, names):
    """Lockstep binary searches; returns per runtime a result dict."""
    g = args.granularity
    lo_start = args.min // g * g or g
    hi_start = -(-args.max // g) * g
    res = {}
    state = {}
    for r in names:
        ok_hi, why_hi = prober.works(r, hi_start)
        if not ok_hi:
            res[r] = {"min_working_kib": None, "note": f"fails even at {fmt_kib(hi_start)}",
                      "failure_at_max": why_hi}
            continue
        ok_lo, why_lo = prober.works(r, lo_start)
        if ok_lo:
            res[r] = {"min_working_kib": lo_start,
                      "note": f"works at the smallest limit tried, {fmt_kib(lo_start)}"}
            continue
        state[r] = {"lo": lo_start, "hi": hi_start, "why_lo": why_lo, "probes": []}
    step = 0
    while any(s["hi"] - s["lo"] > g for s in state.values()):
        active = [r for r in names if r in state and state[r]["hi"] - state[r]["lo"] > g]
        k = step % len(active)
        for r in active[k:] + active[:k]:
            s = state[r]
            mid = (s["lo"] + s["hi"]) // 2 // g * g
            ok, why = prober.works(r, mid)
            s["probes"].append({"limit_kib": mid, "ok": ok, **({} if ok else {"why": why})})
            if ok:
                s["hi"] = mid
            else:
                s["lo"], s["why_lo"] = mid, why
        step += 1
        print(f"  step {step}: " + ", ".join(
            f"{r} {state[r]['lo']}..{state[r]['hi']} KiB" for r in names if r in state),
            file=sys.stderr)
    for r, s in state.items():
        res[r] = {"min_working_kib": s["hi"], "max_failing_kib": s["lo"],
                  "failure_below_min": s["why_lo"], "probes": s["probes"]}
    return res


def confirm(args, prober, results):
    """Re-run at each found minimum and one step below it: success counts."""
    for r, res in results.items():
        if res.get("min_working_kib") is None or args.confirm == 0:
            continue
        at = res["min_working_kib"]
        ok = sum(prober.once(r, at)[0] for _ in range(args.confirm))
        res["confirm_at_min"] = {"limit_kib": at, "ok": ok, "runs": args.confirm}
        below = at - args.granularity
        if below > 0 and "max_failing_kib" in res:
            ok_below = sum(prober.once(r, below)[0] for _ in range(args.confirm))
            res["confirm_one_step_below"] = {"limit_kib": below, "ok": ok_below,
                                             "runs": args.confirm}


def print_table(results, names):
    print()
    hdr = f"{'runtime':<8} {'smallest working limit':>26} {'largest failing':>18} " \
          f"{'at min':>8} {'1 step below':>13}"
    print(hdr)
    print("-" * len(hdr))
    for r in names:
        res = results.get(r)
        if res is None:
            continue
        mw = res.get("min_working_kib")
        mf = res.get("max_failing_kib")
        c = res.get("confirm_at_min")
        cb = res.get("confirm_one_step_below")
        print(f"{r:<8} {fmt_kib(mw) if mw else '-':>26} {(str(mf) + ' KiB') if mf else '-':>18} "
              f"{(str(c['ok']) + '/' + str(c['runs'])) if c else '-':>8} "
              f"{(str(cb['ok']) + '/' + str(cb['runs'])) if cb else '-':>13}")
    print()
    for r in names:
        res = results.get(r)
        if not res:
            continue
        if res.get("note"):
            print(f"{r}: {res['note']}")
        why = res.get("failure_below_min") or res.get("failure_at_max")
        if why:
            print(f"{r}: at {res.get('max_failing_kib', '?')} KiB: {why[:400]}")
    print()


def main():
    args = parse_args()
    env = startup.check_environment(args)
    binaries = {"berth": args.berth, "crun": args.crun, "runc": args.runc}
    for r in args.runtimes:
        if not os.access(binaries[r], os.X_OK):
            die(f"{r}: no executable at {binaries[r]}")
    if not os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") and \
            not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        die("no memory cgroup controller found")

    base = f"{startup.own_memory_cgroup().rstrip('/')}/berth-bench-{os.getpid()}"
    janitor = startup.CgroupJanitor(base)
    runner = startup.Runner(args.timeout)
    meta = {
        "benchmark": "min-memory",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "loadavg_start": os.getloadavg()},
        "environment": env,
        "cgroup_parent": base,
        "search": {"max_kib": args.max, "min_kib": args.min, "granularity_kib": args.granularity,
                   "repeat": args.repeat, "confirm": args.confirm},
        "command": "<rt> --root <state> run <id> of busybox true; "
                   "linux.resources.memory {limit: L, swap: L}",
        "runtimes": {r: {"binary": binaries[r],
                         "version": startup.tool_version([binaries[r], "--version"])}
                     for r in args.runtimes},
    }
    if "berth" in meta["runtimes"]:
        meta["runtimes"]["berth"]["build_type"] = startup.build_type_of(binaries["berth"])

    failed, results = {}, {}
    prober = None
    state_fs = "disk"
    interrupted, fatal = False, None
    workdir = tempfile.mkdtemp(prefix="berth-bench-mem-")
    try:
        rts, state_fs = startup.setup(args, workdir, base, env)
        for r in list(rts):
            why = startup.preflight(r, binaries[r], runner, rts[r])
            if why:
                failed[r] = why
                del rts[r]
                print(f"*** {r} cannot run the bundle here; leaving it out.\n    {why}",
                      file=sys.stderr)
        if not rts:
            raise RuntimeError("no runtime passed the preflight run")
        prober = Prober(args, binaries, runner, janitor, rts)
        results = search(args, prober, list(rts))
        confirm(args, prober, results)
    except KeyboardInterrupt:
        interrupted = True
    except RuntimeError as e:
        fatal = str(e)
    finally:
        cleanup_report, cleanup_ok = startup.cleanup(args, binaries, runner, janitor, base,
                                                     workdir, state_fs)
    if interrupted:
        print("interrupted; cleaned up", file=sys.stderr)
        return 130
    if fatal:
        die(fatal)

    for r, res in results.items():
        res["runs"] = prober.runs[r]
        res["left_behind_by_failed_runs"] = prober.left_behind[r]
    meta["host"]["loadavg_end"] = os.getloadavg()
    meta["state_fs"] = state_fs
    report = {**meta, "results": results, "excluded": failed, "cleanup": cleanup_report}

    names = [r for r in args.runtimes if r in results]
    print_table(results, names)
    for r in names:
        m = meta["runtimes"][r]
        extra = f", {m['build_type']} build" if m.get("build_type") else ""
        print(f"{r}: {m['binary']} ({m['version']}{extra}); {results[r]['runs']} runs")
        if prober.left_behind[r]:
            print(f"NOTE: {r}: {len(prober.left_behind[r])} failed run(s) left a container "
                  f"or cgroup behind (removed), e.g. {prober.left_behind[r][0]}")
    print(f"load average {meta['host']['loadavg_start'][0]:.2f} -> "
          f"{meta['host']['loadavg_end'][0]:.2f} (1 min)")
    for r, why in failed.items():
        print(f"NOTE: {r} excluded: {why.splitlines()[0]}")

    out = args.output or os.path.join(
        BENCH_DIR, "results", f"min-memory-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({r: {k: v for k, v in res.items() if k not in ("probes",)}
                      for r, res in results.items()}, indent=1))
    print(f"\nfull JSON: {out}")
    return 0 if cleanup_ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
