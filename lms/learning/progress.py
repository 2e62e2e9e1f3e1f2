"""Studying: enrolment, time on lessons, completion and the 学时 it earns. Flushes, never commits."""
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, func, select

from .. import clock
from ..auth.models import User
from ..database import insert_or_ignore, utcnow
from ..errors import DomainError
from ..extensions import db
from ..util import utc_to_local
from .models import Course, CourseRating, Credit, Enrollment, Lesson, LessonProgress, StudyClock

# Study time (docs/STUDY-TIME.md). The lesson page beats every BEAT_INTERVAL seconds while it is
# visible and the learner active. A beat credits the real time since the learner's previous
# credited beat on ANY lesson, tab or device (StudyClock), never more than MAX_CREDIT_PER_BEAT:
# a tab that stopped beating (hidden, idle, closed) earns nothing for the gap beyond that.
BEAT_INTERVAL = 30
MAX_CREDIT_PER_BEAT = 60
# Video seconds one credited second may cover (players offer up to double speed).
MAX_PLAYBACK_RATE = 2
MAX_VIDEO_SECONDS = 24 * 3600
MAX_VIDEO_RANGES = 500


class StudyError(DomainError):
    pass


def enrollment_for(user: User, course: Course) -> Enrollment | None:
    return db.session.scalar(_statements()["enrollment"], {"user_id": user.id, "course_id": course.id})


@cache
def _statements() -> dict[str, Select]:
    """The statements of the course and lesson pages (and of every study beat), built once per process."""
    return {
        "enrollment": select(Enrollment).where(Enrollment.user_id == bindparam("user_id"),
                                               Enrollment.course_id == bindparam("course_id")),
        "progress": select(LessonProgress).where(LessonProgress.user_id == bindparam("user_id"),
                                                 LessonProgress.lesson_id.in_(bindparam("ids", expanding=True))),
    }


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
    ids = db.session.scalars(
        users_stmt.with_only_columns(User.id).where(User.active.is_(True), User.id.not_in(already))
    ).all()
    now = utcnow()
    db.session.add_all([Enrollment(user_id=i, course_id=course.id, source="assigned", assigned_by_id=assigned_by.id,
                                   enrolled_at=now) for i in ids])
    db.session.flush()
    from ..messages import events as message_events

    message_events.course_assigned(course, ids)
    return len(ids)


def rate(user: User, course: Course, stars: int, comment: str) -> CourseRating:
    """The user's one rating of the course, created or replaced (the view lets only those who
    completed the course rate it)."""
    rating = db.session.scalar(select(CourseRating).where(CourseRating.course_id == course.id,
                                                          CourseRating.user_id == user.id))
    if rating is None:
        rating = CourseRating(course_id=course.id, user_id=user.id)
        db.session.add(rating)
    rating.stars, rating.comment = int(stars), (comment or "").strip()
    db.session.flush()
    return rating


def _progress(user: User, lesson: Lesson) -> LessonProgress:
    row = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == user.id,
                                                        LessonProgress.lesson_id == lesson.id)
                            .execution_options(populate_existing=True))
    if row is None:
        row = LessonProgress(user_id=user.id, lesson_id=lesson.id, seconds_spent=0, video_ranges="[]", video_seconds=0)
        db.session.add(row)
    return row


def _require_enrollment(user: User, lesson: Lesson) -> Enrollment:
    enrollment = enrollment_for(user, lesson.course)
    if enrollment is None:
        raise StudyError(_("Enrol in the course first."))
    return enrollment


def _lock_study_clock(user_id: int) -> StudyClock:
    """The learner's study clock, created when missing, locked until the transaction ends
    (PostgreSQL: FOR UPDATE; SQLite: the request's BEGIN IMMEDIATE already serialises writers).
    Everything that credits or judges study time takes it first, so two beats never both credit
    the same seconds and two lessons completing at once still see each other."""
    insert_or_ignore(StudyClock, user_id=user_id)
    return db.session.scalars(select(StudyClock).where(StudyClock.user_id == user_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


# --- what a lesson asks for ----------------------------------------------------------------------

def has_video(lesson: Lesson) -> bool:
    return bool(lesson.video_id or lesson.video_url)


def required_seconds(lesson: Lesson) -> int:
    """The active study time that completes the lesson: its own minimum, else STUDY_MIN_PERCENT of its minutes."""
    if lesson.min_minutes is not None:
        return lesson.min_minutes * 60
    return math.ceil(lesson.minutes * 60 * current_app.config["STUDY_MIN_PERCENT"] / 100)


@dataclass(frozen=True)
class Standing:
    """Where a learner stands on one lesson: what the lesson page and the office see."""

    seconds: int                 # active study time credited
    required: int                # active study time that completes the lesson
    completed: bool
    video: bool = False          # a video lesson
    video_seconds: int = 0       # seconds of the video watched
    video_required: int | None = None  # None: the video's length is not known yet (never played)

    @property
    def remaining(self) -> int:
        return max(0, self.required - self.seconds)

    @property
    def video_remaining(self) -> int | None:
        return None if self.video_required is None else max(0, self.video_required - self.video_seconds)

    @property
    def can_complete(self) -> bool:
        return self.completed or (self.remaining == 0 and (not self.video or self.video_remaining == 0))

    def as_dict(self) -> dict:
        return {"seconds": self.seconds, "required": self.required, "remaining": self.remaining,
                "completed": self.completed, "can_complete": self.can_complete, "video": self.video,
                "video_seconds": self.video_seconds, "video_required": self.video_required,
                "video_remaining": self.video_remaining}


def standing(lesson: Lesson, row: LessonProgress | None) -> Standing:
    video = has_video(lesson)
    duration = row.video_duration if row is not None else None
    video_required = math.ceil(duration * current_app.config["STUDY_MIN_PERCENT"] / 100) if video and duration else None
    return Standing(seconds=(row.seconds_spent or 0) if row else 0, required=required_seconds(lesson),
                    completed=bool(row and row.completed_at), video=video,
                    video_seconds=(row.video_seconds or 0) if row else 0, video_required=video_required)


def format_duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    if minutes and secs:
        return _("%(m)d min %(s)d s", m=minutes, s=secs)
    if minutes:
        return _("%(m)d min", m=minutes)
    return _("%(s)d s", s=secs)


class NotYetError(StudyError):
    """Completing a lesson before its minimum: says what remains."""

    def __init__(self, state: Standing):
        self.standing = state
        if state.remaining:
            message = _("This lesson needs at least %(need)s of active study. You have studied %(done)s: "
                        "%(left)s to go.", need=format_duration(state.required), done=format_duration(state.seconds),
                        left=format_duration(state.remaining))
        elif state.video_required is None:
            message = _("Watch the video first: the lesson completes when you have watched %(p)d%% of it.",
                        p=current_app.config["STUDY_MIN_PERCENT"])
        else:
            message = _("Watch at least %(need)s of the video. You have watched %(done)s: %(left)s to go.",
                        need=format_duration(state.video_required), done=format_duration(state.video_seconds),
                        left=format_duration(state.video_remaining or 0))
        super().__init__(message)


# --- heartbeats and completion -------------------------------------------------------------------

def heartbeat(user: User, lesson: Lesson, now: datetime | None = None, *, start: bool = False,
              ranges: list | None = None, duration: float | None = None) -> LessonProgress:
    """Credit the study time since the learner's previous credited beat (on any lesson, tab or
    device), at most MAX_CREDIT_PER_BEAT. `start` (the page sends it on opening and on resuming
    after a pause) credits nothing and starts a new stretch, as does the first beat on a lesson.
    Video lessons: `ranges` are the parts of the video played while counting ([[start, end], …] in
    seconds) and `duration` its length; what is new is kept, up to MAX_PLAYBACK_RATE × the credit."""
    _require_enrollment(user, lesson)
    now = now or utcnow()
    clock = _lock_study_clock(user.id)
    row = _progress(user, lesson)
    credit = 0
    if start or row.last_beat_at is None or clock.credited_until is None:
        if clock.credited_until is None or now > clock.credited_until:
            clock.credited_until = now
    else:
        elapsed = (now - clock.credited_until).total_seconds()
        if elapsed > MAX_CREDIT_PER_BEAT:
            credit, clock.credited_until = MAX_CREDIT_PER_BEAT, now
        elif elapsed >= 1:
            credit = int(elapsed)  # the fraction of a second carries over to the next beat
            clock.credited_until += timedelta(seconds=credit)
    row.seconds_spent = (row.seconds_spent or 0) + credit
    if row.last_beat_at is None or now > row.last_beat_at:
        row.last_beat_at = now
    if has_video(lesson):
        _record_video(row, ranges, duration, credit * MAX_PLAYBACK_RATE)
    db.session.flush()
    return row


def _record_video(row: LessonProgress, ranges: list | None, duration: float | None, budget: float) -> None:
    if duration is not None and 0 < duration <= MAX_VIDEO_SECONDS:
        row.video_duration = max(row.video_duration or 0, math.ceil(duration))
    if not ranges or budget <= 0:
        return
    limit = row.video_duration or MAX_VIDEO_SECONDS
    have = json.loads(row.video_ranges or "[]")
    taken = []
    for start, end in merge_ranges([(max(0.0, s), min(float(limit), e)) for s, e in ranges]):
        for piece_start, piece_end in _subtract((start, end), have):
            take = min(piece_end - piece_start, budget)
            if take <= 0:
                break
            taken.append((piece_start, piece_start + take))
            budget -= take
    merged = merge_ranges(have + taken)
    row.video_ranges = json.dumps([[round(s, 1), round(e, 1)] for s, e in merged])
    row.video_seconds = int(sum(e - s for s, e in merged))


def merge_ranges(ranges) -> list[tuple[float, float]]:
    """Sorted, non-overlapping ranges covering the same seconds (touching ranges are joined)."""
    out: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in ranges if e > s):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def _subtract(piece: tuple[float, float], covered) -> list[tuple[float, float]]:
    start, end = piece
    out = []
    for cs, ce in covered:  # sorted, non-overlapping
        if ce <= start or cs >= end:
            continue
        if cs > start:
            out.append((start, cs))
        start = max(start, ce)
    if end > start:
        out.append((start, end))
    return out


def complete_lesson(user: User, lesson: Lesson, now: datetime | None = None) -> bool:
    """Mark a lesson complete once its minimum study (and, for a video, viewing) is reached, else
    raise NotYetError saying what remains; completes the course when every required lesson is.
    True if the course completed now."""
    enrollment = _require_enrollment(user, lesson)
    _lock_study_clock(user.id)
    row = _progress(user, lesson)
    if row.completed_at is None:
        state = standing(lesson, row)
        if not state.can_complete:
            raise NotYetError(state)
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


def complete_where_done(course: Course, now: datetime | None = None) -> int:
    """Complete the course for every learner whose required lessons are all done but whose enrolment
    is not complete (a revision removed the lessons they had left); their quiz, where the course has
    one, still decides. Returns how many completed."""
    required = [lesson.id for lesson in course.lessons if lesson.required] or [lesson.id for lesson in course.lessons]
    if not required:
        return 0
    done = (select(func.count()).select_from(LessonProgress)
            .where(LessonProgress.user_id == Enrollment.user_id, LessonProgress.lesson_id.in_(required),
                   LessonProgress.completed_at.is_not(None))
            .correlate(Enrollment).scalar_subquery())
    pending = db.session.scalars(select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.completed_at.is_(None), done == len(required))).all()
    return sum(1 for enrollment in pending if _maybe_complete_course(enrollment, now))


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
    total = db.session.scalar(_hours_in_year_statement(), {"user_id": user_id, "start": date(year, 1, 1),
                                                           "end": date(year + 1, 1, 1)})
    return Decimal(total or 0)


@cache
def _hours_in_year_statement() -> Select:
    """Built once per process (every worker's home page asks)."""
    return select(func.coalesce(func.sum(Credit.hours), 0)).where(
        Credit.user_id == bindparam("user_id"), Credit.earned_on >= bindparam("start"),
        Credit.earned_on < bindparam("end"))


@dataclass(frozen=True)
class YearCredit:
    """A worker's 学时 of one year against the annual target (ANNUAL_CREDIT_HOURS_TARGET)."""
    year: int
    hours: Decimal
    target: float

    @property
    def percent(self) -> int:
        """Share of the target reached, capped at 100 (for a progress bar)."""
        return min(100, percent(float(self.hours), float(self.target)))


def year_credit(user_id: int, year: int | None = None) -> YearCredit:
    """The 学时 `user_id` earned in `year` (default: this year, Asia/Shanghai) and the annual target."""
    year = year or clock.this_year()
    return YearCredit(year, hours_in_year(user_id, year), current_app.config["ANNUAL_CREDIT_HOURS_TARGET"])


def course_progress(user_id: int, course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each course: (completed lessons, lessons) for this user, in one grouped query (a lesson has at
    most one progress row per user, so the outer join counts each lesson once)."""
    if not course_ids:
        return {}
    counts = {cid: (done, total) for cid, total, done in db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id), func.count(LessonProgress.completed_at))
        .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == user_id))
        .where(Lesson.course_id.in_(course_ids)).group_by(Lesson.course_id)).tuples()}
    return {cid: counts.get(cid, (0, 0)) for cid in course_ids}


def lesson_states(user_id: int, course: Course) -> dict[int, LessonProgress]:
    ids = [lesson.id for lesson in course.lessons]
    if not ids:
        return {}
    rows = db.session.scalars(_statements()["progress"], {"user_id": user_id, "ids": ids})

    return {row.lesson_id: row for row in rows}


def lesson_standings(user_id: int, course_ids: list[int]) -> dict[int, list[tuple[Lesson, Standing]]]:
    """For each course: its lessons in order with where this learner stands on each (two queries)."""
    if not course_ids:
        return {}
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id.in_(course_ids))
                                 .order_by(Lesson.course_id, Lesson.position)).all()
    rows = (
        {
            r.lesson_id: r
            for r in db.session.scalars(
                select(LessonProgress).where(
                    LessonProgress.user_id == user_id, LessonProgress.lesson_id.in_([lesson.id for lesson in lessons])
                )
            )
        }
        if lessons
        else {}
    )
    out: dict[int, list[tuple[Lesson, Standing]]] = {cid: [] for cid in course_ids}
    for lesson in lessons:
        out[lesson.course_id].append((lesson, standing(lesson, rows.get(lesson.id))))
    return out


def percent(done: float, total: float) -> int:
    return 0 if not total else int(round(100 * done / total))


def recently(td: timedelta) -> datetime:
    return utcnow() - td


# --- what remains of a course ----------------------------------------------------------------------

@dataclass(frozen=True)
class Outlook:
    """Where a learner stands on a whole course: where to continue and what is left to do."""

    resume: Lesson | None   # where 继续学习 leads; None when every lesson is complete
    started: bool           # some lesson was studied (继续学习) or none yet (开始学习)
    lessons_left: int       # lessons that complete the course (the required ones) not yet complete
    minutes_left: int       # their nominal minutes less the active study already credited on them


def _touched_at(row: LessonProgress) -> datetime:
    return max(t for t in (row.last_beat_at, row.completed_at, datetime.min) if t is not None)


def next_lesson(course: Course, states: dict[int, LessonProgress], after: Lesson | None = None,
                include: bool = True) -> Lesson | None:
    """The first incomplete lesson from `after` on (itself when `include`, then the ones after it,
    then from the start of the course); from the start when `after` is None. None: all complete."""
    lessons = list(course.lessons)
    start = lessons.index(after) + (0 if include else 1) if after is not None else 0
    for lesson in lessons[start:] + lessons[:start]:
        row = states.get(lesson.id)
        if row is None or row.completed_at is None:
            return lesson
    return None


def outlook(course: Course, states: dict[int, LessonProgress]) -> Outlook:
    """What the course page tells a learner (`states` from lesson_states): continue at the first
    incomplete lesson from the last one studied (that one itself while it is incomplete), and what
    remains of the lessons that complete the course."""
    lessons = list(course.lessons)
    studied = [lesson for lesson in lessons if lesson.id in states]
    last = max(studied, key=lambda lesson: _touched_at(states[lesson.id]), default=None)
    counted = [lesson for lesson in lessons if lesson.required] or lessons
    left = [lesson for lesson in counted if states.get(lesson.id) is None or states[lesson.id].completed_at is None]
    seconds = sum(max(0, lesson.minutes * 60 - (getattr(states.get(lesson.id), "seconds_spent", 0) or 0))
                  for lesson in left)
    return Outlook(resume=next_lesson(course, states, last), started=last is not None, lessons_left=len(left),
                   minutes_left=math.ceil(seconds / 60))
