"""Where the platform's events become messages: one function per event, called by the domain function
where it happens (each a single line there), and the periodic reminder of tomorrow's sessions."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from . import send
from .kinds import local_iso


def link(endpoint: str, **values: Any) -> str:
    """The site path of a page, in a request (url_for) or out of one (the periodic work: no script root)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def course_assigned(course: Any, user_ids: Iterable[int]) -> None:
    send("course_assigned", list(user_ids), {"course_id": course.id, "title": course.title},
         url=link("learning.course", course_id=course.id))


def course_people(course: Any, but: Any) -> set[int]:
    """Who made a course: its creator and the accounts of its authors (not the reviewer acting)."""
    people = {course.created_by_id} | {a.user_id for a in course.authors}
    return {i for i in people if i is not None and i != getattr(but, "id", None)}


def course_returned(course: Any, reviewer: Any) -> None:
    send("course_returned", course_people(course, reviewer),
         {"course_id": course.id, "title": course.title, "note": course.review_comment or ""},
         url=link("learning.edit_course", course_id=course.id))


def course_published(course: Any, reviewer: Any) -> None:
    send("course_published", course_people(course, reviewer),
         {"course_id": course.id, "title": course.title}, url=link("learning.course", course_id=course.id))


def registration(training: Any, user_ids: list[int], promoted: bool = False) -> None:
    send("registration_promoted" if promoted else "registration_confirmed", user_ids,
         {"training_id": training.id, "title": training.title}, url=link("training.detail", training_id=training.id))


def mock_day_scheduled(day: Any) -> None:
    """Every active worker of the day's unit and below (a district's thousands: the select goes to the task)."""
    from ..auth.models import User, UserRole
    from ..auth.scope import in_subtree
    from ..orgs.models import OrgUnit

    workers = (select(User.id).join(OrgUnit, OrgUnit.id == User.org_unit_id)
               .where(in_subtree(OrgUnit.path, day.org_unit.path), User.active.is_(True),
                      User.id.in_(select(UserRole.user_id).where(UserRole.role == "learner"))))
    send("mock_day_scheduled", workers, {"day_id": day.id, "title": day.title, "starts_at": local_iso(day.opens_at)},
         url=link("mock.index"))


def result_verified(row: Any) -> None:
    send("result_verified", [row.user_id], {"result_id": row.id, "subject": row.subject.name, "year": row.exam_year,
                                            "passed": bool(row.passed)}, url=link("mock.progress_view"))


# --- the reminder of tomorrow's sessions (the periodic work, lms/tasks/periodic.py) -------------------

def remind_tomorrow() -> int:
    """Tell the registered workers of every session starting within the next day (from now to now + 24 h),
    once per (session, user) however often this runs: the reminder row's unique key. How many reminders."""
    from ..training.models import Registration, Training, TrainingSession
    from .ical import place_of
    from .models import ReminderSent

    now = utcnow()
    sessions = db.session.scalars(
        select(TrainingSession).join(Training, Training.id == TrainingSession.training_id)
        .where(TrainingSession.starts_at > now, TrainingSession.starts_at <= now + timedelta(days=1),
               Training.status.in_(("open", "closed")))
        .order_by(TrainingSession.starts_at)).all()
    total = 0
    for session in sessions:
        told = select(ReminderSent.user_id).where(ReminderSent.kind == "session_tomorrow",
                                                  ReminderSent.subject_id == session.id)
        ids = db.session.scalars(select(Registration.user_id).where(
            Registration.training_id == session.training_id, Registration.status == "registered",
            Registration.user_id.not_in(told))).all()
        if not ids:
            continue
        db.session.add_all([ReminderSent(kind="session_tomorrow", subject_id=session.id, user_id=i, sent_at=now)
                            for i in ids])
        db.session.flush()
        training = session.training
        send("session_tomorrow", ids, {"training_id": training.id, "title": training.title,
                                       "starts_at": local_iso(session.starts_at), "place": place_of(session)},
             url=link("training.detail", training_id=training.id))
        total += len(ids)
    return total
