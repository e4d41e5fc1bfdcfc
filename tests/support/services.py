"""Real services and processes for the tests: gunicorn and the workers as
subprocesses, and a stand-in for Cloudinary. The private services themselves
(SecantusDB, Redis, RabbitMQ, an SMTP server) are in sandbox/, which bench/
and chaos/ share."""

import os
import sys
import threading
import urllib.request
from email import policy

from sandbox import (  # noqa: F401 (what the tests take from here)
    BIN,
    ROOT,
    Certificates,
    Inbox,
    PrivateRabbitMQ,
    PrivateRedis,
    PrivateRedisCluster,
    Process,
    SecantusDB,
    free_port,
    listening,
    wait_for,
)


def redis_at(url):
    """A client for one of Parley's REDIS_URLs (a cluster's too), as the app makes it."""
    from app.connections import new_redis

    return new_redis({"REDIS_URL": url, "REDIS_TLS_VERIFY": "required"}, max_connections=8)


class Processes:
    """Starts the app's processes with a given environment; stops them all at the end."""

    def __init__(self, env):
        self.env = env
        self.started = []

    def _start(self, name, command, extra_env):
        env = {**self.env, **(extra_env or {})}
        env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
        process = Process(name, command, env)
        self.started.append(process)
        return process

    def web(self, port=None, workers=1, env=None):
        port = port or free_port()
        process = self._start(
            "web",
            [
                os.path.join(BIN, "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "wsgi:app",
            ],
            env,
        )
        process.port = port
        process.url = f"http://127.0.0.1:{port}"

        def up():
            if not process.alive():
                raise AssertionError("web process died:\n" + process.output())
            try:
                return urllib.request.urlopen(process.url + "/signin", timeout=1).status == 200
            except OSError:
                return False

        wait_for(up, 30, what="the web process")
        return process

    def worker(self, kind, env=None):
        process = self._start(f"{kind}-worker", [sys.executable, "-m", f"workers.{kind}"], env)
        wait_for(lambda: "consuming" in process.output() or not process.alive(), 30, what=f"the {kind} worker")
        return process

    def stop_all(self):
        """At a test's end: a graceful stop is tested where it is the point,
        and here only costs time (up to a few seconds a process)."""
        for process in reversed(self.started):
            process.kill()

    def report(self):
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.output()[-4000:]}" for p in self.started)


class FakeCloudinary:
    """A loopback stand-in for Cloudinary's upload API that, like the real one,
    refuses an upload whose signature (SHA-1 of the sorted params + secret) is wrong."""

    def __init__(self, cloud="demo", key="1234", secret="s3cret"):
        import hashlib
        import json
        from email.parser import BytesParser
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.uploads, self.destroyed, self.refused = [], [], 0
        self.port = free_port()
        self.url = f"cloudinary://{key}:{secret}@{cloud}?upload_prefix=http://127.0.0.1:{self.port}"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                raw = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + self.rfile.read(length)
                form, file = {}, None
                for part in BytesParser(policy=policy.default).parsebytes(raw).iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "file":
                        file = part.get_payload(decode=True)
                    else:
                        form[name] = part.get_payload(decode=True).decode()
                signable = (
                    f"{k}={v}".replace("&", "%26") for k, v in form.items() if k not in ("api_key", "signature") and v
                )
                signature = hashlib.sha1(("&".join(sorted(signable)) + secret).encode()).hexdigest()
                good = signature == form.get("signature") and form.get("api_key") == key
                if not good:
                    fake.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "Invalid Signature"}}')
                    return
                public_id = f"{form['folder']}/{form['public_id']}" if "folder" in form else form.get("public_id")
                if self.path.endswith("/destroy"):
                    fake.destroyed.append(form["public_id"])
                    body = {"result": "ok"}
                else:
                    fake.uploads.append({"form": form, "file": file})
                    body = {
                        "public_id": public_id,
                        "secure_url": f"https://res.cloudinary.com/{cloud}/image/upload/v1/{public_id}",
                        "width": 1,
                        "height": 1,
                    }
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class FakePushService:
    """A loopback stand-in for a browser's push service (RFC 8030), over TLS
    with the run's own certificates, that does what the real ones do to a
    sender: refuses a notification without a valid VAPID signature (RFC
    8292) for its own origin, and keeps each one decrypted as the browser
    would (RFC 8291, with the browser's keys it made). `subscribe()` is a
    browser subscribing; `gone` holds endpoints it answers 410."""

    def __init__(self, certificates, vapid_public_key):
        import base64
        import json
        import secrets
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import http_ece
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from py_vapid import Vapid02

        fake = self
        self.port = free_port()
        self.origin = f"https://127.0.0.1:{self.port}"
        self.browsers = {}  # endpoint path -> (private key, auth secret)
        self.received = {}  # endpoint -> [payload]
        self.refused = []  # (endpoint, why)
        self.gone = set()

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        def unb64(text):
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

        def subscribe():
            key, auth = ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
            path = "/push/" + secrets.token_urlsafe(16)
            fake.browsers[path] = (key, auth)
            point = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            return {"endpoint": fake.origin + path, "keys": {"p256dh": b64(point), "auth": b64(auth)}}

        self.subscribe = subscribe

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                endpoint = fake.origin + self.path
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path not in fake.browsers or endpoint in fake.gone:
                    return self.answer(410)
                authorization = self.headers.get("Authorization", "")
                try:
                    signed = Vapid02.verify(authorization)
                    fields = dict(part.split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
                    claims = json.loads(unb64(fields["t"].split(".")[1]))
                except Exception as error:
                    signed, claims = False, {"error": repr(error)}
                if not (signed and fields.get("k") == vapid_public_key and claims.get("aud") == fake.origin):
                    fake.refused.append((endpoint, claims))
                    return self.answer(403)
                key, auth = fake.browsers[self.path]
                payload = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
                fake.received.setdefault(endpoint, []).append(json.loads(payload))
                self.answer(201)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.socket = certificates.server_context().wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
