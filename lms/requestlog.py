"""Structured request logs: one JSON line per request on the `lms.request` logger (stderr),
when REQUEST_LOG is on (LMS_ENV=production turns it on).

Each line holds time (UTC), method, path, endpoint, status, duration_ms, user_id and ip. Never
a query string, a form field or a header: no password or token reaches the log. Path segments
that are secrets (the `token` of a file URL, a verification `code`) are masked.
"""
import json
import logging
import time
from datetime import UTC, datetime

from flask import Flask, g, request
from sqlalchemy import inspect

log = logging.getLogger("lms.request")
SECRET_ARGS = ("token", "code", "secret", "key", "password")


def init_app(app: Flask) -> None:
    if not app.config.get("REQUEST_LOG"):
        return
    if not log.handlers:
        handler = logging.StreamHandler()  # stderr: gunicorn and the systemd journal collect it
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    # First of all before_request functions: a request refused by one (CSRF, login) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_log)


def _start() -> None:
    g._request_started = time.perf_counter()


def _masked_path() -> str:
    path = request.path
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and value and any(s in name.lower() for s in SECRET_ARGS):
            path = path.replace(value, "***")
    return path


def _user_id():
    # The user Flask-Login loaded for this request, if any (never the session id: it holds the nonce).
    # Its identity, not user.id: after a commit the user is expired, and .id would read it again.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identity = inspect(user, raiseerr=False)
    return identity.identity[0] if identity is not None and identity.identity else getattr(user, "id", None)


def _log(response):
    started = g.pop("_request_started", None)
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": request.method,
        "path": _masked_path(),
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "user_id": _user_id(),
        "ip": request.remote_addr,
    }
    log.info(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
    return response
