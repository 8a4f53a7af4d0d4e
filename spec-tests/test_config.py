"""config.json fields and their effect inside the container, checked with
/bin/probe: runtime-spec 1.2 semantics, runc behaviour where the spec leaves
room. Cases that depend on this host's limits (no CAP_SYS_RESOURCE) skip with a
reason where the host differs."""
import json
import os
import resource

import pytest

from lib import caps
from lib.config import remove_namespace, set_namespace
from lib.console import ConsoleSocket


def run_ok(runtime, b):
    res = runtime.run(b)
    assert res.rc == 0, res
    return res.out


def has_cap_sys_resource():
    return bool(caps.host_effective() & caps.mask(["CAP_SYS_RESOURCE"]))


# --------------------------------------------------------------- identity, env
def test_hostname(runtime, bundle):
    b = bundle(["probe", "hostname"], hostname="box1")
    assert run_ok(runtime, b).startswith("hostname=box1 ")


@pytest.mark.runc_differs("runc 1.1 ignores domainname")
def test_domainname(runtime, bundle):
    b = bundle(["probe", "hostname"], hostname="box1", domainname="example.org")
    assert run_ok(runtime, b) == "hostname=box1 domainname=example.org\n"


def test_env_is_exactly_the_config_plus_home(runtime, bundle):
    b = bundle(["env"], process={"env": ["PATH=/bin", "FOO=bar baz", "EMPTY="]})
    env = sorted(run_ok(runtime, b).splitlines())
    # like runc, HOME comes from /etc/passwd when the config does not set it
    assert env == ["EMPTY=", "FOO=bar baz", "HOME=/root", "PATH=/bin"]


def test_env_home_from_config_wins(runtime, bundle):
    b = bundle(["sh", "-c", "echo $HOME"], process={"env": ["PATH=/bin", "HOME=/tmp"]})
    assert run_ok(runtime, b) == "/tmp\n"


def test_cwd(runtime, bundle):
    b = bundle(["probe", "cwd"], process={"cwd": "/home/tester"})
    assert run_ok(runtime, b) == "/home/tester\n"


def test_args_are_passed_verbatim(runtime, bundle):
    b = bundle(["sh", "-c", 'for a in "$@"; do echo "<$a>"; done', "sh", "a b", "", "$HOME"])
    assert run_ok(runtime, b) == "<a b>\n<>\n<$HOME>\n"


def test_user_uid_gid_and_additional_gids(runtime, bundle):
    b = bundle(["probe", "ids"], process={"user": {"uid": 1000, "gid": 1000,
                                                   "additionalGids": [5, 100]}})
    out = run_ok(runtime, b).split()
    assert out[:4] == ["uid=1000", "gid=1000", "euid=1000", "egid=1000"]
    assert sorted(out[4].removeprefix("groups=").split(",")) == ["100", "5"]


def test_user_without_additional_gids_has_no_supplementary_groups(runtime, bundle):
    b = bundle(["probe", "ids"], process={"user": {"uid": 1000, "gid": 1000}})
    assert run_ok(runtime, b) == "uid=1000 gid=1000 euid=1000 egid=1000 groups=\n"


def test_umask(runtime, bundle):
    b = bundle(["probe", "umask"], process={"user": {"uid": 0, "gid": 0, "umask": 0o027}})
    assert run_ok(runtime, b).split() == ["Umask:", "0027"]


# --------------------------------------------------------------------- rlimits
def test_rlimit_applied(runtime, bundle):
    b = bundle(["probe", "rlimit", "NOFILE"],
               process={"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000}]})
    assert run_ok(runtime, b) == "soft=512 hard=1000\n"


def test_several_rlimits(runtime, bundle):
    b = bundle(["sh", "-c", "probe rlimit CORE; probe rlimit NPROC"],
               process={"rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                                    {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400}]})
    assert run_ok(runtime, b) == "soft=0 hard=0\nsoft=300 hard=400\n"


def test_rlimit_above_hard_limit_fails_clearly(runtime, bundle):
    if has_cap_sys_resource():
        pytest.skip("this host grants CAP_SYS_RESOURCE: raising the hard limit is allowed")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    b = bundle(["probe", "rlimit", "NOFILE"], process={"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": hard + 1000, "hard": hard + 1000}]})
    res = runtime.create(b)
    assert res.rc == 1, res
    assert "rlimit" in res.err.lower(), res
    if not runtime.is_runc:  # runc names it "type 7"
        assert "RLIMIT_NOFILE" in res.err, res


def test_unknown_rlimit_fails(runtime, bundle):
    b = bundle(process={"rlimits": [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]})
    res = runtime.create(b)
    assert res.rc == 1, res
    assert "RLIMIT_BOGUS" in res.err, res


# ---------------------------------------------------------------------- sysctl
def test_namespaced_sysctl(runtime, bundle):
    b = bundle(["cat", "/proc/sys/net/ipv4/ip_forward"],
               linux={"sysctl": {"net.ipv4.ip_forward": "1"}})
    assert run_ok(runtime, b) == "1\n"


def test_host_wide_sysctl_is_refused(runtime, bundle):
    # kernel.printk_ratelimit is not namespaced: setting it in a container
    # would change the host. The value asked for is the host's current one,
    # so even a broken runtime changes nothing; it must still refuse.
    path = "/proc/sys/kernel/printk_ratelimit"
    with open(path) as f:
        before = f.read().strip()
    b = bundle(linux={"sysctl": {"kernel.printk_ratelimit": before}})
    res = runtime.create(b)
    with open(path) as f:
        assert f.read().strip() == before
    assert res.rc == 1, res
    assert "kernel.printk_ratelimit" in res.err, res


def test_net_sysctl_without_network_namespace_is_refused(runtime, bundle):
    b = bundle(linux={"sysctl": {"net.ipv4.ip_forward": "0"}})
    remove_namespace(b.config, "network")
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert "net.ipv4.ip_forward" in res.err, res


# --------------------------------------------------------------------- devices
DEFAULT_DEVICES = {  # path: rdev; all 0666 character devices
    "/dev/null": "1:3", "/dev/zero": "1:5", "/dev/full": "1:7", "/dev/random": "1:8",
    "/dev/urandom": "1:9", "/dev/tty": "5:0",
}


def test_default_devices(runtime, bundle):
    b = bundle(["sh", "-c", "for d in " + " ".join(DEFAULT_DEVICES) + "; do probe stat $d; done"])
    lines = run_ok(runtime, b).splitlines()
    for line, rdev in zip(lines, DEFAULT_DEVICES.values()):
        assert line.startswith("type=chr mode=0666 ") and f" rdev={rdev} " in line, lines
    assert len(lines) == len(DEFAULT_DEVICES)


def test_default_dev_symlinks(runtime, bundle):
    links = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
             "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2",
             "/dev/ptmx": "pts/ptmx"}
    b = bundle(["sh", "-c", "for l in " + " ".join(links) + "; do echo $l $(readlink $l); done"])
    got = dict(line.split() for line in run_ok(runtime, b).splitlines())
    assert got == links


def test_configured_device_node_and_cgroup_rule(runtime, bundle):
    # 240-254 is the "local/experimental" major range: no driver here, so an
    # open the device cgroup allows fails with ENXIO/ENODEV, one it denies with
    # EPERM, and nothing on the host is ever touched.
    b = bundle(["sh", "-c", "probe stat /dev/berth-null; probe write /dev/berth-null x; "
                            "probe write /dev/berth-allowed x; probe write /dev/berth-denied x"])
    b.config["linux"]["devices"] = [
        {"path": "/dev/berth-null", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o640, "uid": 0, "gid": 0},
        {"path": "/dev/berth-allowed", "type": "c", "major": 240, "minor": 1, "fileMode": 0o666},
        {"path": "/dev/berth-denied", "type": "c", "major": 240, "minor": 2, "fileMode": 0o666},
    ]
    b.config["linux"]["resources"]["devices"] += [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
        {"allow": True, "type": "c", "major": 240, "minor": 1, "access": "rw"},
    ]
    res = runtime.run(b.save())
    lines = res.out.splitlines()
    assert lines[0].startswith("type=chr mode=0640 uid=0 gid=0 rdev=1:3 "), res
    assert lines[1] == "ok"
    assert lines[2] in ("ENXIO", "ENODEV"), lines
    assert lines[3] == "EPERM", lines


# ---------------------------------------------------------------------- mounts
def mount_line(mountinfo, mountpoint):
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == mountpoint:
            return fields
    raise AssertionError(f"no mount at {mountpoint} in:\n{mountinfo}")


def test_tmpfs_mount_with_options(runtime, bundle):
    b = bundle(["sh", "-c", "probe mounts; probe write /data/x y"])
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                               "options": ["ro", "nosuid", "nodev", "size=1m"]})
    res = runtime.run(b.save())
    fields = mount_line(res.out, "/data")
    per_mount = fields[5].split(",")
    assert {"ro", "nosuid", "nodev"} <= set(per_mount), fields
    assert fields[fields.index("-") + 1] == "tmpfs"
    assert res.out.splitlines()[-1] == "EROFS"


def test_bind_mount_read_write(runtime, bundle, tmp):
    src = os.path.join(tmp, "shared")
    os.mkdir(src)
    with open(os.path.join(src, "from-host"), "w") as f:
        f.write("host\n")
    b = bundle(["sh", "-c", "cat /mnt/shared/from-host; echo container > /mnt/shared/from-ctr"])
    b.config["mounts"].append({"destination": "/mnt/shared", "type": "bind", "source": src,
                               "options": ["rbind", "rw"]})
    assert run_ok(runtime, b.save()) == "host\n"
    with open(os.path.join(src, "from-ctr")) as f:
        assert f.read() == "container\n"


def test_bind_mount_read_only_nosuid(runtime, bundle, tmp):
    src = os.path.join(tmp, "shared")
    os.mkdir(src)
    b = bundle(["sh", "-c", "probe mounts; probe write /mnt/ro/x y"])
    b.config["mounts"].append({"destination": "/mnt/ro", "type": "bind", "source": src,
                               "options": ["bind", "ro", "nosuid"]})
    res = runtime.run(b.save())
    fields = mount_line(res.out, "/mnt/ro")
    assert {"ro", "nosuid"} <= set(fields[5].split(",")), fields
    assert res.out.splitlines()[-1] == "EROFS"
    assert os.listdir(src) == []


def test_bind_mount_of_missing_source_fails(runtime, bundle, tmp):
    missing = os.path.join(tmp, "no-such-source")
    b = bundle()
    b.config["mounts"].append({"destination": "/mnt/x", "type": "bind", "source": missing,
                               "options": ["bind"]})
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert missing in res.err, res


def test_readonly_root(runtime, bundle):
    b = bundle(["sh", "-c", "probe write /newfile x; probe write /tmp/x y; "
                            "probe write /dev/shm/x y"], root={"readonly": True})
    assert run_ok(runtime, b).split() == ["EROFS", "EROFS", "ok"]
    assert not os.path.exists(os.path.join(b.rootfs, "newfile"))


# ------------------------------------------------------------------ namespaces
def test_namespaces_are_new_by_default(runtime, bundle):
    out = run_ok(runtime, bundle(["probe", "ns"]))
    theirs = dict(line.split() for line in out.splitlines())
    for kind in ("ipc", "mnt", "net", "pid", "uts"):
        assert theirs[kind] != os.readlink(f"/proc/self/ns/{kind}"), kind
    # not asked for: shared with the host
    assert theirs["user"] == os.readlink("/proc/self/ns/user")


def test_join_network_namespace_of_another_container(runtime, bundle):
    helper = bundle(["probe", "sleep"])
    assert runtime.run(helper, "--detach").ok
    pid = runtime.state(helper.id)["pid"]
    helper_net = os.readlink(f"/proc/{pid}/ns/net")

    b = bundle(["probe", "ns"])
    set_namespace(b.config, "network", f"/proc/{pid}/ns/net")
    out = run_ok(runtime, b.save())
    assert dict(line.split() for line in out.splitlines())["net"] == helper_net

    assert runtime.delete(helper.id, force=True).ok


def test_user_namespace_with_mappings(runtime, bundle):
    b = bundle(["sh", "-c", "probe ids; cat /proc/self/uid_map /proc/self/gid_map; "
                            "probe stat /etc/passwd"])
    set_namespace(b.config, "user")
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    lines = run_ok(runtime, b.save()).splitlines()
    assert lines[0].startswith("uid=0 gid=0 ")
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2].split() == ["0", "100000", "65536"]
    # host root owns the rootfs: unmapped, it shows as the overflow id
    assert " uid=65534 gid=65534 " in lines[3], lines


@pytest.mark.runc_differs("runc ignores mappings without a user namespace")
def test_uid_mappings_without_user_namespace_fail(runtime, bundle):
    b = bundle()
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1}]
    res = runtime.create(b.save())
    assert res.rc == 1, res


# ----------------------------------------------------------------------- hooks
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer",
              "poststart", "poststop")


def hook(marker_path, script_tail=""):
    """A hook that stores the state JSON it gets on stdin at marker_path."""
    return {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {marker_path}{script_tail}"]}


@pytest.mark.runc_differs("runc 1.1 runs poststart hooks at the end of create")
def test_hooks_run_at_their_lifecycle_points(runtime, bundle, tmp):
    markers = os.path.join(tmp, "markers")
    os.mkdir(markers)
    b = bundle(["probe", "sleep"])
    hooks = {kind: [hook(os.path.join(markers, kind))] for kind in HOOK_KINDS}
    # startContainer runs in the container: its path and marker are the container's
    hooks["startContainer"] = [hook("/startContainer.marker")]
    b.config["hooks"] = hooks
    b.save()

    def present():
        found = set(os.listdir(markers))
        if os.path.exists(os.path.join(b.rootfs, "startContainer.marker")):
            found.add("startContainer")
        return found

    assert runtime.create(b).ok
    assert present() == {"prestart", "createRuntime", "createContainer"}
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "running")
    assert present() == {"prestart", "createRuntime", "createContainer", "startContainer",
                         "poststart"}
    runtime.kill(b.id, "KILL")
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok
    assert present() == set(HOOK_KINDS)

    for kind in ("createRuntime", "poststart", "poststop"):
        with open(os.path.join(markers, kind)) as f:
            state = json.load(f)
        assert state["id"] == b.id, (kind, state)
        assert state["bundle"] == b.path, (kind, state)


def test_hook_gets_args_env_in_order(runtime, bundle, tmp):
    out = os.path.join(tmp, "hooks.log")
    b = bundle()
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f'echo "1 $0 $HOOKVAR" >> {out}', "arg0"],
         "env": ["HOOKVAR=set"]},
        {"path": "/bin/sh", "args": ["sh", "-c", f"echo 2 >> {out}"]},
    ]}
    assert runtime.create(b.save()).ok
    with open(out) as f:
        assert f.read() == "1 arg0 set\n2\n"
    assert runtime.delete(b.id, force=True).ok


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create_and_cleans_up(runtime, bundle, kind):
    b = bundle()
    b.config["hooks"] = {kind: [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    res = runtime.create(b.save())
    assert res.rc == 1, res
    assert runtime.state_raw(b.id).rc != 0
    assert os.listdir(runtime.state_dir) == []


def test_hook_timeout(runtime, bundle):
    b = bundle()
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}]}
    res = runtime.create(b.save(), timeout=20)
    assert res.rc == 1, res
    assert res.duration < 15, res
    assert runtime.state_raw(b.id).rc != 0


def test_failing_poststop_hook_does_not_block_delete(runtime, bundle):
    # spec: a failing poststop hook is logged; deletion still completes
    b = bundle(["true"])
    b.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]}
    assert runtime.create(b.save()).ok
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "stopped")
    runtime.delete(b.id)
    assert runtime.state_raw(b.id).rc != 0


# -------------------------------------------------------------------- terminal
def test_terminal_through_console_socket(runtime, bundle, tmp):
    b = bundle(["probe", "tty"], process={"terminal": True,
                                          "consoleSize": {"height": 40, "width": 100}})
    console = ConsoleSocket(os.path.join(tmp, "console.sock"))
    try:
        assert runtime.create(b, "--console-socket", console.path).ok
        console.receive()
        assert runtime.start(b.id).ok
        out = console.read_until_closed().replace("\r\n", "\n")
    finally:
        console.close()
    assert "isatty0=1\nisatty1=1\nisatty2=1\n" in out, out
    assert "rows=40 cols=100\n" in out, out
    assert "ttyname=/dev/pts/0" in out, out
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok


def test_terminal_without_console_socket_fails_for_create(runtime, bundle):
    b = bundle(["probe", "tty"], process={"terminal": True})
    res = runtime.create(b)
    assert res.rc == 1, res
    assert "console" in res.err, res


# ------------------------------------------------------- process attributes
@pytest.mark.runc_differs("runc 1.1 ignores linux.personality")
def test_personality(runtime, bundle):
    b = bundle(["probe", "personality"], linux={"personality": {"domain": "LINUX32"}})
    assert run_ok(runtime, b) == "personality=0x8\n"


def test_oom_score_adj_raised(runtime, bundle):
    b = bundle(["probe", "oom"], process={"oomScoreAdj": 500})
    assert run_ok(runtime, b) == "500\n"


def test_oom_score_adj_lowered_fails_clearly(runtime, bundle):
    if has_cap_sys_resource():
        pytest.skip("this host grants CAP_SYS_RESOURCE: lowering oom_score_adj is allowed")
    with open("/proc/self/oom_score_adj") as f:
        own = int(f.read())
    if own <= -1000:
        pytest.skip("oom_score_adj already at its minimum")
    b = bundle(["probe", "oom"], process={"oomScoreAdj": max(own - 100, -1000)})
    res = runtime.create(b)
    assert res.rc == 1, res
    assert "oom_score_adj" in res.err, res


@pytest.mark.runc_differs("runc 1.1 ignores process.ioPriority (runtime-spec 1.2)")
def test_io_priority(runtime, bundle):
    b = bundle(["probe", "ioprio"],
               process={"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 6}})
    assert run_ok(runtime, b) == "class=IOPRIO_CLASS_BE level=6\n"


@pytest.mark.runc_differs("runc 1.1 ignores process.scheduler (runtime-spec 1.2)")
def test_scheduler(runtime, bundle):
    b = bundle(["probe", "sched"],
               process={"scheduler": {"policy": "SCHED_BATCH", "nice": 5}})
    assert run_ok(runtime, b) == "policy=SCHED_BATCH priority=0 nice=5\n"
