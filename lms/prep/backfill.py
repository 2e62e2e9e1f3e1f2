"""Rebuilding every worker's mastery from the log, and filling the log from the attempts graded before it
existed (`flask --app wsgi prep-rebuild [--backfill]`, docs/EXAM_PREP.md).

No function here touches `request` or commits.
"""
from decimal import Decimal

from sqlalchemy import select

from ..exams import qtypes
from ..exams.models import Attempt, AttemptAnswer
from ..extensions import db
from . import mastery
from .models import GradedAnswer


def evidence_of(attempt: Attempt, scores: dict[str, Decimal | None]) -> list[mastery.Evidence]:
    """The evidence grading records for an attempt (exams.attempts.grade): each objective item of its frozen
    paper with a score, its credit the share of the item's points scored."""
    out = []
    for key, item in attempt.paper["items"].items():
        kind = qtypes.get(item["type"])
        score = scores.get(key)
        if not kind.answerable or not kind.objective or score is None:
            continue
        points = Decimal(str(item["points"]))
        out.append(mastery.Evidence(item["qid"], attempt.exam.subject_id, item["topic"], item.get("difficulty") or 2,
                                    float(score / points) if points else 0.0))
    return out


def source_of(attempt: Attempt) -> str:
    return "course" if attempt.exam.kind == "course" else "day" if attempt.mock_day_id else "mock"


def backfill(params: mastery.Params | None = None) -> int:
    """Write the graded answers of every submitted attempt that has none in the log (graded before the log
    existed), in the order they were graded, dated when they were graded; returns the attempts filled.
    The estimates are not moved here: rebuild_all() replays each worker's whole log afterwards."""
    params = params or mastery.Params.from_config()
    logged = select(GradedAnswer.id).where(GradedAnswer.attempt_id == Attempt.id).exists()
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.submitted_at.is_not(None), Attempt.status != "in_progress", ~logged)
        .order_by(Attempt.graded_at.is_(None), Attempt.graded_at, Attempt.submitted_at, Attempt.id)).all()
    filled = 0
    for attempt in attempts:
        scores = dict(db.session.execute(select(AttemptAnswer.item, AttemptAnswer.score)
                                         .where(AttemptAnswer.attempt_id == attempt.id)).tuples().all())
        answers = evidence_of(attempt, scores)
        if not answers:
            continue
        mastery.record(attempt.user_id, answers, source_of(attempt), attempt.id,
                       attempt.graded_at or attempt.submitted_at, params)
        filled += 1
    return filled


def rebuild_all(params: mastery.Params | None = None) -> tuple[int, int]:
    """Replay every worker's log (after a change of the model's settings, or a backfill): (workers, rows)."""
    params = params or mastery.Params.from_config()
    workers = db.session.scalars(select(GradedAnswer.user_id).distinct().order_by(GradedAnswer.user_id)).all()
    rows = sum(mastery.rebuild(user_id, params) for user_id in workers)
    return len(workers), rows
