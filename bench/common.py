"""Shared pieces of the benchmarks: a gunicorn server and a small HTTP load generator."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn on 127.0.0.1 with the given app module, as in production (sync workers)."""

    def __init__(self, target: str, env: dict | None = None, workers: int = 2, cwd: Path = ROOT):
        self.port = free_port()
        self.cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                    "--log-level", "warning", target]
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, start_new_session=True)
        return self.wait_listening()

    def wait_listening(self):
        """Return self once gunicorn accepts connections (at most 60 s)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


class Session:
    """A keep-alive HTTP client with a cookie jar (one connection per thread)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                json_body: object = None):
        """(status, body bytes); the response's headers stay in `self.headers`. `headers`: extra request
        headers; `json_body`: sent as JSON instead of the form `body`."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        self.headers = resp.headers
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, payload

    def login(self, username: str, password: str, headers: dict | None = None, expect: int | None = 302) -> int:
        """Log in through the login form: the status of the POST (asserted to be `expect` unless None)."""
        _status, html = self.request("GET", "/auth/login", headers=headers)
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()
        status, _ = self.request(
            "POST", "/auth/login", {"username": username, "password": password, "csrf_token": token}, headers=headers
        )
        assert expect is None or status == expect, f"login: {status}, expected {expect}"
        return status


def sessions_for(port: int, threads: int, login: tuple[str, str] | None) -> list[Session]:
    """`threads` keep-alive clients, each logged in as `login` when given."""
    sessions = []
    for _i in range(threads):
        s = Session(port)
        if login:
            s.login(*login)
        sessions.append(s)
    return sessions


def measure(port: int, path: str, seconds: float, threads: int, login: tuple[str, str] | None = None) -> dict:
    """Requests per second of GET `path` over `seconds`, with `threads` keep-alive clients."""
    counts, errors = [0] * threads, [0] * threads
    stop = time.perf_counter() + seconds
    sessions = sessions_for(port, threads, login)

    def run(i):
        s = sessions[i]
        while time.perf_counter() < stop:
            status, _body = s.request("GET", path)
            if status == 200:
                counts[i] += 1
            else:
                errors[i] += 1

    start = time.perf_counter()
    stop = start + seconds
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    return {"rps": sum(counts) / elapsed, "requests": sum(counts), "errors": sum(errors)}
