"""Reading values typed into a URL or a form: one parser per kind of value, with the limits the app accepts.

Each parser takes the raw text and returns the value, or raises ``InputError`` with a message in the
user's language that names the field and says what is accepted. The same limits describe the API's
parameters in its OpenAPI document (``*_schema()`` below), so the document and the server cannot disagree.

Dates and years are accepted from ``FIRST_YEAR`` to next year (``last_year()``, from the one clock): a
statistic before the platform existed or years ahead means nothing, and Python's dates end at year 9999.
Ids are whole numbers from 1 to ``MAX_ID``, the largest an INTEGER column holds.
"""
import re
from datetime import UTC, date, datetime

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from . import clock
from .util import MAX_ID, local_to_utc

FIRST_YEAR = 2000
MAX_PAGE = 100_000
_WHOLE = re.compile(r"[0-9]{1,12}")   # ASCII digits only: int() would also take "２０", "1_0" and " +1"
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class InputError(ValueError):
    """A value that was not understood; `message` says what and where, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(BadRequest):
    """400 with a message for the user (the error page and the API's JSON error show it)."""

    def __init__(self, message: str):
        super().__init__(description=message)
        self.message = message


def last_year() -> int:
    return clock.this_year() + 1


def whole(raw: str, field: str, lo: int, hi: int) -> int:
    """A whole number from lo to hi (both included)."""
    text = raw.strip()
    if not _WHOLE.fullmatch(text) or not lo <= int(text) <= hi:
        raise InputError(_("%(field)s: “%(value)s” is not a whole number from %(lo)d to %(hi)d.",
                           field=field, value=raw, lo=lo, hi=hi))
    return int(text)


def ident(raw: str, field: str) -> int:
    """An id: a whole number from 1 to MAX_ID."""
    return whole(raw, field, 1, MAX_ID)


def year(raw: str, field: str) -> int:
    text = raw.strip()
    lo, hi = FIRST_YEAR, last_year()
    if not _WHOLE.fullmatch(text) or not lo <= int(text) <= hi:
        raise InputError(_("%(field)s: “%(value)s” is not a year from %(lo)d to %(hi)d.",
                           field=field, value=raw, lo=lo, hi=hi))
    return int(text)


def day(raw: str, field: str) -> date:
    """A date written YYYY-MM-DD, in the accepted years."""
    text = raw.strip()
    m = _DAY.fullmatch(text)
    try:
        value = date.fromisoformat(text) if m else None
    except ValueError:
        value = None
    if value is None:
        raise InputError(_("%(field)s: “%(value)s” is not a date (YYYY-MM-DD).", field=field, value=raw))
    if not FIRST_YEAR <= value.year <= last_year():
        raise InputError(_("%(field)s: %(value)s is outside the years %(lo)d to %(hi)d.",
                           field=field, value=text, lo=FIRST_YEAR, hi=last_year()))
    return value


def moment(raw: str, field: str) -> datetime:
    """An ISO 8601 date and time (local when it has no offset) as the naive UTC the database stores."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if _DAY.match(text) else None
    except ValueError:
        value = None
    if value is None:
        raise InputError(_("%(field)s: “%(value)s” is not a date and time (ISO 8601, e.g. 2025-03-01T08:00:00+08:00).",
                           field=field, value=raw))
    if not FIRST_YEAR <= value.year <= last_year():
        raise InputError(_("%(field)s: %(value)s is outside the years %(lo)d to %(hi)d.",
                           field=field, value=text, lo=FIRST_YEAR, hi=last_year()))
    if value.tzinfo is None:
        return local_to_utc(value)
    return value.astimezone(UTC).replace(tzinfo=None)


# --- reading request arguments of HTML pages: a bad value is a 400 page with the message ---------

def arg(name: str, parse, field: str | None = None, default=None):
    """request.args[name] read by `parse(raw, field)`; absent or blank → default; bad → 400 (BadInput)."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return parse(raw, field or name)
    except InputError as exc:
        raise BadInput(exc.message) from None


def id_arg(name: str, field: str | None = None) -> int | None:
    return arg(name, ident, field)


def page_arg() -> int:
    return arg("page", lambda raw, field: whole(raw, field, 1, MAX_PAGE), _("Page"), 1)


def has_nul(values) -> str | None:
    """The name of the first field whose value holds a NUL character (no text column can store one)."""
    for key, value in values.items(multi=True):
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            return key
    return None


# --- the same limits as JSON Schema (the API's OpenAPI document) --------------------------------------

def id_schema() -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def whole_schema(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def year_schema() -> dict:
    return {"type": "integer", "minimum": FIRST_YEAR, "maximum": last_year()}


def _years_pattern() -> str:
    return "|".join(str(y) for y in range(FIRST_YEAR, last_year() + 1))


def day_schema() -> dict:
    return {"type": "string", "format": "date", "pattern": f"^({_years_pattern()})-[0-9]{{2}}-[0-9]{{2}}$"}


def moment_schema() -> dict:
    return {"type": "string", "format": "date-time", "pattern": f"^({_years_pattern()})-"}
