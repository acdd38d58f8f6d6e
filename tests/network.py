"""A network of app servers for tests/test_multi_server.py: gunicorn processes with production
settings on one database and one Redis, and a small HTTP client that keeps its own cookies.

The client keeps cookies by hand, as a browser behind the TLS proxy would: production marks
the session cookie Secure, which a cookie jar would not send over the test's plain HTTP. It
follows no redirects, so a test sees the 302 of a page that needs a login.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# No proxies from the environment, no redirects followed, no cookie jar.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class Answer:
    """What a server answered: status, headers, body."""

    status: int
    headers: object
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> dict:
        return json.loads(self.body or b"{}")

    @property
    def location(self) -> str:
        return self.headers.get("Location") or ""


def fetch(method: str, url: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
    """One HTTP request; errors (4xx, 5xx) and redirects are answers too."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=60) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.headers, err.read())


class Browser:
    """A browser at one client address (X-Forwarded-For, trusted by PROXY_COUNT=1) that
    keeps its cookies, whichever server it talks to."""

    def __init__(self, address: str, cookies: dict | None = None):
        self.address, self.cookies = address, dict(cookies or {})

    def request(self, base: str, method: str, path: str, form: dict | None = None) -> Answer:
        headers = {"X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = fetch(method, base + path, data, headers)
        for line in answer.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(line).items():
                gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if gone:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer

    def get(self, base: str, path: str) -> Answer:
        return self.request(base, "GET", path)

    def post(self, base: str, path: str, form: dict, token_from: str = "/login") -> Answer:
        """POST a form with a CSRF token read from the page token_from (on the same server)."""
        page = self.get(base, token_from)
        found = CSRF.search(page.text)
        assert found, (page.status, page.text[:500])
        return self.request(base, "POST", path, {**form, "csrf_token": found.group(1)})

    def login(self, base: str, email: str, password: str) -> Answer:
        return self.post(base, "/login", {"email": email, "password": password})


def api(
    base: str, token: str, method: str, path: str, body=None, headers: dict | None = None
) -> tuple[int, dict]:
    """One /api/v1 call with a bearer token (none if empty): (status, JSON body)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    answer = fetch(method, f"{base}/api/v1{path}", data, headers)
    try:
        return answer.status, answer.json()
    except ValueError:
        return answer.status, {"raw": answer.text}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`gunicorn app:app` with production settings on a free port; its log in a file."""

    def __init__(self, env: dict, log: Path, workers: int = 2):
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> AppServer:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        bind = f"127.0.0.1:{self.port}"
        command = [str(gunicorn), "-w", str(self.workers), "-b", bind, "--timeout", "60", "app:app"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own server)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def ready(self) -> bool:
        """Whether /healthz answers 200 (fails at once if the server died)."""
        assert self.process is not None and self.process.poll() is None, self.output()
        try:
            return fetch("GET", f"{self.base}/healthz").status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def production_env(**settings: str) -> dict:
    """The environment of an app server: this one's, without the tests' own settings, and
    production mode with the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    return {**env, "AIDMATCH_ENV": "production", **settings}


def wait_ready(servers: list[AppServer], timeout: float = 90) -> None:
    """Poll each server's /healthz every tenth of a second until all answer 200."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting and time.monotonic() < deadline:
        waiting = [server for server in waiting if not server.ready()]
        if waiting:
            pause.wait(0.1)
    assert not waiting, "server did not come up:\n" + "\n".join(s.output() for s in waiting)
