"""The mistakes book on a spaced-repetition schedule: FSRS (py-fsrs), docs/EXAM_PREP.md "Reviewing mistakes".

Every question in a worker's book is an FSRS card kept in its `Mistake` row (to_card / _store, the one
place that converts). What moves a card is a graded answer to its question, wherever it was given
(a mock exam, an exam day, a course quiz, practice, a review session):
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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from flask import current_app
from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import Select, and_, bindparam, case, func, or_, select
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


def to_card(mistake: Mistake, fsrs: Scheduler) -> Card:
    """The mistake's FSRS card. A mistake recorded before the schedule existed (no stability) is taken as
    a new card that lapsed when it was last answered wrongly."""
    if mistake.stability is None or mistake.fsrs_difficulty is None:
        wrong_at = _aware(mistake.last_wrong_at or utcnow())
        card, _log = fsrs.review_card(Card(card_id=mistake.id or 0, due=wrong_at), Rating.Again, wrong_at)
        return card
    return Card(card_id=mistake.id or 0, state=State(mistake.fsrs_state), step=mistake.fsrs_step,
                stability=mistake.stability, difficulty=mistake.fsrs_difficulty,
                due=_aware(mistake.due_at or mistake.last_review_at or mistake.last_wrong_at),
                last_review=_aware(mistake.last_review_at) if mistake.last_review_at else None)


def _store(mistake: Mistake, card: Card) -> None:
    mistake.fsrs_state, mistake.fsrs_step = int(card.state), card.step
    mistake.stability, mistake.fsrs_difficulty = card.stability, card.difficulty
    mistake.due_at = _naive(card.due)
    mistake.last_review_at = _naive(card.last_review) if card.last_review else None


def learned(card: Card, learned_days: float) -> bool:
    """The schedule says the question is learned: in the Review state, stability at least the setting."""
    return card.state == State.Review and (card.stability or 0.0) >= learned_days


def rating(credit: float) -> Rating:
    """A review's rating from the share of the points scored."""
    return Rating.Good if credit >= 1.0 else Rating.Hard if credit > 0.0 else Rating.Again


# --- answers -----------------------------------------------------------------------------------------------

def record(user_id: int, answers: Iterable[tuple[int, float]], now: datetime | None = None) -> dict[int, Outcome]:
    """Apply graded answers (question id, credit 0…1) to the worker's book; question id → what each did
    (questions not in the book and answered right are left out). One read for all the questions."""
    credits: dict[int, float] = {}
    for qid, credit in answers:
        credits[qid] = min(credits.get(qid, 1.0), float(credit))  # a question twice in a paper: its worse answer
    if not credits:
        return {}
    now = now or utcnow()
    mastery.lock_worker(user_id)  # one worker's answers one after another (PostgreSQL)
    book = {m.question_id: m for m in db.session.scalars(select(Mistake).where(
        Mistake.user_id == user_id, Mistake.question_id.in_(credits)))}
    fsrs = scheduler()
    learned_days = current_app.config["PREP_LEARNED_DAYS"]
    outcomes: dict[int, Outcome] = {}
    for qid, credit in credits.items():
        outcome = _answer(user_id, qid, book.get(qid), credit, now, fsrs, learned_days)
        if outcome is not None:
            outcomes[qid] = outcome
    db.session.flush()
    return outcomes


def _answer(user_id: int, question_id: int, mistake: Mistake | None, credit: float, now: datetime,
            fsrs: Scheduler, learned_days: float) -> Outcome | None:
    right = credit >= 1.0
    if mistake is None:
        if right:
            return None
        mistake = Mistake(user_id=user_id, question_id=question_id, wrong_count=1, right_streak=0,
                          last_wrong_at=now, reviews=0, lapses=0)
        card, _log = fsrs.review_card(Card(card_id=0, due=_aware(now)), Rating.Again, _aware(now))
        _store(mistake, card)
        db.session.add(mistake)
        return Outcome("added", mistake.due_at)

    # The answer itself, whatever the schedule makes of it.
    last_was_wrong = mistake.last_review_at is None or mistake.last_wrong_at >= mistake.last_review_at
    if right:
        mistake.right_streak += 1
    else:
        mistake.wrong_count += 1
        mistake.right_streak, mistake.last_wrong_at = 0, now
    if mistake.cleared_at is not None:
        if right:
            return None  # learned, and still known
        card = to_card(mistake, fsrs)
        kind = "back"
    else:
        if now - _last_taken(mistake) < timedelta(hours=mastery.REPEAT_HOURS) and (right or last_was_wrong):
            return Outcome("repeat", mistake.due_at)
        card = to_card(mistake, fsrs)
        kind = "review" if right or credit > 0.0 else "lapse"
    card, _log = fsrs.review_card(card, Rating.Again if kind == "back" else rating(credit), _aware(now))
    _store(mistake, card)
    mistake.reviews += 1
    if kind in ("back", "lapse"):
        mistake.lapses += 1
        mistake.cleared_at = None
    elif learned(card, learned_days):
        mistake.cleared_at = now
        return Outcome("learned", None)
    return Outcome(kind, mistake.due_at)


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


def _last_taken(mistake: Mistake) -> datetime:
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
