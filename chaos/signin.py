"""People asking for sign-in codes at a steady pace, each with a new address,
as the sign-in form's htmx POST does; the run's SMTP server says which codes
arrived, and when."""

import http.client
import re
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

from bench.load import shown

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class CodeRequests:
    def __init__(self, url, every=2.0):
        self.url = urlsplit(url)
        self.every = every
        self.requests = []  # {"email", "status", "answer", "at"}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="code-requests", daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.wait(self.every):
            self.requests.append(self.ask(f"chaos-{uuid.uuid4().hex[:12]}@example.com"))

    def ask(self, email):
        """The sign-in page, then its form: accepted when answered with a redirect to the code page."""
        request = {"email": email, "at": time.time(), "accepted": False}
        try:
            status, headers, body = self._call("GET", "/signin")
            if status == 200:
                cookie = "; ".join(value.split(";", 1)[0] for value in headers.get_all("Set-Cookie") or [])
                form = urlencode({"email": email, "csrf_token": CSRF_FIELD.search(body).group(1)})
                status, headers, body = self._call(
                    "POST",
                    "/signin",
                    form,
                    {
                        "Cookie": cookie,
                        "HX-Request": "true",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Origin": f"{self.url.scheme}://{self.url.netloc}",
                    },
                )
            request["status"] = status
            request["accepted"] = headers.get("HX-Redirect") == "/verify"
            if not request["accepted"]:
                request["answer"] = shown(body)
        except OSError as error:
            request["status"] = repr(error)
        request["answered_at"] = time.time()
        return request

    def _call(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode(errors="replace")
        finally:
            connection.close()

    def stop(self):
        self._stop.set()
        self.thread.join()
        return self.requests
