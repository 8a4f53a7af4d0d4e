"""docker's container verbs through berthctl and a private berthd: run
(attached, detached, -i, --rm), create/start, ps, logs, exec, inspect,
stop/kill/restart, pause, rename, wait, top, rm, prune; run's flags reaching
the container; docker's exit codes and error lines; nothing left behind."""
import json
import os
import subprocess
import time

import pytest

IMAGE = "localhost/busybox:latest"


@pytest.fixture(scope="module")
def d(daemon, busybox_oci):
    daemon.ctl("load", "-i", busybox_oci)
    return daemon


def shim_processes(daemon):
    """berth-shim and berth-logger processes of this daemon's containers."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if ("berth-shim" in l or "berth-logger" in l)
            and daemon.root in l]


@pytest.fixture(autouse=True)
def clean(d):
    yield
    ids = d.ctl("ps", "-aq", "--no-trunc").stdout.split()
    if ids:
        d.ctl("rm", "-f", *ids, check=False)
    assert d.ctl("ps", "-aq").stdout == ""
    assert not d.mounts(), d.mounts()
    assert os.listdir(os.path.join(d.root, "containers")) == [] if os.path.isdir(
        os.path.join(d.root, "containers")) else True
    assert not shim_processes(d)


def run(d, *args, **kw):
    return d.ctl("run", *args, check=False, **kw)


def inspect(d, ref):
    return json.loads(d.ctl("inspect", ref).stdout)[0]


def test_run_prints_output_and_exits_with_the_containers_code(d):
    r = run(d, "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"


def test_run_passes_arguments_after_the_image_untouched(d):
    r = run(d, "--rm", IMAGE, "echo", "-n", "--help", "-e")
    assert r.returncode == 0
    assert r.stdout == "--help -e"


def test_run_interactive_streams_stdin(d):
    r = run(d, "-i", "--rm", IMAGE, "sh", "-c", "cat; echo done", input="hi\nthere\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\nthere\ndone\n"


def test_run_rm_leaves_nothing(d):
    assert run(d, "--rm", "--name", "gone", IMAGE, "true").returncode == 0
    assert d.ctl("ps", "-aq").stdout == ""
    # The name is free again at once.
    assert run(d, "--rm", "--name", "gone", IMAGE, "true").returncode == 0


def test_detached_container_lifecycle(d):
    r = d.ctl("run", "-d", "--name", "web", IMAGE, "sh", "-c",
              "trap 'echo bye; exit 0' TERM; i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done")
    cid = r.stdout.strip()
    assert len(cid) == 64
    time.sleep(0.5)
    ps = d.ctl("ps", "--format", "{{.ID}} {{.Names}} {{.Status}}").stdout
    assert ps.startswith(cid[:12] + " web Up ")
    logs = d.ctl("logs", "web").stdout.splitlines()
    assert logs[0] == "line 0" and len(logs) >= 2
    assert d.ctl("logs", "--tail", "1", cid[:6]).stdout.count("\n") == 1
    ts = d.ctl("logs", "-t", "--tail", "1", "web").stdout
    assert ts[:4].isdigit() and "Z line " in ts
    st = inspect(d, "web")["State"]
    assert st["Status"] == "running" and st["Running"] and st["Pid"] > 0
    assert d.ctl("stop", "web").stdout == "web\n"
    st = inspect(d, "web")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 0 and not st["Running"]
    assert d.ctl("logs", "--tail", "1", "web").stdout == "bye\n"
    assert "Exited (0)" in d.ctl("ps", "-a", "--format", "{{.Status}}").stdout
    assert d.ctl("ps", "-q").stdout == ""
    d.ctl("rm", "web")
    r = d.ctl("inspect", "web", check=False)
    assert r.returncode == 1 and "No such object: web" in r.stderr
    r = d.ctl("container", "inspect", "web", check=False)
    assert r.returncode == 1 and "No such container: web" in r.stderr


def test_create_then_start_and_wait(d):
    cid = d.ctl("create", "--name", "c1", IMAGE, "sh", "-c", "exit 7").stdout.strip()
    assert inspect(d, cid)["State"]["Status"] == "created"
    assert "Created" in d.ctl("ps", "-a", "--format", "{{.Status}}").stdout
    assert d.ctl("start", "c1").stdout == "c1\n"
    assert d.ctl("wait", "c1").stdout == "7\n"
    assert inspect(d, "c1")["State"]["ExitCode"] == 7
    # start -a attaches and takes the exit code.
    r = d.ctl("start", "-a", "c1", check=False)
    assert r.returncode == 7


def test_exec_runs_in_the_container(d):
    d.ctl("run", "-d", "--name", "xx", "-e", "FOO=bar", IMAGE, "sleep", "1000")
    r = d.ctl("exec", "xx", "sh", "-c", "echo $FOO; hostname; exit 4", check=False)
    assert r.returncode == 4
    out = r.stdout.splitlines()
    assert out[0] == "bar"
    assert out[1] == inspect(d, "xx")["Id"][:12]
    r = d.ctl("exec", "-i", "xx", "cat", input="piped\n")
    assert r.stdout == "piped\n"
    r = d.ctl("exec", "-e", "A=1", "-w", "/tmp", "-u", "65534", "xx", "sh", "-c", "echo $A $(pwd) $(id -u)")
    assert r.stdout == "1 /tmp 65534\n"
    r = d.ctl("exec", "xx", "no-such-command", check=False)
    assert r.returncode == 127, r.stderr
    d.ctl("stop", "-t", "0", "xx")
    r = d.ctl("exec", "xx", "true", check=False)
    assert r.returncode != 0 and "is not running" in r.stderr


def test_top_pause_unpause_kill(d):
    # A shell as PID 1 ignores SIGTERM unless it traps it.
    d.ctl("run", "-d", "--name", "pp", IMAGE, "sh", "-c", "trap 'exit 143' TERM; sleep 1000 & wait")
    time.sleep(0.3)
    top = d.ctl("top", "pp").stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "CMD"]
    assert any("sleep 1000" in line for line in top[1:]) and len(top) == 3
    d.ctl("pause", "pp")
    assert inspect(d, "pp")["State"]["Paused"]
    assert "(Paused)" in d.ctl("ps", "--format", "{{.Status}}").stdout
    r = d.ctl("pause", "pp", check=False)
    assert r.returncode == 1 and "already paused" in r.stderr
    d.ctl("unpause", "pp")
    assert inspect(d, "pp")["State"]["Status"] == "running"
    d.ctl("kill", "-s", "TERM", "pp")
    assert d.ctl("wait", "pp").stdout == "143\n"
    r = d.ctl("kill", "pp", check=False)
    assert r.returncode == 1 and "is not running" in r.stderr


def test_restart_and_rename(d):
    d.ctl("run", "-d", "--name", "aa", IMAGE, "sleep", "1000")
    pid = inspect(d, "aa")["State"]["Pid"]
    d.ctl("restart", "-t", "0", "aa")
    st = inspect(d, "aa")["State"]
    assert st["Running"] and st["Pid"] != pid
    d.ctl("rename", "aa", "bb")
    assert inspect(d, "bb")["Name"] == "/bb"
    d.ctl("run", "-d", "--name", "cc", IMAGE, "sleep", "1000")
    r = d.ctl("rename", "cc", "bb", check=False)
    assert r.returncode == 1 and "already in use" in r.stderr


def test_restart_policy_on_failure_counts(d):
    d.ctl("run", "-d", "--name", "rp", "--restart", "on-failure:2", IMAGE, "sh", "-c", "exit 5")
    deadline = time.time() + 20
    while time.time() < deadline:
        info = inspect(d, "rp")
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.1)
    assert info["RestartCount"] == 2 and info["State"]["ExitCode"] == 5
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_run_flags_reach_the_container(d, tmp_path):
    os.chmod(tmp_path, 0o755)  # the container's user 65534 reads it
    (tmp_path / "data").write_text("from host\n")
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n\n")
    r = run(d, "--rm", "-e", "A=1", "--env-file", str(env_file), "-w", "/tmp", "-h", "boxy",
            "-u", "65534:65534", "-v", f"{tmp_path}:/mnt:ro", "--tmpfs", "/scratch",
            "-l", "k=v", "--read-only", IMAGE, "sh", "-c",
            "echo $A $FROM_FILE; pwd; hostname; id -u; id -g; cat /mnt/data; "
            "touch /mnt/x 2>/dev/null || echo ro-bind; touch /x 2>/dev/null || echo ro-root; "
            "touch /scratch/ok && echo tmpfs-rw; grep -c CapEff /proc/self/status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["1 yes", "/tmp", "boxy", "65534", "65534", "from host",
                                     "ro-bind", "ro-root", "tmpfs-rw", "1"]


def test_bind_sources(d, tmp_path):
    made = tmp_path / "made-by-v"
    assert run(d, "--rm", "-v", f"{made}:/m", IMAGE, "true").returncode == 0
    assert made.is_dir()
    missing = tmp_path / "missing"
    r = run(d, "--rm", "--mount", f"type=bind,source={missing},target=/m", IMAGE, "true")
    assert r.returncode == 125
    assert f"bind source path does not exist: {missing}" in r.stderr
    assert not missing.exists()


def test_capabilities_memory_and_pids(d):
    caps = run(d, "--rm", IMAGE, "grep", "CapEff", "/proc/self/status").stdout.split()[1]
    assert caps == "00000000a80425fb"  # docker's 14 default capabilities
    dropped = run(d, "--rm", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", IMAGE,
                  "grep", "CapEff", "/proc/self/status").stdout.split()[1]
    assert dropped == "0000000000001000"
    d.ctl("run", "-d", "--name", "lim", "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
          IMAGE, "sleep", "1000")
    hc = inspect(d, "lim")["HostConfig"]
    assert hc["Memory"] == 64 << 20 and hc["PidsLimit"] == 50 and hc["NanoCpus"] == 500000000


def test_docker_exit_codes_and_errors(d):
    r = run(d, "--rm", IMAGE, "no-such-command")
    assert r.returncode == 127, r.stderr
    r = run(d, "--rm", IMAGE, "/etc/passwd")
    assert r.returncode == 126, r.stderr
    r = run(d, "-m", "1x", IMAGE, "true")
    assert r.returncode == 125
    assert 'invalid argument "1x" for "-m, --memory" flag: invalid size' in r.stderr
    r = run(d, "--restart", "sometimes", IMAGE, "true")
    assert r.returncode == 125 and "invalid restart policy" in r.stderr
    r = run(d, "--rm", "--restart", "always", IMAGE, "true")
    assert r.returncode == 125 and "Conflicting options" in r.stderr
    r = run(d, "--env-file", "/nonexistent/env", IMAGE, "true")
    assert r.returncode == 125 and "/nonexistent/env" in r.stderr
    r = run(d, "--pull", "never", "localhost/nothing:here", "true")
    assert r.returncode == 125 and "No such image" in r.stderr
    d.ctl("create", "--name", "taken", IMAGE, "true")
    r = run(d, "--name", "taken", IMAGE, "true")
    assert r.returncode == 125 and 'The container name "/taken" is already in use' in r.stderr
    r = run(d, "--name", "bad name", IMAGE, "true")
    assert r.returncode == 125 and "Invalid container name" in r.stderr
    r = run(d, "--network", "bridge", IMAGE, "true")
    assert r.returncode == 125 and "network bridge not found" in r.stderr
    # A failed run leaves no container behind it (only `taken` exists).
    assert d.ctl("ps", "-aq").stdout.split() == [inspect(d, "taken")["Id"][:12]]


def test_missing_image_is_pulled_by_run_and_failure_is_125(d):
    r = run(d, "127.0.0.1:9/nothing:here", "true")
    assert r.returncode == 125
    assert "Unable to find image '127.0.0.1:9/nothing:here' locally" in r.stderr


def test_rm_refuses_a_running_container_unless_forced(d):
    d.ctl("run", "-d", "--name", "busy", IMAGE, "sleep", "1000")
    r = d.ctl("rm", "busy", check=False)
    assert r.returncode == 1 and "Stop the container before attempting removal" in r.stderr
    d.ctl("rm", "-f", "busy")
    assert d.ctl("ps", "-aq").stdout == ""


def test_ps_filters_and_formats(d):
    d.ctl("run", "-d", "--name", "up1", "-l", "tier=web", IMAGE, "sleep", "1000")
    d.ctl("run", "--name", "down1", IMAGE, "sh", "-c", "exit 2", check=False)
    names = lambda *a: sorted(d.ctl("ps", *a, "--format", "{{.Names}}").stdout.split())
    assert names() == ["up1"]
    assert names("-a") == ["down1", "up1"]
    assert names("--filter", "status=exited") == ["down1"]
    assert names("-a", "--filter", "exited=2") == ["down1"]
    assert names("-a", "--filter", "label=tier=web") == ["up1"]
    assert names("-a", "--filter", "name=down") == ["down1"]
    assert names("-a", "--filter", f"ancestor={IMAGE}") == ["down1", "up1"]
    assert names("-l") == ["down1"]
    header = d.ctl("ps").stdout.splitlines()[0].split()
    assert header == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    r = d.ctl("ps", "--filter", "colour=red", check=False)
    assert r.returncode == 1 and "invalid filter" in r.stderr
    report = d.ctl("container", "prune", "-f").stdout
    assert "Deleted Containers:" in report
    assert names("-a") == ["up1"]


def test_inspect_has_dockers_shape(d):
    cid = d.ctl("run", "-d", "--name", "shape", "--restart", "unless-stopped", IMAGE,
                "sleep", "1000").stdout.strip()
    info = inspect(d, "shape")
    assert info["Id"] == cid and info["Name"] == "/shape"
    assert info["Path"] == "sleep" and info["Args"] == ["1000"]
    for key in ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Pid", "ExitCode",
                "Error", "StartedAt", "FinishedAt"):
        assert key in info["State"]
    assert info["State"]["StartedAt"].endswith("Z")
    assert info["Image"].startswith("sha256:")
    assert info["LogPath"].endswith(f"{cid}-json.log")
    assert info["Config"]["Image"] == IMAGE
    assert info["Config"]["Hostname"] == cid[:12]
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert d.ctl("inspect", "-f", "{{.State.Status}}", "shape").stdout == "running\n"
    # docker's json-file lines in the log.
    d.ctl("exec", "shape", "true")
    lines = open(info["LogPath"]).read() if os.path.exists(info["LogPath"]) else ""
    assert lines == ""  # exec output is not logged; sleep printed nothing


def volumes(d):
    return sorted(d.ctl("volume", "ls", "-q").stdout.split())


def test_named_volume_keeps_data_and_starts_with_the_images_content(d):
    # First use copies what the image has at the path (docker's copy-up).
    r = run(d, "--rm", "-v", "keep:/etc", IMAGE, "sh", "-c", "cat /etc/passwd | head -1; echo saved > /etc/mine")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("root:")
    assert "keep" in volumes(d)
    r = run(d, "--rm", "-v", "keep:/data:ro", IMAGE, "sh", "-c", "cat /data/mine; touch /data/x || echo ro")
    assert r.stdout == "saved\nro\n"
    info = json.loads(d.ctl("volume", "inspect", "keep").stdout)[0]
    assert info["Name"] == "keep" and info["Driver"] == "local"
    assert open(os.path.join(info["Mountpoint"], "mine")).read() == "saved\n"
    d.ctl("volume", "rm", "keep")
    assert "keep" not in volumes(d)


def test_volume_in_use_is_refused_and_prune_keeps_used_ones(d):
    d.ctl("volume", "create", "--label", "a=b", "used")
    d.ctl("volume", "create", "idle")
    d.ctl("create", "--name", "holder", "-v", "used:/v", IMAGE, "true")
    r = d.ctl("volume", "rm", "used", check=False)
    assert r.returncode == 1 and "volume is in use" in r.stderr
    assert d.ctl("volume", "ls", "-q", "--filter", "label=a=b").stdout == "used\n"
    assert d.ctl("volume", "ls", "-q", "--filter", "dangling=true").stdout == "idle\n"
    out = d.ctl("volume", "prune", "-f").stdout
    assert "idle" in out and "used" not in out
    d.ctl("rm", "holder")
    d.ctl("volume", "rm", "used")
    r = d.ctl("volume", "create", "bad/name", check=False)
    assert r.returncode == 1 and "invalid characters" in r.stderr
    r = d.ctl("volume", "inspect", "nothing", check=False)
    assert r.returncode == 1 and "No such volume: nothing" in r.stderr


def test_anonymous_volumes_go_with_rm_v_and_rm_flag(d):
    before = volumes(d)
    run(d, "--rm", "-v", "/anon", IMAGE, "sh", "-c", "touch /anon/x")
    assert volumes(d) == before  # --rm removes anonymous volumes
    d.ctl("run", "--name", "av", "-v", "/anon", IMAGE, "true")
    made = [v for v in volumes(d) if v not in before]
    assert len(made) == 1 and len(made[0]) == 64
    d.ctl("rm", "-v", "av")
    assert volumes(d) == before


def cgroup_value(pid, v1_controller, v1_file, v2_file):
    """A limit of the container's cgroup, read from the host (v1 or v2)."""
    for line in open(f"/proc/{pid}/cgroup"):
        _, controllers, path = line.strip().split(":", 2)
        if controllers == "" and os.path.exists(f"/sys/fs/cgroup/unified{path}/{v2_file}"):
            return open(f"/sys/fs/cgroup/unified{path}/{v2_file}").read().strip()
        if v1_controller in controllers.split(","):
            return open(f"/sys/fs/cgroup/{controllers}{path}/{v1_file}").read().strip()
    raise AssertionError(f"no {v1_controller} cgroup for {pid}")


def test_update_changes_limits_of_a_running_container_and_its_policy(d):
    d.ctl("run", "-d", "--name", "upd", "-m", "64m", IMAGE, "sleep", "1000")
    pid = inspect(d, "upd")["State"]["Pid"]
    assert cgroup_value(pid, "memory", "memory.limit_in_bytes", "memory.max") == str(64 << 20)
    assert d.ctl("update", "-m", "128m", "--pids-limit", "33", "--restart", "always",
                 "upd").stdout == "upd\n"
    assert cgroup_value(pid, "memory", "memory.limit_in_bytes", "memory.max") == str(128 << 20)
    assert cgroup_value(pid, "pids", "pids.max", "pids.max") == "33"
    hc = inspect(d, "upd")["HostConfig"]
    assert hc["Memory"] == 128 << 20 and hc["PidsLimit"] == 33
    assert hc["RestartPolicy"]["Name"] == "always"
    r = d.ctl("update", "upd", check=False)
    assert r.returncode == 1 and "one or more flags" in r.stderr


def test_rmi_of_an_image_a_container_uses_needs_force(d, busybox_oci):
    d.ctl("tag", IMAGE, "localhost/other:1")
    d.ctl("create", "--name", "user1", "localhost/other:1", "true")
    # Another name is left: untagging is fine.
    d.ctl("rmi", "localhost/other:1")
    r = d.ctl("rmi", IMAGE, check=False)
    assert r.returncode == 1
    assert "conflict: unable to remove repository reference" in r.stderr
    assert "is using its referenced image" in r.stderr
    d.ctl("rmi", "-f", IMAGE)
    # The container still starts from its own snapshot and config.
    d.ctl("start", "-a", "user1")
    d.ctl("rm", "user1")
    d.ctl("load", "-i", busybox_oci)


def test_stats_no_stream_reports_cgroup_numbers(d):
    d.ctl("run", "-d", "--name", "busyloop", "-m", "64m", IMAGE, "sh", "-c", "while :; do :; done")
    out = d.ctl("stats", "--no-stream", "--format",
                "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "busyloop").stdout.split()
    assert out[0] == "busyloop"
    assert float(out[1].rstrip("%")) > 20.0  # a busy loop uses a good part of a CPU
    assert out[4] == "64MiB"  # the memory limit
    assert out[5] == "1"
    header = d.ctl("stats", "--no-stream").stdout.splitlines()[0]
    assert header.split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
