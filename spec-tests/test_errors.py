"""Broken bundles must fail create (or run) with exit 1, a message naming the field or
file at fault, and nothing left behind: no state entry, no cgroup, no mount,
no process (the last three are checked after every test by conftest)."""
import json
import os

import pytest

from lib import cgroups, leaks


def assert_rejected(runtime, b, *words, runc_names_it=True):
    """create must fail with exit 1 and a stderr naming each of words.
    runc_names_it=False: runc's message is vaguer (e.g. Go's "unexpected EOF"
    without the file name), so with runc only the exit code and the cleanup
    are checked; berth must name it."""
    res = runtime.create(b)
    assert res.rc == 1, res
    if runc_names_it or not runtime.is_runc:
        for word in words:
            assert word.lower() in res.err.lower(), f"stderr should mention {word!r}:\n{res}"
    assert runtime.state_raw(b.id).rc != 0
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []
    return res


def test_invalid_json(runtime, bundle):
    b = bundle().write_raw('{"ociVersion": "1.2.0", "process": {')
    assert_rejected(runtime, b, "config.json", runc_names_it=False)


def test_empty_config(runtime, bundle):
    b = bundle().write_raw("")
    assert_rejected(runtime, b, "config.json", runc_names_it=False)


def test_missing_config(runtime, bundle):
    b = bundle()
    os.unlink(b.config_path)
    assert_rejected(runtime, b, "config.json")


def test_missing_bundle_dir(runtime, bundle, tmp):
    b = bundle()
    b.path = os.path.join(tmp, "no-such-bundle")
    assert_rejected(runtime, b, "no-such-bundle")


def test_args_of_wrong_type(runtime, bundle):
    b = bundle()
    b.config["process"]["args"] = "sh -c true"
    assert_rejected(runtime, b.save(), "args")


def test_uid_of_wrong_type(runtime, bundle):
    b = bundle()
    b.config["process"]["user"]["uid"] = "root"
    assert_rejected(runtime, b.save(), "uid")


def test_unknown_namespace(runtime, bundle):
    b = bundle()
    b.config["linux"]["namespaces"].append({"type": "bogus"})
    assert_rejected(runtime, b.save(), "bogus")


def test_duplicate_namespace(runtime, bundle):
    b = bundle()
    b.config["linux"]["namespaces"].append({"type": "pid"})
    assert_rejected(runtime, b.save(), "pid")


def test_namespace_path_that_does_not_exist(runtime, bundle, tmp):
    b = bundle()
    missing = os.path.join(tmp, "no-such-netns")
    b.config["linux"]["namespaces"] = [
        ns for ns in b.config["linux"]["namespaces"] if ns["type"] != "network"]
    b.config["linux"]["namespaces"].append({"type": "network", "path": missing})
    assert_rejected(runtime, b.save(), missing)


def test_relative_cwd(runtime, bundle):
    b = bundle(process={"cwd": "tmp"})
    assert_rejected(runtime, b, "cwd")


def test_missing_rootfs(runtime, bundle):
    b = bundle(root={"path": "does-not-exist"})
    assert_rejected(runtime, b, "does-not-exist")


def test_missing_process_args(runtime, bundle):
    b = bundle()
    b.config["process"]["args"] = []
    assert_rejected(runtime, b.save(), "args")


@pytest.mark.runc_differs("runc resolves '..' inside the rootfs and mounts there")
def test_mount_destination_escaping_with_dotdot(runtime, bundle, tmp):
    # Resolved naively against <bundle>/rootfs, this destination is the
    # decoy dir in the test's temp dir. berth rejects such destinations.
    decoy = os.path.join(tmp, "decoy-dir")
    os.mkdir(decoy)
    with open(os.path.join(decoy, "marker"), "w") as f:
        f.write("decoy")
    b = bundle()
    b.config["mounts"].append({"destination": "/../../decoy-dir", "type": "tmpfs",
                               "source": "tmpfs", "options": ["size=1m"]})
    assert_rejected(runtime, b.save(), "/../../decoy-dir")
    assert os.listdir(decoy) == ["marker"]


@pytest.mark.runc_differs("runc reads a config of any size")
def test_50mb_config(runtime, bundle):
    # A config.json this large is a mistake or an attack: refuse it instead of
    # holding the parsed tree in memory for the container's whole life.
    b = bundle()
    b.config["annotations"] = {f"org.berth.pad.{i}": "x" * 1000 for i in range(50 * 1024)}
    b.save()
    assert os.path.getsize(b.config_path) > 50 * 1024 * 1024
    assert_rejected(runtime, b, "config.json")


def test_deeply_nested_config(runtime, bundle):
    # 100k nested arrays: a recursive parser without a depth limit would
    # overflow its stack and die by a signal instead of reporting an error.
    b = bundle()
    text = json.dumps(b.config)
    depth = 100_000
    nested = '"x-nested": ' + "[" * depth + "]" * depth + ", "
    b.write_raw(text.replace("{", "{" + nested, 1))
    assert_rejected(runtime, b, "config.json", runc_names_it=False)


# A `run` whose start failed (an image with a bad WORKDIR) once removed its
# state dir, cgroup paths and all, before its own `delete --force` ran; that
# then found no state, succeeded, and left the container's cgroup directory
# in every hierarchy. The leak check after each test looks for the cgroups of
# every bundle the test made, and the test itself looks right after `run`.
@pytest.mark.parametrize("cwd", ["/bin/busybox", "/no/such/workdir"],
                         ids=["cwd_is_a_file", "cwd_missing"])
def test_failed_start_in_run_leaves_no_cgroup(runtime, bundle, cwd):
    b = bundle(process={"cwd": cwd})
    res = runtime.run(b)
    if not runtime.is_runc:  # runc creates a missing cwd and runs
        assert res.rc != 0, res
        assert "cwd" in res.err, res
    assert cgroups.container_dirs_anywhere(b.id) == []
    assert runtime.state_raw(b.id).rc != 0
    assert leaks.state_entries(runtime.state_dir) == []


def test_failed_start_in_detached_run_leaves_no_cgroup(runtime, bundle):
    b = bundle(process={"cwd": "/bin/busybox"})
    res = runtime.run(b, "--detach")
    assert res.rc != 0, res
    assert cgroups.container_dirs_anywhere(b.id) == []
    assert leaks.state_entries(runtime.state_dir) == []


# Bad input through `run` (create + start + delete in one command), not only
# through `create`: the path a caller like podman --rm takes.
@pytest.mark.parametrize("case", ["relative_cwd", "args_of_wrong_type", "missing_rootfs"])
def test_bad_input_through_run(runtime, bundle, case):
    b = bundle()
    if case == "relative_cwd":
        b.config["process"]["cwd"] = "tmp"
        word = "cwd"
    elif case == "args_of_wrong_type":
        b.config["process"]["args"] = "sh -c true"
        word = "args"
    else:
        b.config["root"]["path"] = "does-not-exist"
        word = "does-not-exist"
    res = runtime.run(b.save())
    assert res.rc == 1, res
    if not runtime.is_runc:
        assert word in res.err, res
    assert cgroups.container_dirs_anywhere(b.id) == []
    assert leaks.state_entries(runtime.state_dir) == []
# ------------------------------------------------------ failing `run`, not create
# `run` fails later than create does (at start: the cwd, the binary) and
# removes the container itself: what create made (cgroups in every hierarchy,
# the state entry, mounts, the init) must be gone when it returns. An image
# with a bad WORKDIR or entrypoint does this.
def _cwd_is_a_file(b):
    b.config["process"]["cwd"] = "/etc/passwd"


def _cwd_missing_under_a_file(b):
    b.config["process"]["cwd"] = "/etc/passwd/sub"


def _binary_missing(b):
    b.config["process"]["args"] = ["/no/such/binary"]


def _binary_is_a_directory(b):
    b.config["process"]["args"] = ["/etc"]


def _binary_not_executable(b):
    b.config["process"]["args"] = ["/etc/passwd"]


def _bind_source_missing(b):
    b.config["mounts"].append({"destination": "/vol", "type": "bind",
                               "source": "/no/such/source", "options": ["rbind"]})


@pytest.mark.parametrize("breakage", [_cwd_is_a_file, _cwd_missing_under_a_file, _binary_missing,
                                      _binary_is_a_directory, _binary_not_executable,
                                      _bind_source_missing],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_failing_run_leaves_nothing_behind(runtime, bundle, breakage):
    b = bundle(["true"])
    breakage(b)
    res = runtime.run(b.save())
    assert res.rc != 0, res
    assert res.err.strip(), res
    assert runtime.state_raw(b.id).rc != 0
    if os.path.isdir(runtime.state_dir):
        assert os.listdir(runtime.state_dir) == []
    # checked here too (not only by the leak check) so that the failure names
    # the test: issue 8 item 9, cgroups of a failed start left behind
    assert cgroups.container_dirs_anywhere(b.id) == [], f"cgroups left by a failed run:\n{res}"
