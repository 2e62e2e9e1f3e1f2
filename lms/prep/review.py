"""The mistakes book on a spaced-repetition schedule: FSRS (py-fsrs), docs/EXAM_PREP.md "Reviewing mistakes".

Every question in a worker's book is an FSRS card kept in its `Mistake` row (read as an `Entry`; to_card /
_store, the one place that converts). What moves a card is a graded answer to its question, wherever it was
given (a mock exam, an exam day, a course quiz, practice, a review session):
- a wrong answer (less than full credit) to a question not in the book puts it in the book (a new card
  rated Again); to a question in the book it is a lapse (Again); a cleared question comes back (Again);
- a right answer to a question in the book is a review (Good; a multiple choice partly right: Hard);
- the schedule takes at most one answer per question per REPEAT_HOURS (20 h, mastery's rule): another
  answer so soon is not a review, as its answer was just shown. A wrong answer after a right one always
  counts (the worker forgot it), so only the same verdict twice in 20 h is ignored;
- a question leaves the book (`cleared_at`) only when its card is in FSRS's Review state with a
  stability of at least PREP_LEARNED_DAYS days: then the chance of recalling it a month on is about
  PREP_REVIEW_RETENTION.

FSRS's same-day learning steps (minutes apart) are not used: an answer minutes after seeing the right
one is not evidence of memory. So a new mistake comes back the next day, and fuzzing is off so that the
same history always gives the same dates.

No function here touches `request` or commits.
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from flask import current_app
from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import Select, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from ..database import utcnow
from ..exams import qtypes
from ..exams.models import ExamSubject, Mistake, Question
from ..extensions import db
from ..util import local_to_utc, utc_to_local
from . import mastery
from .models import GradedAnswer

# What one answer did to the book: put the question in it, a lapse of a question in it, brought a
# cleared one back, a review (it stays), a review that cleared it (learned), or nothing (within 20 h).
KINDS = ("added", "lapse", "back", "review", "learned", "repeat")


@dataclass(frozen=True)
class Outcome:
    kind: str
    due_at: datetime | None  # naive UTC: when the question comes back (None: learned, out of the book)

    def shown(self, now: datetime) -> dict:
        """What a page says (plain values, kept in the session between a review's POST and its page):
        the kind, the Asia/Shanghai day it comes back and in how many days from today."""
        if self.due_at is None:
            return {"kind": self.kind, "due": None, "days": None}
        due = utc_to_local(self.due_at).date()
        return {"kind": self.kind, "due": due.isoformat(), "days": (due - utc_to_local(now).date()).days}


# --- the card ----------------------------------------------------------------------------------------------

def scheduler(config=None) -> Scheduler:
    c = config if config is not None else current_app.config
    return Scheduler(desired_retention=c["PREP_REVIEW_RETENTION"], learning_steps=(), relearning_steps=(),
                     enable_fuzzing=False)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class Entry:
    """A question of the worker's book as record() reads and writes it: the `Mistake` row's columns as plain
    values (id None: not in the book yet), so that a paper's answers move the book in one read and one write."""
    id: int | None
    question_id: int
    wrong_count: int
    right_streak: int
    last_wrong_at: datetime
    cleared_at: datetime | None = None
    due_at: datetime | None = None
    fsrs_state: int = int(State.Learning)
    fsrs_step: int | None = None
    stability: float | None = None
    fsrs_difficulty: float | None = None
    last_review_at: datetime | None = None
    reviews: int = 0
    lapses: int = 0


_COLUMNS = tuple(f.name for f in fields(Entry))
_CHANGED = tuple(c for c in _COLUMNS if c != "question_id")  # what an answer may change (with the id: the key)


def to_card(entry: Entry, fsrs: Scheduler) -> Card:
    """The question's FSRS card. A mistake recorded before the schedule existed (no stability) is taken as
    a new card that lapsed when it was last answered wrongly."""
    if entry.stability is None or entry.fsrs_difficulty is None:
        wrong_at = _aware(entry.last_wrong_at or utcnow())
        card, _log = fsrs.review_card(Card(card_id=entry.id or 0, due=wrong_at), Rating.Again, wrong_at)
        return card
    return Card(card_id=entry.id or 0, state=State(entry.fsrs_state), step=entry.fsrs_step,
                stability=entry.stability, difficulty=entry.fsrs_difficulty,
                due=_aware(entry.due_at or entry.last_review_at or entry.last_wrong_at),
                last_review=_aware(entry.last_review_at) if entry.last_review_at else None)


def _store(entry: Entry, card: Card) -> None:
    entry.fsrs_state, entry.fsrs_step = int(card.state), card.step
    entry.stability, entry.fsrs_difficulty = card.stability, card.difficulty
    entry.due_at = _naive(card.due)
    entry.last_review_at = _naive(card.last_review) if card.last_review else None


def learned(card: Card, learned_days: float) -> bool:
    """The schedule says the question is learned: in the Review state, stability at least the setting."""
    return card.state == State.Review and (card.stability or 0.0) >= learned_days


def rating(credit: float) -> Rating:
    """A review's rating from the share of the points scored."""
    return Rating.Good if credit >= 1.0 else Rating.Hard if credit > 0.0 else Rating.Again


# --- answers -----------------------------------------------------------------------------------------------

def record(user_id: int, answers: Iterable[tuple[int, float]], now: datetime | None = None) -> dict[int, Outcome]:
    """Apply graded answers (question id, credit 0…1) to the worker's book; question id → what each did
    (questions not in the book and answered right are left out).

    Set-based, whatever the number of answers: one read of the book's rows for the answered questions, the
    FSRS step of each in Python, one executemany UPDATE by primary key of the rows read (every one answered
    changes) and one INSERT of the new mistakes. Objects of the book already in the session follow the
    UPDATE (the ORM's bulk update by primary key synchronises them)."""
    credits: dict[int, float] = {}
    for qid, credit in answers:
        credits[qid] = min(credits.get(qid, 1.0), float(credit))  # a question twice in a paper: its worse answer
    if not credits:
        return {}
    now = now or utcnow()
    mastery.lock_worker(user_id)  # one worker's answers one after another (PostgreSQL)
    book = {e.question_id: e for e in (Entry(**row) for row in db.session.execute(
        select(*(getattr(Mistake, c) for c in _COLUMNS))
        .where(Mistake.user_id == user_id, Mistake.question_id.in_(credits))).mappings())}
    fsrs = scheduler()
    learned_days = current_app.config["PREP_LEARNED_DAYS"]
    outcomes: dict[int, Outcome] = {}
    added: list[Entry] = []
    for qid, credit in credits.items():
        entry = book.get(qid)
        if entry is None:
            if credit >= 1.0:
                continue
            entry = _added(qid, now, fsrs)
            added.append(entry)
            outcomes[qid] = Outcome("added", entry.due_at)
            continue
        outcome = _answer(entry, credit, now, fsrs, learned_days)
        if outcome is not None:
            outcomes[qid] = outcome
    if book:
        db.session.execute(update(Mistake), [{c: getattr(e, c) for c in _CHANGED} for e in book.values()])
    if added:
        db.session.execute(insert(Mistake), [{"user_id": user_id, **{c: getattr(e, c) for c in _COLUMNS if c != "id"}}
                                             for e in added])
    return outcomes


def _added(question_id: int, now: datetime, fsrs: Scheduler) -> Entry:
    """A wrong answer to a question not in the book: a new card rated Again."""
    entry = Entry(id=None, question_id=question_id, wrong_count=1, right_streak=0, last_wrong_at=now)
    card, _log = fsrs.review_card(Card(card_id=0, due=_aware(now)), Rating.Again, _aware(now))
    _store(entry, card)
    return entry


def _answer(entry: Entry, credit: float, now: datetime, fsrs: Scheduler, learned_days: float) -> Outcome | None:
    """An answer to a question in the book (cleared or not): changes `entry` in place."""
    right = credit >= 1.0
    # The answer itself, whatever the schedule makes of it.
    last_was_wrong = entry.last_review_at is None or entry.last_wrong_at >= entry.last_review_at
    if right:
        entry.right_streak += 1
    else:
        entry.wrong_count += 1
        entry.right_streak, entry.last_wrong_at = 0, now
    if entry.cleared_at is not None:
        if right:
            return None  # learned, and still known
        card = to_card(entry, fsrs)
        kind = "back"
    else:
        if now - _last_taken(entry) < timedelta(hours=mastery.REPEAT_HOURS) and (right or last_was_wrong):
            return Outcome("repeat", entry.due_at)
        card = to_card(entry, fsrs)
        kind = "review" if right or credit > 0.0 else "lapse"
    card, _log = fsrs.review_card(card, Rating.Again if kind == "back" else rating(credit), _aware(now))
    _store(entry, card)
    entry.reviews += 1
    if kind in ("back", "lapse"):
        entry.lapses += 1
        entry.cleared_at = None
    elif learned(card, learned_days):
        entry.cleared_at = now
        return Outcome("learned", None)
    return Outcome(kind, entry.due_at)


# --- what is due -------------------------------------------------------------------------------------------

def end_of_day(now: datetime) -> datetime:
    """The end of `now`'s Asia/Shanghai day, as naive UTC."""
    return local_to_utc(datetime.combine(utc_to_local(now).date() + timedelta(days=1), time()))


def start_of_day(now: datetime) -> datetime:
    return local_to_utc(datetime.combine(utc_to_local(now).date(), time()))


def reviewable() -> ColumnElement[bool]:
    """A question a review session can show: active, of a practisable type, not a part of a case."""
    return and_(Question.status == "active", Question.type.in_(qtypes.names(practisable=True)),
                Question.parent_id.is_(None))


def _due_today(now: datetime) -> ColumnElement[bool]:
    return or_(Mistake.due_at.is_(None), Mistake.due_at < end_of_day(now))


def _ready(now: datetime) -> ColumnElement[bool]:
    """Not answered in the last REPEAT_HOURS: an answer now would be a review (see _answer)."""
    return func.coalesce(Mistake.last_review_at, Mistake.last_wrong_at) <= now - timedelta(hours=mastery.REPEAT_HOURS)


def _last_taken(mistake: Mistake | Entry) -> datetime:
    """When the schedule last took an answer to the question (a mistake from before it: its last wrong one)."""
    return mistake.last_review_at or mistake.last_wrong_at


def _in_book(user_id: int, subject_id: int | None):
    stmt = (select(Mistake).join(Question, Mistake.question_id == Question.id)
            .where(Mistake.user_id == user_id, Mistake.cleared_at.is_(None), reviewable()))
    return stmt.where(Question.subject_id == subject_id) if subject_id is not None else stmt


def due(user_id: int, subject_id: int | None = None, now: datetime | None = None) -> list[Mistake]:
    """Today's review, oldest due first: the questions of the book due by the end of today (Asia/Shanghai;
    a mistake from before the schedule is due at once) and not answered in the last 20 hours."""
    now = now or utcnow()
    return list(db.session.scalars(_in_book(user_id, subject_id).where(_due_today(now), _ready(now))
                                   .order_by(Mistake.due_at.is_not(None), Mistake.due_at, Mistake.id)))


def due_counts(user_id: int, subject_ids: Sequence[int], now: datetime | None = None) -> dict[int, int]:
    """subject id → the questions today's review of that subject holds (due() counted, one prebuilt statement:
    the home page asks on every view); subjects with none left out."""
    if not subject_ids:
        return {}
    now = now or utcnow()
    return {s: n for s, n in db.session.connection().execute(_due_counts_statement(), {
        "user_id": user_id, "subject_ids": list(subject_ids), "end": end_of_day(now),
        "ready_before": now - timedelta(hours=mastery.REPEAT_HOURS)})}


@cache
def _due_counts_statement() -> Select:
    """due()'s conditions with the moments as parameters, counted per subject."""
    return (select(Question.subject_id, func.count()).select_from(Mistake)
            .join(Question, Mistake.question_id == Question.id)
            .where(Mistake.user_id == bindparam("user_id"), Mistake.cleared_at.is_(None), reviewable(),
                   Question.subject_id.in_(bindparam("subject_ids", expanding=True)),
                   or_(Mistake.due_at.is_(None), Mistake.due_at < bindparam("end")),
                   func.coalesce(Mistake.last_review_at, Mistake.last_wrong_at) <= bindparam("ready_before"))
            .group_by(Question.subject_id))


def due_by_day(user_id: int, subject_id: int, today: date) -> dict[date, int]:
    """Asia/Shanghai day → the questions of the book due that day (overdue ones on their past day; those from
    before the schedule, with no due date, today): the plan's review load."""
    out: dict[date, int] = defaultdict(int)
    for due_at in db.session.scalars(_in_book(user_id, subject_id).with_only_columns(Mistake.due_at)):
        out[utc_to_local(due_at).date() if due_at else today] += 1
    return dict(out)


def is_due(mistake: Mistake, now: datetime | None = None) -> bool:
    """The same test as due(), for one row."""
    now = now or utcnow()
    return (mistake.cleared_at is None and (mistake.due_at is None or mistake.due_at < end_of_day(now))
            and _last_taken(mistake) <= now - timedelta(hours=mastery.REPEAT_HOURS))


@dataclass(frozen=True)
class Later:
    today: int                 # due later today (answered less than 20 hours ago)
    ready_at: datetime | None  # naive UTC: the first of them becomes reviewable
    next_due: datetime | None  # naive UTC: the first question due after today
    next_count: int            # how many are due that day


def later(user_id: int, subject_id: int | None = None, now: datetime | None = None) -> Later:
    """What comes after today's review: questions due today that are not ready yet, the next day with any."""
    now = now or utcnow()
    waiting = db.session.scalars(_in_book(user_id, subject_id).where(_due_today(now), ~_ready(now))).all()
    ready_at = min((_last_taken(m) + timedelta(hours=mastery.REPEAT_HOURS) for m in waiting), default=None)
    first = db.session.scalar(_in_book(user_id, subject_id).with_only_columns(func.min(Mistake.due_at))
                              .where(Mistake.due_at >= end_of_day(now)))
    count = 0
    if first is not None:
        count = db.session.scalar(_in_book(user_id, subject_id).with_only_columns(func.count()).where(
            Mistake.due_at >= start_of_day(first), Mistake.due_at < end_of_day(first))) or 0
    return Later(today=len(waiting), ready_at=ready_at, next_due=first, next_count=count)


@dataclass(frozen=True)
class Done:
    reviewed: int  # review answers today (the ones that counted)
    right: int
    learned: int   # questions that left the book today


def done_today(user_id: int, now: datetime | None = None) -> Done:
    """Today's reviews, from the log of graded answers (source "review") and the book."""
    now = now or utcnow()
    start = start_of_day(now)
    reviewed, right = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((GradedAnswer.credit >= 1.0, 1), else_=0)), 0))
        .where(GradedAnswer.user_id == user_id, GradedAnswer.source == "review",
               GradedAnswer.answered_at >= start)).one()
    cleared = db.session.scalar(select(func.count()).select_from(Mistake).where(
        Mistake.user_id == user_id, Mistake.cleared_at >= start)) or 0
    return Done(reviewed=reviewed, right=int(right), learned=cleared)


# --- the book, per subject and topic -------------------------------------------------------------------------

@dataclass(frozen=True)
class TopicRow:
    subject_id: int
    subject: str
    topic: str
    in_book: int
    due_today: int
    next_due: datetime | None  # naive UTC, the first due after today
    learned: int


def book(user_id: int, now: datetime | None = None) -> list[TopicRow]:
    """The worker's book per subject and topic, in one query: questions in it, due today, the next due
    after today, and learned (cleared) ones. Only questions a review can show count."""
    now = now or utcnow()
    end = end_of_day(now)
    open_ = Mistake.cleared_at.is_(None)
    rows = db.session.execute(
        select(ExamSubject.id, ExamSubject.name, Question.topic,
               func.sum(case((open_, 1), else_=0)),
               func.sum(case((and_(open_, _due_today(now)), 1), else_=0)),
               func.min(case((and_(open_, Mistake.due_at >= end), Mistake.due_at), else_=None)),
               func.sum(case((Mistake.cleared_at.is_not(None), 1), else_=0)))
        .select_from(Mistake)
        .join(Question, Mistake.question_id == Question.id)
        .join(ExamSubject, Question.subject_id == ExamSubject.id)
        .where(Mistake.user_id == user_id, reviewable())
        .group_by(ExamSubject.id, ExamSubject.name, ExamSubject.position, Question.topic)
        .order_by(ExamSubject.position, ExamSubject.name, Question.topic))
    return [TopicRow(sid, name, topic, int(n or 0), int(d or 0), _as_datetime(nxt), int(c or 0))
            for sid, name, topic, n, d, nxt, c in rows]


def _as_datetime(value: object) -> datetime | None:
    """min() over a CASE comes back from SQLite as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def subjects_due(rows: Sequence[TopicRow]) -> list[tuple[int, str, int]]:
    """(subject id, name, questions due today) for the subjects with any due, in the rows' order."""
    out: dict[int, list] = {}
    for r in rows:
        if r.due_today:
            out.setdefault(r.subject_id, [r.subject_id, r.subject, 0])[2] += r.due_today
    return [(sid, name, n) for sid, name, n in out.values()]
