"""Topic mastery: an Elo-style rating of each worker on each topic, from every graded answer.

The model (docs/EXAM_PREP.md, "Topic mastery"), after Pelánek, "Applications of the Elo rating system
in adaptive educational systems" (Computers & Education, 2016):
- a question of difficulty 1, 2, 3 sits at b = PREP_DIFFICULTY_LOGITS (−1, 0, +1 by default);
- a worker's ability on a topic is theta (0 before any answer); the chance of answering a question
  right is p = 1 / (1 + e^−(theta − b)) (the Rasch model of item response theory);
- after each graded answer with credit c (the share of its points, 0…1), theta += K · (c − p), with
  K = max(K_MIN, K0 / (1 + K_DECAY · n)) and n the answers on the topic so far: the first answers
  move the estimate a lot, later ones less, but never less than K_MIN, so recent answers always
  weigh more than old ones (an answer's weight shrinks by about (1 − K_MIN · p(1 − p)) with each newer one);
- mastery shown to a worker is p for a medium question (b = the middle logit), as a percentage;
- `information` adds up p(1 − p) of each answer (its Fisher information); the standard error of theta
  is about 1 / sqrt(1 + information), the 1 being the prior's weight.

Answers are applied in the order they were graded; `rebuild` replays a worker's log
(`graded_answer`) in that order and gives exactly what the updates kept.

No function here touches `request` or commits.
"""
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, insert, select

from ..auth.models import User
from ..database import utcnow
from ..exams import qtypes
from ..exams.models import Attempt
from ..extensions import db
from .models import GradedAnswer, TopicMastery

# A question answered again within this many hours is not evidence again (practice shows the answer).
REPEAT_HOURS = 20


@dataclass(frozen=True)
class Params:
    k: float = 0.8
    k_decay: float = 0.15
    k_min: float = 0.25
    logits: tuple[float, float, float] = (-1.0, 0.0, 1.0)
    min_evidence: int = 5

    @classmethod
    def from_config(cls, config=None) -> "Params":
        c = config if config is not None else current_app.config
        return cls(k=c["PREP_ELO_K"], k_decay=c["PREP_ELO_K_DECAY"], k_min=c["PREP_ELO_K_MIN"],
                   logits=tuple(c["PREP_DIFFICULTY_LOGITS"]), min_evidence=c["PREP_MIN_EVIDENCE"])

    def b(self, difficulty: int) -> float:
        """The logit of a question of difficulty 1 (easy), 2 or 3 (hard)."""
        return self.logits[min(max(int(difficulty or 2), 1), 3) - 1]


@dataclass(frozen=True)
class Evidence:
    """One graded answer to one objective question."""
    question_id: int
    subject_id: int
    topic: str
    difficulty: int
    credit: float


@dataclass
class Estimate:
    theta: float = 0.0
    evidence: int = 0
    information: float = 0.0


def expected(theta: float, b: float) -> float:
    """The chance of a right answer to a question at logit b for ability theta."""
    return 1.0 / (1.0 + math.exp(-(theta - b)))


def k_factor(answers_so_far: int, params: Params) -> float:
    return max(params.k_min, params.k / (1.0 + params.k_decay * answers_so_far))


def step(estimate: Estimate, difficulty: int, credit: float, params: Params) -> Estimate:
    """The estimate after one more answer (a new object; the old one is left as it was)."""
    p = expected(estimate.theta, params.b(difficulty))
    credit = min(max(float(credit), 0.0), 1.0)
    return Estimate(theta=estimate.theta + k_factor(estimate.evidence, params) * (credit - p),
                    evidence=estimate.evidence + 1, information=estimate.information + p * (1.0 - p))


def percent(theta: float, params: Params) -> int:
    """Mastery as a worker reads it: the chance in % of answering a medium question right."""
    return round(100 * expected(theta, params.logits[1]))


def standard_error(information: float) -> float:
    """About how far theta may be from the worker's true ability (logits), the prior counting as one answer."""
    return 1.0 / math.sqrt(1.0 + information)


def settled(evidence: int, params: Params) -> bool:
    """Enough answers to show the estimate as more than a first impression, and to recommend from it."""
    return evidence >= params.min_evidence


# --- the evidence of a graded attempt ------------------------------------------------------------------

def evidence_of(attempt: Attempt, scores: Mapping[str, Decimal | None]) -> list[Evidence]:
    """The evidence of a graded attempt, item key → score: each objective item of its frozen paper with a score,
    in the paper's order, its credit the share of the item's points scored. The one definition: grading records
    it (exams.attempts.grade), the backfill logs it for attempts graded before the log existed (backfill.py)."""
    out = []
    for key, item in attempt.paper["items"].items():
        kind = qtypes.get(item["type"])
        score = scores.get(key)
        if not kind.answerable or not kind.objective or score is None:
            continue
        points = Decimal(str(item["points"]))
        out.append(Evidence(item["qid"], attempt.exam.subject_id, item["topic"], item.get("difficulty") or 2,
                            float(score / points) if points else 0.0))
    return out


def source_of(attempt: Attempt) -> str:
    """Where a graded attempt's answers come from: a course quiz, a mock exam day, a mock exam taken alone."""
    return "course" if attempt.exam.kind == "course" else "day" if attempt.mock_day_id else "mock"


# --- keeping the table ------------------------------------------------------------------------------

def lock_worker(user_id: int) -> None:
    """Updates of one worker's estimates run one after another: on PostgreSQL the account row is locked
    until the commit (the statistics' rollups lock the same row); SQLite's writers are serialised already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def record(user_id: int, answers: Sequence[Evidence], source: str, attempt_id: int | None = None,
           now: datetime | None = None, params: Params | None = None) -> None:
    """Log graded answers and move the worker's estimates: one insert for the log, one read and the
    changed rows of topic_mastery."""
    if not answers:
        return
    now = now or utcnow()
    params = params or Params.from_config()
    lock_worker(user_id)
    db.session.execute(insert(GradedAnswer), [
        {"user_id": user_id, "question_id": a.question_id, "subject_id": a.subject_id, "topic": a.topic,
         "difficulty": a.difficulty, "source": source, "attempt_id": attempt_id, "credit": float(a.credit),
         "answered_at": now} for a in answers])
    subjects = {a.subject_id for a in answers}
    rows = {(m.subject_id, m.topic): m for m in db.session.scalars(select(TopicMastery).where(
        TopicMastery.user_id == user_id, TopicMastery.subject_id.in_(subjects),
        TopicMastery.topic.in_({a.topic for a in answers})))}
    for a in answers:
        row = rows.get((a.subject_id, a.topic))
        if row is None:
            row = rows[(a.subject_id, a.topic)] = TopicMastery(user_id=user_id, subject_id=a.subject_id,
                                                               topic=a.topic, theta=0.0, evidence=0, information=0.0)
            db.session.add(row)
        new = step(Estimate(row.theta, row.evidence, row.information), a.difficulty, a.credit, params)
        row.theta, row.evidence, row.information, row.last_answer_at = new.theta, new.evidence, new.information, now
    db.session.flush()


def answered_lately(user_id: int, question_id: int, now: datetime | None = None) -> bool:
    """The worker's answer to this question was graded in the last REPEAT_HOURS: practising it again at
    once (its answer was just shown) is not new evidence, so it moves no estimate."""
    since = (now or utcnow()) - timedelta(hours=REPEAT_HOURS)
    return db.session.scalar(select(GradedAnswer.id).where(
        GradedAnswer.user_id == user_id, GradedAnswer.question_id == question_id,
        GradedAnswer.answered_at > since).limit(1)) is not None


def replay(log: Iterable[tuple[int, str, int, float]], params: Params) -> dict[tuple[int, str], Estimate]:
    """(subject, topic) → estimate after the answers (subject_id, topic, difficulty, credit) in order."""
    out: dict[tuple[int, str], Estimate] = {}
    for subject_id, topic, difficulty, credit in log:
        key = (subject_id, topic)
        out[key] = step(out.get(key, Estimate()), difficulty, credit, params)
    return out


def log_of(user_id: int) -> list[tuple[int, str, int, float, datetime]]:
    """The worker's graded answers in the order they were applied (ids grow in that order: record() holds
    the worker's lock), with their time."""
    rows = db.session.execute(
        select(GradedAnswer.subject_id, GradedAnswer.topic, GradedAnswer.difficulty, GradedAnswer.credit,
               GradedAnswer.answered_at)
        .where(GradedAnswer.user_id == user_id).order_by(GradedAnswer.id))
    return [(s, t, d, c, at) for s, t, d, c, at in rows]


def rebuild(user_id: int, params: Params | None = None) -> int:
    """Recompute a worker's estimates from the log (after a change of parameters): the rows written."""
    params = params or Params.from_config()
    lock_worker(user_id)
    log = log_of(user_id)
    last = {}
    for subject_id, topic, _d, _c, at in log:
        last[(subject_id, topic)] = at
    estimates = replay(((s, t, d, c) for s, t, d, c, _at in log), params)
    db.session.execute(delete(TopicMastery).where(TopicMastery.user_id == user_id))
    if estimates:
        db.session.execute(insert(TopicMastery), [
            {"user_id": user_id, "subject_id": s, "topic": t, "theta": e.theta, "evidence": e.evidence,
             "information": e.information, "last_answer_at": last[(s, t)]} for (s, t), e in estimates.items()])
    db.session.flush()
    return len(estimates)


def of_user(user_id: int, subject_id: int) -> dict[str, TopicMastery]:
    """topic → the worker's row for one subject."""
    return {m.topic: m for m in db.session.scalars(select(TopicMastery).where(
        TopicMastery.user_id == user_id, TopicMastery.subject_id == subject_id))}
