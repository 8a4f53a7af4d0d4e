"""The receiving end of --console-socket: the runtime connects to a unix
socket we listen on and sends the pty master as SCM_RIGHTS."""
import errno
import os
import select
import socket
import time


class ConsoleSocket:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.master = None

    def receive(self, timeout=10):
        """Accept the runtime's connection and return the pty master fd. The
        connection is queued by the kernel, so this may run after create."""
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(timeout)
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        assert len(fds) == 1, f"expected one fd over the console socket, got {fds}"
        self.master = fds[0]
        return self.master

    def read_until_closed(self, timeout=10):
        """Everything the container writes to its terminal until all its
        processes closed the slave (read then fails with EIO)."""
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError as e:
                if e.errno == errno.EIO:
                    break
                raise
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode(errors="replace")

    def close(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None
        self.sock.close()
