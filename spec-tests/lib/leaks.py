"""What a test may have left on the host, and how to remove it safely.

Checked after every test: mounts and processes tied to the test's temp dir,
entries in its state dir, cgroups under this session's berth-test-<pid> and
at the runtime's default path of the test's own container ids, runtime
commands the test left running. The
forced cleanup touches only what is provably ours: processes whose root or cwd
is inside the test's temp dir (or that sit in our uniquely named test cgroup),
mounts on paths inside the temp dir, cgroups under berth-test-<pid>.
"""
import ctypes
import os
import signal
import stat
import subprocess
import time

from . import cgroups

_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2


def _inside(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def _unescape(field):
    # mountinfo escapes space, tab, newline and backslash as octal
    return field.encode().decode("unicode_escape")


def mounts_under(top):
    """Mount points in our mount namespace inside top, deepest/latest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if _inside(_unescape(fields[4]), top) or _inside(_unescape(fields[3]), top):
                found.append(_unescape(fields[4]))
    return list(reversed(found))


def _proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def processes_of(top, root_ids, cgroup_marker):
    """{pid: reason} for live processes tied to this test. A container that
    pivoted into its rootfs shows its root as "/" through readlink, so roots
    are also compared by (st_dev, st_ino) with the test's rootfs directories."""
    me = os.getpid()
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        if _proc_state(pid) in (None, "Z", "X"):  # zombies hold nothing but a pid
            continue
        reason = None
        for link in ("root", "cwd"):
            try:
                target = os.readlink(f"/proc/{pid}/{link}")
            except OSError:
                continue
            if _inside(target, top):
                reason = f"{link} {target}"
                break
        if reason is None and root_ids:
            try:
                st = os.stat(f"/proc/{pid}/root")
                if (st.st_dev, st.st_ino) in root_ids:
                    reason = "root is a test rootfs"
            except OSError:
                pass
        if reason is None:
            try:
                with open(f"/proc/{pid}/cgroup") as f:
                    if cgroup_marker in f.read():
                        reason = "in a test cgroup"
            except OSError:
                pass
        if reason:
            found[pid] = reason
    return found


def cgroups_under(base):
    """Leftover cgroup directories below base (relative path) in every hierarchy."""
    left = []
    for h in cgroups.hierarchies():
        top = h + base
        if os.path.isdir(top):
            left.extend(cgroups.subdirs_deepest_first(top))
    return left


def _own_cgroup_in(hierarchy):
    """This process's cgroup in the hierarchy mounted at `hierarchy`, matched
    by the controllers in the mount's super options (cgroup2: the 0:: line)."""
    opts = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == hierarchy:
                sep = fields.index("-")
                opts = (fields[sep + 1], set(fields[sep + 3].split(",")))
    if opts is None:
        return None
    fstype, super_opts = opts
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if fstype == "cgroup2" and controllers == "":
                return path.rstrip("/")
            if fstype == "cgroup" and controllers and set(controllers.split(",")) <= super_opts:
                return path.rstrip("/")
    return None


def requested_cgroup_dirs(requests):
    """Every hierarchy's directory, existing now, of the cgroups the test's
    bundles asked for: (container id, linux.cgroupsPath or None) pairs. An
    absolute path is taken from each hierarchy's root; a relative one, or
    none (the runtime's default: the id), from our own cgroup there. This
    catches what a failed `run` leaves wherever the config put it, not only
    under the session's berth-test-<pid>."""
    found = []
    for cid, path in requests:
        for h in cgroups.hierarchies():
            if path and path.startswith("/"):
                d = h + path.rstrip("/")
            else:
                own = _own_cgroup_in(h)
                if own is None or (path and path.count(":") == 2):
                    continue  # systemd-style names are refused, never made
                d = h + own + "/" + (path or cid).strip("/")
            if d.rstrip("/") != h and os.path.isdir(d) and d not in found:
                found.append(d)
    return found
def own_cgroups():
    """{hierarchy mount point: this process's cgroup in it}: where a runtime
    started by us places a container that has no cgroupsPath (<own>/<id>)."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], set(fields[-1].split(","))
            if fstype in ("cgroup", "cgroup2") and fields[4].startswith(cgroups.CGROUP_ROOT):
                mounts[fields[4]] = (fstype, options, fields[3])
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for point, (fstype, options, root) in mounts.items():
                if controllers == "":
                    match = fstype == "cgroup2"
                else:
                    match = fstype == "cgroup" and set(controllers.split(",")) <= options
                if match and (path + "/").startswith(root.rstrip("/") + "/"):
                    rel = path[len(root.rstrip("/")):] if root != "/" else path
                    own[point] = rel.rstrip("/")
    return own


def default_cgroups_of(container_ids):
    """Existing cgroup dirs at the runtime's default path of these containers
    (a test that removed cgroupsPath): <hierarchy>/<own cgroup>/<id>."""
    left = []
    for point, own in own_cgroups().items():
        for cid in sorted(container_ids):
            d = f"{point}{own}/{cid}"
            if os.path.isdir(d):
                left.append(d)
    return left


def fd_targets(pid):
    """{fd: readlink target} of a live process ({} once it is gone)."""
    out = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for name in names:
        try:
            out[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            pass
    return out


ANONYMOUS_FD_PREFIXES = ("socket:", "pipe:", "anon_inode:")


def path_fds(pid, allowed=(), skip=(0, 1, 2)):
    """Descriptors of pid that name a file system path (a file, directory,
    fifo) outside `allowed` (exact paths, or prefixes ending in "/"): what a
    runtime or shim keeps open by mistake, a host directory most of all."""
    bad = {}
    for fd, target in fd_targets(pid).items():
        if fd in skip or target.startswith(ANONYMOUS_FD_PREFIXES) or target == "/dev/null":
            continue
        if any(target == a or (a.endswith("/") and target.startswith(a)) for a in allowed):
            continue
        bad[fd] = target
    return bad


def state_entries(state_dir):
    try:
        return sorted(os.listdir(state_dir))
    except FileNotFoundError:
        return []


def describe_pid(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return f"{pid} {argv}"
    except OSError:
        return str(pid)


def kill_and_wait(pids, timeout=5.0):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_proc_state(p) in (None, "Z", "X") for p in pids):
            return
        time.sleep(0.05)


def umount_lazy(path):
    if _libc.umount2(path.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        print(f"leak cleanup: umount2 {path}: {os.strerror(err)}")


def force_cleanup(binary, state_dir, top, root_ids, cgroup_base, container_ids=(), requested=()):
    """Remove whatever the test left, most polite means first. `requested`:
    (id, cgroupsPath) pairs of the test's bundles; their cgroups are removed
    only when empty (rmdir), as they may lie outside the session's own."""
    for cid in state_entries(state_dir):
        # the runtime's own delete knows its state best; ignore its verdict
        subprocess.run([binary, "--root", state_dir, "delete", "--force", cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30, check=False)
    marker = f"{cgroup_base}/"
    leftover_cgroups = cgroups_under(cgroup_base)
    for d in leftover_cgroups:
        cgroups.thaw(d)
    pids = processes_of(top, root_ids, marker)
    kill_and_wait(list(pids))
    for m in mounts_under(top):
        umount_lazy(m)
    for d in default_cgroups_of(container_ids):
        cgroups.thaw(d)
        kill_and_wait(cgroups.procs(d))
    for d in cgroups_under(cgroup_base) + default_cgroups_of(container_ids):
        if not cgroups.rmdir_retry(d):
            print(f"leak cleanup: cannot remove cgroup {d} (procs {cgroups.procs(d)})")
    for d in reversed(requested_cgroup_dirs(requested)):
        if not cgroups.rmdir_retry(d, timeout=0.5):
            print(f"leak cleanup: cannot remove cgroup {d} (procs {cgroups.procs(d)})")


def safe_rmtree(top):
    """rm -rf that never crosses into another filesystem or follows a
    symlink: a leaked bind mount inside a test dir must not let cleanup
    delete host files."""
    try:
        top_dev = os.lstat(top).st_dev
    except FileNotFoundError:
        return
    if mounts_under(top):
        raise RuntimeError(f"refusing to remove {top}: mounts remain under it")

    def walk(path):
        for entry in os.scandir(path):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if st.st_dev != top_dev:
                    raise RuntimeError(f"refusing to remove {entry.path}: another filesystem")
                walk(entry.path)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)

    os.chmod(top, 0o700)
    walk(top)
    os.rmdir(top)


def _pid_alive(pid):
    return _proc_state(pid) not in (None, "Z", "X")


def reap_stale_sessions(tmp_root, cgroup_parent):
    """Remove what earlier runs killed before their own cleanup (SIGKILL,
    CI timeout) left behind. Only dirs named berth-e2e-<pid>-* in tmp_root and
    cgroups named berth-test-<pid> directly under cgroup_parent (our own
    memory cgroup) count, and only when that pid is gone."""
    for name in os.listdir(tmp_root):
        parts = name.split("-")
        if len(parts) < 4 or parts[:2] != ["berth", "e2e"] or not parts[2].isdigit():
            continue
        if _pid_alive(int(parts[2])):
            continue
        top = os.path.join(tmp_root, name)
        marker = f"{cgroup_parent}/berth-test-{parts[2]}/"
        kill_and_wait(list(processes_of(top, set(), marker)))
        for m in mounts_under(top):
            umount_lazy(m)
        try:
            safe_rmtree(top)
        except (OSError, RuntimeError) as e:
            print(f"stale session {top} not removed: {e}")
    for h in cgroups.hierarchies():
        parent = h + cgroup_parent
        if not os.path.isdir(parent):
            continue
        for name in os.listdir(parent):
            pid = name.removeprefix("berth-test-")
            if name == pid or not pid.isdigit() or _pid_alive(int(pid)):
                continue
            top = os.path.join(parent, name)
            for d in cgroups.subdirs_deepest_first(top) + [top]:
                cgroups.thaw(d)
                kill_and_wait(cgroups.procs(d))
                cgroups.rmdir_retry(d, timeout=0.5)
            # In v1 hierarchies where we are at the root, the dead run's
            # runtime created a mirror of our memory cgroup path: drop it while
            # empty (rmdir fails on a cgroup in use, ending the walk).
            d = parent
            while d != h:
                try:
                    os.rmdir(d)
                except OSError:
                    break
                d = os.path.dirname(d)
