"""config.json generation: runtime-spec 1.2 with runc-like defaults.

make_config() returns a plain dict that tests may edit; keyword overrides are
deep-merged (dicts merge key by key, anything else replaces), so a test says
only what it changes: make_config(["probe", "cwd"], process={"cwd": "/tmp"}).
"""
import copy

OCI_VERSION = "1.2.0"

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

# Same lists as `runc spec`: kernel interfaces that leak host information or
# allow host changes are hidden (masked) or made read-only.
MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

DEFAULT_MOUNTS = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
]

DEFAULT_NAMESPACES = ["pid", "ipc", "uts", "mount", "network"]

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def deep_merge(base, overrides):
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def make_config(args=None, cgroups_path=None, **overrides):
    """A complete config.json as a dict. The root is writable (unlike `runc
    spec`) because many tests write into their own copy of the rootfs; the
    read-only root has its own test."""
    config = {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args) if args else ["true"],
            "env": [PATH_ENV, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {kind: list(DEFAULT_CAPS)
                             for kind in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "berth-test",
        "mounts": copy.deepcopy(DEFAULT_MOUNTS),
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in DEFAULT_NAMESPACES],
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
    }
    if cgroups_path:
        config["linux"]["cgroupsPath"] = cgroups_path
    return deep_merge(config, overrides)


def set_namespace(config, ns_type, path=None):
    """Add (or replace) one namespace entry, e.g. to join one by path."""
    nss = [ns for ns in config["linux"]["namespaces"] if ns["type"] != ns_type]
    nss.append({"type": ns_type, "path": path} if path else {"type": ns_type})
    config["linux"]["namespaces"] = nss
    return config


def remove_namespace(config, ns_type):
    config["linux"]["namespaces"] = [
        ns for ns in config["linux"]["namespaces"] if ns["type"] != ns_type]
    return config
