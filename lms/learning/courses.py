"""Authoring and review of courses: plain functions that flush, never commit."""
import re
import secrets
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..library.models import Trainer
from .models import CATEGORIES, LEVELS, SERIES, Course, Lesson
from .search import reindex

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class CourseError(DomainError):
    pass


def parse_hours(value) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise CourseError(_("Credit hours must be a number, e.g. 2 or 1.5.")) from None
    if not Decimal("0.5") <= hours <= Decimal("100"):
        raise CourseError(_("Credit hours must be between 0.5 and 100."))
    return hours


def credit_problem(hours: Decimal, lesson_minutes: list[tuple[int, bool]]) -> str | None:
    """A course credits its 学时 for studying its required lessons (or all, when none is required), so it
    may not credit more than their nominal minutes make at CREDIT_HOUR_MINUTES a 学时. `lesson_minutes`:
    (minutes, required) per lesson. None when the hours are covered, else what to change."""
    per_hour = current_app.config["CREDIT_HOUR_MINUTES"]
    counted = [m for m, required in lesson_minutes if required] or [m for m, _required in lesson_minutes]
    minutes = sum(counted)
    if hours * per_hour <= minutes:
        return None
    return _("The course credits %(hours)s credit hours, but its required lessons take %(minutes)d minutes, "
             "which make %(most)s credit hours at %(per)d minutes each. Lower the credit hours or add lesson time.",
             hours=hours, minutes=minutes, most=(Decimal(minutes) / per_hour).quantize(Decimal("0.01")), per=per_hour)


def _check_credit(course: Course) -> None:
    problem = credit_problem(course.credit_hours, [(lesson.minutes, lesson.required) for lesson in course.lessons])
    if problem:
        raise CourseError(problem)


def new_slug(title: str) -> str:
    return f"c-{secrets.token_hex(4)}"


def check_course_fields(*, series, category, level) -> None:
    if series and series not in SERIES:
        raise CourseError(_("Unknown series."))
    if category not in CATEGORIES:
        raise CourseError(_("Unknown category."))
    if level not in LEVELS:
        raise CourseError(_("Unknown level."))


def author_profile(user) -> Trainer | None:
    return db.session.scalar(select(Trainer).where(Trainer.user_id == user.id))


def create_course(user, **fields) -> Course:
    check_course_fields(series=fields.get("series"), category=fields["category"], level=fields["level"])
    course = Course(slug=new_slug(fields["title"]), status="draft", created_by_id=user.id, **fields)
    profile = author_profile(user)
    if profile is not None:
        course.authors = [profile]
    db.session.add(course)
    reindex(course)
    db.session.flush()
    return course


def update_course(course: Course, **fields) -> None:
    check_course_fields(series=fields.get("series"), category=fields["category"], level=fields["level"])
    for key, value in fields.items():
        setattr(course, key, value)
    reindex(course)


def add_lesson(course: Course, **fields) -> Lesson:
    position = (db.session.scalar(select(func.max(Lesson.position)).where(Lesson.course_id == course.id)) or 0) + 1
    lesson = Lesson(course=course, slug=f"l-{secrets.token_hex(4)}", position=position, **fields)
    db.session.add(lesson)
    db.session.flush()
    reindex(course)
    return lesson


def update_lesson(lesson: Lesson, **fields) -> None:
    for key, value in fields.items():
        setattr(lesson, key, value)
    reindex(lesson.course)


def delete_lesson(lesson: Lesson) -> None:
    course = lesson.course
    course.lessons.remove(lesson)
    for i, other in enumerate(course.lessons, start=1):
        other.position = i
    reindex(course)


def move_lesson(lesson: Lesson, offset: int) -> None:
    lessons = list(lesson.course.lessons)
    i = lessons.index(lesson)
    j = max(0, min(len(lessons) - 1, i + offset))
    lessons[i], lessons[j] = lessons[j], lessons[i]
    for n, item in enumerate(lessons, start=1):
        item.position = n


# --- the review workflow: draft/returned → review → published (or returned with a comment) ----

def submit_for_review(course: Course) -> None:
    if course.status not in ("draft", "returned"):
        raise CourseError(_("Only a draft or a returned course can be submitted."))
    if not course.lessons:
        raise CourseError(_("Add at least one lesson before submitting."))
    _check_credit(course)
    course.status = "review"
    course.submitted_at = utcnow()


def return_course(course: Course, reviewer, comment: str) -> None:
    if course.status != "review":
        raise CourseError(_("Only a course in review can be returned."))
    if not comment.strip():
        raise CourseError(_("Say what needs to change: the comment is required."))
    course.status = "returned"
    course.review_comment = comment.strip()
    course.reviewed_by_id = reviewer.id
    course.reviewed_at = utcnow()


def publish_course(course: Course, reviewer, comment: str = "") -> None:
    if course.status not in ("review", "draft", "returned"):
        raise CourseError(_("This course is already published."))
    if not course.lessons:
        raise CourseError(_("A course without lessons cannot be published."))
    _check_credit(course)
    course.status = "published"
    course.review_comment = comment.strip()
    course.reviewed_by_id = reviewer.id
    course.reviewed_at = course.published_at = utcnow()


def unpublish_course(course: Course, reviewer) -> None:
    if course.status != "published":
        raise CourseError(_("Only a published course can be withdrawn."))
    course.status = "draft"
    course.reviewed_by_id = reviewer.id
    course.reviewed_at = utcnow()
