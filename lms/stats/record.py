"""One worker's record for a period: courses, classes, 学时 and exams (for offices and the API)."""
from sqlalchemy import func, or_, select

from ..exams.models import Attempt, Exam
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..learning.models import Course, Credit, Enrollment
from ..training.models import TRAINING_LEVELS, Attendance, Training, TrainingSession
from ..util import utc_to_local
from .queries import ATTENDED, Filters, _count_if, _in_period, one_decimal, rate
from .reports import Col, Report


def _local(value):
    return utc_to_local(value).strftime("%Y-%m-%d %H:%M") if value else None


def courses(user_id: int, f: Filters) -> list[dict]:
    """Enrolments made or completed in the period."""
    lo, hi = f.utc_bounds()
    stmt = (select(Enrollment, Course.title, Course.credit_hours).join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.user_id == user_id,
                   or_(_in_period(Enrollment.enrolled_at, lo, hi), _in_period(Enrollment.completed_at, lo, hi)))
            .order_by(Enrollment.enrolled_at.desc()))
    if f.course_id:
        stmt = stmt.where(Enrollment.course_id == f.course_id)
    return [{"course_id": e.course_id, "title": title, "enrolled_at": _local(e.enrolled_at),
             "completed_at": _local(e.completed_at), "credit_hours": float(hours) if e.completed_at else None}
            for e, title, hours in db.session.execute(stmt)]


def classes(user_id: int, f: Filters) -> list[dict]:
    """Per class: the attendance records of its sessions held in the period."""
    lo, hi = f.utc_bounds()
    stmt = (
        select(
            Training.id,
            Training.title,
            Training.level,
            func.count(),
            _count_if(Attendance.status.in_(ATTENDED)),
            func.min(TrainingSession.starts_at),
        )
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(Attendance.user_id == user_id, _in_period(TrainingSession.starts_at, lo, hi))
        .group_by(Training.id, Training.title, Training.level)
        .order_by(func.min(TrainingSession.starts_at).desc())
    )
    if f.level:
        stmt = stmt.where(Training.level == f.level)
    if f.training_id:
        stmt = stmt.where(Training.id == f.training_id)
    return [{"training_id": tid, "title": title, "level": level, "records": n, "attended": int(a or 0),
             "attendance_rate": rate(int(a or 0), n), "first_session": _local(first)}
            for tid, title, level, n, a, first in db.session.execute(stmt)]


def credits(user_id: int, f: Filters) -> list[dict]:
    """The 学时 ledger of the period, with what earned each entry."""
    stmt = (select(Credit.earned_on, Credit.source, Credit.source_id, Credit.hours,
                   Course.title.label("course"), Training.title.label("training"))
            .outerjoin(Course, (Credit.source == "course") & (Course.id == Credit.source_id))
            .outerjoin(TrainingSession, (Credit.source == "session") & (TrainingSession.id == Credit.source_id))
            .outerjoin(Training, Training.id == TrainingSession.training_id)
            .where(Credit.user_id == user_id, _in_period(Credit.earned_on, f.start, f.end_exclusive))
            .order_by(Credit.earned_on.desc(), Credit.id.desc()))
    return [{"earned_on": r.earned_on.isoformat(), "source": r.source, "source_id": r.source_id,
             "title": r.course if r.source == "course" else r.training, "hours": float(one_decimal(r.hours))}
            for r in db.session.execute(stmt)]


def attempts(user_id: int, f: Filters) -> list[dict]:
    lo, hi = f.utc_bounds()
    stmt = (select(Attempt.id, Exam.name, Attempt.graded_at, Attempt.score, Attempt.max_score, Attempt.passed)
            .join(Exam, Exam.id == Attempt.exam_id)
            .where(Attempt.user_id == user_id, Attempt.status == "graded", _in_period(Attempt.graded_at, lo, hi))
            .order_by(Attempt.graded_at.desc()))
    if f.exam_id:
        stmt = stmt.where(Attempt.exam_id == f.exam_id)
    return [
        {
            "attempt_id": i,
            "exam": name,
            "graded_at": _local(at),
            "score": float(score) if score is not None else None,
            "max_score": float(mx),
            "passed": passed,
        }
        for i, name, at, score, mx, passed in db.session.execute(stmt)
    ]


def reports(user_id: int, f: Filters) -> dict[str, Report]:
    from flask_babel import gettext as _

    out = {}
    r = Report(
        "courses",
        _l("Courses"),
        [
            Col("title", _l("Course"), "text", 30),
            Col("enrolled_at", _l("Enrolled on"), "text", 16),
            Col("completed_at", _l("Completed on"), "text", 16),
            Col("credit_hours", _l("Credit hours"), "dec", 10),
        ],
    )
    for c in courses(user_id, f):
        r.add([c["title"], c["enrolled_at"], c["completed_at"], c["credit_hours"]])
    out[r.name] = r
    r = Report("classes", _l("Training classes"), [
        Col("title", _l("Class"), "text", 30), Col("level", _l("Level"), "text", 10),
        Col("first_session", _l("First session"), "text", 16), Col("records", _l("Attendance records"), "int", 10),
        Col("attended", _l("Person-times"), "int", 10), Col("attendance_rate", _l("Attendance rate"), "pct", 10)])
    for c in classes(user_id, f):
        r.add([c["title"], str(TRAINING_LEVELS.get(c["level"], c["level"])), c["first_session"], c["records"],
               c["attended"], c["attendance_rate"]])
    out[r.name] = r
    r = Report("credits", _l("Credit hours ledger"), [
        Col("earned_on", _l("Date"), "text", 12), Col("source", _l("Earned by"), "text", 12),
        Col("title", _l("Course or class"), "text", 30), Col("hours", _l("Credit hours"), "dec", 10)])
    kinds = {"course": _("Course"), "session": _("Training session")}
    for c in credits(user_id, f):
        r.add([c["earned_on"], kinds.get(c["source"], c["source"]), c["title"], c["hours"]])
    out[r.name] = r
    r = Report(
        "exams",
        _l("Mock exams"),
        [
            Col("exam", _l("Exam"), "text", 30),
            Col("graded_at", _l("Graded on"), "text", 16),
            Col("score", _l("Score"), "dec", 8),
            Col("max_score", _l("Out of"), "dec", 8),
            Col("passed", _l("Passed"), "text", 8),
        ],
    )
    for a in attempts(user_id, f):
        r.add([a["exam"], a["graded_at"], a["score"], a["max_score"],
               "" if a["passed"] is None else (_("Yes") if a["passed"] else _("No"))])
    out[r.name] = r
    return out
