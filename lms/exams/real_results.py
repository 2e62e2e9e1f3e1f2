"""Real exam results (全国社会工作者职业资格考试): a worker's claim, the office's verification, and
the certificate level the verified passes earn (DESIGN.md §4 "Records are true", §5 carry-over).

- A result a worker enters is `pending` and counts for nothing until an office in scope verifies it.
- An office entering a result for a worker in its scope may verify it at once.
- A verified pass that completes 初级 or 中级 raises the profile's `cert_level` (never lowers it).
  高级社会工作师 is awarded by exam *and* review (考评结合): a senior pass alone changes no level.
- The profile is the register: a worker whose profile holds a level holds it, and every level
  below it, whatever results were entered here.

Plain functions: they flush, never commit, and raise ResultError with a user-facing message.
"""
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..errors import DomainError
from ..extensions import db
from . import certification
from .models import Attempt, Exam, ExamSubject, RealExamResult

FIRST_EXAM_YEAR = 2008  # the first national social-worker qualification exam
# cert_level keys in order, and the level a completed exam level earns (senior: exam + review).
CERT_RANK = {"none": 0, "assistant": 1, "intermediate": 2, "senior": 3}
EARNED_BY_EXAM = {"junior": "assistant", "intermediate": "intermediate"}
HELD_BY_EXAM = {"junior": "assistant", "intermediate": "intermediate", "senior": "senior"}


class ResultError(DomainError):
    """A result that cannot be recorded or reviewed; the message is for the user."""


def carry_over() -> dict[str, int]:
    return current_app.config.get("CERT_CARRY_OVER_YEARS") or certification.DEFAULT_CARRY_OVER


def holds(cert_level: str | None, exam_level: str) -> bool:
    """Whether a profile level covers an exam level: 社会工作师 covers 初级, and so on."""
    return CERT_RANK.get(cert_level or "none", 0) >= CERT_RANK[HELD_BY_EXAM[exam_level]]


# --- recording and reviewing --------------------------------------------------------------------------------

def record(worker, subject: ExamSubject, year: int, passed: bool, score: Decimal | None, entered_by, *,
           may_verify: bool, verify: bool) -> tuple[RealExamResult, str | None]:
    """Enter (or correct) the worker's result for one subject and exam year. `may_verify` is the
    scope decision (auth/scope.py) that `entered_by` may verify this worker's results; `verify`
    whether it does so now. A verified result is changed only by such a reviewer.
    Returns the row and the profile level it raised, if any."""
    row = db.session.scalar(select(RealExamResult).where(
        RealExamResult.user_id == worker.id, RealExamResult.subject_id == subject.id, RealExamResult.exam_year == year))
    if row is not None and row.status == "verified" and not may_verify:
        raise ResultError(_("Your training office has already verified your %(year)d result for %(subject)s. "
                            "Ask the office if it needs correcting.", year=year, subject=subject.name))
    if row is None:
        row = RealExamResult(user_id=worker.id, subject_id=subject.id, exam_year=year)
        db.session.add(row)
    row.passed, row.score = passed, score
    row.entered_by_id, row.entered_at = entered_by.id, clock.now()
    row.status, row.reviewed_by_id, row.reviewed_at, row.reject_reason = "pending", None, None, None
    db.session.flush()
    raised = verify_result(row, entered_by) if (may_verify and verify) else None
    return row, raised


def verify_result(row: RealExamResult, reviewer) -> str | None:
    """Mark a pending result verified; returns the profile level it raised, if any."""
    if row.status != "pending":
        raise ResultError(_("This result has already been reviewed."))
    row.status, row.reviewed_by_id, row.reviewed_at, row.reject_reason = "verified", reviewer.id, clock.now(), None
    db.session.flush()
    from ..messages import events as message_events

    message_events.result_verified(row)
    raised = promote(row.user)
    from ..allowances import awards  # the allowance programme's award for a level the verified passes complete

    awards.on_verified(row, reviewer)
    return raised


def reject_result(row: RealExamResult, reviewer, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ResultError(_("Give the reason, so that the worker knows what to correct."))
    if row.status != "pending":
        raise ResultError(_("This result has already been reviewed."))
    row.status, row.reviewed_by_id, row.reviewed_at, row.reject_reason = "rejected", reviewer.id, clock.now(), reason
    db.session.flush()


def verified_passes(user_id: int) -> list[tuple[str, int]]:
    return list(
        db.session.execute(
            select(ExamSubject.code, RealExamResult.exam_year)
            .join(ExamSubject, RealExamResult.subject_id == ExamSubject.id)
            .where(
                RealExamResult.user_id == user_id, RealExamResult.passed.is_(True), RealExamResult.status == "verified"
            )
        ).tuples().all()
    )


def earned_level(user_id: int) -> str:
    """The highest cert_level the worker's verified passes earn by themselves."""
    subjects = db.session.scalars(select(ExamSubject)).all()
    passes = verified_passes(user_id)
    best = "none"
    for exam_level, cert in EARNED_BY_EXAM.items():
        codes = [s.code for s in subjects if s.level == exam_level]
        if not codes:
            continue
        done = certification.level_progress(exam_level, codes, passes, clock.this_year(), carry_over()[exam_level])
        if done.achieved_year is not None and CERT_RANK[cert] > CERT_RANK[best]:
            best = cert
    return best


def promote(user) -> str | None:
    """Raise the profile's level to what the verified passes earn (never lower it). The change is
    audited by the audit trail's flush listener, with the reviewing office as its actor."""
    earned = earned_level(user.id)
    if CERT_RANK[earned] <= CERT_RANK.get(user.cert_level or "none", 0):
        return None
    user.cert_level = earned
    db.session.flush()
    return earned


# --- what the worker's page shows ------------------------------------------------------------------------

@dataclass
class LevelView:
    level: str                                   # exam level: junior / intermediate / senior
    subjects: list[ExamSubject]
    progress: certification.LevelProgress        # from verified passes only
    held: str | None = None                      # "held" (the profile's level), "covered" (a higher level held)
    pending: dict[str, int] = field(default_factory=dict)   # subject → year of a pass awaiting verification


def progress(user) -> tuple[list[LevelView], Sequence[RealExamResult], dict[str, Decimal | None], set[str]]:

    """Every exam level's progress for `user`, the results entered, and the mock-exam figures."""
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position)).all()
    real = db.session.scalars(select(RealExamResult).where(RealExamResult.user_id == user.id)
                              .order_by(RealExamResult.exam_year.desc(), RealExamResult.subject_id)).all()
    passes = [(r.subject.code, r.exam_year) for r in real if r.counts]
    carry, this_year = carry_over(), clock.this_year()
    levels = []
    for level in ("junior", "intermediate", "senior"):
        mine = [s for s in subjects if s.level == level]
        if not mine:
            continue
        prog = certification.level_progress(level, [s.code for s in mine], passes, this_year, carry[level])
        view = LevelView(level=level, subjects=mine, progress=prog)
        if holds(user.cert_level, level):
            view.held = "held" if user.cert_level == HELD_BY_EXAM[level] else "covered"
        for r in real:
            if r.passed and r.status == "pending" and r.subject.level == level:
                view.pending[r.subject.code] = max(view.pending.get(r.subject.code, 0), r.exam_year)
        levels.append(view)
    mock_best = dict(db.session.execute(
        select(ExamSubject.code, func.max(Attempt.score)).join(Exam, Attempt.exam_id == Exam.id)
        .join(ExamSubject, Exam.subject_id == ExamSubject.id)
        .where(Attempt.user_id == user.id, Attempt.status == "graded", Exam.kind == "mock")  # not course quizzes
        .group_by(ExamSubject.code)).tuples().all())
    mock_passed = set(db.session.scalars(
        select(ExamSubject.code).join(Exam, Exam.subject_id == ExamSubject.id).join(Attempt, Attempt.exam_id == Exam.id)
        .where(Attempt.user_id == user.id, Attempt.passed.is_(True), Exam.kind == "mock")))
    return levels, real, mock_best, mock_passed

