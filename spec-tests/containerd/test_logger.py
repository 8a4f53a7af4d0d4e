"""berth-logger, the json-file writer behind `binary://` log URIs (see
supervisor/logs/include/berth/logs/logger.h for its protocol).

Under the real berth-shim (a private containerd, `ctr run --log-uri
binary:///…/berth-logger?path=…`), a container's stdout and stderr must come
out exactly as docker's json-file driver writes them; `docker_json_file()`
below is docker's writer (moby's jsonlog.JSONLogs.MarshalJSONBuf and its
copier's 16 KiB split) written again in Python, since no dockerd runs here.
The rest runs the logger alone, with the shim's fds: rotation, the lock,
SIGTERM, and errors reported before the ready signal.

Environment: BERTH_LOGGER_BIN (default <build>/supervisor/logs/berth-logger).
"""
import fcntl
import json
import os
import re
import signal
import subprocess
import time

import pytest

from lib import cgroups, leaks, oci_image, paths
from lib.shim_e2e import SHIM_RUNTIME, ShimContainerd, make_bin_dir, runtime_binary, shim_bin

IMAGE = "localhost/busybox:latest"
PIECE = 16 * 1024
TIME_RE = re.compile(rb'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$')


def logger_bin():
    return os.environ.get("BERTH_LOGGER_BIN") or os.path.join(
        paths.build_dir(), "supervisor", "logs", "berth-logger")


@pytest.fixture(autouse=True)
def need_logger():
    if not os.access(logger_bin(), os.X_OK):
        pytest.fail(f"{logger_bin()} not found: build the berth-logger target", pytrace=False)


# ------------------------------------------------------- docker's json-file
def docker_string(data):
    """ffjsonWriteJSONBytesAsString: \\n \\r \\" \\\\ escaped, other bytes
    < 0x20 and < > & as \\u00XX, each invalid UTF-8 byte as \\ufffd,
    U+2028/U+2029 escaped."""
    out = bytearray(b'"')
    i = 0
    while i < len(data):
        c = data[i]
        if c < 0x80:
            if c >= 0x20 and c not in b'\\"<>&':
                out.append(c)
            elif c in b'\\"':
                out += b'\\' + bytes([c])
            elif c == 0x0a:
                out += b'\\n'
            elif c == 0x0d:
                out += b'\\r'
            else:
                out += b'\\u00%02x' % c
            i += 1
            continue
        size = 2 if c < 0xE0 else 3 if c < 0xF0 else 4
        try:
            rune = data[i:i + size].decode("utf-8")  # strict, as utf8.DecodeRune
        except UnicodeDecodeError:
            out += b'\\ufffd'
            i += 1
            continue
        out += b'\\u%04x' % ord(rune) if rune in "\u2028\u2029" else rune.encode()
        i += size
    return bytes(out + b'"')


def docker_messages(data):
    """The copier: lines with their \\n, 16 KiB pieces, a partial line last."""
    out = []
    while data:
        nl = data.find(b"\n", 0, PIECE)
        cut = nl + 1 if nl >= 0 else min(len(data), PIECE)
        out.append(data[:cut])
        data = data[cut:]
    return out


def docker_json_file(stream, data):
    """The records docker would write for `data` on `stream`, without time."""
    return [b'{"log":' + docker_string(m) + b',"stream":"' + stream.encode() + b'"'
            for m in docker_messages(data)]


def split_records(content):
    """(record without its time, time) of each line of a log file."""
    out = []
    assert content.endswith(b"\n"), content[-200:]
    for line in content.split(b"\n")[:-1]:
        head, sep, rest = line.rpartition(b',"time":"')
        assert sep and rest.endswith(b'"}'), line
        t = rest[:-2]
        assert TIME_RE.match(t), t
        out.append((head, t))
        json.loads(line)  # and it is JSON
    return out


# -------------------------------------------------------- logger, directly
class Logger:
    """berth-logger with the shim's fds: 3 and 4 the read ends of stdout and
    stderr pipes, 5 the write end of the ready pipe, 0-2 /dev/null but for
    stderr, kept to read its errors."""

    def __init__(self, workdir, *args):
        out_r, self.out = os.pipe()
        err_r, self.err = os.pipe()
        self.ready_r, ready_w = os.pipe()
        self.stderr_path = os.path.join(workdir, "logger.stderr")

        def fds():
            # Up out of the way first: a pipe may itself be 3, 4 or 5.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (out_r, err_r, ready_w)]
            for fd, want in zip(high, (3, 4, 5)):
                os.dup2(fd, want)

        with open(self.stderr_path, "wb") as errf:
            self.proc = subprocess.Popen([logger_bin(), *args], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=errf,
                                         pass_fds=(3, 4, 5), preexec_fn=fds,
                                         env={"CONTAINER_ID": "c1", "CONTAINER_NAMESPACE": "t"})
        for fd in (out_r, err_r, ready_w):
            os.close(fd)

    def wait_ready(self, timeout=10):
        """True once the logger closed its ready fd (False: it exited first)."""
        os.read(self.ready_r, 1)  # EOF when closed: by the logger or by its exit
        time.sleep(0.05)
        return self.proc.poll() is None

    def close(self):
        for name in ("out", "err", "ready_r"):
            if getattr(self, name) is not None:
                os.close(getattr(self, name))
                setattr(self, name, None)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode()


@pytest.fixture
def logger(test_env):
    started = []

    def start(*args):
        lg = Logger(test_env.path, *args)
        started.append(lg)
        return lg

    yield start
    for lg in started:
        if lg.proc.poll() is None:
            lg.proc.kill()
        lg.proc.wait()
        lg.close()


def lock_held(path):
    with open(path + ".lock", "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_logger_writes_each_stream_and_exits_0_at_eof(test_env, logger):
    log = os.path.join(test_env.path, "c-json.log")
    lg = logger("path", log)
    assert lg.wait_ready()
    assert lock_held(log)
    assert oct(os.stat(log).st_mode & 0o777) == "0o640"
    assert oct(os.stat(log + ".lock").st_mode & 0o777) == "0o600"
    os.write(lg.out, b"one\ntw")
    os.write(lg.err, b"warn\n")
    os.write(lg.out, b"o\n")
    lg.close()
    assert lg.proc.wait(10) == 0
    assert not lock_held(log)
    recs = split_records(read(log))
    assert [r for r, _ in recs if b"stdout" in r] == docker_json_file("stdout", b"one\ntwo\n")
    assert [r for r, _ in recs if b"stderr" in r] == docker_json_file("stderr", b"warn\n")


def test_logger_rotates_by_max_size_keeping_max_file_files(test_env, logger):
    log = os.path.join(test_env.path, "c-json.log")
    lg = logger("max-file", "3", "max-size", "1k", "path", log)
    assert lg.wait_ready()
    lines = [b"line %04d %s\n" % (i, b"x" * 50) for i in range(200)]
    for line in lines:
        os.write(lg.out, line)
    lg.close()
    assert lg.proc.wait(10) == 0
    assert sorted(os.listdir(test_env.path)) == ["c-json.log", "c-json.log.1", "c-json.log.2",
                                                 "c-json.log.lock", "logger.stderr"]
    got = []
    for name in (log + ".2", log + ".1", log):
        content = read(name)
        # docker checks the size before each write: a rotated file reached
        # max-size, and is over it by less than one record
        assert len(content) < 1000 + 200, name
        assert name == log or len(content) >= 1000, name
        got += [json.loads(line)["log"].encode() for line in content.splitlines()]
    # the newest records, in order, none split or repeated
    assert got == lines[len(lines) - len(got):]


def test_logger_on_sigterm_writes_what_is_readable_and_exits(test_env, logger):
    log = os.path.join(test_env.path, "c-json.log")
    lg = logger("path", log)
    assert lg.wait_ready()
    os.write(lg.out, b"before\npartial")
    time.sleep(0.2)
    # The write ends stay open (a process outliving its container's init):
    # SIGTERM must not wait for their EOF.
    lg.proc.send_signal(signal.SIGTERM)
    assert lg.proc.wait(5) == 0
    logs = [json.loads(line)["log"] for line in read(log).splitlines()]
    assert logs == ["before\n", "partial"]
    assert not lock_held(log)


@pytest.mark.parametrize("args, message", [
    (["path", "relative.log"], "path `relative.log`: not absolute"),
    (["max-size", "10x", "path", "{dir}/l"], "max-size `10x`: invalid size"),
    (["max-file", "0", "path", "{dir}/l"], "max-file `0`: must be an integer of at least 1"),
    (["color", "red", "path", "{dir}/l"], "log option `color`: unknown"),
    (["path", "{dir}/missing/l"], "open `{dir}/missing/l.lock`: No such file or directory"),
])
def test_logger_refuses_bad_arguments_before_it_is_ready(test_env, logger, args, message):
    args = [a.format(dir=test_env.path) for a in args]
    lg = logger(*args)
    assert not lg.wait_ready()
    assert lg.proc.wait(5) == 1
    assert message.format(dir=test_env.path) in lg.stderr()
    assert not os.path.exists(os.path.join(test_env.path, "l"))


# ------------------------------------------------------- under berth-shim
@pytest.fixture(scope="module")
def shimd(session_dir, rootfs_template):
    """A private containerd running berth-shim with the berth runtime."""
    for tool in ("/usr/bin/containerd", "/usr/bin/ctr"):
        if not os.access(tool, os.X_OK):
            pytest.skip(f"{tool} missing: install containerd (contrib/install-deps.sh)")
    for binary in (shim_bin(), runtime_binary("berth")):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} not found: build it", pytrace=False)
    base = os.path.join(session_dir, "logger-shim")
    tar = os.path.join(session_dir, "logger-busybox-oci.tar")
    oci_image.build(rootfs_template, tar, IMAGE)
    ctrd = ShimContainerd(base, make_bin_dir(os.path.join(base, "bin"), shim_bin(),
                                             runtime_binary("berth"))).start()
    try:
        ctrd.ctr("image", "import", tar)
        yield ctrd
    finally:
        ctrd.stop()
        leaks.kill_and_wait(list(leaks.processes_of(base, set(), cgroups.test_base() + "/")))


SCRIPT = r"""
printf 'out1\n'
printf 'err1\n' >&2
printf '<a&b> "q" \\ tab\there \001\033[0m cr\r\n'
printf 'bad \377\376 utf8 caf\303\251 \342\202 sep\342\200\250 whale\360\237\220\263\n'
printf 'empty next\n\n'
head -c 40000 /dev/zero | tr '\0' x; printf '\n'
head -c 16383 /dev/zero | tr '\0' y; printf '\n'
head -c 20000 /dev/zero | tr '\0' e >&2; printf '\n' >&2
printf 'err partial' >&2
printf 'out partial'
"""


def container_output(stream):
    """What SCRIPT writes to a stream, computed here."""
    if stream == "stdout":
        return (b"out1\n" b'<a&b> "q" \\ tab\there \x01\x1b[0m cr\r\n'
                b"bad \xff\xfe utf8 caf\xc3\xa9 \xe2\x82 sep\xe2\x80\xa8 whale\xf0\x9f\x90\xb3\n"
                b"empty next\n\n" + b"x" * 40000 + b"\n" + b"y" * 16383 + b"\n" b"out partial")
    return b"err1\n" + b"e" * 20000 + b"\n" b"err partial"


def test_shim_logger_writes_what_docker_json_file_writes(shimd, test_env):
    log = os.path.join(test_env.path, "c-json.log")
    cid = test_env.new_id()
    res = shimd.ctr("run", "--rm", "--fifo-dir", shimd.fifo_dir, "--runtime", SHIM_RUNTIME,
                    "--cgroup", cgroups.container_path(cid),
                    "--log-uri", f"binary://{logger_bin()}?path={log}&max-size=-1",
                    IMAGE, cid, "sh", "-c", SCRIPT, check=False, timeout=60)
    assert res.returncode == 0, res.stderr
    deadline = time.monotonic() + 10
    while lock_held(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not lock_held(log), "the logger did not exit after the task was deleted"
    recs = split_records(read(log))
    for stream in ("stdout", "stderr"):
        got = [r for r, _ in recs if r.endswith(b'"stream":"%s"' % stream.encode())]
        want = docker_json_file(stream, container_output(stream))
        assert got == want, stream
    # Spot checks of the reference itself, against docker's documented output.
    text = read(log)
    assert rb'"log":"\u003ca\u0026b\u003e \"q\" \\ tab\u0009here \u0001\u001b[0m cr\r\n"' in text
    assert (b'bad \\ufffd\\ufffd utf8 caf\xc3\xa9 \\ufffd\\ufffd sep\\u2028 whale\xf0\x9f\x90\xb3\\n'
            in text)
    assert rb'{"log":"out partial","stream":"stdout","time":"' in text
    # The pieces of one long line share the time of the first.
    times = [t for r, t in recs if b'xxxxxxxx' in r]
    assert len(times) == 3 and len(set(times)) == 1
