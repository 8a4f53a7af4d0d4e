#!/usr/bin/python3
"""Exec benchmark: `<runtime> --root <state> exec <id> true` into a running container.

Starts one busybox `sleep` container per runtime (berth, crun, runc: same bundle
as bench/startup.py, process `sleep 1000000`), then times `exec <id> true`
interleaved round-robin across the runtimes (the order rotates every round) for
N rounds, and reports per runtime the median, p90 and min wall time and the
median peak RSS, plus berth/crun and berth/runc ratios, as a table and as JSON.

Meant to be started by `bench/run.sh --exec`, which puts it in a private mount
namespace with /sys/fs/cgroup/unified covered by a tmpfs (crun 1.8.1 refuses the
host's hybrid layout). Everything else -- bundle, rootfs, state tmpfs, cgroup
nesting and cleanup, the spawn-and-wait4 timing and peak RSS, the statistics --
is bench/startup.py's (imported, not copied); see bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import startup  # noqa: E402  (environment, bundle, cgroups, runner, statistics)
from startup import (BUSYBOX, DEFAULT_RUNTIMES, REPO, BENCH_DIR, die, warn,  # noqa: E402
                     describe_status, ratio, summarize)

SLEEP_ARGS = ("sleep", "1000000")


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
    p.add_argument("--output", help="JSON path (default bench/results/exec-<date>.json)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per command (default 60)")
    p.add_argument("--state-on-disk", action="store_true",
                   help="keep the --root dirs on the temp dir's filesystem, not a tmpfs")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=PATH",
                   help="also exec with another berth binary (same CLI) in the rounds, e.g. "
                        "berth-new=/tmp/new/berth; reported with its ratio to berth; repeatable")
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
    a.variants = {}  # startup.setup() and cleanup() look for it
    for v in a.variant:
        name, sep, path = v.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_.]*(-[a-z0-9_.]+)+", name) \
                or name in DEFAULT_RUNTIMES or name in a.variants:
            p.error(f"--variant {v!r}: want NAME=PATH, NAME like berth-xyz, unique")
        a.variants[name] = os.path.abspath(path)
    a.runtimes += list(a.variants)
    return a


def start_sleeper(name, binary, rt, timeout):
    """`run --detach` of the sleep bundle; returns (container id, None) or
    (None, why it failed). The container's stdio go to a log file."""
    cid = f"{name}-sleeper"
    config = startup.bench_config(rt["rootfs"], rt["cgroup"](0, "sleeper"), args_=SLEEP_ARGS)
    startup.write_config(rt["bundle"], config)
    log = os.path.join(rt["logs"], "sleeper.log")
    with open(log, "w") as out:
        try:
            res = subprocess.run([binary, "--root", rt["state"], "run", "--detach", "--bundle",
                                  rt["bundle"], cid], stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=out, timeout=timeout)
            rc = res.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    if rc == 0:
        st = subprocess.run([binary, "--root", rt["state"], "state", cid], capture_output=True,
                            text=True, timeout=timeout)
        try:
            if st.returncode == 0 and json.loads(st.stdout).get("status") == "running":
                return cid, None
        except ValueError:
            pass
        rc = f"state: {st.stdout.strip() or st.stderr.strip()}"
    with open(log, errors="replace") as f:
        return None, f"run --detach: {rc}: {f.read().strip()[-2000:] or '(no output)'}"


def stop_sleeper(name, binary, rt, cid):
    """delete --force; True when the runtime no longer lists it."""
    res = subprocess.run([binary, "--root", rt["state"], "delete", "--force", cid],
                         capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        warn(f"{name}: delete --force {cid}: {res.stderr.strip()}")
        return False
    return True


def measure(args, binaries, runner, rts, workdir, samples, failed, sleepers):
    for r in list(rts):
        cid, why = start_sleeper(r, binaries[r], rts[r], args.timeout)
        if cid:
            # one unmeasured exec: the runtime must be able to do it at all
            log = os.path.join(rts[r]["logs"], "preflight-exec.log")
            sleepers[r] = cid
            _, status, _ = runner.run([binaries[r], "--root", rts[r]["state"], "exec", cid,
                                       "true"], log)
            if status != 0:
                with open(log, errors="replace") as f:
                    why = f"exec: {describe_status(status)}: {f.read().strip()[-2000:]}"
        if why:
            failed[r] = why
            del rts[r]
            print(f"*** {r} cannot exec here; leaving it out.\n    {r} said: {why}",
                  file=sys.stderr)
    if "berth" not in rts:
        die("berth itself failed to start the sleeper or to exec; nothing to compare")

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
        n = rnd - args.warmup
        for r in order:
            rt = rts[r]
            log = os.path.join(rt["logs"], f"exec-{rnd}.log")
            ns, status, rss = runner.run(
                [binaries[r], "--root", rt["state"], "exec", sleepers[r], "true"], log)
            if status != 0:
                with open(log, errors="replace") as f:
                    text = f.read().strip()
                raise RuntimeError(f"{r} exec (round {rnd}) failed ({describe_status(status)}):"
                                   f"\n{text[-3000:]}")
            if measured:
                samples[r].append({"ns": ns, "maxrss_kib": rss, "round": n,
                                   "position": order.index(r)})
            os.unlink(log)
        if measured and (n + 1) % 10 == 0:
            print(f"  {n + 1}/{args.runs} rounds", file=sys.stderr)
    return summarize(floor)


def main():
    args = parse_args()
    env = startup.check_environment(args)
    binaries = {"berth": args.berth, "crun": args.crun, "runc": args.runc, **args.variants}
    for r in args.runtimes:
        if not os.access(binaries[r], os.X_OK):
            die(f"{r}: no executable at {binaries[r]}")

    base = f"{startup.own_memory_cgroup().rstrip('/')}/berth-bench-{os.getpid()}"
    janitor = startup.CgroupJanitor(base)
    runner = startup.Runner(args.timeout)
    meta = {
        "benchmark": "exec",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "loadavg_start": os.getloadavg()},
        "environment": env,
        "cgroup_parent": base,
        "runs": args.runs, "warmup_rounds": args.warmup,
        "command": "<rt> --root <state> exec <id> true (container: busybox sleep)",
        "runtimes": {r: {"binary": binaries[r],
                         "version": startup.tool_version([binaries[r], "--version"])}
                     for r in args.runtimes},
        "method": "wall time perf_counter_ns from go signal to wait4; ru_maxrss of wait4 "
                  "(max over the runtime process and descendants it reaped)",
    }
    if "berth" in meta["runtimes"]:
        bt = startup.build_type_of(binaries["berth"])
        meta["runtimes"]["berth"]["build_type"] = bt
        if bt == "Debug":
            warn(f"{binaries['berth']} is a Debug build: for numbers worth comparing, "
                 "use a Release/RelWithDebInfo build (--berth or BERTH=)")

    failed, sleepers = {}, {}
    samples = {r: [] for r in args.runtimes}
    harness, rts, all_rts = None, {}, {}
    state_fs = "disk"
    interrupted, fatal = False, None
    stop_ok = True
    workdir = tempfile.mkdtemp(prefix="berth-bench-exec-")
    try:
        rts, state_fs = startup.setup(args, workdir, base, env)
        all_rts = dict(rts)
        harness = measure(args, binaries, runner, rts, workdir, samples, failed, sleepers)
    except KeyboardInterrupt:
        interrupted = True
    except RuntimeError as e:
        fatal = str(e)
    finally:
        # our sleepers first, so that startup.cleanup() reports only real leftovers
        for r, cid in sleepers.items():
            stop_ok = stop_sleeper(r, binaries[r], all_rts[r], cid) and stop_ok
        cleanup_report, cleanup_ok = startup.cleanup(args, binaries, runner, janitor, base,
                                                     workdir, state_fs)
    if interrupted:
        print("interrupted; cleaned up", file=sys.stderr)
        return 130
    if fatal:
        die(fatal)

    results = {r: summarize(samples[r]) for r in rts}
    ratios = {}
    for other in ("crun", "runc"):
        if "berth" in results and other in results:
            ratios[f"berth/{other}"] = {
                "median_latency": ratio(results["berth"]["latency_ms"]["median"],
                                        results[other]["latency_ms"]["median"]),
                "p90_latency": ratio(results["berth"]["latency_ms"]["p90"],
                                     results[other]["latency_ms"]["p90"]),
                "median_peak_rss": ratio(results["berth"]["peak_rss_kib"]["median"],
                                         results[other]["peak_rss_kib"]["median"]),
            }
    for v in args.variants:
        if "berth" in results and v in results:
            ratios[f"{v}/berth"] = {
                "median_latency": ratio(results[v]["latency_ms"]["median"],
                                        results["berth"]["latency_ms"]["median"]),
                "p90_latency": ratio(results[v]["latency_ms"]["p90"],
                                     results["berth"]["latency_ms"]["p90"]),
                "median_peak_rss": ratio(results[v]["peak_rss_kib"]["median"],
                                         results["berth"]["peak_rss_kib"]["median"]),
            }
    meta["host"]["loadavg_end"] = os.getloadavg()
    meta["state_fs"] = state_fs
    report = {**meta, "results": results, "ratios": ratios, "harness_floor": harness,
              "excluded": failed, "cleanup": cleanup_report,
              "samples": {r: samples[r] for r in rts}}

    startup.print_table(results, {}, harness)
    for k, v in ratios.items():
        print(f"{k:<14} median x{v['median_latency']:.2f}   p90 x{v['p90_latency']:.2f}   "
              f"peak RSS x{v['median_peak_rss']:.2f}")
    print()
    for r in rts:
        m = meta["runtimes"][r]
        extra = f", {m['build_type']} build" if m.get("build_type") else ""
        print(f"{r}: {m['binary']} ({m['version']}{extra})")
    print(f"state dirs on {state_fs}; load average {meta['host']['loadavg_start'][0]:.2f} "
          f"-> {meta['host']['loadavg_end'][0]:.2f} (1 min)")
    for r, why in failed.items():
        print(f"NOTE: {r} excluded: {why.splitlines()[0]}")
    for r, left in cleanup_report["container_cgroups_left_after_run"].items():
        print(f"NOTE: {r} left {len(left)} cgroup dir(s) after delete --force (removed now), "
              f"e.g. {', '.join(left[:4])}")
    if runner.strays:
        print(f"NOTE: reaped {runner.strays} orphaned process(es) (the sleepers' inits "
              "are re-parented to this subreaper)")

    out = args.output or os.path.join(
        BENCH_DIR, "results", f"exec-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    summary = {k: report[k] for k in ("date", "runs", "state_fs", "results", "ratios",
                                      "harness_floor", "excluded")}
    print(json.dumps(summary, indent=1))
    print(f"\nfull JSON (with every sample): {out}")
    return 0 if cleanup_ok and stop_ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
