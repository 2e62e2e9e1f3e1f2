"""The demo city's messages: a few recent ones, read and unread, for the first demo workers and a trainer,
about the courses and classes the demo really has (run by lms/demo.py; running it again adds nothing)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from .kinds import local_iso
from .models import Message

WORKERS = ("w0001", "w0002", "w0003")
TRAINER = "trainer_wangxm"


def seed() -> str:
    from ..auth.models import User
    from ..learning.models import Course
    from ..training.models import Registration, Training, TrainingSession

    now = utcnow()
    names = WORKERS + (TRAINER,)
    users = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(names))).tuples().all())
    course = db.session.scalar(select(Course).where(Course.status == "published").order_by(Course.id))
    made = 0
    for n, username in enumerate(WORKERS):
        user_id = users.get(username)
        if user_id is None:
            continue
        rows: list[tuple[str, dict[str, Any], str | None, timedelta, bool]] = []
        if course is not None:
            rows.append(("course_assigned", {"course_id": course.id, "title": course.title},
                         f"/learn/courses/{course.id}", timedelta(days=3, hours=n), True))
        training = db.session.scalar(
            select(Training).join(Registration, Registration.training_id == Training.id)
            .where(Registration.user_id == user_id, Registration.status == "registered").order_by(Training.id.desc()))
        if training is not None:
            rows.append(("registration_confirmed", {"training_id": training.id, "title": training.title},
                         f"/training/{training.id}", timedelta(days=2, hours=n), True))
            upcoming = db.session.scalar(select(TrainingSession).where(
                TrainingSession.training_id == training.id, TrainingSession.starts_at > now)
                .order_by(TrainingSession.starts_at))
            if upcoming is not None:
                rows.append(("session_tomorrow", {"training_id": training.id, "title": training.title,
                                                  "starts_at": local_iso(upcoming.starts_at),
                                                  "place": upcoming.place_text or ""},
                             f"/training/{training.id}", timedelta(hours=5 + n), False))
        if course is not None:
            rows.append(("course_assigned", {"course_id": course.id, "title": course.title},
                         f"/learn/courses/{course.id}", timedelta(hours=1 + n), False))
        made += _add(user_id, username, rows, now)
    trainer_id = users.get(TRAINER)
    if trainer_id is not None and course is not None:
        made += _add(trainer_id, TRAINER, [
            ("course_published", {"course_id": course.id, "title": course.title}, f"/learn/courses/{course.id}",
             timedelta(days=1), False)], now)
    return f"{made} messages"


def _add(user_id: int, username: str, rows: list[tuple[str, dict[str, Any], str | None, timedelta, bool]],
         now: Any) -> int:
    made = 0
    for i, (kind, params, url, ago, read) in enumerate(rows):
        key = f"demo:{username}:{i}"
        if db.session.scalar(select(Message.id).where(Message.send_key == key, Message.user_id == user_id)):
            continue
        at = now - ago
        db.session.add(Message(user_id=user_id, kind=kind, params=params, url=url, send_key=key, created_at=at,
                               read_at=at + timedelta(minutes=30) if read else None))
        made += 1
    db.session.flush()
    return made
