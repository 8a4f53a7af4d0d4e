#!/usr/bin/python3
"""Image benchmarks (issue 9): berthd + berthctl side by side with podman,
containerd 1.6 (ctr), skopeo and a curl|gunzip|tar floor, in the same run.

    sudo bench/run.sh --images [--runs 5] [--warmup 1] [--tools berthctl,podman,ctr,skopeo,floor]
                               [--sections pull,saveload,memory,list,client] [--output FILE] [--keep]

Sections (all by default):
  pull      pull of a 52 MB image (1 data layer) and of a 10-layer one from a
            local docker-registry, interleaved rounds, store emptied between runs
  saveload  save and load of the 52 MB image, berthctl vs podman (docker-archive)
  memory    berthd idle RSS, after 50 loaded images and after 500 tags;
            containerd 1.6 idle RSS (and after importing the same 50 images)
  list      `berthctl images` with 500 images (tags) vs `ctr image ls`
  client    `berthctl version` (client start to first byte), hyperfine if installed

A benchmark, not a test: it never passes or fails on timing. It stops only if a
command fails. Everything (registry, berthd, containerd, podman storage, skopeo
output) lives in one temp dir; daemons are stopped by PID and the dir removed.
Expects to run inside run.sh's private mount namespace: there
/var/lib/containers/cache (podman's and skopeo's blob-info cache as root) is
bind-mounted from a scratch dir, so the host's is never touched.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "spec-tests"))

from lib.berthd import Berthd, berthctl_bin, berthd_bin  # noqa: E402
from lib.containerd import NAMESPACE, PrivateContainerd  # noqa: E402
from lib.registry import push_oci_archive, registry  # noqa: E402

PODMAN = "/usr/bin/podman"
SKOPEO = "/usr/bin/skopeo"
CTR = "/usr/bin/ctr"
BUSYBOX_IMAGE = os.path.join(REPO, "contrib", "busybox-image.py")
BLOB_CACHE = "/var/lib/containers/cache"
ALL_TOOLS = ("berthctl", "podman", "ctr", "skopeo", "floor")
ALL_SECTIONS = ("pull", "saveload", "memory", "list", "client")
MANIFEST_ACCEPT = ("application/vnd.oci.image.manifest.v1+json,"
                   "application/vnd.docker.distribution.manifest.v2+json,"
                   "application/vnd.oci.image.index.v1+json,"
                   "application/vnd.docker.distribution.manifest.list.v2+json")
TARGETS = {"pull_vs_podman": 0.5, "pull_vs_floor": 1.5, "saveload_vs_podman": 0.5}


def log(msg):
    print(msg, flush=True)


def die(msg):
    print(f"images.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def run(argv, check=True, timeout=600, env=None, cwd=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise RuntimeError(f"$ {' '.join(argv)}\n-> exit {r.returncode}\n"
                           f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return r


def timed(argv, env=None, timeout=600):
    """Wall time in ms of one command (spawn to exit); fails on non-zero exit."""
    t0 = time.perf_counter_ns()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    ms = (time.perf_counter_ns() - t0) / 1e6
    if r.returncode != 0:
        raise RuntimeError(f"$ {' '.join(argv)}\n-> exit {r.returncode}\n"
                           f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return ms


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def memory_of(pid):
    """VmRSS / VmHWM from status and Pss from smaps_rollup, in kB; threads."""
    info = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM", "Threads"):
                info[key.lower()] = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Pss:", "Pss_Anon:", "Pss_File:"):
                info[parts[0].rstrip(":").lower()] = int(parts[1])
    return info


def summarize(samples):
    s = sorted(samples)
    return {"runs": len(s), "median_ms": statistics.median(s), "min_ms": s[0], "max_ms": s[-1],
            "samples_ms": samples}


def ratio(a, b):
    return a / b if b else float("nan")


# ------------------------------------------------------------------- images
def load_image_module():
    spec = importlib.util.spec_from_file_location("busybox_image", BUSYBOX_IMAGE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_image(out, name, extra_mb, extra_layers=1):
    run([sys.executable, BUSYBOX_IMAGE, out, name, "--extra-mb", str(extra_mb),
         "--extra-layers", str(extra_layers)])
    return archive_info(out)


def archive_info(path):
    """Manifest digest, config and layer digests/sizes of an OCI archive made
    by busybox-image.py (one manifest)."""
    import tarfile
    with tarfile.open(path) as tar:
        index = json.load(tar.extractfile("index.json"))
        mdesc = index["manifests"][0]
        manifest = json.load(tar.extractfile("blobs/sha256/" + mdesc["digest"][7:]))
    return {"manifest": mdesc["digest"], "config": manifest["config"]["digest"],
            "layers": [layer["digest"] for layer in manifest["layers"]],
            "size": sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"]}


def make_distinct_small_images(mod, out_dir, count):
    """`count` images that differ in config (created time) and in one 1 MiB
    data layer each (seeded per image); the busybox layer is shared."""
    orig_data_layer, orig_created = mod.data_layer, mod.CREATED
    paths = []
    try:
        for i in range(count):
            mod.CREATED = f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
            mod.data_layer = lambda idx, size, seed=i: orig_data_layer(1000 + seed * 10 + idx, size)
            path = os.path.join(out_dir, f"small-{i}.tar")
            mod.build(path, f"localhost/bench/small{i}:1", extra_mb=1, extra_layers=1)
            paths.append(path)
    finally:
        mod.data_layer, mod.CREATED = orig_data_layer, orig_created
    return paths


# -------------------------------------------------------------------- peers
class Podman:
    """podman with private storage (overlay if it works with a private
    --root, else vfs), run root and tmp dir."""

    def __init__(self, top, driver):
        self.top, self.driver = top, driver
        os.makedirs(top, exist_ok=True)
        conf = os.path.join(top, "containers.conf")
        with open(conf, "w") as f:
            f.write('[engine]\nevents_logger = "file"\n')
        reg = os.path.join(top, "registries.conf")
        with open(reg, "w") as f:
            f.write('unqualified-search-registries = []\n')
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_REGISTRIES_CONF=reg)
        self.base = [PODMAN, "--root", os.path.join(top, "root"), "--runroot", os.path.join(top, "rr"),
                     "--tmpdir", os.path.join(top, "tmp"), "--storage-driver", driver,
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def argv(self, *args):
        return self.base + list(args)

    def __call__(self, *args, check=True):
        return run(self.argv(*args), env=self.env, check=check)

    def timed(self, *args):
        return timed(self.argv(*args), env=self.env)

    def reset(self):
        ids = self("images", "-q", "--no-trunc").stdout.split()
        if ids:
            self("rmi", "-f", *sorted(set(ids)))
        left = self("images", "-q").stdout.split()
        if left:
            raise RuntimeError(f"podman rmi left images: {left}")


def pick_podman_driver(tmp, image_ref):
    """overlay when a private --root supports it (and a pull works), else vfs."""
    probe = Podman(os.path.join(tmp, "podman-probe"), "overlay")
    r = run(probe.argv("pull", "-q", "--tls-verify=false", image_ref), env=probe.env, check=False)
    if r.returncode == 0:
        probe.reset()
        umount_under(probe.top)
        shutil.rmtree(probe.top, ignore_errors=True)
        return "overlay", ""
    umount_under(probe.top)
    shutil.rmtree(probe.top, ignore_errors=True)
    return "vfs", r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"


class Containerd(PrivateContainerd):
    def ctr_argv(self, *args):
        return [CTR, "--address", self.address, "--namespace", NAMESPACE, *map(str, args)]

    def ctr(self, *args, check=True, timeout=120):  # quiet: the table is the output
        r = subprocess.run(self.ctr_argv(*args), stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(map(str, args))} failed: {r.stderr}")
        return r

    def reset(self):
        refs = self.ctr("image", "ls", "-q").stdout.split()
        if refs:
            self.ctr("image", "rm", "--sync", *refs)
        left = self.ctr("content", "ls", "-q").stdout.split()
        if left:  # leases or GC lag: remove what is left so the next pull fetches everything
            self.ctr("content", "rm", *left, check=False)
        if self.ctr("snapshot", "ls").stdout.strip().count("\n") > 0:
            for key in [line.split()[0] for line in self.ctr("snapshot", "ls").stdout.splitlines()[1:]]:
                self.ctr("snapshot", "rm", key, check=False)


class BenchBerthd(Berthd):
    """spec-tests' Berthd, started at --log-level `level` instead of debug
    (berthd refuses the option twice, and debug logging would be measured)."""

    def __init__(self, top, level, config_text=None):
        super().__init__(top, config_text)
        self.level = level

    def start(self, timeout=20):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [berthd_bin(), "--root", self.root, "--state", self.state, "--config", self.config,
             "--log-level", self.level],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"berthd exited {self.proc.returncode}: {self.read_log()[-2000:]}")
            if os.path.exists(self.socket) and self.ctl("version", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"berthd did not come up in {timeout}s: {self.read_log()[-2000:]}")


def berthd_reset(d):
    for ref in d.ctl("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
        d.ctl("rmi", "-f", ref, check=False)
    d.ctl("image", "prune", "-a", "-f")


def berthd_store_counts(d):
    return {"images": len(d.ctl("images", "-q").stdout.split()),
            "content": max(0, len(d.ctl("content", "ls").stdout.strip().splitlines()) - 1),
            "snapshots": max(0, len(d.ctl("snapshot", "ls").stdout.strip().splitlines()) - 1)}


def umount_under(top):
    """Unmounts whatever podman/berthd left mounted under `top` (deepest first)."""
    top = os.path.realpath(top)
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == top or mp.startswith(top + "/"):
                mounts.append(mp)
    for mp in sorted(set(mounts), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)
    return mounts


def floor_script(reg, repo, tag, info, dest):
    """sh script: GET the manifest, then config and every layer in parallel,
    each layer `curl | gunzip | tar -x` into its own dir (no verification)."""
    base = f"{reg.url}/v2/{repo}"
    lines = ["set -e",
             f"curl -sf -H 'Accept: {MANIFEST_ACCEPT}' -o {dest}/manifest.json {base}/manifests/{tag}",
             f"curl -sf -o {dest}/config.json {base}/blobs/{info['config']} &"]
    for i, digest in enumerate(info["layers"]):
        lines.append(f"(mkdir -p {dest}/l{i} && curl -sf {base}/blobs/{digest} | gunzip | "
                     f"tar -x -C {dest}/l{i}) &")
    # `wait PID` per job so that a failed pipeline fails the script
    lines.append("for j in $(jobs -p); do wait $j; done")
    return "\n".join(lines)


# ----------------------------------------------------------------- sections
def bench_pull(args, ctx, results):
    reg, images = ctx["reg"], ctx["images"]
    tools = [t for t in ALL_TOOLS if t in args.tools]
    out = {}
    for label, (repo, tag, info) in images.items():
        ref = f"{reg.host}/{repo}:{tag}"
        samples = {t: [] for t in tools}
        order = list(tools)
        for rnd in range(args.warmup + args.runs):
            for tool in order:
                ms = pull_once(tool, ref, repo, tag, info, ctx)
                if rnd >= args.warmup:
                    samples[tool].append(ms)
            log(f"  pull {label} round {rnd + 1}/{args.warmup + args.runs}"
                f"{' (warm-up)' if rnd < args.warmup else ''}: "
                + ", ".join(f"{t} {samples[t][-1] if rnd >= args.warmup else 0:.0f}" for t in order))
            order = order[1:] + order[:1]
        out[label] = {"ref": ref, "layers": len(info["layers"]), "bytes": info["size"],
                      "tools": {t: summarize(v) for t, v in samples.items()}}
    results["pull"] = out


def pull_once(tool, ref, repo, tag, info, ctx):
    """One timed pull into an empty store; the store is emptied afterwards,
    outside the clock."""
    tmp = ctx["tmp"]
    if tool == "berthctl":
        d = ctx["berthd"]
        ms = timed([berthctl_bin(), "--address", d.socket, "pull", "-q", ref])
        berthd_reset(d)
        counts = berthd_store_counts(d)
        if any(counts.values()):
            raise RuntimeError(f"berthd store not empty after rmi + prune: {counts}")
    elif tool == "podman":
        p = ctx["podman"]
        ms = p.timed("pull", "-q", "--tls-verify=false", ref)
        p.reset()
    elif tool == "ctr":
        c = ctx["containerd"]
        ms = timed(c.ctr_argv("image", "pull", "--plain-http", ref))
        c.reset()
    elif tool == "skopeo":
        dest = os.path.join(tmp, "skopeo-out")
        ms = timed([SKOPEO, "copy", "--quiet", "--src-tls-verify=false", f"docker://{ref}",
                    f"oci:{dest}:{tag}"])
        shutil.rmtree(dest)
    elif tool == "floor":
        dest = os.path.join(tmp, "floor-out")
        os.makedirs(dest)
        ms = timed(["/bin/bash", "-c", floor_script(ctx["reg"], repo, tag, info, dest)])
        shutil.rmtree(dest)
    else:
        raise ValueError(tool)
    return ms


def bench_saveload(args, ctx, results):
    """save and load of the 52 MB image. Both load the same two archives:
    the OCI archive busybox-image.py wrote and podman's docker-archive save."""
    d, p, tmp = ctx["berthd"], ctx["podman"], ctx["tmp"]
    archive, name = ctx["one_archive"], ctx["one_name"]
    docker_archive = os.path.join(tmp, "one-docker.tar")
    p("load", "-q", "-i", archive)
    p("save", "-q", "-o", docker_archive, name)
    p.reset()
    inputs = {"oci-archive": archive, "docker-archive": docker_archive}
    tools = [t for t in ("berthctl", "podman") if t in args.tools]
    samples = {f"{op} {t}": [] for op in ("save", "load oci-archive", "load docker-archive") for t in tools}
    order = list(tools)
    for rnd in range(args.warmup + args.runs):
        for tool in order:
            for kind, path in inputs.items():
                if tool == "berthctl":
                    ms = timed([berthctl_bin(), "--address", d.socket, "load", "-q", "-i", path])
                else:
                    ms = p.timed("load", "-q", "-i", path)
                if rnd >= args.warmup:
                    samples[f"load {kind} {tool}"].append(ms)
                out = os.path.join(tmp, f"save-{tool}.tar")
                if kind == "oci-archive":  # save once per round, of what was loaded from it
                    if tool == "berthctl":
                        ms = timed([berthctl_bin(), "--address", d.socket, "save", "-o", out, name])
                    else:
                        ms = p.timed("save", "-q", "-o", out, name)
                    ctx.setdefault("save_sizes", {})[tool] = os.path.getsize(out)
                    os.unlink(out)
                    if rnd >= args.warmup:
                        samples[f"save {tool}"].append(ms)
                if tool == "berthctl":
                    berthd_reset(d)
                else:
                    p.reset()
        log(f"  save/load round {rnd + 1}/{args.warmup + args.runs}{' (warm-up)' if rnd < args.warmup else ''}")
        order = order[1:] + order[:1]
    results["saveload"] = {"image": name, "bytes": os.path.getsize(archive),
                           "save_output_bytes": ctx.get("save_sizes", {}),
                           "podman_save_format": "docker-archive",
                           "ops": {k: summarize(v) for k, v in samples.items()}}


def bench_memory_and_list(args, ctx, results):
    """A fresh berthd: idle RSS, after 50 distinct loaded images, after 500
    tags (and `berthctl images` timing there); containerd 1.6 the same way."""
    tmp = ctx["tmp"]
    small = ctx["small_archives"]
    mem, listing = {}, {}
    d = BenchBerthd(os.path.join(tmp, "berthd-mem"), args.berthd_log_level).start()
    ctx["cleanup"].append(lambda: stop_berthd(d))
    time.sleep(2)
    mem["berthd idle"] = memory_of(d.proc.pid)
    for path in small:
        d.ctl("load", "-q", "-i", path)
    time.sleep(1)
    mem[f"berthd {len(small)} images"] = memory_of(d.proc.pid)
    first = "localhost/bench/small0:1"
    have = len(d.ctl("images", "-q").stdout.split())
    if "list" in args.sections:
        listing[f"berthctl images ({have})"] = summarize(
            [timed([berthctl_bin(), "--address", d.socket, "images"]) for _ in range(args.list_runs)])
    for i in range(args.list_images - have):
        d.ctl("tag", first, f"localhost/bench/tag{i}:1")
    have = len(d.ctl("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())
    time.sleep(1)
    mem[f"berthd {have} images (tags)"] = memory_of(d.proc.pid)
    if "list" in args.sections:
        listing[f"berthctl images ({have})"] = summarize(
            [timed([berthctl_bin(), "--address", d.socket, "images"]) for _ in range(args.list_runs)])
        listing[f"berthctl images -q ({have})"] = summarize(
            [timed([berthctl_bin(), "--address", d.socket, "images", "-q"]) for _ in range(args.list_runs)])

    if "ctr" in args.tools:
        c = Containerd(os.path.join(tmp, "containerd-mem"))
        c.start()
        ctx["cleanup"].append(c.stop)
        time.sleep(2)
        mem["containerd idle"] = memory_of(c.proc.pid)
        for path in small:
            c.ctr("image", "import", "--no-unpack", path)
        time.sleep(1)
        mem[f"containerd {len(small)} images"] = memory_of(c.proc.pid)
        refs = c.ctr("image", "ls", "-q").stdout.split()
        if "list" in args.sections:
            listing[f"ctr image ls ({len(refs)})"] = summarize(
                [timed(c.ctr_argv("image", "ls")) for _ in range(args.list_runs)])
        for i in range(args.list_images - len(refs)):
            c.ctr("image", "tag", refs[0], f"localhost/bench/tag{i}:1")
        n = len(c.ctr("image", "ls", "-q").stdout.split())
        time.sleep(1)
        mem[f"containerd {n} images (tags)"] = memory_of(c.proc.pid)
        if "list" in args.sections:
            listing[f"ctr image ls ({n})"] = summarize(
                [timed(c.ctr_argv("image", "ls")) for _ in range(args.list_runs)])
            listing[f"ctr image ls -q ({n})"] = summarize(
                [timed(c.ctr_argv("image", "ls", "-q")) for _ in range(args.list_runs)])
        c.stop()
    stop_berthd(d)
    results["memory"] = mem
    if listing:
        results["list"] = listing


def bench_client(args, ctx, results):
    d = ctx["berthd"]
    out = {"berthctl version": summarize(
        [timed([berthctl_bin(), "--address", d.socket, "version"]) for _ in range(args.list_runs)])}
    if "ctr" in args.tools and ctx.get("containerd"):
        out["ctr version"] = summarize([timed(ctx["containerd"].ctr_argv("version"))
                                        for _ in range(args.list_runs)])
    hf = shutil.which("hyperfine")
    if hf:
        export = os.path.join(ctx["tmp"], "hyperfine.json")
        cmds = [f"{berthctl_bin()} --address {d.socket} version"]
        if "ctr" in args.tools and ctx.get("containerd"):
            cmds.append(" ".join(ctx["containerd"].ctr_argv("version")))
        run([hf, "-N", "--warmup", "3", "--runs", str(max(args.list_runs, 30)),
             "--export-json", export, *cmds], timeout=600)
        with open(export) as f:
            for r in json.load(f)["results"]:
                name = "hyperfine " + ("berthctl version" if "berthctl" in r["command"] else "ctr version")
                out[name] = {"runs": len(r["times"]), "median_ms": r["median"] * 1e3,
                             "min_ms": r["min"] * 1e3, "max_ms": r["max"] * 1e3,
                             "mean_ms": r["mean"] * 1e3, "stddev_ms": (r["stddev"] or 0) * 1e3}
    results["client"] = out


def stop_berthd(d):
    if d.proc and d.proc.poll() is None:
        status = d.stop()
        umount_under(d.top)
        if status != 0:
            log(f"note: berthd ({d.top}) exited {status} on SIGTERM")


# ------------------------------------------------------------------ report
def fmt_ratio(v):
    return "-" if v != v else f"{v:.2f}"  # NaN: the peer was not run


def print_report(results, meta):
    lines = []
    pull = results.get("pull", {})
    for label, r in pull.items():
        t = r["tools"]
        lines.append(f"\npull {label}: {r['ref']} ({r['layers']} layers, {r['bytes'] / 1e6:.1f} MB compressed)")
        lines.append(f"{'tool':<10} {'runs':>4} {'median ms':>10} {'min ms':>9} {'max ms':>9} "
                     f"{'/podman':>8} {'/floor':>7}")
        for tool, s in t.items():
            vp = ratio(s["median_ms"], t["podman"]["median_ms"]) if "podman" in t else float("nan")
            vf = ratio(s["median_ms"], t["floor"]["median_ms"]) if "floor" in t else float("nan")
            lines.append(f"{tool:<10} {s['runs']:>4} {s['median_ms']:>10.0f} {s['min_ms']:>9.0f} "
                         f"{s['max_ms']:>9.0f} {fmt_ratio(vp):>8} {fmt_ratio(vf):>7}")
        if "berthctl" in t:
            b = t["berthctl"]["median_ms"]
            msgs = []
            if "podman" in t:
                v = ratio(b, t["podman"]["median_ms"])
                msgs.append(f"vs podman x{v:.2f} (target <= {TARGETS['pull_vs_podman']}: "
                            f"{'met' if v <= TARGETS['pull_vs_podman'] else 'NOT met'})")
            if "floor" in t:
                v = ratio(b, t["floor"]["median_ms"])
                msgs.append(f"vs floor x{v:.2f} (target <= {TARGETS['pull_vs_floor']}: "
                            f"{'met' if v <= TARGETS['pull_vs_floor'] else 'NOT met'})")
            lines.append("berthctl pull " + ", ".join(msgs))
    if "saveload" in results:
        r = results["saveload"]
        ops = r["ops"]
        lines.append(f"\nsave/load {r['image']} ({r['bytes'] / 1e6:.1f} MB archive)")
        lines.append(f"{'operation':<22} {'berthctl ms':>12} {'podman ms':>10} {'ratio':>7}  (medians; min b/p)")
        for op in ("save", "load oci-archive", "load docker-archive"):
            b, p = ops.get(f"{op} berthctl"), ops.get(f"{op} podman")
            if b and p:
                v = ratio(b["median_ms"], p["median_ms"])
                lines.append(f"{op:<22} {b['median_ms']:>12.0f} {p['median_ms']:>10.0f} {v:>7.2f}  "
                             f"({b['min_ms']:.0f}/{p['min_ms']:.0f}) "
                             f"{'met' if v <= TARGETS['saveload_vs_podman'] else 'NOT met'}")
    if "memory" in results:
        lines.append(f"\n{'daemon memory':<34} {'RSS kB':>8} {'HWM kB':>8} {'PSS kB':>8} {'anon':>8} {'threads':>7}")
        for k, m in results["memory"].items():
            lines.append(f"{k:<34} {m['vmrss']:>8} {m['vmhwm']:>8} {m['pss']:>8} {m.get('pss_anon', 0):>8} "
                         f"{m['threads']:>7}")
    if "pull_daemon_peak" in results:
        m = results["pull_daemon_peak"]
        lines.append(f"{'berthd after the pull rounds':<34} {m['vmrss']:>8} {m['vmhwm']:>8} {m['pss']:>8} "
                     f"{m.get('pss_anon', 0):>8} {m['threads']:>7}")
    for key in ("list", "client"):
        if key in results:
            lines.append(f"\n{'command':<34} {'runs':>4} {'median ms':>10} {'min ms':>9} {'max ms':>9}")
            for k, s in results[key].items():
                lines.append(f"{k:<34} {s['runs']:>4} {s['median_ms']:>10.2f} {s['min_ms']:>9.2f} "
                             f"{s['max_ms']:>9.2f}")
    lines.append("")
    lines.append(f"podman storage driver: {meta['podman_driver']}"
                 + (f" (overlay refused: {meta['podman_overlay_error']})" if meta.get("podman_overlay_error") else ""))
    lines.append(f"load average {meta['loadavg_start'][0]:.2f} -> {meta['loadavg_end'][0]:.2f} (1 min) "
                 f"on {os.cpu_count()} CPUs; berthd {meta['berthd_build']}")
    text = "\n".join(lines)
    print(text)
    return text


def build_type():
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(berthd_bin()))), "CMakeCache.txt")
    try:
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return "?"


def remove_temp_dir(tmp, keep):
    """Unmounts what is left mounted under `tmp`, then removes it unless `keep`."""
    left = umount_under(tmp)
    if left:
        log(f"note: unmounted {len(left)} mounts left under {tmp}")
    if keep:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def write_results(out, title, meta, results, text):
    """`out` (JSON: meta and every sample) and the printed table as .md beside it."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    md = os.path.splitext(out)[0] + ".md"
    with open(md, "w") as f:
        f.write(f"# {title}\n\n```\n{text.strip()}\n```\n")
    print(f"\nresults: {out} and {md}")


# -------------------------------------------------------------------- main
def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--tools", default=",".join(ALL_TOOLS))
    p.add_argument("--sections", default=",".join(ALL_SECTIONS))
    p.add_argument("--images-count", type=int, default=50, dest="small_count",
                   help="distinct small images loaded for the memory section")
    p.add_argument("--list-images", type=int, default=500, help="images (tags) for the list section")
    p.add_argument("--list-runs", type=int, default=20)
    p.add_argument("--podman-driver", choices=("auto", "overlay", "vfs"), default="auto")
    p.add_argument("--berthd-log-level", default="info",
                   help="berthd --log-level (spec-tests' helper starts it at debug)")
    p.add_argument("--output", help="JSON result (default bench/results/images-<date>.json, plus .md)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = p.parse_args()
    a.tools = comma_list(p, "--tools", a.tools, ALL_TOOLS)
    a.sections = comma_list(p, "--sections", a.sections, ALL_SECTIONS)
    return a


def comma_list(parser, flag, value, allowed):
    """`a,b` -> ["a", "b"], each one of `allowed` (else a usage error)."""
    items = [v for v in value.split(",") if v]
    for v in items:
        if v not in allowed:
            parser.error(f"{flag}: unknown {v!r}")
    return items


def check_environment(args):
    if os.geteuid() != 0:
        die("must run as root (sudo bench/run.sh --images)")
    if os.environ.get("BERTH_BENCH_IN_NS") != "1":
        die("run it through bench/run.sh --images (a private mount namespace)")
    for b in (berthd_bin(), berthctl_bin()) if "berthctl" in args.tools else ():
        if not os.access(b, os.X_OK):
            die(f"missing {b} (contrib/build.sh)")
    for b in (PODMAN, SKOPEO, CTR, "/usr/bin/curl", "/usr/bin/docker-registry"):
        if not os.access(b, os.X_OK):
            die(f"missing {b}")


def main():
    args = parse_args()
    check_environment(args)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    tmp = tempfile.mkdtemp(prefix="bib-", dir="/var/tmp")
    ctx = {"tmp": tmp, "cleanup": []}
    meta = {"date": stamp, "loadavg_start": os.getloadavg(), "host": platform.node(),
            "kernel": platform.release(), "cpus": os.cpu_count(), "berthd": berthd_bin(),
            "berthctl": berthctl_bin(), "berthd_build": build_type(),
            "versions": {"podman": tool_version([PODMAN, "--version"]),
                         "containerd": tool_version(["/usr/bin/containerd", "--version"]),
                         "skopeo": tool_version([SKOPEO, "--version"]),
                         "curl": tool_version(["/usr/bin/curl", "--version"])},
            "runs": args.runs, "warmup": args.warmup, "tools": args.tools, "sections": args.sections}
    results = {}
    try:
        # podman's and skopeo's blob-info cache: a scratch dir, in this namespace only
        cache = os.path.join(tmp, "blob-info-cache")
        os.makedirs(cache)
        os.makedirs(BLOB_CACHE, exist_ok=True)
        run(["mount", "--bind", cache, BLOB_CACHE])
        ctx["cleanup"].append(lambda: run(["umount", BLOB_CACHE], check=False))

        log(f"building images in {tmp} ...")
        one = os.path.join(tmp, "one.tar")
        ten = os.path.join(tmp, "ten.tar")
        one_info = make_image(one, "localhost/bench/one:1", 50)
        ten_info = make_image(ten, "localhost/bench/ten:1", 50, extra_layers=9)
        ctx["one_archive"], ctx["one_name"] = one, "localhost/bench/one:1"
        if "memory" in args.sections or "list" in args.sections:
            small_dir = os.path.join(tmp, "small")
            os.makedirs(small_dir)
            ctx["small_archives"] = make_distinct_small_images(load_image_module(), small_dir, args.small_count)

        with registry(tmp) as reg:
            ctx["reg"] = reg
            push_oci_archive(reg, one, "bench/one:1", tmp=tmp)
            push_oci_archive(reg, ten, "bench/ten:1", tmp=tmp)
            ctx["images"] = {"52 MB in 2 layers": ("bench/one", "1", one_info), "52 MB in 10 layers": ("bench/ten", "1", ten_info)}

            d = None
            if "berthctl" in args.tools:
                d = BenchBerthd(os.path.join(tmp, "berthd"), args.berthd_log_level).start()
                ctx["berthd"] = d
                ctx["cleanup"].append(lambda: stop_berthd(d))
            if "podman" in args.tools:
                if args.podman_driver == "auto":
                    driver, err = pick_podman_driver(tmp, f"{reg.host}/bench/one:1")
                else:
                    driver, err = args.podman_driver, ""
                meta["podman_driver"], meta["podman_overlay_error"] = driver, err
                ctx["podman"] = Podman(os.path.join(tmp, "podman"), driver)
                ctx["cleanup"].append(lambda: umount_under(os.path.join(tmp, "podman")))
            else:
                meta["podman_driver"] = "(not run)"
            if "ctr" in args.tools:
                c = Containerd(os.path.join(tmp, "containerd"))
                c.start()
                ctx["containerd"] = c
                ctx["cleanup"].append(c.stop)

            if "pull" in args.sections:
                log("pull ...")
                bench_pull(args, ctx, results)
                if d:
                    results["pull_daemon_peak"] = memory_of(d.proc.pid)
            if d is None:
                log("berthctl not in --tools: pull only")
            elif "saveload" in args.sections and "podman" in args.tools:
                log("save/load ...")
                bench_saveload(args, ctx, results)
            if d and "client" in args.sections:
                log("client start ...")
                bench_client(args, ctx, results)
            if d and ("memory" in args.sections or "list" in args.sections):
                log("memory / list ...")
                bench_memory_and_list(args, ctx, results)
    finally:
        for fn in reversed(ctx["cleanup"]):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup: {e}")
        remove_temp_dir(tmp, args.keep)

    meta["loadavg_end"] = os.getloadavg()
    text = print_report(results, meta)
    write_results(args.output or os.path.join(BENCH_DIR, "results", f"images-{stamp}.json"),
                  f"berthd image benchmarks, {stamp}", meta, results, text)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
