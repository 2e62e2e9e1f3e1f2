"""Courses, enrolments, completed lessons and the 学时 they earn (tables course, lesson, enrollment,
lesson_progress, credit)."""
import math
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.learning import progress
from lms.learning.models import Course, Lesson
from lms.util import utc_to_local

from .bulk import Run
from .people import City

COURSE_HOURS = (Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("3"))
DAYS_BACK = 700


def _courses(run: Run) -> list[tuple[int, Decimal]]:
    """(id, 学时) of the published courses: the library's when it has some, else forty synthetic ones,
    each with three lessons whose minutes cover its 学时."""
    w, now = run.writer, run.now
    courses = [(cid, hours) for cid, hours in db.session.execute(
        select(Course.id, Course.credit_hours).where(Course.status == "published"))]
    if courses:
        return courses
    cid = w.next_id("course")
    rows = [(cid + i, f"scale-course-{i + 1}", f"规模测试课程{i + 1}", "", "", "methods", "", "beginner",
             COURSE_HOURS[i % len(COURSE_HOURS)], False, "published", "", now, now, now, "")
            for i in range(40)]
    w.insert("course", ("id", "slug", "title", "summary", "description", "category", "tags", "level",
                        "credit_hours", "featured", "status", "review_comment", "published_at", "created_at",
                        "updated_at", "search_tokens"), rows)
    courses = [(r[0], r[8]) for r in rows]
    lid = w.next_id("lesson")
    lessons = [(lid + 3 * i + k, course_id, f"l{k + 1}", k + 1, f"第{k + 1}讲", "",
                math.ceil(float(hours) * current_app.config["CREDIT_HOUR_MINUTES"] / 3), True, now)
               for i, (course_id, hours) in enumerate(courses) for k in range(3)]
    w.insert("lesson", ("id", "course_id", "slug", "position", "title", "body", "minutes", "required",
                        "updated_at"), lessons)
    return courses


def _lessons_to_complete(course_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """course id → (lesson id, seconds) completing it takes: its required lessons (all when none is
    marked required), each studied for its minimum active time (docs/STUDY-TIME.md)."""
    by_course: dict[int, list[tuple[Lesson, int]]] = {}
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id.in_(course_ids))
                                     .order_by(Lesson.course_id, Lesson.position)):
        by_course.setdefault(lesson.course_id, []).append((lesson, progress.required_seconds(lesson)))
    return {cid: [(lesson.id, need) for lesson, need in rows if lesson.required]
            or [(lesson.id, need) for lesson, need in rows] for cid, rows in by_course.items()}


def build(run: Run, city: City, enrollments: int) -> None:
    w, rng, now = run.writer, run.rng, run.now
    courses = _courses(run)
    run.log(f"{len(courses)} courses")
    course_lessons = _lessons_to_complete([c[0] for c in courses])

    per_worker, extra = divmod(enrollments, city.worker_hi - city.first_user)
    first_enrollment = w.next_id("enrollment")
    course_credits: list[tuple] = []
    completions: list[tuple] = []  # (user, course, completed at): their lessons are written below

    def enrolments():  # consumed inside COPY on PostgreSQL: no queries in here
        eid = first_enrollment
        for i, user_id in enumerate(range(city.first_user, city.worker_hi)):
            k = min(per_worker + (1 if i < extra else 0), len(courses))
            for course_id, hours in rng.sample(courses, k):
                enrolled = now - timedelta(days=rng.random() * DAYS_BACK)
                completed = None
                if rng.random() < 0.6:
                    completed = min(enrolled + timedelta(days=rng.random() * 60), now)
                    course_credits.append((run.take_credit_id(), user_id, "course", course_id, hours,
                                           utc_to_local(completed).date(), now))  # the local day, as the app
                    completions.append((user_id, course_id, completed))
                yield (eid, user_id, course_id, "assigned" if rng.random() < 0.3 else "self", enrolled, completed)
                eid += 1

    w.insert("enrollment", ("id", "user_id", "course_id", "source", "enrolled_at", "completed_at"), enrolments())
    w.insert("credit", ("id", "user_id", "source", "source_id", "hours", "earned_on", "updated_at"), course_credits)
    run.log(f"{w.counts['enrollment']} enrolments, {len(course_credits)} course 学时 records")

    first_lesson_record = w.next_id("lesson_progress")

    def lesson_records():  # each lesson of a completed course, finished in order, studied its minimum
        lp_id = first_lesson_record
        for user_id, course_id, completed in completions:
            rows = course_lessons.get(course_id, [])
            for i, (lesson_id, need) in enumerate(rows):
                done = completed - timedelta(hours=len(rows) - 1 - i)
                yield (lp_id, user_id, lesson_id, need, done, done, "[]", 0)
                lp_id += 1

    w.insert("lesson_progress", ("id", "user_id", "lesson_id", "seconds_spent", "last_beat_at", "completed_at",
                                 "video_ranges", "video_seconds"), lesson_records())
    run.log(f"{w.counts.get('lesson_progress', 0)} completed lessons")
