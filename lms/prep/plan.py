"""A worker's plan to the exam date: what to do on each day from today to the exam (docs/EXAM_PREP.md, "The plan").

`build()` is a plain, deterministic function of its inputs; nothing of it is stored. The plan page calls it on
every view with the current estimates, so the plan follows the worker's mastery as it changes.

How the days are filled, in this order, never beyond the worker's minutes a day:
1. a full mock exam (the subject's blueprint, its duration) on the day 7 days before the exam and every
   MOCK_EVERY days before that (counted back from the exam, so the days stay put from one visit to the next).
   A mock exam is one sitting: when it is longer than the minutes a day, its day holds the mock exam alone
   and the page says that day needs the mock's time (the one day allowed over the minutes);
2. the mistakes due for review that day (the FSRS due dates of the mistakes book; those overdue count
   today), MINUTES_PER_REVIEW each; those that do not fit wait for the next day;
3. a mastered topic (track.mastered) is kept fresh with KEEP_QUESTIONS questions every KEEP_EVERY days;
4. until track.REVIEW_DAYS before the exam, the topics not yet mastered, one after another: the weakest
   first, weighted by the exam: the topic that loses the most of the exam's points (weight × (1 − mastery))
   comes first, so a weak topic with a large share comes before a weak topic with a small one. A topic's
   study is its lessons (the first MAX_LESSONS of lms/prep/lessons.py's order: the worker's own courses
   first, lessons that name the topic before those of a course naming it; completed ones left out) and then
   STUDY_QUESTIONS practice questions. What does not fit a day goes on the next day. Once every topic has
   had its turn, the days left before the last two weeks get more practice sets (MORE_QUESTIONS) on the
   topics not yet mastered, in the same order, in turn;
5. the last track.REVIEW_DAYS days: review and mock exams only: revision sets of REVISE_QUESTIONS
   questions on every topic, weakest first, in turn.
If the topics cannot all be studied before the last two weeks, the plan says so and works out the
smallest number of minutes a day (a multiple of 5, at most MAX_MINUTES) with which they would be.

Only build() is pure; the other functions read its inputs from the database, and save or drop a plan.
None touches `request` or commits.
"""
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..database import insert_or_ignore
from ..errors import DomainError
from ..exams.models import Attempt, Exam, ExamSubject
from ..extensions import db
from ..util import local_to_utc, utc_to_local
from . import lessons as teaching
from . import mastery, review, track
from .models import GradedAnswer, PrepPlan

MINUTES_PER_QUESTION = 2   # a practice question and reading its explanation (the real exam allows 1.5 minutes)
MINUTES_PER_REVIEW = 2     # a mistake reviewed: answer it again, read the explanation
STUDY_QUESTIONS = 20       # practice questions after a topic's lessons (≥ PREP_MIN_EVIDENCE: enough to settle it)
KEEP_QUESTIONS = 5         # a mastered topic: this many questions …
KEEP_EVERY = 7             # … every this many days
REVISE_QUESTIONS = 10      # a revision set in the last REVIEW_DAYS
MORE_QUESTIONS = 10        # a further practice set once every topic has had its turn
MAX_LESSONS = 3            # lessons planned for one topic
MOCK_EVERY = 14            # days between full mock exams
MOCK_BEFORE = 7            # the last mock exam, this many days before the exam
MIN_CHUNK = 5              # a lesson is not cut into a piece shorter than this (minutes)
MIN_MINUTES, MAX_MINUTES = 10, 240   # what a worker may give a day
MIN_DAYS_AHEAD = 7         # an exam date at least this many days away …
MAX_YEARS_AHEAD = 2        # … and at most this many years


class PlanError(DomainError):
    """A plan that cannot be saved as asked, with the reason in the user's language."""


class PlanLike(Protocol):
    exam_date: date
    minutes_per_day: int


@dataclass(frozen=True)
class LessonRef:
    id: int
    title: str
    course_title: str
    minutes: int


@dataclass(frozen=True)
class TopicInput:
    """One topic of the subject as the plan sees it: its share of the exam and the worker's estimate."""
    name: str
    weight: float
    estimate: mastery.Estimate | None = None
    lessons: tuple[LessonRef, ...] = ()


@dataclass(frozen=True)
class Task:
    kind: str                       # mock, review, keep, lesson, practice, revise
    minutes: int
    topic: str | None = None
    count: int = 0                  # questions (practice, keep, revise) or mistakes (review)
    lesson: LessonRef | None = None
    continued: bool = False         # the rest of a lesson or practice set begun on an earlier day


@dataclass
class Day:
    day: date
    review_period: bool             # in the last REVIEW_DAYS: review and mock exams only
    tasks: list[Task] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(t.minutes for t in self.tasks)

    @property
    def mock(self) -> bool:
        return any(t.kind == "mock" for t in self.tasks)


@dataclass(frozen=True)
class Ranked:
    """A topic in the plan's order, with what put it there."""
    topic: TopicInput
    mastery: float                  # the estimate's chance on a medium question (0.5 before any answer)
    priority: float                 # weight × (1 − mastery): the share of the exam's points expected lost
    mastered: bool


@dataclass(frozen=True)
class Plan:
    days: list[Day]
    order: list[Ranked]             # every topic, in the plan's order
    study_end: date                 # the first day of the last REVIEW_DAYS
    fits: bool                      # every topic to study is planned before study_end, every review done
    unfinished: tuple[str, ...]     # topics (partly) left out for lack of time
    reviews_left: int               # due reviews that found no room before the exam
    needed_minutes: int | None      # when it does not fit: the least minutes a day that would (None: not even MAX)
    mock_minutes: int | None        # a full mock exam's duration (None: no mock exam planned)
    mock_over_budget: bool = False  # a planned mock exam is longer than the minutes a day

    @property
    def new_topics(self) -> list[Ranked]:
        return [r for r in self.order if not r.mastered]

    @property
    def no_study_period(self) -> bool:
        return bool(self.days) and self.days[0].day >= self.study_end


def rank(topics: Sequence[TopicInput], params: mastery.Params, target_percent: int) -> list[Ranked]:
    """Every topic, the one expected to lose the most of the exam's points first (ties: the subject's order)."""
    ranked = []
    for t in topics:
        p = mastery.expected(t.estimate.theta if t.estimate else 0.0, params.logits[1])
        ranked.append(Ranked(t, p, t.weight * (1.0 - p), track.mastered(t.estimate, params, target_percent)))
    position = {t.name: i for i, t in enumerate(topics)}
    return sorted(ranked, key=lambda r: (-round(r.priority, 12), position[r.topic.name]))


def mock_days(today: date, exam_date: date) -> list[date]:
    """The full mock exams' days from today on: MOCK_BEFORE days before the exam and every MOCK_EVERY before."""
    out, day = [], exam_date - timedelta(days=MOCK_BEFORE)
    while day >= today:
        out.append(day)
        day -= timedelta(days=MOCK_EVERY)
    return sorted(out)


def _study_queue(ranked: Sequence[Ranked]) -> deque[Task]:
    queue: deque[Task] = deque()
    for r in ranked:
        if r.mastered:
            continue
        for lesson in r.topic.lessons[:MAX_LESSONS]:
            queue.append(Task("lesson", max(1, lesson.minutes), r.topic.name, lesson=lesson))
        queue.append(Task("practice", STUDY_QUESTIONS * MINUTES_PER_QUESTION, r.topic.name, count=STUDY_QUESTIONS))
    return queue


def _take(task: Task, left: int) -> tuple[Task | None, Task | None]:
    """The part of `task` that fits in `left` minutes, and what remains of it (None: nothing)."""
    if task.minutes <= left:
        return task, None
    if task.kind == "lesson":
        if left < MIN_CHUNK:
            return None, task
        return replace(task, minutes=left), replace(task, minutes=task.minutes - left, continued=True)
    n = left // MINUTES_PER_QUESTION
    if n <= 0:
        return None, task
    return (replace(task, count=n, minutes=n * MINUTES_PER_QUESTION),
            replace(task, count=task.count - n, minutes=(task.count - n) * MINUTES_PER_QUESTION, continued=True))


def _fill(today: date, exam_date: date, minutes: int, ranked: Sequence[Ranked], reviews_due: Mapping[date, int],
          mock_minutes: int | None) -> tuple[list[Day], deque[Task], int]:
    study_end = exam_date - timedelta(days=track.REVIEW_DAYS)
    mocks = set(mock_days(today, exam_date)) if mock_minutes else set()
    queue = _study_queue(ranked)
    kept = [r.topic.name for r in ranked if r.mastered]
    keep_slot = {r.topic.name: i for i, r in enumerate(sorted(ranked, key=lambda r: r.topic.name))}
    revise = [r.topic.name for r in ranked]
    more = [r.topic.name for r in ranked if not r.mastered]
    next_revise = next_more = 0
    backlog = sum(n for d, n in reviews_due.items() if d < today)
    days: list[Day] = []
    day = today
    while day < exam_date:
        plan_day = Day(day, review_period=day >= study_end)
        left = minutes
        if day in mocks and mock_minutes:
            plan_day.tasks.append(Task("mock", mock_minutes))
            left = max(0, left - mock_minutes)
        backlog += reviews_due.get(day, 0)
        n = min(backlog, left // MINUTES_PER_REVIEW)
        if n:
            plan_day.tasks.append(Task("review", n * MINUTES_PER_REVIEW, count=n))
            backlog -= n
            left -= n * MINUTES_PER_REVIEW
        if not plan_day.review_period:
            for name in kept:
                if (exam_date - day).days % KEEP_EVERY == keep_slot[name] % KEEP_EVERY:
                    n = min(KEEP_QUESTIONS, left // MINUTES_PER_QUESTION)
                    if n:
                        plan_day.tasks.append(Task("keep", n * MINUTES_PER_QUESTION, name, count=n))
                        left -= n * MINUTES_PER_QUESTION
            while queue and left > 0:
                done, rest = _take(queue[0], left)
                if done is None:
                    break
                plan_day.tasks.append(done)
                left -= done.minutes
                if rest is None:
                    queue.popleft()
                else:
                    queue[0] = rest
                    break
            while not queue and more and left >= MINUTES_PER_QUESTION:
                n = min(MORE_QUESTIONS, left // MINUTES_PER_QUESTION)
                plan_day.tasks.append(Task("practice", n * MINUTES_PER_QUESTION, more[next_more], count=n))
                next_more = (next_more + 1) % len(more)
                left -= n * MINUTES_PER_QUESTION
        elif revise:
            while left >= MINUTES_PER_QUESTION:
                n = min(REVISE_QUESTIONS, left // MINUTES_PER_QUESTION)
                plan_day.tasks.append(Task("revise", n * MINUTES_PER_QUESTION, revise[next_revise], count=n))
                next_revise = (next_revise + 1) % len(revise)
                left -= n * MINUTES_PER_QUESTION
        days.append(plan_day)
        day += timedelta(days=1)
    return days, queue, backlog


def build(today: date, plan: PlanLike, topics: Sequence[TopicInput], reviews_due: Mapping[date, int],
          mock_minutes: int | None, params: mastery.Params, target_percent: int) -> Plan:
    """The days from today to the day before the exam, each with its tasks (see the module's doc).

    `topics` are the subject's topics that practice can draw from, in the subject's order, with their exam
    weights (track.topic_weights) and the worker's estimates; `reviews_due` the mistakes due per day (Asia/Shanghai
    days; days before today are overdue); `mock_minutes` the full mock exam's duration (None: no blueprint).
    A subject without questions gets no topics and no mock exams."""
    exam_date = plan.exam_date
    ranked = rank(topics, params, target_percent)
    mock_minutes = mock_minutes if topics else None
    study_end = exam_date - timedelta(days=track.REVIEW_DAYS)
    no_study = today >= study_end   # the last two weeks already: nothing new is planned, by the rule

    def fits(queue: deque[Task], backlog: int) -> bool:
        return (no_study or not queue) and not backlog

    days, queue, backlog = _fill(today, exam_date, plan.minutes_per_day, ranked, reviews_due, mock_minutes)
    needed = None
    if not fits(queue, backlog):
        start = plan.minutes_per_day + 5 - plan.minutes_per_day % 5
        for minutes in range(start, MAX_MINUTES + 1, 5):
            if fits(*_fill(today, exam_date, minutes, ranked, reviews_due, mock_minutes)[1:]):
                needed = minutes
                break
    unfinished = () if no_study else tuple(dict.fromkeys(t.topic for t in queue if t.topic))
    over = bool(mock_minutes and mock_minutes > plan.minutes_per_day and any(d.mock for d in days))
    return Plan(days=days, order=ranked, study_end=study_end, fits=fits(queue, backlog), unfinished=unfinished,
                reviews_left=backlog, needed_minutes=needed, mock_minutes=mock_minutes, mock_over_budget=over)


# --- the form's rules ----------------------------------------------------------------------------------------

def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_exam_date(today: date, month_day: str) -> date:
    """The next usual exam date (PREP_EXAM_DATE, MM-DD) on or after today + MIN_DAYS_AHEAD."""
    month, dom = (int(x) for x in month_day.split("-"))
    earliest = today + timedelta(days=MIN_DAYS_AHEAD)
    for year in (earliest.year, earliest.year + 1):
        candidate = date(year, month, dom)
        if candidate >= earliest:
            return candidate
    raise AssertionError("unreachable: next year's date is always later")


def check_exam_date(today: date, exam_date: date) -> None:
    """Raise PlanError when the exam date is past, under MIN_DAYS_AHEAD days away or over MAX_YEARS_AHEAD years."""
    if exam_date < today:
        raise PlanError(_("The exam date %(d)s has already passed. Enter the date of the exam you are preparing "
                          "for.", d=exam_date.isoformat()))
    if exam_date < today + timedelta(days=MIN_DAYS_AHEAD):
        raise PlanError(_("The exam is less than %(n)d days away: too soon to plan. Enter a date from %(d)s on.",
                          n=MIN_DAYS_AHEAD, d=(today + timedelta(days=MIN_DAYS_AHEAD)).isoformat()))
    latest = _add_years(today, MAX_YEARS_AHEAD)
    if exam_date > latest:
        raise PlanError(_("The exam date is more than %(n)d years away. Enter a date up to %(d)s.",
                          n=MAX_YEARS_AHEAD, d=latest.isoformat()))


def check_minutes(minutes: int) -> None:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise PlanError(_("Minutes a day must be from %(lo)d to %(hi)d.", lo=MIN_MINUTES, hi=MAX_MINUTES))


# --- reading and writing --------------------------------------------------------------------------------------

def of(user_id: int, subject_id: int) -> PrepPlan | None:
    return db.session.scalar(select(PrepPlan).where(PrepPlan.user_id == user_id, PrepPlan.subject_id == subject_id))


def save(user_id: int, subject: ExamSubject, exam_date: date, minutes: int, today: date) -> PrepPlan:
    """Create or change the worker's plan for the subject (one per subject)."""
    check_exam_date(today, exam_date)
    check_minutes(minutes)
    # The worker's two devices saving a first plan at once: one row, the later save's figures.
    insert_or_ignore(PrepPlan, user_id=user_id, subject_id=subject.id, exam_date=exam_date, minutes_per_day=minutes)
    row = db.session.scalars(select(PrepPlan).where(PrepPlan.user_id == user_id, PrepPlan.subject_id == subject.id)
                             .with_for_update().execution_options(populate_existing=True)).one()
    row.exam_date, row.minutes_per_day = exam_date, minutes
    db.session.flush()
    return row


def stop(user_id: int, subject_id: int) -> bool:
    """The worker stops preparing for the subject: the plan goes (their answers and estimates stay)."""
    gone = db.session.execute(delete(PrepPlan).where(PrepPlan.user_id == user_id, PrepPlan.subject_id == subject_id))
    db.session.flush()
    return bool(getattr(gone, "rowcount", 0))


def start_of(plan: PrepPlan) -> date:
    """The day the worker began this plan (Asia/Shanghai): the start of track.progress's study period."""
    return utc_to_local(plan.created_at).date()


@dataclass(frozen=True)
class Inputs:
    topics: list[TopicInput]
    weights: dict[str, float]
    estimates: dict[str, mastery.Estimate]
    reviews_due: dict[date, int]
    mock_minutes: int | None


def inputs(user_id: int, subject: ExamSubject, today: date) -> Inputs:
    """What build() needs, read from the database now."""
    blueprint = track.blueprint_of(subject)
    names, weights = track.subject_weights(subject, blueprint)
    estimates = {t: mastery.Estimate(m.theta, m.evidence, m.information)
                 for t, m in mastery.of_user(user_id, subject.id).items()}
    lessons = {t: tuple(LessonRef(x.lesson_id, x.lesson_title, x.course_title, x.minutes) for x in found)
               for t, found in teaching.for_worker(user_id, names, MAX_LESSONS).items()}
    topics = [TopicInput(t, weights[t], estimates.get(t), lessons.get(t, ())) for t in names]
    return Inputs(topics, weights, estimates, review.due_by_day(user_id, subject.id, today),
                  blueprint.duration_minutes if blueprint else None)


def target_percent() -> int:
    return int(current_app.config["PREP_TARGET_MASTERY"])


def progress(plan: PrepPlan, data: Inputs, today: date, params: mastery.Params) -> track.Progress:
    """On track today, by the one rule (track.progress), from the day the plan was made."""
    return track.progress(today, start_of(plan), plan.exam_date, data.weights, data.estimates, params,
                          target_percent())


# --- the calendar's past -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mock:
    attempt_id: int
    name: str
    score: float | None
    passed: bool | None


@dataclass(frozen=True)
class Past:
    answered: dict[date, int]              # day → graded answers in the subject (every source)
    mocks: dict[date, list[Mock]]          # day → mock exams of the subject taken (started) that day
    today_by_topic: dict[str, int]         # today's graded answers per topic
    reviewed_today: int                    # today's graded answers that were reviews of the mistakes book


def past(user_id: int, subject_id: int, first: date, last: date, today: date) -> Past:
    """What the worker did from `first` to `last` (Asia/Shanghai days, both included), from graded_answer and
    the mock exam attempts."""
    lo, hi = local_to_utc(datetime.combine(first, datetime.min.time())), \
        local_to_utc(datetime.combine(last + timedelta(days=1), datetime.min.time()))
    answered: dict[date, int] = defaultdict(int)
    by_topic: dict[str, int] = defaultdict(int)
    reviewed = 0
    for at, topic, source in db.session.execute(
            select(GradedAnswer.answered_at, GradedAnswer.topic, GradedAnswer.source)
            .where(GradedAnswer.user_id == user_id, GradedAnswer.subject_id == subject_id,
                   GradedAnswer.answered_at >= lo, GradedAnswer.answered_at < hi)):
        day = utc_to_local(at).date()
        answered[day] += 1
        if day == today:
            by_topic[topic] += 1
            reviewed += source == "review"
    mocks: dict[date, list[Mock]] = defaultdict(list)
    for aid, name, started, score, passed, status, pending in db.session.execute(
            select(Attempt.id, Exam.name, Attempt.started_at, Attempt.score, Attempt.passed, Attempt.status,
                   Attempt.pending_marks)
            .join(Exam, Attempt.exam_id == Exam.id)
            .where(Attempt.user_id == user_id, Exam.subject_id == subject_id, Exam.kind == "mock",
                   Attempt.status.in_(("submitted", "graded")), Attempt.started_at >= lo, Attempt.started_at < hi)
            .order_by(Attempt.started_at)):
        final = status == "graded" and not pending
        mocks[utc_to_local(started).date()].append(
            Mock(aid, name, float(score) if final and score is not None else None, passed if final else None))
    return Past(dict(answered), dict(mocks), dict(by_topic), reviewed)


# --- what changed lately ---------------------------------------------------------------------------------------

CHANGE_DAYS = 7        # the page says how the estimates moved over this many days
CHANGE_POINTS = 5      # … for topics that moved at least this many points of mastery, or became mastered


@dataclass(frozen=True)
class Change:
    topic: str
    before: int | None     # mastery % CHANGE_DAYS ago (None: not settled then)
    after: int
    now_mastered: bool     # mastered now and not then


def changes(user_id: int, subject_id: int, since: datetime, params: mastery.Params, target: int) -> list[Change]:
    """How the worker's settled estimates of the subject moved since `since` (naive UTC): the estimates then are
    the model replayed over the answers graded before it (mastery.replay), so both sides come from the same log."""
    log = [row for row in mastery.log_of(user_id) if row[0] == subject_id]
    then = mastery.replay(((s, t, d, c) for s, t, d, c, at in log if at < since), params)
    now = mastery.replay(((s, t, d, c) for s, t, d, c, _at in log), params)
    out = []
    for (_s, topic), e in now.items():
        old = then.get((subject_id, topic))
        if not mastery.settled(e.evidence, params) or (old is not None and old.evidence == e.evidence):
            continue
        before = mastery.percent(old.theta, params) if old and mastery.settled(old.evidence, params) else None
        after = mastery.percent(e.theta, params)
        newly = track.mastered(e, params, target) and not track.mastered(old, params, target)
        if newly or before is None or abs(after - before) >= CHANGE_POINTS:
            out.append(Change(topic, before, after, newly))
    return sorted(out, key=lambda c: (not c.now_mastered, -abs(c.after - (c.before if c.before is not None else 50)),
                                      c.topic))
