"""berthd itself: defaults, the root lock, the socket's permissions, clean
shutdown, bad configuration."""
import os
import stat
import subprocess

from lib.berthd import Berthd, berthd_bin


def test_socket_is_root_only_and_version_answers(daemon):
    st = os.stat(daemon.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert (st.st_uid, st.st_gid) == (0, 0)
    r = daemon.ctl("version", "--format", "{{.Server.Version}}")
    assert r.stdout.strip() == "0.1.0"


def test_metadata_db_is_private(daemon):
    assert stat.S_IMODE(os.stat(os.path.join(daemon.root, "meta.db")).st_mode) == 0o600


def test_second_daemon_on_same_root_is_refused(daemon, test_env):
    other = Berthd(os.path.join(test_env.path, "other"))
    r = subprocess.run([berthd_bin(), "--root", daemon.root, "--state", other.state, "--config", other.config],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode != 0
    assert f"another berthd (pid {daemon.proc.pid}) is running with root `{daemon.root}`" in r.stderr
    # ... and it did not take the running daemon's socket away
    assert daemon.ctl("version").returncode == 0


def test_sigterm_stops_cleanly_and_removes_the_socket(fresh_daemon):
    d = fresh_daemon()
    assert d.stop() == 0
    assert not os.path.exists(d.socket)
    assert "stopped" in d.read_log()


def test_restart_after_kill9_reuses_root(fresh_daemon):
    d = fresh_daemon()
    d.kill9()
    assert os.path.exists(d.socket)  # stale, from the killed daemon
    d.start()
    assert d.ctl("images", "-q").stdout == ""


def test_unknown_config_key_names_file_key_and_line(fresh_daemon):
    d = fresh_daemon('snapshoter = "overlayfs"\n', start=False)
    r = subprocess.run([berthd_bin(), "--root", d.root, "--state", d.state, "--config", d.config],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert f"config `{d.config}` line 2: snapshoter: unknown key" in r.stderr
    assert not os.path.exists(d.socket)


def test_missing_explicit_config_is_an_error(test_env):
    r = subprocess.run([berthd_bin(), "--root", test_env.path + "/r", "--state", test_env.path + "/s",
                        "--config", test_env.path + "/nope.toml"],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert "nope.toml" in r.stderr and "No such file" in r.stderr


def test_unknown_snapshotter_is_refused(fresh_daemon):
    d = fresh_daemon('snapshotter = "zfs"\n', start=False)
    r = subprocess.run([berthd_bin(), "--root", d.root, "--state", d.state, "--config", d.config],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert "unknown snapshotter `zfs`" in r.stderr


def test_ctl_without_daemon_says_so(test_env):
    d = Berthd(os.path.join(test_env.path, "none"))
    r = d.ctl("images", check=False)
    assert r.returncode == 1
    assert f"Cannot connect to the berth daemon at unix://{d.socket}" in r.stderr


def test_install_step_lays_out_binaries_unit_and_builtin_image(daemon, test_env):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dest = os.path.join(test_env.path, "dest")
    r = subprocess.run(["bash", os.path.join(repo, "contrib", "install-berthd.sh"), "--destdir", dest, "--no-start"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    for b in ("berthd", "berthctl", "berth", "berth-shim"):
        assert os.access(os.path.join(dest, "usr/local/bin", b), os.X_OK), b
    assert os.readlink(os.path.join(dest, "usr/local/bin/containerd-shim-berth-v2")) == "berth-shim"
    assert os.access(os.path.join(dest, "usr/local/libexec/berth/berth-logger"), os.X_OK)
    unit = open(os.path.join(dest, "etc/systemd/system/berthd.service")).read()
    assert "ExecStart=/usr/local/bin/berthd\n" in unit and "WantedBy=multi-user.target" in unit
    image = os.path.join(dest, "usr/local/share/berth/busybox.tar")
    out = daemon.ctl("load", "-i", image).stdout
    assert "Loaded image: busybox:latest" in out
    info = __import__("json").loads(daemon.ctl("image", "inspect", "busybox").stdout)[0]
    assert info["RepoTags"] == ["busybox:latest"] and info["Config"]["Cmd"] == ["sh"]
    daemon.ctl("rmi", "busybox")


import pytest  # noqa: E402


@pytest.mark.parametrize("text,message", [
    ("max-concurrent-downloads = 0\n", "line 2: max-concurrent-downloads: expected an integer from 1 to 64"),
    ("insecure-registries = \"127.0.0.1:5000\"\n", "line 2: insecure-registries: expected an array of strings"),
    ("snapshotter = 3\n", "line 2: snapshotter: expected a string"),
    ("root = [\n", "line"),
])
def test_bad_config_values_name_file_line_and_key(fresh_daemon, text, message):
    d = fresh_daemon(text, start=False)
    r = subprocess.run([berthd_bin(), "--root", d.root, "--state", d.state, "--config", d.config],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert f"config `{d.config}` " in r.stderr and message in r.stderr, r.stderr
    assert not os.path.exists(d.socket) and not os.path.exists(d.root)


def test_bad_log_level_is_refused(test_env):
    r = subprocess.run([berthd_bin(), "--root", test_env.path + "/r", "--state", test_env.path + "/s",
                        "--config", "/dev/null", "--log-level", "chatty"],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "--log-level: unknown level `chatty`" in r.stderr
