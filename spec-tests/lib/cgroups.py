"""Test cgroups, nested under this process's own memory cgroup.

On this host (hybrid v1 + a hugetlb-only cgroup2 at /unified) every shell sits
in a non-root memory cgroup, and tests must never create cgroups at a hierarchy
root nor move a process out of its memory cgroup's subtree. So every container
gets the ABSOLUTE cgroupsPath <own memory cgroup>/berth-test-<pid>/<id>; a v1
runtime uses that same path in every hierarchy.
"""
import os
import time

CGROUP_ROOT = "/sys/fs/cgroup"


def own_memory_cgroup():
    """The memory-controller cgroup of this process ('' when it is the root);
    on a pure cgroup2 host, the unified cgroup."""
    unified = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return path.rstrip("/")
            if controllers == "":
                unified = path.rstrip("/")
    return unified or ""


def hierarchies():
    """Mount points of every cgroup hierarchy (v1 controllers, named ones, v2)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2") and fields[4].startswith(CGROUP_ROOT):
                found.append(fields[4])
    return sorted(set(found))


def test_base():
    """Cgroup path (relative to a hierarchy root) that holds this session's containers."""
    return f"{own_memory_cgroup()}/berth-test-{os.getpid()}"


def container_path(container_id):
    return f"{test_base()}/{container_id}"


def existing_ancestors(path):
    """For each hierarchy, the ancestors of `path` (and path itself) that exist
    now: the session removes at its end only the directories it made."""
    parts = [p for p in path.split("/") if p]
    existing = set()
    for h in hierarchies():
        for i in range(1, len(parts) + 1):
            d = os.path.join(h, *parts[:i])
            if os.path.isdir(d):
                existing.add(d)
    return existing


def subdirs_deepest_first(top):
    """Every directory under top (not top itself), children before parents."""
    out = []
    for dirpath, dirnames, _ in os.walk(top, topdown=False):
        out.extend(os.path.join(dirpath, d) for d in dirnames)
    return out


def procs(cgroup_dir):
    try:
        with open(os.path.join(cgroup_dir, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def thaw(cgroup_dir):
    """A frozen (paused) cgroup's processes cannot die: thaw before killing."""
    for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
        try:
            with open(os.path.join(cgroup_dir, name), "w") as f:
                f.write(value)
        except OSError:
            pass


def rmdir_retry(path, timeout=2.0):
    """rmdir never removes a populated cgroup; processes that just died may
    still be accounted for a moment, so retry briefly. True when gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


# ------------------------------------------------ reading a container's cgroup
def container_dir(hierarchy, container_id):
    """A container's directory in one hierarchy: `hierarchy` is a v1
    controller's mount name ("memory", "cpu", "blkio", ...) or "unified"
    for this host's cgroup2 tree."""
    return f"{CGROUP_ROOT}/{hierarchy}{container_path(container_id)}"


def read(hierarchy, container_id, name):
    """One file of a container's cgroup, stripped."""
    with open(os.path.join(container_dir(hierarchy, container_id), name)) as f:
        return f.read().strip()


def read_keyed(hierarchy, container_id, name):
    """A "key value" per line file (memory.oom_control, memory.stat) as a dict."""
    out = {}
    for line in read(hierarchy, container_id, name).splitlines():
        key, _, value = line.partition(" ")
        out[key] = int(value) if value.lstrip("-").isdigit() else value
    return out


def container_dirs_anywhere(container_id):
    """Every hierarchy's directory of this container that exists (for
    "nothing left behind" checks right after a failed create)."""
    path = container_path(container_id)
    return [h + path for h in hierarchies() if os.path.isdir(h + path)]
