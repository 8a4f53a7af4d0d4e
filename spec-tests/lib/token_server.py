"""A Bearer token server for docker-registry's `auth: token` mode, as the
distribution token spec describes it (and registry-protocol.md observed):

    GET /token?service=S&scope=repository:NAME:pull[,push][&scope=…][&account=U]
        Authorization: Basic …     (optional: anonymous gets `anonymous` grants)
    → 200 {"token", "access_token", "expires_in", "issued_at"}
    → 401 {"details": "incorrect username or password"} for a bad password
    POST /token  grant_type=refresh_token&refresh_token=R&service=S&scope=A B&client_id=C
    → 200 {"access_token", …} for a refresh token in `refresh_tokens` (docker's
      identity tokens); 401 for an unknown one

The token is an RS256 JWT whose header carries the signing certificate in
`x5c`; the registry trusts it through `rootcertbundle` = cert_path. Claims:
iss, sub, aud (= service), exp, nbf, iat, jti, access [{type, name, actions}]
where actions = requested ∩ granted. Runs in a thread of the test process
(stop() or the context manager ends it), or standalone:

    python3 token_server.py DIR SERVICE ISSUER user:pass[:actions] … [refresh:TOKEN:user …]
    (prints "PORT\n" once listening; actions default "pull,push")
"""

import base64
import datetime
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _self_signed(common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


class TokenServer:
    def __init__(self, directory, service="berth-test", issuer="berth-test-issuer",
                 users=None, grants=None, anonymous=(), expires_in=300, refresh_tokens=None):
        """users: {name: password}; grants: {name: ("pull", "push")} (default
        both for every user); anonymous: actions granted without credentials."""
        self.service, self.issuer = service, issuer
        self.users = dict(users or {})
        self.grants = {u: tuple((grants or {}).get(u, ("pull", "push"))) for u in self.users}
        self.anonymous = tuple(anonymous)
        self.refresh_tokens = dict(refresh_tokens or {})  # token → user
        self.expires_in = expires_in
        self.requests = []  # (account or None, [scopes]) per token request, for assertions
        self._key, cert = _self_signed("berth test token signer")
        self.cert_path = os.path.join(directory, "token-signer.pem")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _user_of(self, header):
        """(user or None, ok): None for anonymous; ok False on bad credentials."""
        if not header:
            return None, True
        if not header.startswith("Basic "):
            return None, False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, False
        if user in self.users and secrets.compare_digest(self.users[user], password):
            return user, True
        return None, False

    def issue(self, user, scopes):
        granted = self.grants.get(user, ()) if user else self.anonymous
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            name, wanted = ":".join(parts[1:-1]), parts[-1].split(",")
            actions = [a for a in wanted if a in granted]
            access.append({"type": "repository", "name": name, "actions": actions})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service,
                  "exp": now + self.expires_in, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(16), "access": access}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"x5c": [self._x5c]})

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                if urllib.parse.urlparse(self.path).path != "/token":
                    return self._reply(404, {"details": "not found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if form.get("grant_type", [""])[0] != "refresh_token":
                    return self._reply(400, {"details": "unsupported grant_type"})
                user = server.refresh_tokens.get(form.get("refresh_token", [""])[0])
                scopes = " ".join(form.get("scope", [])).split()
                server.requests.append((user, scopes))
                if user is None:
                    return self._reply(401, {"details": "invalid refresh token"})
                token = server.issue(user, scopes)
                self._reply(200, {"access_token": token, "expires_in": server.expires_in})

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path != "/token":
                    return self._reply(404, {"details": "not found"})
                query = urllib.parse.parse_qs(url.query)
                if query.get("service", [server.service])[0] != server.service:
                    return self._reply(400, {"details": "unknown service"})
                user, ok = server._user_of(self.headers.get("Authorization"))
                scopes = query.get("scope", [])
                server.requests.append((user, scopes))
                if not ok:
                    return self._reply(401, {"details": "incorrect username or password"})
                token = server.issue(user, scopes)
                self._reply(200, {"token": token, "access_token": token,
                                  "expires_in": server.expires_in,
                                  "issued_at": datetime.datetime.now(datetime.timezone.utc)
                                  .strftime("%Y-%m-%dT%H:%M:%SZ")})

        return Handler


def main(argv):
    directory, service, issuer = argv[1:4]
    users, grants, refresh = {}, {}, {}
    for spec in argv[4:]:
        if spec.startswith("refresh:"):
            _, token, user = spec.split(":")
            refresh[token] = user
            continue
        user, password, *actions = spec.split(":")
        users[user] = password
        grants[user] = tuple(actions[0].split(",")) if actions else ("pull", "push")
    server = TokenServer(directory, service, issuer, users, grants,
                         refresh_tokens=refresh).start()
    print(server.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv)
