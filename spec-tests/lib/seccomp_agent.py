"""A seccomp agent for SCMP_ACT_NOTIFY tests (linux.seccomp.listenerPath).

The runtime connects to our unix socket once per process that loads the
filter (the init, and each exec) and sends the container process state as
JSON, possibly over several sendmsg calls, with the seccomp notification fd as
SCM_RIGHTS in the first (runtime-spec config-linux.md, "The Container Process
State"). Once the JSON is complete we answer the notified syscalls with
ioctl(SECCOMP_IOCTL_NOTIF_RECV/SEND) from a thread, and note whether and when
the runtime closed the connection.

Struct layouts are x86_64's (linux/seccomp.h). The thread never asserts: it
records what it saw (messages, notifications, errors) for the test to check.
"""
import ctypes
import errno
import fcntl
import json
import os
import select
import socket
import threading
import time


class SeccompData(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int32), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6)]


class SeccompNotif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", SeccompData)]


class SeccompNotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


assert ctypes.sizeof(SeccompNotif) == 80 and ctypes.sizeof(SeccompNotifResp) == 24


def _iowr(nr, size):
    # _IOWR(SECCOMP_IOC_MAGIC '!', nr, size) on x86_64
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr(0, ctypes.sizeof(SeccompNotif))
SECCOMP_IOCTL_NOTIF_SEND = _iowr(1, ctypes.sizeof(SeccompNotifResp))
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1


class Reply:
    """How to answer one notified syscall: a return value, an errno, or
    "let it run" (continue)."""

    def __init__(self, val=0, error=0, cont=False):
        self.val, self.error, self.cont = val, error, cont


class _Conn:
    def __init__(self, sock, index):
        self.sock, self.index = sock, index
        self.data, self.parsed, self.notify_fd = b"", False, None


class SeccompAgent:
    """agent = SeccompAgent(path, {nr: Reply(...)}); ... agent.stop().
    Syscalls without an entry are let through (continue)."""

    def __init__(self, path, replies):
        self.path = path
        self.replies = dict(replies)
        self.messages = []        # parsed JSON of each connection
        self.fd_counts = []       # how many fds each connection carried
        self.notifications = []   # (pid, nr, args) of each answered syscall
        self.errors = []
        self.connections = []     # per connection: {"eof": closed by the runtime, "fds": n}
        self._conns = []
        self._notify_fds = []
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self._thread = threading.Thread(target=self._run, name="seccomp-agent", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- the thread
    def _run(self):
        try:
            while not self._stop.is_set():
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                for conn in self._conns:
                    poller.register(conn.sock, select.POLLIN)
                for fd in self._notify_fds:
                    poller.register(fd, select.POLLIN)
                for fd, events in poller.poll(100):
                    conn = next((c for c in self._conns if c.sock.fileno() == fd), None)
                    if fd == self.sock.fileno():
                        sock, _ = self.sock.accept()
                        self._conns.append(_Conn(sock, len(self.connections)))
                        self.connections.append({"eof": False, "fds": 0})
                    elif conn is not None:
                        self._read(conn)
                    elif events & select.POLLIN:
                        self._answer(fd)
                    elif events & (select.POLLHUP | select.POLLERR):
                        # no process uses the filter any more; RECV would block
                        self._notify_fds.remove(fd)
                        os.close(fd)
        except Exception as e:  # recorded for the test; a thread cannot fail it
            self.errors.append(f"agent: {e!r}")

    def _read(self, conn):
        # The spec lets the runtime split the state over several sendmsg
        # calls (fds in the first): the message is complete when it parses.
        # Notifications are answered from then on, whether or not the
        # runtime has closed the connection yet.
        info = self.connections[conn.index]
        data, fds, _, _ = socket.recv_fds(conn.sock, 1 << 16, 4)
        info["fds"] += len(fds)
        if fds and (conn.parsed or conn.data):
            self.errors.append(f"connection {conn.index}: fds after the first message part")
        for fd in fds[1:]:
            os.close(fd)
        if fds and not conn.parsed:
            conn.notify_fd = fds[0]
        if not data:
            info["eof"] = True
            self._conns.remove(conn)
            conn.sock.close()
            if not conn.parsed:
                self.errors.append(f"connection {conn.index} closed before a complete message: "
                                   f"{conn.data!r}")
                if conn.notify_fd is not None:
                    os.close(conn.notify_fd)
            return
        conn.data += data
        if conn.parsed:
            self.errors.append(f"connection {conn.index}: data after the message: {data!r}")
            return
        try:
            msg = json.loads(conn.data)
        except ValueError:
            return  # incomplete: more to come
        conn.parsed = True
        self.messages.append(msg)
        self.fd_counts.append(info["fds"])
        if conn.notify_fd is not None:
            self._notify_fds.append(conn.notify_fd)

    def _answer(self, fd):
        req = SeccompNotif()  # the kernel wants it zeroed
        buf = bytearray(req)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.EINTR):  # ENOENT: the caller died meanwhile
                self.errors.append(f"NOTIF_RECV: {e}")
                self._notify_fds.remove(fd)
                os.close(fd)
            return
        req = SeccompNotif.from_buffer_copy(buf)
        reply = self.replies.get(req.data.nr, Reply(cont=True))
        self.notifications.append((req.pid, req.data.nr, list(req.data.args)))
        resp = SeccompNotifResp(id=req.id, val=reply.val, error=-abs(reply.error),
                                flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE if reply.cont else 0)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp), True)
        except OSError as e:
            if e.errno != errno.ENOENT:
                self.errors.append(f"NOTIF_SEND: {e}")

    # ------------------------------------------------------------ test side
    def wait_messages(self, n, timeout=10):
        """The first n listener messages (fewer after the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and not self.errors and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._conns:
            conn.sock.close()
            if conn.notify_fd is not None and conn.notify_fd not in self._notify_fds:
                os.close(conn.notify_fd)
        for fd in self._notify_fds:
            os.close(fd)
        self._notify_fds = []
        self.sock.close()
