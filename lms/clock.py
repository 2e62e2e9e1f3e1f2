"""The one clock: every "now", "today" and "this year" of the app comes from here.

The database stores naive UTC (`now()`); people live in Asia/Shanghai, so "today" and "this
year" are that zone's day (`today()`, `this_year()`), never the server's local date.

Tests inject time by setting the app's ``CLOCK`` config to a callable returning naive UTC
(see ``tests/conftest.py``: the ``clock`` fixture); nothing in the app reads the wall clock
any other way.
"""
from datetime import UTC, date, datetime

from flask import current_app, has_app_context

from .util import utc_to_local


def now() -> datetime:
    """Naive UTC: what every DateTime column stores."""
    if has_app_context():
        injected = current_app.config.get("CLOCK")
        if injected is not None:
            return injected()
    return datetime.now(UTC).replace(tzinfo=None)


def local_now() -> datetime:
    """Naive Asia/Shanghai wall time."""
    return utc_to_local(now())


def today() -> date:
    """The Asia/Shanghai day."""
    return local_now().date()


def this_year() -> int:
    return today().year
