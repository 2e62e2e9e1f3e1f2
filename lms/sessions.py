"""The session cookie, opened once per process for each cookie a browser sends.

Flask verifies and decodes the signed cookie on every request (an HMAC, base64, zlib, JSON and the
tagged-JSON walk: some 150 calls). A browser sends the same cookie until the session changes, so the
decoded contents are kept per (cookie, secret keys) and each request gets its own copy. Only sessions
holding plain values (strings, numbers, booleans, None) are kept, so the copy shares nothing mutable
(a session with flashed messages, a list, is decoded every time). The cookie's age is checked on
every request as itsdangerous checks it; a cookie that does not verify is never kept. The table is
bounded: past `LIMIT` cookies it starts afresh.
"""
import time

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from itsdangerous import BadSignature

LIMIT = 10_000
_PLAIN = (str, int, float, bool, type(None))


class KeptSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self.opened: dict[tuple, tuple[int, dict]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        key = (value, app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        kept = self.opened.get(key)
        if kept is not None and 0 <= int(time.time()) - kept[0] <= max_age:
            return self.session_class(kept[1])
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(v.__class__ in _PLAIN for v in data.values()):
            if len(self.opened) >= LIMIT:
                self.opened.clear()
            self.opened[key] = (int(signed_at.timestamp()), dict(data))
        return self.session_class(data)
