"""podman and skopeo as image peers (load, save, pull, inspect), with every
byte they keep in the test's temp dir: vfs storage, own run root and tmp
dir, `/var/lib/containers/cache` never touched (blob-info cache kept in the
storage root via --root)."""
import json
import os
import subprocess

PODMAN = "/usr/bin/podman"
SKOPEO = "/usr/bin/skopeo"


def run(cmd, env=None, check=True, timeout=300, input=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                       input=input, stdin=None if input is not None else subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError(f"$ {' '.join(cmd)}\n-> exit {r.returncode}\n"
                             f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return r


class PodmanImages:
    def __init__(self, top):
        self.top = top
        os.makedirs(top, exist_ok=True)
        conf = os.path.join(top, "containers.conf")
        with open(conf, "w") as f:
            f.write('[engine]\nevents_logger = "file"\n')
        reg = os.path.join(top, "registries.conf")
        with open(reg, "w") as f:
            f.write('unqualified-search-registries = []\n')
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_REGISTRIES_CONF=reg)
        self.base = [PODMAN, "--root", os.path.join(top, "root"), "--runroot", os.path.join(top, "runroot"),
                     "--tmpdir", os.path.join(top, "tmp"), "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def __call__(self, *args, check=True, timeout=300):
        return run(self.base + list(args), env=self.env, check=check, timeout=timeout)

    def image_ids(self):
        return self("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout.split("\n")


def skopeo(*args, check=True, timeout=300):
    return run([SKOPEO, *args], check=check, timeout=timeout)


def skopeo_inspect_raw(transport_ref):
    return json.loads(skopeo("inspect", "--raw", transport_ref).stdout)
