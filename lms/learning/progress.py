"""Studying: enrolment, time on lessons, completion and the 学时 it earns. Flushes, never commits."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from ..auth.models import User
from ..database import utcnow
from ..extensions import db
from ..util import utc_to_local
from .models import Course, Credit, Enrollment, Lesson, LessonProgress

# A heartbeat counts the time since the previous one, but never more than this: an idle or
# hidden tab (which stops sending beats) earns nothing beyond one interval.
BEAT_INTERVAL = 30
MAX_CREDIT_PER_BEAT = 60


class StudyError(ValueError):
    pass


def enrollment_for(user: User, course: Course) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


def enroll(user: User, course: Course, assigned_by: User | None = None) -> Enrollment:
    if course.status != "published":
        raise StudyError(_("This course is not open for study."))
    existing = enrollment_for(user, course)
    if existing is not None:
        return existing
    enrollment = Enrollment(user_id=user.id, course_id=course.id, source="assigned" if assigned_by else "self",
                            assigned_by_id=assigned_by.id if assigned_by else None)
    db.session.add(enrollment)
    db.session.flush()
    return enrollment


def assign(course: Course, users_stmt, assigned_by: User) -> int:
    """Enrol every active learner of `users_stmt` (a select of User) not yet enrolled. Returns the count."""
    if course.status != "published":
        raise StudyError(_("Only a published course can be assigned."))
    already = select(Enrollment.user_id).where(Enrollment.course_id == course.id)
    ids = db.session.scalars(users_stmt.with_only_columns(User.id).where(User.active.is_(True), User.id.not_in(already))).all()
    now = utcnow()
    db.session.add_all([Enrollment(user_id=i, course_id=course.id, source="assigned", assigned_by_id=assigned_by.id,
                                   enrolled_at=now) for i in ids])
    db.session.flush()
    return len(ids)


def _progress(user: User, lesson: Lesson) -> LessonProgress:
    row = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == user.id,
                                                        LessonProgress.lesson_id == lesson.id))
    if row is None:
        row = LessonProgress(user_id=user.id, lesson_id=lesson.id, seconds_spent=0)
        db.session.add(row)
    return row


def _require_enrollment(user: User, lesson: Lesson) -> Enrollment:
    enrollment = enrollment_for(user, lesson.course)
    if enrollment is None:
        raise StudyError(_("Enrol in the course first."))
    return enrollment


def heartbeat(user: User, lesson: Lesson, now: datetime | None = None) -> LessonProgress:
    """Credit the time since the last beat on this lesson, capped at MAX_CREDIT_PER_BEAT."""
    _require_enrollment(user, lesson)
    now = now or utcnow()
    row = _progress(user, lesson)
    if row.last_beat_at is not None:
        elapsed = (now - row.last_beat_at).total_seconds()
        if elapsed > 0:
            row.seconds_spent = (row.seconds_spent or 0) + int(min(elapsed, MAX_CREDIT_PER_BEAT))
    row.last_beat_at = now
    return row


def complete_lesson(user: User, lesson: Lesson, now: datetime | None = None) -> bool:
    """Mark a lesson complete; completes the course when every required lesson is. True if the course completed now."""
    enrollment = _require_enrollment(user, lesson)
    row = _progress(user, lesson)
    if row.completed_at is None:
        row.completed_at = now or utcnow()
    db.session.flush()
    return _maybe_complete_course(enrollment, now)


def required_lessons_done(enrollment: Enrollment) -> bool:
    """Every required lesson of the course (every lesson, when none is marked required) is complete."""
    course = enrollment.course
    required = [lesson.id for lesson in course.lessons if lesson.required] or [lesson.id for lesson in course.lessons]
    if not required:
        return False
    done = set(db.session.scalars(select(LessonProgress.lesson_id).where(
        LessonProgress.user_id == enrollment.user_id, LessonProgress.lesson_id.in_(required),
        LessonProgress.completed_at.is_not(None))))
    return not set(required) - done


def _maybe_complete_course(enrollment: Enrollment, now: datetime | None = None) -> bool:
    """Complete the course when its required lessons are done and, for a course with a quiz, the
    quiz is passed: then credit the 学时 (once) and issue the certificate. True if it completed now."""
    if enrollment.completed_at is not None:
        return False
    if not required_lessons_done(enrollment):
        return False
    from . import quiz

    st = quiz.state(enrollment)
    if st is not None and st.passed is None:
        return False  # the quiz opens now; the course completes when it is passed
    course = enrollment.course
    enrollment.completed_at = now or utcnow()
    credit(enrollment.user_id, "course", course.id, course.credit_hours,
           utc_to_local(enrollment.completed_at).date())  # the local day, as the year of 学时 counts
    from .certificates import issue

    issue(enrollment)
    return True


def quiz_graded(attempt, now: datetime | None = None) -> bool:
    """A course quiz attempt was graded (by a submit or at its deadline): a pass completes the course."""
    if not attempt.passed or attempt.exam.course_id is None:
        return False
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.user_id == attempt.user_id,
                                                            Enrollment.course_id == attempt.exam.course_id))
    if enrollment is None:
        return False
    return _maybe_complete_course(enrollment, now)


def credit(user_id: int, source: str, source_id: int, hours: Decimal, earned_on: date) -> Credit:
    """Record 学时 for one source once; a second call corrects the same row instead of adding."""
    row = db.session.scalar(select(Credit).where(Credit.user_id == user_id, Credit.source == source,
                                                 Credit.source_id == source_id))
    if row is None:
        row = Credit(user_id=user_id, source=source, source_id=source_id, hours=hours, earned_on=earned_on)
        db.session.add(row)
    else:
        row.hours, row.earned_on = hours, earned_on
    db.session.flush()
    return row


def hours_in_year(user_id: int, year: int) -> Decimal:
    total = db.session.scalar(select(func.coalesce(func.sum(Credit.hours), 0)).where(
        Credit.user_id == user_id, Credit.earned_on >= date(year, 1, 1), Credit.earned_on < date(year + 1, 1, 1)))
    return Decimal(total or 0)


def course_progress(user_id: int, course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each course: (completed lessons, lessons) for this user, in two grouped queries."""
    if not course_ids:
        return {}
    totals = dict(db.session.execute(select(Lesson.course_id, func.count()).where(
        Lesson.course_id.in_(course_ids)).group_by(Lesson.course_id)).all())
    done = dict(db.session.execute(
        select(Lesson.course_id, func.count()).join(LessonProgress, and_(
            LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == user_id,
            LessonProgress.completed_at.is_not(None)))
        .where(Lesson.course_id.in_(course_ids)).group_by(Lesson.course_id)).all())
    return {cid: (done.get(cid, 0), totals.get(cid, 0)) for cid in course_ids}


def lesson_states(user_id: int, course: Course) -> dict[int, LessonProgress]:
    ids = [lesson.id for lesson in course.lessons]
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user_id,
                                                          LessonProgress.lesson_id.in_(ids))) if ids else []
    return {row.lesson_id: row for row in rows}


def percent(done: int, total: int) -> int:
    return 0 if not total else int(round(100 * done / total))


def recently(td: timedelta) -> datetime:
    return utcnow() - td
