"""A misbehaving registry for RegistryClient's retry and resume tests.
Prints its port, then serves until killed:

    fault_server.py drop BLOBFILE     blob GETs: the first answer sends half the bytes
                                      (with the full Content-Length) and drops the
                                      connection; later ones honour Range with 206
    fault_server.py drop-200 BLOBFILE as drop, but later answers ignore Range (200, all)
    fault_server.py drop-every BLOBFILE  every blob answer sends at most 30000 bytes, then drops
    fault_server.py flaky BLOBFILE    500 twice, then the blob (200)
    fault_server.py baddigest FILE    manifests: FILE as an OCI manifest with a wrong
                                      Docker-Content-Digest
    fault_server.py schema1 FILE      manifests: FILE served as a signed schema1 manifest
    fault_server.py redirect FILE     blob GETs: 307 to http://localhost:PORT/cdn/blob (another
                                      host name), which serves the blob and logs whether an
                                      Authorization header came along
    fault_server.py tags FILE         tags/list in two pages joined by a Link header
Every request line is appended to BLOBFILE.log for the test to read.
"""

import hashlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    data = f.read()
state = {"gets": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(path + ".log", "a") as log:
            log.write(f"{self.command} {self.path} range={self.headers.get('Range')}\n")
        state["gets"] += 1
        if mode == "baddigest":
            wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
            return self.send(200, data, [("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                                         ("Docker-Content-Digest", wrong)])
        if mode == "schema1":
            return self.send(200, data, [("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws"),
                                         ("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())])
        if mode == "redirect":
            if self.path == "/cdn/blob":
                with open(path + ".log", "a") as log:
                    log.write(f"cdn authorization={self.headers.get('Authorization')}\n")
                return self.send(200, data)
            if self.path == "/v2/":
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                 [("WWW-Authenticate", 'Basic realm="fault"')])
            if self.headers.get("Authorization") is None:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                 [("WWW-Authenticate", 'Basic realm="fault"')])
            port = self.server.server_address[1]
            return self.send(307, b"", [("Location", f"http://localhost:{port}/cdn/blob")])
        if mode == "tags":
            if "last=b" in self.path:
                return self.send(200, b'{"name":"r","tags":["c"]}')
            return self.send(200, b'{"name":"r","tags":["a","b"]}',
                             [("Link", '</v2/r/tags/list?n=2&last=b>; rel="next"')])
        if mode == "flaky" and state["gets"] <= 2:
            return self.send(500, b'{"errors":[]}', [("Content-Type", "application/json")])
        rng = self.headers.get("Range")
        if mode == "drop-every":
            start = int(rng.split("=")[1].split("-")[0]) if rng else 0
            self.send_response(206 if rng else 200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:start + 30000])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode.startswith("drop") and state["gets"] == 1:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if rng and mode != "drop-200":
            start = int(rng.split("=")[1].split("-")[0])
            return self.send(206, data[start:], [("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
        self.send(200, data)


# Threads: a client keeps one connection alive while it opens another (redirects).
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
