"""Authoring and review of courses: plain functions that flush, never commit."""
import re
import secrets
from decimal import Decimal, InvalidOperation
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select

from ..database import utcnow
from ..errors import DomainError
from ..exams import topics as bank_topics
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


def taught_topics(values) -> list[str]:
    """The exam topics a course or lesson teaches, under their listed names (CourseError naming a bad one)."""
    try:
        return bank_topics.taught(values or [])
    except bank_topics.TopicError as exc:
        raise CourseError(str(exc)) from None


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
    if "topics" in fields:
        fields["topics"] = taught_topics(fields["topics"])
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
    if "topics" in fields:
        fields["topics"] = taught_topics(fields["topics"])
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
    from ..messages import events as message_events

    message_events.course_returned(course, reviewer)


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
    from ..messages import events as message_events

    message_events.course_published(course, reviewer)


def unpublish_course(course: Course, reviewer) -> None:
    if course.status != "published":
        raise CourseError(_("Only a published course can be withdrawn."))
    course.status = "draft"
    course.reviewed_by_id = reviewer.id
    course.reviewed_at = utcnow()


# --- revisions: improving a published course while it stays live ---------------------------------
# A revision is a draft Course (revision_of → the live course) holding copies of the live lessons
# (live_lesson_id → the lesson each copies). Its authors edit it like any draft and submit it to the
# same review. Approval copies it onto the live course in place: lessons that persist keep their ids,
# so every learner's LessonProgress stays; added lessons join the course; removed lessons go, and with
# them only their own progress rows: completed courses, their 学时 (Credit) and certificates are never
# touched. The draft is then deleted. Learners never see a revision (it is never published).

COURSE_FIELDS = ("title", "summary", "description", "series", "category", "tags", "level", "credit_hours",
                 "cover_id", "topics")
LESSON_FIELDS = ("title", "body", "minutes", "min_minutes", "required", "video_url", "video_id", "topics")


def open_revision(course: Course) -> Course | None:
    """The revision of a live course in progress, if any."""
    return db.session.scalar(_revision_statement(), {"course_id": course.id})


@cache
def _revision_statement() -> Select:
    """Built once per process: every view of a published course's page asks."""
    return select(Course).where(Course.revision_of_id == bindparam("course_id"))


def _copy_lesson(source: Lesson, target: Lesson) -> None:
    for key in LESSON_FIELDS:
        setattr(target, key, getattr(source, key))
    target.attachments = list(source.attachments)


def start_revision(course: Course, user) -> Course:
    """A draft copy of the published `course` for its authors to improve; the course stays live."""
    from . import quiz

    if course.revision_of_id is not None:
        raise CourseError(_("This is already a revision: edit it, then submit it for review."))
    if course.status != "published":
        raise CourseError(_("Only a published course is revised; edit this course directly."))
    if open_revision(course) is not None:
        raise CourseError(_("This course already has a revision in progress: continue that one."))
    draft = Course(slug=new_slug(course.title), status="draft", revision_of_id=course.id, featured=False,
                   created_by_id=course.created_by_id, **{key: getattr(course, key) for key in COURSE_FIELDS})
    db.session.add(draft)
    draft.authors = list(course.authors)
    for live in course.lessons:
        copy = Lesson(slug=live.slug, position=live.position, live_lesson_id=live.id)
        _copy_lesson(live, copy)
        draft.lessons.append(copy)
    reindex(draft)
    db.session.flush()
    quiz.copy_quiz(course, draft)
    return draft


def discard_revision(draft: Course) -> Course:
    """Delete a revision that is not in review; returns the live course, unchanged."""
    if draft.revision_of is None:
        raise CourseError(_("Only a revision can be discarded."))
    if draft.status == "review":
        raise CourseError(_("The revision is in review: wait for the training office's decision."))
    live = draft.revision_of
    _delete_draft(draft)
    return live


def _delete_draft(draft: Course) -> None:
    if draft.quiz is not None:
        db.session.delete(draft.quiz)  # never sat: nobody can enrol in a revision
    db.session.delete(draft)
    db.session.flush()


def approve_revision(draft: Course, reviewer, comment: str = "") -> Course:
    """Replace the live course's content with the revision's (see above); returns the live course."""
    from . import progress, quiz

    live = draft.revision_of
    if live is None:
        raise CourseError(_("This course is not a revision."))
    if draft.status not in ("review", "draft", "returned"):
        raise CourseError(_("This revision cannot be approved now."))
    if live.status != "published":
        raise CourseError(_("The course this revision improves is no longer published. Discard the revision "
                            "and edit the course itself."))
    if not draft.lessons:
        raise CourseError(_("A course without lessons cannot be published."))
    _check_credit(draft)

    for key in COURSE_FIELDS:
        setattr(live, key, getattr(draft, key))
    live.authors = list(draft.authors)
    live_lessons = {lesson.id: lesson for lesson in live.lessons}
    ordered = []
    for copy in list(draft.lessons):
        target = live_lessons.pop(copy.live_lesson_id, None) if copy.live_lesson_id else None
        if target is None:  # added by the revision: the row itself moves to the live course
            copy.course = live
            target = copy
        else:
            _copy_lesson(copy, target)
        ordered.append(target)
    for removed in live_lessons.values():
        live.lessons.remove(removed)  # its LessonProgress rows go with it; Credit and certificates stay
    for position, lesson in enumerate(ordered, start=1):
        lesson.position = position
        lesson.live_lesson_id = None
    live.lessons.sort(key=lambda lesson: lesson.position)
    quiz.copy_quiz(draft, live)
    live.review_comment = comment.strip()
    live.reviewed_by_id = reviewer.id
    live.reviewed_at = utcnow()
    from ..messages import events as message_events

    message_events.course_published(live, reviewer)
    _delete_draft(draft)
    reindex(live)
    db.session.flush()
    progress.complete_where_done(live)
    return live
