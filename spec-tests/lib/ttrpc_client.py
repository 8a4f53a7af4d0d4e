"""A ttrpc call to a shim's socket, for the Task methods ctr never sends
(CloseIO). Frames and envelopes as in lib/ttrpc/include/berth/ttrpc/frame.h;
protobuf encoded by hand (only strings, bools, varints are needed)."""
import os
import socket
import struct

TASK_SERVICE = "containerd.task.v2.Task"
NAMESPACE_KEY = "containerd-namespace-ttrpc"


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def field_varint(number, value):
    return _varint(number << 3) + _varint(int(value))


def _read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def decode_fields(buf):
    """{field number: last value} of a protobuf message (varints and bytes)."""
    fields, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], i = _read_varint(buf, i)
        elif wire == 2:
            n, i = _read_varint(buf, i)
            fields[number], i = buf[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire} not handled")
    return fields


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("shim closed the connection")
        data += chunk
    return data


def call(socket_path, method, payload, namespace, timeout=10):
    """One unary call; returns (grpc code, message, response payload)."""
    request = (field_bytes(1, TASK_SERVICE) + field_bytes(2, method) + field_bytes(3, payload)
               + field_bytes(5, field_bytes(1, NAMESPACE_KEY) + field_bytes(2, namespace)))
    # a test's socket path may exceed sun_path's 108 bytes: connect through
    # an O_PATH descriptor of it instead
    path_fd = os.open(socket_path, os.O_PATH | os.O_CLOEXEC)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(f"/proc/self/fd/{path_fd}")
        finally:
            os.close(path_fd)
        s.sendall(struct.pack(">IIBB", len(request), 1, 1, 0) + request)
        length, stream, kind, _ = struct.unpack(">IIBB", _recv_exact(s, 10))
        body = _recv_exact(s, length)
    assert (stream, kind) == (1, 2), (stream, kind)
    response = decode_fields(body)
    status = decode_fields(response.get(1, b""))
    return status.get(1, 0), status.get(2, b"").decode(), response.get(2, b"")


def close_io(socket_path, namespace, cid, exec_id="", stdin=True):
    payload = field_bytes(1, cid) + (field_bytes(2, exec_id) if exec_id else b"") \
        + field_varint(3, stdin)
    return call(socket_path, "CloseIO", payload, namespace)


def update(socket_path, namespace, cid, resources_json):
    """Update with runtime-spec LinuxResources, JSON in an Any as containerd
    sends it."""
    any_ = field_bytes(1, "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources") \
        + field_bytes(2, resources_json)
    return call(socket_path, "Update", field_bytes(1, cid) + field_bytes(2, any_), namespace)
