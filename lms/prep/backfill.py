"""Rebuilding every worker's mastery from the log, and filling the log from the attempts graded before it
existed (`flask --app wsgi prep-rebuild [--backfill]`, docs/EXAM_PREP.md): the evidence of an attempt is
mastery.evidence_of, the one definition grading uses too.

No function here touches `request` or commits.
"""
from sqlalchemy import select

from ..exams.models import Attempt, AttemptAnswer
from ..extensions import db
from . import mastery
from .models import GradedAnswer


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
        answers = mastery.evidence_of(attempt, scores)
        if not answers:
            continue
        mastery.record(attempt.user_id, answers, mastery.source_of(attempt), attempt.id,
                       attempt.graded_at or attempt.submitted_at, params)
        filled += 1
    return filled


def rebuild_all(params: mastery.Params | None = None) -> tuple[int, int]:
    """Replay every worker's log (after a change of the model's settings, or a backfill): (workers, rows)."""
    params = params or mastery.Params.from_config()
    workers = db.session.scalars(select(GradedAnswer.user_id).distinct().order_by(GradedAnswer.user_id)).all()
    rows = sum(mastery.rebuild(user_id, params) for user_id in workers)
    return len(workers), rows
