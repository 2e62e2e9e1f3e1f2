"""Template helpers at the cost of a dictionary look-up, for what every page asks for again and again.

- `url_for`: Flask's builds each URL through Werkzeug's routing (5–6 µs a call, 15–20 calls in the
  layout alone and one or more per row of a list). A URL is a pure function of the URL map, the
  request's script root (and host, for rules bound to one) and the arguments, so the templates' `url_for`
  remembers what it built per app, keyed by those and by each argument's type and value in the order
  given (the query string keeps it). Only plain arguments (str, int, None) are remembered; a relative
  endpoint (".view"), an `_external`/`_anchor`/`_method`/`_scheme` argument, an app with `url_defaults`
  functions, or a request outside the URL map go to Flask's as before.
- `csrf_token`: Flask-WTF signs the session's raw token afresh on each page (a timestamped HMAC).
  With no time limit on tokens (WTF_CSRF_TIME_LIMIT None, our setting) any signature of the raw token
  stays valid for the session, so the signed token is remembered per raw token and secret; with a
  time limit, Flask-WTF's is used.

- `datetime` (the filter): Flask-Babel's format_datetime finds the locale and the time zone and has Babel
  apply the pattern, some 100 calls a value (a list shows one or two a row). The patterns the pages use
  are numbers only (years, months, days, hours, minutes, seconds: Babel writes them with ASCII digits,
  zero-padded, in every locale), so those are written with `strftime` in the request's time zone; any
  other pattern goes to Flask-Babel's.

The tables are bounded: past `LIMIT` entries a table starts afresh (a URL with a query string per path, such
as the language links, would otherwise grow it without end).
"""
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask import Flask, current_app, g, session
from flask.globals import _cv_request
from flask_babel import format_datetime, get_timezone
from flask_wtf.csrf import generate_csrf

LIMIT = 20_000
_PLAIN = (str, int, type(None))


def install(app: Flask) -> None:
    """After Flask-WTF's init_app: the templates' `url_for` and `csrf_token`."""
    app.jinja_env.globals.update(url_for=_url_for(app), csrf_token=csrf_token)
    app.context_processor(lambda: {"csrf_token": csrf_token})  # Flask-WTF's context processor puts its own
    app.add_template_filter(datetime_filter, "datetime")


def _url_for(app: Flask) -> Callable[..., str]:
    built: dict[tuple, str] = {}
    build = app.url_for

    def url_for(endpoint: str, /, **values: Any) -> str:
        req_ctx = _cv_request.get(None)
        adapter = req_ctx.url_adapter if req_ctx is not None else None
        if adapter is None or endpoint[:1] == "." or app.url_default_functions:
            return build(endpoint, **values)
        key: list = [adapter.script_name, adapter.server_name, adapter.subdomain, endpoint]
        for name, value in values.items():
            if name[:1] == "_" or value.__class__ not in _PLAIN:
                return build(endpoint, **values)
            key += (name, value.__class__, value)
        k = tuple(key)
        url = built.get(k)
        if url is None:
            url = build(endpoint, **values)
            if len(built) >= LIMIT:
                built.clear()
            built[k] = url
        return url

    return url_for


_signed: dict[tuple[str | bytes | None, str], str] = {}


def csrf_token() -> str:
    """The page's signed CSRF token, as Flask-WTF's `generate_csrf()` gives it."""
    token = g.get("csrf_token")
    if token is not None:
        return token
    config = current_app.config
    raw = session.get("csrf_token")
    if raw is None or config.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or \
            config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token":
        return generate_csrf()
    key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    token = _signed.get(key)
    if token is None:
        token = generate_csrf()
        if len(_signed) >= LIMIT:
            _signed.clear()
        _signed[key] = token
    else:
        g.csrf_token = token
    return token


DEFAULT_DATETIME = "yyyy-MM-dd HH:mm"
# Babel's numeric fields with their strftime equivalent; a pattern made of these and separators only.
_NUMERIC = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_FIELD = re.compile(r"yyyy|MM|dd|HH|mm|ss|[-:/ .]")


@cache
def _strftime_pattern(pattern: str) -> str | None:
    """The strftime pattern that writes what Babel writes for `pattern`, or None."""
    fields = _FIELD.findall(pattern)
    if "".join(fields) != pattern:
        return None
    return "".join(_NUMERIC.get(f, f) for f in fields)


def datetime_filter(value: datetime | None, fmt: str = DEFAULT_DATETIME) -> str:
    """A stored time (naive UTC) in the request's time zone, as Flask-Babel's format_datetime writes it."""
    if not value:
        return ""
    pattern = _strftime_pattern(fmt)
    if pattern is None or value.__class__ is not datetime or not 1000 <= value.year:
        return format_datetime(value, fmt)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(get_timezone()).strftime(pattern)
