#!/usr/bin/python3
"""Where does `berth run` spend its time? One traced run of the startup bundle.

Started by `bench/run.sh --profile [--out DIR] [--berth PATH]`, in the same private
mount namespace as the benchmark, with the same busybox bundle and config. Writes
into DIR (default bench/results/profile-<date>/, not committed):

  perf-stat-<rt>.txt     `perf stat -r N` of `run` for berth, crun, runc (untraced
                         means: the trace overhead of the rest is large)
  strace-c-<rt>.txt      `strace -f -c` (system time per syscall) for each runtime
  strace-cw-berth.txt    `strace -f -c -w` (wall time per syscall) for berth
  strace-tt-berth.txt    `strace -f -tt -T` timeline of one berth run
  perf-trace-s-berth.txt `perf trace -s` summary (lower overhead than strace)
  phases-berth.txt       the timeline folded into categories per process (below)

and prints the category summary. strace inflates every syscall by tens of
microseconds, so use its counts and the *relative* weight of categories, and the
untraced perf-stat times for absolute numbers.
"""

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import startup  # noqa: E402  (the bundle and cgroup helpers)

LINE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+) (.*)$")
DURATION = re.compile(r"<(\d+\.\d+)>\s*$")
CALL = re.compile(r"^([a-z_0-9]+)\(")
RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>")

# Syscalls that block waiting for the other process: time in them is not a cost
# of the caller.
WAITS = {"wait4", "waitid", "recvmsg", "recvfrom", "accept4", "accept", "read", "poll",
         "ppoll", "epoll_wait", "epoll_pwait", "futex", "nanosleep", "clock_nanosleep",
         "pselect6", "select"}
MOUNTS = {"mount", "umount2", "pivot_root", "openat2", "mkdirat", "mknodat", "symlinkat",
          "fchmodat", "fchownat", "fstatfs", "chdir", "sethostname", "mount_setattr",
          "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount"}
CREDS = {"prctl", "capset", "capget", "setresuid", "setresgid", "setgroups", "keyctl",
         "setuid", "setgid", "seccomp"}
LOADER = {"mmap", "mprotect", "munmap", "brk", "arch_prctl", "set_tid_address",
          "set_robust_list", "rseq", "pread64", "prlimit64", "getrandom"}
PROCESS = {"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit_group"}


def categorize(name, args, dur, state_root, pid, main_pid, seen_config):
    if name in PROCESS:
        return "clone/exec/exit"
    if "/sys/fs/cgroup" in args:
        return "cgroupfs"
    if state_root and state_root in args:
        return "state dir"
    if name in MOUNTS:
        return "rootfs+mounts"
    if name in CREDS:
        return "caps/creds"
    # A read blocks on a pipe/socket/signalfd, or just copies a file: call the
    # slow ones waits.
    if name in WAITS and (name != "read" or dur >= 0.0005):
        return "waiting"
    if pid == main_pid and not seen_config:
        return "startup (ld.so, libs)"
    if name in LOADER:
        return "memory/loader"
    if name in ("fsync", "fdatasync", "rename", "renameat2", "unlinkat"):
        return "state dir"
    return "other"


def fold(trace_path, state_root):
    """Per process: category -> [count, summed duration s, first t, last t]."""
    procs = {}
    pending = {}  # pid -> (name, args) of an <unfinished ...> call
    t0 = None
    main_pid = None
    seen_config = False
    last_t = 0.0
    for raw in open(trace_path, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        pid = int(m.group(1))
        t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        rest = m.group(5)
        if t0 is None:
            t0, main_pid = t, pid
        t -= t0
        last_t = max(last_t, t)
        if rest.startswith("+++") or rest.startswith("---"):
            continue
        r = RESUMED.match(rest)
        if r:
            name, args = pending.pop(pid, (r.group(1), ""))
        else:
            c = CALL.match(rest)
            if not c:
                continue
            name, args = c.group(1), rest
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (name, args)
                continue
        d = DURATION.search(rest)
        dur = float(d.group(1)) if d else 0.0
        if pid == main_pid and "config.json" in args:
            seen_config = True
        cat = categorize(name, args, dur, state_root, pid, main_pid, seen_config)
        p = procs.setdefault(pid, {"first": t, "last": t, "cats": {}, "syscalls": 0})
        p["last"] = t + dur
        p["syscalls"] += 1
        e = p["cats"].setdefault(cat, [0, 0.0, t, t, {}])
        e[0] += 1
        e[1] += dur
        e[3] = t + dur
        e[4][name] = e[4].get(name, 0) + 1
    return procs, last_t, main_pid


def render(procs, total, main_pid):
    out = [f"traced wall time {total * 1000:.2f} ms (strace inflates it: compare "
           "perf-stat for the untraced time)", ""]
    for pid, p in procs.items():
        role = "runtime (parent)" if pid == main_pid else "child"
        busy = sum(e[1] for c, e in p["cats"].items() if c != "waiting")
        out.append(f"pid {pid} [{role}] {p['first'] * 1000:.2f} -> {p['last'] * 1000:.2f} ms, "
                   f"{p['syscalls']} syscalls, {busy * 1000:.2f} ms inside non-waiting syscalls")
        out.append(f"  {'category':<24}{'calls':>6}{'in syscalls ms':>16}{'span ms':>22}")
        for cat, (n, dur, first, last, names) in sorted(p["cats"].items(),
                                                         key=lambda kv: -kv[1][1]):
            top = ", ".join(f"{k} {v}" for k, v in
                            sorted(names.items(), key=lambda kv: -kv[1])[:5])
            out.append(f"  {cat:<24}{n:>6}{dur * 1000:>16.2f}"
                       f"{first * 1000:>11.2f} -> {last * 1000:>7.2f}   {top}")
        out.append("")
    return "\n".join(out)


def run_to(path, argv):
    """Run argv with stdout+stderr into path (None: discard); fail loudly."""
    with open(path or os.devnull, "w") as f:
        r = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        startup.die(f"{' '.join(argv)}: exit code {r.returncode}"
                    + (f" (see {path})" if path else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--berth", default=os.environ.get("BERTH") or os.path.join(
        startup.REPO, "build", "runtime", "cli", "berth"))
    p.add_argument("--out", help="output dir (default bench/results/profile-<date>)")
    p.add_argument("--repeat", type=int, default=20, help="perf stat -r count (default 20)")
    args = p.parse_args()

    env = startup.check_environment(args)
    if not env["private_mount_ns"]:
        startup.die("start through `bench/run.sh --profile` (private mount namespace)")
    strace = shutil.which("strace")
    perf = shutil.which("perf")
    if not strace:
        startup.die("strace missing: apt-get install strace")
    binaries = {"berth": args.berth, "crun": shutil.which("crun"), "runc": shutil.which("runc")}
    binaries = {k: v for k, v in binaries.items() if v and os.access(v, os.X_OK)}
    if "berth" not in binaries:
        startup.die(f"no berth at {args.berth}")
    out = args.out or os.path.join(startup.BENCH_DIR, "results",
                                   f"profile-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    os.makedirs(out, exist_ok=True)

    base = f"{startup.own_memory_cgroup().rstrip('/')}/berth-bench-{os.getpid()}"
    janitor = startup.CgroupJanitor(base)
    workdir = tempfile.mkdtemp(prefix="berth-profile-")
    state_root = os.path.join(workdir, "state")
    mounted = False
    try:
        rootfs = os.path.join(workdir, "rootfs")
        startup.build_rootfs(rootfs)
        os.makedirs(state_root)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700",
                        "berth-bench-state", state_root], check=True)
        mounted = True

        def bundle(rt, tag):
            b = os.path.join(workdir, f"bundle-{rt}-{tag}")
            os.makedirs(b, exist_ok=True)
            startup.write_config(b, startup.bench_config(rootfs, f"{base}/{rt}-{tag}"))
            return b

        def argv(rt, tag):
            st = os.path.join(state_root, rt)
            os.makedirs(st, exist_ok=True)
            return [binaries[rt], "--root", st, "run", "--bundle", bundle(rt, tag),
                    f"{rt}-{tag}"]

        for rt in binaries:  # warm the page cache and the cgroup parents
            if subprocess.run(argv(rt, "warm")).returncode != 0:
                startup.die(f"{rt} run failed: run the benchmark first to see why")
        if perf:
            for rt in binaries:
                run_to(os.path.join(out, f"perf-stat-{rt}.txt"),
                       [perf, "stat", "-r", str(args.repeat), "--"] + argv(rt, "stat"))
            run_to(None, [perf, "trace", "-s", "-o", os.path.join(out, "perf-trace-s-berth.txt"),
                          "--"] + argv("berth", "ptrace"))
        for rt in binaries:
            run_to(None, [strace, "-f", "-c", "-o", os.path.join(out, f"strace-c-{rt}.txt"), "--"]
                   + argv(rt, "sc"))
        run_to(None, [strace, "-f", "-c", "-w", "-o", os.path.join(out, "strace-cw-berth.txt"), "--"]
               + argv("berth", "scw"))
        tl = os.path.join(out, "strace-tt-berth.txt")
        run_to(None, [strace, "-f", "-tt", "-T", "-s", "160", "-o", tl, "--"]
               + argv("berth", "stt"))

        procs, total, main_pid = fold(tl, os.path.join(state_root, "berth"))
        text = render(procs, total, main_pid)
        with open(os.path.join(out, "phases-berth.txt"), "w") as f:
            f.write(text + "\n")
        print(text)
        if perf:
            print("untraced `run` (perf stat -r %d, mean elapsed):" % args.repeat)
            for rt in binaries:
                with open(os.path.join(out, f"perf-stat-{rt}.txt")) as f:
                    for line in f:
                        if "elapsed" in line:
                            print(f"  {rt:<6} {line.strip()}")
        print(f"\nraw traces in {out}")
    finally:
        for rt in binaries:
            st = os.path.join(state_root, rt)
            if os.path.isdir(st):
                startup.delete_leftovers(rt, binaries[rt], st)
        janitor.cleanup()
        if mounted:
            subprocess.run(["umount", state_root])
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
