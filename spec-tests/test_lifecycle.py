"""Container lifecycle through the runc-compatible CLI: create, start, run,
state, kill, delete, list, ps, spec, features and the global flags.

berth follows runc's CLI contract except where marked runc_differs (there it
follows DESIGN.md: deleting a created or running container needs --force)."""
import ctypes
import json
import os
import re
import time

import pytest

# RFC 3339 with optional fractional seconds, "Z" or a numeric offset
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def wait_dead(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"pid {pid} still alive after {timeout}s"
        time.sleep(0.05)


def started(runtime, b):
    """create + start a container running b's config; returns the create result
    (its stdout file keeps receiving the container's output)."""
    res = runtime.create(b)
    assert res.ok, res
    assert runtime.start(b.id).ok
    return res


def stop_and_delete(runtime, cid):
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert runtime.delete(cid).ok


# ------------------------------------------------------------------ create/start
def test_create_leaves_container_created_with_live_init(runtime, bundle):
    b = bundle(["probe", "sleep"])
    res = runtime.create(b)
    assert res.ok, res
    st = runtime.state(b.id)
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"])
    # the user process must not run before start
    assert res.read_out() == ""
    assert runtime.delete(b.id, force=True).ok
    wait_dead(st["pid"])


def test_start_runs_the_process(runtime, bundle):
    b = bundle(["sh", "-c", "echo started; exec probe sleep"])
    res = runtime.create(b)
    assert res.ok, res
    assert runtime.start(b.id).ok
    runtime.wait_output(res, "started\n")
    st = runtime.wait_status(b.id, "running")
    assert pid_alive(st["pid"])
    stop_and_delete(runtime, b.id)


def test_process_exit_makes_container_stopped(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    st = runtime.wait_status(b.id, "stopped")
    assert st["id"] == b.id
    assert runtime.delete(b.id).ok


def test_start_twice_fails(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    again = runtime.start(b.id)
    assert again.rc != 0, again
    assert runtime.state(b.id)["status"] == "running"
    stop_and_delete(runtime, b.id)


def test_start_of_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    again = runtime.start(b.id)
    assert again.rc != 0, again
    assert runtime.delete(b.id).ok


@pytest.mark.runc_differs("runc's error does not name the container")
def test_start_unknown_container_fails(runtime):
    res = runtime.start("no-such-container")
    assert res.rc != 0
    assert "no-such-container" in res.err


def test_create_with_existing_id_fails_and_keeps_first(runtime, bundle):
    first = bundle(["probe", "sleep"])
    assert runtime.create(first).ok
    pid = runtime.state(first.id)["pid"]
    second = bundle(["probe", "sleep"])
    res = runtime.create(second, id=first.id)
    assert res.rc != 0, res
    assert "already exists" in res.err, res
    st = runtime.state(first.id)
    assert st["pid"] == pid and st["bundle"] == first.path
    assert runtime.delete(first.id, force=True).ok


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", ".", ".."])
def test_create_rejects_ids_that_are_not_plain_names(runtime, bundle, bad_id, test_env):
    b = bundle(["true"])
    res = runtime.create(b, id=bad_id)
    assert res.rc != 0, res
    # nothing created next to or above the state dir
    assert not os.path.exists(os.path.join(test_env.path, "escape"))
    if os.path.isdir(test_env.state_dir):
        assert os.listdir(test_env.state_dir) == []


def test_pid_file_holds_init_pid(runtime, bundle, tmp):
    b = bundle(["probe", "sleep"])
    pid_file = os.path.join(tmp, "init.pid")
    assert runtime.create(b, "--pid-file", pid_file).ok
    with open(pid_file) as f:
        assert int(f.read().strip()) == runtime.state(b.id)["pid"]
    assert runtime.delete(b.id, force=True).ok


def test_create_no_pivot(runtime, bundle):
    # --no-pivot: MS_MOVE + chroot instead of pivot_root (for ramfs roots)
    b = bundle(["sh", "-c", "echo pivoted; exec probe sleep"])
    res = runtime.create(b, "--no-pivot")
    assert res.ok, res
    assert runtime.start(b.id).ok
    runtime.wait_output(res, "pivoted\n")
    stop_and_delete(runtime, b.id)


KEYCTL = 250  # x86_64
KEYCTL_GET_KEYRING_ID = 0
KEY_SPEC_SESSION_KEYRING = -3


def own_session_keyring():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    serial = libc.syscall(KEYCTL, KEYCTL_GET_KEYRING_ID, ctypes.c_long(KEY_SPEC_SESSION_KEYRING), 0)
    assert serial > 0, os.strerror(ctypes.get_errno())
    return serial


def container_session_keyring(runtime, b, *flags):
    # the container's session keyring serial, as keyctl(2) reports it there
    b.config["process"]["args"] = ["probe", "syscall", str(KEYCTL), str(KEYCTL_GET_KEYRING_ID),
                                   str(KEY_SPEC_SESSION_KEYRING), "0"]
    res = runtime.create(b.save(), *flags)
    assert res.ok, res
    assert runtime.start(b.id).ok
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok
    out = res.read_out()
    assert out.startswith("ret="), out
    return int(out.split("=")[1])


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="keyctl's number is x86_64's")
def test_create_gives_a_new_session_keyring(runtime, bundle):
    # no key of the caller's session (credentials, tokens) reaches the container
    assert container_session_keyring(runtime, bundle()) != own_session_keyring()


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="keyctl's number is x86_64's")
def test_create_no_new_keyring_keeps_the_callers_session_keyring(runtime, bundle):
    got = container_session_keyring(runtime, bundle(), "--no-new-keyring")
    assert got == own_session_keyring()


# ------------------------------------------------------------------------- run
def test_run_prints_container_output(runtime, bundle):
    res = runtime.run(bundle(["echo", "hello from berth"]))
    assert res.rc == 0, res
    assert res.out == "hello from berth\n"


def test_run_deletes_the_container_when_it_exits(runtime, bundle, test_env):
    # like runc: a foreground `run` is create + start + wait + delete
    b = bundle(["true"])
    assert runtime.run(b).ok
    assert runtime.state_raw(b.id).rc != 0
    assert os.listdir(test_env.state_dir) == []


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_run_exit_code_is_the_containers(runtime, bundle, code):
    b = bundle(["probe", "exit", str(code)])
    res = runtime.run(b)
    assert res.rc == code, res


def test_run_exit_code_of_signalled_container_is_128_plus_signal(runtime, bundle):
    b = bundle(["probe", "sleep"])
    running = runtime.spawn("run", "--bundle", b.path, b.id)
    runtime.wait_status(b.id, "running")
    assert runtime.kill(b.id, "KILL").ok
    res = running.wait()
    assert res.rc == 128 + 9, res


def test_run_self_signalled_process_without_pid_namespace(runtime, bundle):
    # Without a pid namespace the process is not an init and can kill itself.
    b = bundle(["sh", "-c", "kill -TERM $$; sleep 5"])
    b.config["linux"]["namespaces"] = [ns for ns in b.config["linux"]["namespaces"]
                                       if ns["type"] != "pid"]
    b.save()
    res = runtime.run(b)
    assert res.rc == 128 + 15, res


def test_run_detach_returns_while_container_runs(runtime, bundle):
    b = bundle(["sh", "-c", "echo detached; exec probe sleep"])
    res = runtime.run(b, "--detach")
    assert res.rc == 0, res
    assert runtime.state(b.id)["status"] == "running"
    runtime.wait_output(res, "detached\n")
    stop_and_delete(runtime, b.id)


# ----------------------------------------------------------------------- state
def test_state_json_fields(runtime, bundle):
    b = bundle(["probe", "sleep"], annotations={"org.berth.test": "yes"})
    assert runtime.create(b).ok
    st = runtime.state(b.id)
    assert st["ociVersion"]
    assert st["id"] == b.id
    assert st["status"] == "created"
    assert st["pid"] > 0
    assert st["bundle"] == b.path
    assert st["rootfs"] == b.rootfs
    assert RFC3339.match(st["created"]), st["created"]
    assert isinstance(st["owner"], str)
    assert st["annotations"] == {"org.berth.test": "yes"}
    assert runtime.delete(b.id, force=True).ok


@pytest.mark.runc_differs("runc's error does not name the container")
def test_state_of_unknown_container_fails(runtime):
    res = runtime.state_raw("no-such-container")
    assert res.rc != 0
    assert "no-such-container" in res.err


# ------------------------------------------------------------------------ kill
@pytest.mark.parametrize("signal,name", [
    ("SIGUSR1", "USR1"), ("USR1", "USR1"), ("10", "USR1"), ("HUP", "HUP"), ("2", "INT")])
def test_kill_by_name_or_number(runtime, bundle, signal, name):
    b = bundle(["probe", "signal-wait"])
    out = started(runtime, b)
    runtime.wait_output(out, "ready\n")
    assert runtime.kill(b.id, signal).ok
    runtime.wait_output(out, f"ready\n{name}\n")
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok


def test_kill_default_signal_is_term(runtime, bundle):
    b = bundle(["probe", "signal-wait"])
    out = started(runtime, b)
    runtime.wait_output(out, "ready\n")
    assert runtime.kill(b.id).ok
    runtime.wait_output(out, "ready\nTERM\n")
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok


def test_kill_unknown_signal_fails(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    res = runtime.kill(b.id, "SIGNOPE")
    assert res.rc != 0, res
    assert runtime.state(b.id)["status"] == "running"
    stop_and_delete(runtime, b.id)


def test_kill_all_signals_every_process(runtime, bundle):
    b = bundle(["sh", "-c", "probe sleep & probe sleep & echo up; wait"])
    out = started(runtime, b)
    runtime.wait_output(out, "up\n")
    pids = runtime.ps(b.id, "--format", "json")
    assert pids.ok, pids
    pids = pids.json()
    assert len(pids) == 3, pids
    assert runtime.kill(b.id, "KILL", all=True).ok
    runtime.wait_status(b.id, "stopped")
    for pid in pids:
        wait_dead(pid)
    assert runtime.delete(b.id).ok


def test_kill_stopped_container_fails(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    res = runtime.kill(b.id, "KILL")
    assert res.rc != 0, res
    assert runtime.delete(b.id).ok


# Callers match runc's words (libcontainer/error.go): containerd-shim-runc-v2
# took berth's "container `ID` is not running" for a failed kill, where runc's
# "container not running" means the process already finished. berth keeps
# the id in the message as well.
def test_refusals_callers_match_carry_runcs_words(runtime, bundle):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    words = {"kill": "container not running", "missing": "container does not exist",
             "duplicate": "container with given ID already exists"}
    res = {"kill": runtime.kill(b.id, "KILL"),
           "missing": runtime.state_raw("no-such-container"),
           "duplicate": runtime.create(bundle(["true"]), id=b.id)}
    for case, r in res.items():
        assert r.rc != 0, r
        assert words[case] in r.err, r
        if not runtime.is_runc:
            assert (b.id if case != "missing" else "no-such-container") in r.err, r
    assert runtime.delete(b.id).ok


@pytest.mark.runc_differs("runc says \"cannot exec in a paused container\"")
def test_exec_into_paused_container_says_container_paused(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    assert runtime.cmd("pause", b.id).ok
    res = runtime.cmd("exec", b.id, "true")
    assert res.rc != 0, res
    assert "container paused" in res.err and b.id in res.err, res
    assert runtime.delete(b.id, force=True).ok


# ---------------------------------------------------------------------- delete
def test_delete_stopped_container_removes_everything(runtime, bundle, test_env):
    b = bundle(["true"])
    started(runtime, b)
    runtime.wait_status(b.id, "stopped")
    assert runtime.delete(b.id).ok
    assert runtime.state_raw(b.id).rc != 0
    assert b.id not in os.listdir(test_env.state_dir)


@pytest.mark.runc_differs("runc deletes a created container without --force")
def test_delete_created_container_needs_force(runtime, bundle):
    b = bundle(["probe", "sleep"])
    assert runtime.create(b).ok
    pid = runtime.state(b.id)["pid"]
    res = runtime.delete(b.id)
    assert res.rc != 0, res
    assert "force" in res.err.lower(), res
    assert runtime.state(b.id)["status"] == "created"
    assert runtime.delete(b.id, force=True).ok
    wait_dead(pid)


def test_delete_running_container_needs_force(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    pid = runtime.state(b.id)["pid"]
    res = runtime.delete(b.id)
    assert res.rc != 0, res
    assert runtime.state(b.id)["status"] == "running"
    assert pid_alive(pid)
    assert runtime.delete(b.id, force=True).ok
    wait_dead(pid)
    assert runtime.state_raw(b.id).rc != 0


@pytest.mark.runc_differs("runc's error does not name the container")
def test_delete_unknown_container_fails(runtime):
    res = runtime.delete("no-such-container")
    assert res.rc != 0
    assert "no-such-container" in res.err


def test_delete_force_of_unknown_container_succeeds(runtime):
    # containerd's shim runs `delete --force` after `delete` and relies on this
    assert runtime.delete("no-such-container", force=True).ok


# ------------------------------------------------------------------------ list
def test_list_formats(runtime, bundle):
    a = bundle(["probe", "sleep"])
    b = bundle(["probe", "sleep"])
    assert runtime.create(a).ok
    started(runtime, b)

    table = runtime.list()
    assert table.ok, table
    lines = table.out.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[a.id][2] == "created" and rows[b.id][2] == "running"
    assert rows[a.id][3] == a.path

    quiet = runtime.list("-q")
    assert sorted(quiet.out.split()) == sorted([a.id, b.id])

    js = runtime.list("--format", "json")
    assert js.ok, js
    by_id = {c["id"]: c for c in js.json()}
    assert set(by_id) == {a.id, b.id}
    assert by_id[a.id]["status"] == "created"
    assert by_id[b.id]["status"] == "running"
    assert by_id[b.id]["pid"] == runtime.state(b.id)["pid"]
    assert by_id[a.id]["bundle"] == a.path
    assert RFC3339.match(by_id[a.id]["created"])

    assert runtime.delete(a.id, force=True).ok
    assert runtime.delete(b.id, force=True).ok


def test_list_empty(runtime):
    assert runtime.list("-q").out.strip() == ""
    js = runtime.list("--format", "json")
    assert js.ok, js
    # runc prints `null` for no containers; an empty array means the same
    assert js.json() in (None, [])


# -------------------------------------------------------------------------- ps
def test_ps_formats(runtime, bundle):
    b = bundle(["probe", "sleep"])
    started(runtime, b)
    pid = runtime.state(b.id)["pid"]
    js = runtime.ps(b.id, "--format", "json")
    assert js.ok, js
    assert js.json() == [pid]
    table = runtime.ps(b.id)
    assert table.ok, table
    lines = table.out.splitlines()
    assert "PID" in lines[0].split()
    assert any(str(pid) in line.split() for line in lines[1:]), table
    stop_and_delete(runtime, b.id)


# ------------------------------------------------------------ spec and features
def test_spec_writes_a_config_that_parses(runtime, tmp):
    d = os.path.join(tmp, "specdir")
    os.mkdir(d)
    assert runtime.cmd("spec", "--bundle", d, root=False).ok
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    assert config["ociVersion"]
    assert config["process"]["args"]
    assert config["root"]["path"] == "rootfs"
    assert {ns["type"] for ns in config["linux"]["namespaces"]} >= {"pid", "mount"}
    # never overwrite an existing config
    again = runtime.cmd("spec", "--bundle", d, root=False)
    assert again.rc != 0, again


def test_spec_rootless_maps_the_caller(runtime, tmp):
    d = os.path.join(tmp, "specdir")
    os.mkdir(d)
    assert runtime.cmd("spec", "--rootless", "--bundle", d, root=False).ok
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    assert "user" in {ns["type"] for ns in config["linux"]["namespaces"]}
    assert config["linux"]["uidMappings"][0]["hostID"] == os.getuid()
    assert config["linux"]["gidMappings"][0]["hostID"] == os.getgid()


def test_features_is_json(runtime):
    res = runtime.cmd("features", root=False)
    assert res.ok, res
    feats = res.json()
    assert feats["ociVersionMin"] and feats["ociVersionMax"]
    assert "createRuntime" in feats["hooks"]
    assert {"pid", "mount", "network", "user"} <= set(feats["linux"]["namespaces"])


# ---------------------------------------------------------------- global flags
def test_log_file_in_json_receives_errors(runtime, tmp):
    log = os.path.join(tmp, "log.json")
    res = runtime.cmd("state", "no-such-container",
                      global_args=["--log", log, "--log-format", "json"])
    assert res.rc != 0
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors, entries
    # the same message the caller saw on stderr (containerd reads it from here)
    assert errors[-1]["msg"] and errors[-1]["msg"] in res.err
    assert "time" in errors[-1]


def test_log_file_in_text_format(runtime, tmp):
    log = os.path.join(tmp, "log.txt")
    res = runtime.cmd("state", "no-such-container",
                      global_args=["--log", log, "--log-format", "text"])
    assert res.rc != 0
    with open(log) as f:
        text = f.read()
    assert "level=error" in text


def log_levels(path):
    try:
        with open(path) as f:
            return [json.loads(line)["level"] for line in f if line.strip()]
    except FileNotFoundError:
        return []


def test_debug_flag_writes_debug_entries_to_the_log(runtime, bundle, tmp):
    b = bundle(["echo", "ok"])
    log = os.path.join(tmp, "debug.json")
    res = runtime.cmd("run", "--bundle", b.path, b.id,
                      global_args=["--debug", "--log", log, "--log-format", "json"])
    assert res.rc == 0, res
    assert res.out == "ok\n", res
    assert "debug" in log_levels(log), log_levels(log)
    # and only with --debug
    b2 = bundle(["echo", "ok"])
    quiet = os.path.join(tmp, "quiet.json")
    res = runtime.cmd("run", "--bundle", b2.path, b2.id,
                      global_args=["--log", quiet, "--log-format", "json"])
    assert res.rc == 0, res
    assert "debug" not in log_levels(quiet), log_levels(quiet)


@pytest.mark.runc_differs("runc implements the systemd cgroup driver")
@pytest.mark.parametrize("command", [["list"], ["state", "x"], ["delete", "--force", "x"],
                                     ["create", "--bundle", "{bundle}", "{id}"]])
def test_systemd_cgroup_is_refused_by_every_command(runtime, bundle, command):
    b = bundle(["true"])
    args = [a.format(bundle=b.path, id=b.id) for a in command]
    res = runtime.cmd(*args, global_args=["--systemd-cgroup"])
    assert res.rc != 0, res
    assert "--systemd-cgroup" in res.err, res


def test_unknown_command_fails(runtime):
    res = runtime.cmd("frobnicate")
    assert res.rc != 0
