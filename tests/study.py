"""Test helpers for studying a course, in one place: the rule for when a lesson may complete
(minimum active study time, docs/STUDY-TIME.md) lives in lms/learning/progress.py, and these helpers
satisfy it the way the lesson page does: heartbeats at explicit moments, no waiting. Adapt them
here, not in each test, when that rule changes."""
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from lms.auth.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.learning import progress
from lms.learning.models import Course, Lesson, StudyClock


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def make_course(slug="quiz-course", title="社区伦理实务", lessons=2, hours="2") -> Course:
    course = Course(slug=slug, title=title, summary="简介", category="methods", level="beginner",
                    credit_hours=Decimal(hours), status="published", published_at=utcnow())
    for i in range(1, lessons + 1):
        course.lessons.append(Lesson(slug=f"l{i}", position=i, title=f"第{i}讲", body="正文", minutes=20))
    db.session.add(course)
    db.session.flush()
    return course


def study_all_lessons(learner: User, course: Course) -> bool:
    """Enrol (if needed), study every lesson for its minimum and complete it; True if the course completed."""
    progress.enroll(learner, course)
    finished = False
    for lesson in course.lessons:
        finished = complete(learner, lesson) or finished
    return finished


def study(user, lesson, seconds: int | None = None, *, at: datetime | None = None,
          video_duration: int | None = None) -> datetime:
    """Beat on `lesson` every BEAT_INTERVAL seconds until `seconds` (default: the lesson's minimum)
    are credited, starting after whatever the learner's study clock has reached. With
    `video_duration`, the beats report the video (that long) watched from its start at normal
    speed. Returns the last beat's moment."""
    need = progress.required_seconds(lesson) if seconds is None else seconds
    row = db.session.get(StudyClock, user.id)
    t = at or max(utcnow(), row.credited_until if row is not None and row.credited_until else utcnow())
    progress.heartbeat(user, lesson, t, start=True)
    credited = 0
    while credited < need:
        step = min(progress.BEAT_INTERVAL, need - credited)
        t += timedelta(seconds=step)
        credited += step
        kwargs = {}
        if video_duration:
            kwargs = {"ranges": [[0, min(credited, video_duration)]], "duration": video_duration}
        progress.heartbeat(user, lesson, t, **kwargs)
    return t


def complete(user, lesson) -> bool:
    """Study the lesson for its minimum, then complete it (True when that completed the course)."""
    return progress.complete_lesson(user, lesson, study(user, lesson))


def beat_over_http(client, lesson_id: int, seconds: int, clock, token: str, **body) -> dict:
    """The lesson page's beats for `seconds` of study, through HTTP, with the injected clock
    advancing BEAT_INTERVAL between them (the first beat starts the stretch). The last answer."""
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    r = client.post(f"/learn/lessons/{lesson_id}/beat", json={"start": True, **body}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    done = 0
    while done < seconds:
        step = min(progress.BEAT_INTERVAL, seconds - done)
        clock.advance(seconds=step)
        done += step
        r = client.post(f"/learn/lessons/{lesson_id}/beat", json=body, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
    return r.json
