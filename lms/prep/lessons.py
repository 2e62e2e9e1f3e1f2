"""The lessons that teach an exam topic, for one worker: the plan's study days and today's recommended lesson
take them from here, in one order (docs/EXAM_PREP.md, "What to do next").

A lesson teaches a topic when it names the topic itself (Lesson.topics), or when it is a required lesson of a
course that names it (Course.topics); only published courses count, never a revision in progress. For one
worker they come in this order, those the worker has completed left out:
1. in a course the worker is enrolled in, before the others;
2. a lesson naming the topic itself before one of a course naming it;
3. a featured course before the others;
4. then by course and by the lesson's place in its course.

The published catalogue's part (topic → lessons) is read once per process and kept under the catalogue's
version (`CatalogueVersion`), which every change of a course or lesson sets to a new random number in the same
transaction (bump_catalogue_version): the next read after the change commits builds it again. The worker's part
(their enrolments and completed lessons) is read with the version, in one statement.

No function here touches `request` or commits.
"""
import secrets
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import BindParameter, Select, Table, bindparam, event, literal, select, union_all, update
from sqlalchemy.orm import Session

from ..database import insert_or_ignore
from ..extensions import db
from ..learning.models import CatalogueVersion, Course, Enrollment, Lesson, LessonProgress

ROW = 1  # CatalogueVersion's one row


@dataclass(frozen=True)
class Teaching:
    """A lesson that teaches a topic, as the worker's pages link it."""
    course_id: int
    course_title: str
    lesson_id: int
    lesson_title: str
    minutes: int
    enrolled: bool = False   # the worker is enrolled in its course (else the course page: enrol first)


@dataclass(frozen=True)
class _Entry:
    course_id: int
    course_title: str
    lesson_id: int
    lesson_title: str
    minutes: int


Index = dict[str, tuple[_Entry, ...]]


def build_index(rows: Sequence[tuple]) -> Index:
    """topic → its lessons in the catalogue's order (2, 3, 4 of the module's doc), from the published lessons
    (course id, course title, course topics, featured, lesson id, lesson title, lesson topics, minutes,
    required), in course and lesson order."""
    ranked: dict[str, list[tuple[tuple, _Entry]]] = defaultdict(list)
    for course_id, course_title, course_topics, featured, lesson_id, lesson_title, lesson_topics, minutes, \
            required in rows:
        entry = _Entry(course_id, course_title, lesson_id, lesson_title, int(minutes or 0))
        own = set(lesson_topics or ())
        for topic in own | (set(course_topics or ()) if required else set()):
            ranked[topic].append(((topic not in own, not featured), entry))
    # sorted() is stable: within a rank the rows keep their course and lesson order
    return {topic: tuple(e for _rank, e in sorted(entries, key=lambda x: x[0])) for topic, entries in ranked.items()}


def read_index() -> Index:
    return build_index(db.session.execute(
        select(Course.id, Course.title, Course.topics, Course.featured, Lesson.id, Lesson.title, Lesson.topics,
               Lesson.minutes, Lesson.required)
        .join(Lesson, Lesson.course_id == Course.id)
        .where(Course.status == "published", Course.revision_of_id.is_(None))
        .order_by(Course.id, Lesson.position, Lesson.id)).tuples().all())


@cache
def _worker_statement() -> Select:
    """The catalogue's version, the worker's courses and completed lessons: (0, version), (1, course id)…,
    (2, lesson id)…"""
    user_id: BindParameter[int] = bindparam("user_id")
    return cast(Select, union_all(
        select(literal(0).label("kind"), CatalogueVersion.value.label("id")).where(CatalogueVersion.id == ROW),
        select(literal(1), Enrollment.course_id).where(Enrollment.user_id == user_id),
        select(literal(2), LessonProgress.lesson_id).where(LessonProgress.user_id == user_id,
                                                           LessonProgress.completed_at.is_not(None))))


_KEPT: dict[tuple[str, int], Index] = {}
_KEPT_LOCK = threading.Lock()


def _index(version: int) -> Index:
    key = (str(db.session.get_bind().engine.url), version)
    kept = _KEPT.get(key)
    if kept is None:
        kept = read_index()
        with _KEPT_LOCK:
            if len(_KEPT) >= 16:
                _KEPT.clear()
            _KEPT[key] = kept
    return kept


def for_worker(user_id: int, topics: Sequence[str], limit: int) -> dict[str, tuple[Teaching, ...]]:
    """topic → up to `limit` lessons teaching it for this worker (the module's order, completed ones left out);
    topics nothing teaches are left out. One statement while the catalogue is unchanged."""
    if not topics:
        return {}
    version = 0
    enrolled: set[int] = set()
    done: set[int] = set()
    # The version is read with (before) the catalogue: under READ COMMITTED the rows read next are at least as
    # new as the version they are kept under.
    for kind, value in db.session.connection().execute(_worker_statement(), {"user_id": user_id}):
        if kind == 0:
            version = value
        elif kind == 1:
            enrolled.add(value)
        else:
            done.add(value)
    index = _index(version)
    out: dict[str, tuple[Teaching, ...]] = {}
    for topic in dict.fromkeys(topics):
        entries = [e for e in index.get(topic, ()) if e.lesson_id not in done]
        entries.sort(key=lambda e: e.course_id not in enrolled)  # stable: the worker's courses first (1)
        if entries:
            out[topic] = tuple(Teaching(e.course_id, e.course_title, e.lesson_id, e.lesson_title, e.minutes,
                                        e.course_id in enrolled) for e in entries[:limit])
    return out


@event.listens_for(Session, "before_flush")
def bump_catalogue_version(session: Session, _context, _instances) -> None:
    """A course or lesson added, changed or deleted: the catalogue's version gets a new random number, written
    with the change (courses change rarely: an edit, a review, a publication)."""
    changed = any(isinstance(obj, Course | Lesson) for obj in (*session.new, *session.deleted)) or any(
        isinstance(obj, Course | Lesson) and session.is_modified(obj) for obj in session.dirty)
    if changed:
        table = cast(Table, CatalogueVersion.__table__)
        connection = session.connection()
        if connection.execute(update(table).where(table.c.id == ROW)
                              .values(value=secrets.randbits(62))).rowcount == 0:
            # a database made without the migration's row (the tests' create_all)
            insert_or_ignore(table, connection, id=ROW, value=secrets.randbits(62))
