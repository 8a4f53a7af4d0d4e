"""The config.json supervisor/oci generates, run by the real runtimes.

berth-oci-spec (built with supervisor/oci) prints the spec berthd would
write for a container description; each test runs it on a busybox bundle
under berth and under runc (/usr/sbin/runc) and checks from inside the
container what docker 20.10 gives for the same flags: the default
capability mask 0xa80425fb, seccomp in filter mode, masked and read-only
/proc paths, a 64 MiB /dev/shm, the image's users. No berthd is needed."""
import hashlib
import json
import os
import subprocess

import pytest

from lib import paths
from lib.runtime import Runtime

RUNC = "/usr/sbin/runc"
DOCKER_DEFAULT_CAPS = "00000000a80425fb"  # docker's 14 capabilities as a CapEff mask


def tool_bin():
    return os.path.join(paths.build_dir(), "supervisor", "oci", "berth-oci-spec")


@pytest.fixture(scope="module")
def tool():
    path = tool_bin()
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: build the berth-oci-spec target", pytrace=False)
    return path


@pytest.fixture(params=["berth", "runc"])
def rt(request, berth, flavor, test_env):
    if request.param == "runc":
        if not os.access(RUNC, os.X_OK):
            pytest.skip(f"{RUNC} not installed")
        binary, kind = RUNC, "runc"
    else:
        binary, kind = berth, flavor
    r = Runtime(binary, test_env.state_dir, test_env.io_dir, kind)
    yield r
    test_env.left_commands.extend(r.close())


def image_doc(cmd=("sh",), env=("PATH=/usr/local/bin:/usr/bin:/bin",), **config):
    cfg = {"Cmd": list(cmd), "Env": list(env)}
    cfg.update(config)
    return {"architecture": "amd64", "os": "linux", "config": cfg,
            "rootfs": {"type": "layers", "diff_ids": []}}


def generate(tool, description):
    res = subprocess.run([tool], input=json.dumps(description), capture_output=True, text=True,
                         timeout=30)
    return res.returncode, res.stdout, res.stderr


def describe(b, tmp, config, image=None, **extra):
    cid = hashlib.sha256(b.id.encode()).hexdigest()
    files = {}
    for name, text in (("hostname", cid[:12] + "\n"), ("hosts", "127.0.0.1 localhost\n"),
                       ("resolv.conf", "nameserver 127.0.0.1\n")):
        files[name] = os.path.join(tmp, f"{b.id}-{name}")
        with open(files[name], "w") as f:
            f.write(text)
    d = {"id": cid, "rootfs": b.rootfs, "cgroups_path": b.config["linux"]["cgroupsPath"],
         "config": config, "image": image or image_doc(),
         "hostname_file": files["hostname"], "hosts_file": files["hosts"],
         "resolv_file": files["resolv.conf"]}
    d.update(extra)
    return d


def spec_bundle(bundle, tool, tmp, config, image=None, **extra):
    """A busybox bundle whose config.json is the generated one."""
    b = bundle(["true"])
    rc, out, err = generate(tool, describe(b, tmp, config, image, **extra))
    assert rc == 0, err
    b.config = json.loads(out)
    b.save()
    return b


def status_fields(out):
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def run_ok(rt, b):
    res = rt.run(b)
    assert res.ok, res
    return res.out


def test_oci_spec_docker_defaults(rt, bundle, tool, tmp):
    script = ("grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; "
              "echo host=$(hostname); echo etc=$(cat /etc/hostname); echo id=$(id -u); "
              "echo timers=$(wc -c < /proc/timer_list); "
              "(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo sys=rw || echo sys=ro; "
              "echo shm=$(df -k /dev/shm | tail -1 | awk '{print $2}'); "
              "unshare -U true 2>/dev/null && echo userns=yes || echo userns=no; "
              "echo env=$HOSTNAME:$HOME:$PATH")
    b = spec_bundle(bundle, tool, tmp, {"cmd": ["sh", "-c", script]})
    out = run_ok(rt, b)
    fields = status_fields(out)
    assert fields["CapEff"] == DOCKER_DEFAULT_CAPS, out
    assert fields["CapBnd"] == DOCKER_DEFAULT_CAPS, out
    assert fields["Seccomp"] == "2", out
    assert fields["NoNewPrivs"] == "0", out
    short = b.config["hostname"]
    lines = set(out.splitlines())
    assert {f"host={short}", f"etc={short}", "id=0", "timers=0", "sys=ro", "shm=65536",
            "userns=no", f"env={short}:/root:/usr/local/bin:/usr/bin:/bin"} <= lines, out


def test_oci_spec_user_options(rt, bundle, tool, tmp):
    script = ("echo uid=$(id -u) groups=$(id -G | tr ' ' '\\n' | sort -un | tr '\\n' ,); "
              "echo cwd=$(pwd) foo=$FOO home=$HOME nofile=$(ulimit -n); "
              "touch /written 2>/dev/null && echo root=rw || echo root=ro; "
              "grep -E '^CapEff:' /proc/self/status")
    config = {"cmd": ["sh", "-c", script], "user": "tester", "group_add": ["tty"],
              "working_dir": "/home/tester", "env": ["FOO=bar"], "read_only": True,
              "ulimits": [{"name": "nofile", "soft": 1000, "hard": 2000}]}
    out = run_ok(rt, spec_bundle(bundle, tool, tmp, config))
    lines = out.splitlines()
    assert "uid=1000 groups=5,1000," in lines, out
    assert "cwd=/home/tester foo=bar home=/home/tester nofile=1000" in lines, out
    assert "root=ro" in lines, out
    # a non-root user keeps no effective capabilities, as after execve
    assert status_fields(out)["CapEff"] == "0000000000000000", out


def test_oci_spec_cap_add_opens_the_conditional_seccomp_rules(rt, bundle, tool, tmp):
    script = ("grep -E '^CapEff:' /proc/self/status; "
              "unshare -m true && echo unshare=yes || echo unshare=no")
    out = run_ok(rt, spec_bundle(bundle, tool, tmp,
                                 {"cmd": ["sh", "-c", script], "cap_add": ["sys_admin"],
                                  "cap_drop": ["CAP_NET_RAW"]}))
    # + CAP_SYS_ADMIN (21), - CAP_NET_RAW (13)
    assert status_fields(out)["CapEff"] == "00000000a82405fb", out
    assert "unshare=yes" in out.splitlines(), out


def test_oci_spec_privileged(rt, bundle, tool, tmp):
    with open("/proc/self/status") as f:
        own = status_fields(f.read())["CapEff"]
    script = ("grep -E '^(CapEff|Seccomp):' /proc/self/status; "
              "grep ' /sys sysfs ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; "
              "echo timers=$(wc -c < /proc/timer_list)")
    out = run_ok(rt, spec_bundle(bundle, tool, tmp,
                                 {"cmd": ["sh", "-c", script], "privileged": True}))
    fields = status_fields(out)
    assert fields["CapEff"] == own, out
    assert fields["Seccomp"] == "0", out
    assert "rw" in out.splitlines(), out
    assert "timers=0" not in out.splitlines(), out  # no masked paths


def test_oci_spec_resources_and_sysctls(rt, bundle, tool, tmp):
    script = ("echo fwd=$(cat /proc/sys/net/ipv4/ip_forward) "
              "ports=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)")
    config = {"cmd": ["sh", "-c", script], "sysctls": {"net.ipv4.ip_forward": "1"},
              "memory": 64 << 20, "pids_limit": 50, "nano_cpus": 500000000}
    b = spec_bundle(bundle, tool, tmp, config)
    res = b.config["linux"]["resources"]
    assert res["memory"] == {"limit": 64 << 20, "swap": 128 << 20}
    assert res["cpu"] == {"quota": 50000, "period": 100000}
    assert res["pids"] == {"limit": 50}
    assert "fwd=1 ports=0" in run_ok(rt, b).splitlines()


def test_oci_spec_exec_process(rt, bundle, tool, tmp):
    b = spec_bundle(bundle, tool, tmp, {"cmd": ["sleep", "60"], "env": ["A=container"]})
    res = rt.run(b, "--detach")
    assert res.ok, res
    try:
        rc, out, err = generate(tool, describe(b, tmp, {"cmd": ["sleep", "60"], "env": ["A=container"]},
                                               exec={"args": ["sh", "-c", "echo $(id -u) $A $B $(pwd)"],
                                                     "env": ["B=exec"], "user": "tester",
                                                     "working_dir": "/tmp"}))
        assert rc == 0, err
        path = os.path.join(tmp, "process.json")
        with open(path, "w") as f:
            f.write(out)
        res = rt.cmd("exec", "--process", path, b.id)
        assert res.ok, res
        assert res.out.splitlines() == ["1000 container exec /tmp"]
    finally:
        rt.kill(b.id, "KILL")
        rt.wait_status(b.id, "stopped")
        assert rt.delete(b.id).ok


def test_oci_spec_refuses_in_docker_words(bundle, tool, tmp):
    b = bundle(["true"])
    cases = [
        ({"cmd": ["true"], "user": "nobody2"},
         "unable to find user nobody2: no matching entries in passwd file"),
        ({"cmd": ["true"], "cap_add": ["FOO"]}, 'unknown capability: "CAP_FOO"'),
        ({"cmd": ["true"], "network_mode": "host", "sysctls": {"net.core.somaxconn": "1"}},
         'sysctl "net.core.somaxconn" is not allowed in the hosts network namespace'),
        ({}, "no command specified"),
        ({"cmd": ["true"], "memory": 1 << 20}, "minimum memory limit allowed is 6MB"),
    ]
    for config, message in cases:
        rc, out, err = generate(tool, describe(b, tmp, config, image_doc(cmd=())))
        assert rc == 1 and message in err, (config, err)


def test_oci_spec_user_lookup_stays_in_the_rootfs(bundle, tool, tmp):
    """An image whose /etc/passwd links to a host path must be read inside
    its rootfs: the decoy passwd outside names a user the image lacks."""
    b = bundle(["true"])
    decoy = os.path.join(tmp, "decoy-passwd")
    with open(decoy, "w") as f:
        f.write("intruder:x:4242:4242::/decoy:/bin/sh\n")
    passwd = os.path.join(b.rootfs, "etc", "passwd")
    os.unlink(passwd)
    os.symlink(decoy, passwd)
    rc, out, err = generate(tool, describe(b, tmp, {"cmd": ["true"], "user": "intruder"}))
    assert rc == 1, out
    assert "unable to find user intruder" in err


def test_oci_spec_working_dir_missing_from_the_image_is_created(rt, bundle, tool, tmp):
    """docker creates -w's directory at create; berth (unlike runc) refuses a
    missing cwd, so the generator's caller must make it."""
    assert not os.path.exists(os.path.join(tmp, "no"))
    out = run_ok(rt, spec_bundle(bundle, tool, tmp, {"cmd": ["pwd"], "working_dir": "/no/such/dir"}))
    assert out.splitlines() == ["/no/such/dir"]


def test_oci_spec_mounts_devices_and_init(rt, bundle, tool, tmp):
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    with open(os.path.join(data, "f"), "w") as f:
        f.write("from-host\n")
    # A stand-in for docker-init: shows it runs as pid 1 with docker's
    # arguments, then becomes the command.
    init = os.path.join(tmp, "fake-init")
    with open(init, "w") as f:
        f.write('#!/bin/sh\necho "init pid=$$ args=$*"\nshift\nexec "$@"\n')
    os.chmod(init, 0o755)
    script = ("cat /data/f; touch /data/x 2>/dev/null && echo data=rw || echo data=ro; "
              "echo run=$(df -k /run | tail -1 | awk '{print $2}'); "
              "echo hi > /dev/mynull && echo dev=ok")
    b = spec_bundle(bundle, tool, tmp,
                    {"cmd": ["sh", "-c", script], "init": True,
                     "devices": [{"host_path": "/dev/null", "container_path": "/dev/mynull",
                                  "permissions": "rw"}]},
                    mounts=[{"type": "bind", "source": data, "target": "/data", "read_only": True},
                            {"type": "tmpfs", "target": "/run", "options": ["size=1m"]}],
                    init_path=init)
    out = run_ok(rt, b)
    assert out.splitlines() == [f"init pid=1 args=-- sh -c {script}", "from-host", "data=ro",
                                "run=1024", "dev=ok"], out
    assert not os.path.exists(os.path.join(data, "x"))
