"""The calendar feed: the sessions of the classes a user is registered for, as iCalendar VEVENTs with
Asia/Shanghai times and stable UIDs (a session keeps its UID when it moves, so phones update it)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..util import LOCAL_TZ


def sessions_of(user_id: int) -> list:
    from ..training.models import Registration, Training, TrainingSession

    return list(db.session.execute(
        select(TrainingSession, Training.title)
        .join(Training, Training.id == TrainingSession.training_id)
        .join(Registration, Registration.training_id == Training.id)
        .where(Registration.user_id == user_id, Registration.status == "registered",
               Training.status.in_(("open", "closed")))
        .order_by(TrainingSession.starts_at, TrainingSession.id)).all())


def _local(utc: datetime) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(LOCAL_TZ))


def uid(session_id: int) -> str:
    return f"training-session-{session_id}@shequ-xuetang"


def calendar(user_id: int) -> bytes:
    from flask_babel import gettext as _

    cal = Calendar()
    cal.add("prodid", "-//shequ-xuetang//messages//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("My training sessions"))
    cal.add("x-wr-timezone", LOCAL_TZ)
    stamp = clock.now().replace(tzinfo=UTC)
    for session, title in sessions_of(user_id):
        event = Event()
        event.add("uid", uid(session.id))
        event.add("dtstamp", stamp)
        event.add("dtstart", _local(session.starts_at))
        event.add("dtend", _local(session.ends_at))
        event.add("summary", title)
        place = place_of(session)
        if place:
            event.add("location", place)
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return cal.to_ical()


def place_of(session) -> str:
    """Where a session is, as a line of text."""
    if session.place_kind == "base" and getattr(session, "base", None) is not None:
        return session.base.name
    return session.place_text or ""
