"""Every kind of message: its label (the preferences page) and how its params read as a title and a body in
the reader's language (called when the message is shown, in that request's language).

The params are plain JSON written by the sender (lms/messages/__init__.py `send`); the contract of issue 17:

| kind | params |
|---|---|
| course_assigned | course_id, title |
| registration_confirmed | training_id, title |
| registration_promoted | training_id, title |
| session_tomorrow | training_id, title, starts_at, place |
| course_returned | course_id, title, note |
| course_published | course_id, title |
| ask_answered | question_id, title |
| mock_day_scheduled | day_id, title, starts_at |
| evaluation_due | training_id, title |
| result_verified | result_id, subject, year, passed |

Times (`starts_at`) are ISO 8601 with their offset, as `local_iso()` writes them (Asia/Shanghai).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _

from ..i18n import lazy_gettext as _l

Params = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    name: str
    label: LazyString
    title: Callable[[Params], str]
    body: Callable[[Params], str]
    in_app: bool = True  # the defaults of a user who has not chosen
    email: bool = True


def local_iso(utc: datetime) -> str:
    """A naive UTC time as the ISO text a message keeps: Asia/Shanghai, with its offset."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from ..util import LOCAL_TZ

    return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(LOCAL_TZ)).isoformat(timespec="minutes")


def when(value: Any) -> str:
    """An ISO time of a message's params as the reader sees it (Asia/Shanghai, YYYY-MM-DD HH:MM)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        from zoneinfo import ZoneInfo

        from ..util import LOCAL_TZ

        moment = moment.astimezone(ZoneInfo(LOCAL_TZ))
    return f"{moment:%Y-%m-%d %H:%M}"


def _t(p: Params) -> str:
    return str(p.get("title", ""))


def _result_body(p: Params) -> str:
    if p.get("passed"):
        return _("The training office has verified your result in %(subject)s (%(year)s): passed.",
                 subject=p.get("subject", ""), year=p.get("year", ""))
    return _("The training office has verified your result in %(subject)s (%(year)s): not passed.",
             subject=p.get("subject", ""), year=p.get("year", ""))


_KINDS = (
    Kind("course_assigned", _l("A course is assigned to me"),
         lambda p: _("New course assigned: %(title)s", title=_t(p)),
         lambda p: _("Your training office has assigned you the course “%(title)s”. Open it to start studying.",
                     title=_t(p))),
    Kind("registration_confirmed", _l("My registration for a training class is confirmed"),
         lambda p: _("Registration confirmed: %(title)s", title=_t(p)),
         lambda p: _("You are registered for the training class “%(title)s”.", title=_t(p))),
    Kind("registration_promoted", _l("I move up from a waiting list"),
         lambda p: _("You have a place: %(title)s", title=_t(p)),
         lambda p: _("A place has become free and you are now registered for the training class “%(title)s”.",
                     title=_t(p))),
    Kind("session_tomorrow", _l("A session of my class is tomorrow"),
         lambda p: _("Tomorrow: %(title)s", title=_t(p)),
         lambda p: _("A session of “%(title)s” starts at %(time)s, %(place)s.", title=_t(p),
                     time=when(p.get("starts_at")), place=p.get("place", ""))),
    Kind("course_returned", _l("My course is returned by the review"),
         lambda p: _("Course returned for changes: %(title)s", title=_t(p)),
         lambda p: _("The review returned your course “%(title)s”. Note: %(note)s", title=_t(p),
                     note=p.get("note") or "—")),
    Kind("course_published", _l("My course is published"),
         lambda p: _("Course published: %(title)s", title=_t(p)),
         lambda p: _("Your course “%(title)s” has passed the review and is now in the course library.",
                     title=_t(p))),
    Kind("ask_answered", _l("My question is answered"),
         lambda p: _("Your question has an answer: %(title)s", title=_t(p)),
         lambda p: _("An expert has answered the question “%(title)s”.", title=_t(p))),
    Kind("mock_day_scheduled", _l("A mock exam day is scheduled"),
         lambda p: _("Mock exam day: %(title)s", title=_t(p)),
         lambda p: _("A mock exam day “%(title)s” is scheduled for %(time)s.", title=_t(p),
                     time=when(p.get("starts_at")))),
    Kind("evaluation_due", _l("A class evaluation is waiting for me"),
         lambda p: _("Please evaluate: %(title)s", title=_t(p)),
         lambda p: _("The training class “%(title)s” has ended. Tell us how it went: it takes two minutes.",
                     title=_t(p))),
    Kind("result_verified", _l("My exam result is verified"),
         lambda p: _("Result verified: %(subject)s", subject=p.get("subject", "")),
         _result_body),
)

KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}


def get(name: str) -> Kind | None:
    return KINDS.get(name)
