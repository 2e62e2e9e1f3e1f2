"""Awards: the certificate levels that earn allowances and rewards, and the leave dates that end them.

- A level earns money only from an office's verification: the verified real exam result that completes it
  (exams.real_results.verify_result calls `on_verified`), or an office's explicit confirmation here of the
  level the profile holds, with the certificate's reference (a level typed into a profile or imported,
  and 高级, which is awarded by exam and review). A worker's own claim earns nothing until then.
- One award per worker and level, ever (a unique constraint); a level at or below one already awarded
  adds nothing (a re-verification, a second result of the same level).
Plain functions: they flush, never commit, and raise AwardError with a message for the user.
"""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..auth import choices
from ..errors import DomainError
from ..exams import real_results
from ..exams.models import ExamSubject, RealExamResult
from ..extensions import db
from ..util import utc_to_local
from .models import PAID_LEVELS, AllowanceAward, AllowanceDeparture

EXAM_LEVEL_OF = {"assistant": "junior", "intermediate": "intermediate", "senior": "senior"}
MAX_REFERENCE = 100


class AwardError(DomainError):
    """An award or a leave date that cannot be recorded; the message is for the user."""


def rank(level: str | None) -> int:
    return real_results.CERT_RANK.get(level or "none", 0)


def awards_of(user_id: int) -> list[AllowanceAward]:
    return list(db.session.scalars(select(AllowanceAward).where(AllowanceAward.user_id == user_id)
                                   .order_by(AllowanceAward.earned_on, AllowanceAward.id)))


def highest(user_id: int) -> AllowanceAward | None:
    return max(awards_of(user_id), key=lambda a: rank(a.level), default=None)


def result_behind(user_id: int, level: str) -> RealExamResult | None:
    """The verified pass that completed `level`: the last one verified among its exam level's subjects."""
    return db.session.scalar(
        select(RealExamResult).join(ExamSubject, RealExamResult.subject_id == ExamSubject.id)
        .where(RealExamResult.user_id == user_id, RealExamResult.status == "verified",
               RealExamResult.passed.is_(True), ExamSubject.level == EXAM_LEVEL_OF[level])
        .order_by(RealExamResult.reviewed_at.desc(), RealExamResult.id.desc()).limit(1))


def _add(user_id: int, level: str, earned_on: date, actor_id: int | None, *, result: RealExamResult | None = None,
         reference: str = "") -> AllowanceAward | None:
    top = highest(user_id)
    if top is not None and rank(top.level) >= rank(level):
        return None   # already awarded this level or a higher one: never twice
    award = AllowanceAward(user_id=user_id, level=level, earned_on=earned_on, recorded_by_id=actor_id,
                           source="result" if result is not None else "office",
                           result_id=result.id if result is not None else None, reference=reference)
    db.session.add(award)
    db.session.flush()
    return award


def on_verified(row: RealExamResult, reviewer) -> AllowanceAward | None:
    """A result was verified: award the level the worker's verified passes now earn, if it is new."""
    level = real_results.earned_level(row.user_id)
    if level not in PAID_LEVELS:
        return None
    return _add(row.user_id, level, clock.today(), reviewer.id, result=result_behind(row.user_id, level))


def backfill(user) -> AllowanceAward | None:
    """Award what verified results already earned (results verified before this programme existed, the demo):
    earned on the day the completing result was verified."""
    level = real_results.earned_level(user.id)
    if level not in PAID_LEVELS:
        return None
    row = result_behind(user.id, level)
    if row is None or row.reviewed_at is None:
        return None
    return _add(user.id, level, utc_to_local(row.reviewed_at).date(), row.reviewed_by_id, result=row)


def confirm_profile_level(worker, actor, reference: str) -> AllowanceAward:
    """An office confirms, from the certificate it has seen, the level the worker's profile holds."""
    reference = (reference or "").strip()
    level = worker.cert_level
    if level not in PAID_LEVELS:
        raise AwardError(_("%(name)s's profile holds no certificate level to confirm.", name=worker.name))
    if not reference:
        raise AwardError(_("Enter the certificate's number (or another reference to it), so that the finance "
                           "office can trace the payment."))
    if len(reference) > MAX_REFERENCE:
        raise AwardError(_("The reference is at most %(n)d characters.", n=MAX_REFERENCE))
    award = _add(worker.id, level, clock.today(), actor.id, reference=reference)
    if award is None:
        raise AwardError(_("%(name)s has already been awarded %(level)s or a higher level.", name=worker.name,
                           level=choices.label(choices.CERT_LEVELS, level)))
    return award


def departure_of(user_id: int) -> AllowanceDeparture | None:
    return db.session.scalar(select(AllowanceDeparture).where(AllowanceDeparture.user_id == user_id))


def set_departure(worker, left_on: date | None, actor) -> None:
    """Record (or clear, with None) the day the worker left the job."""
    row = departure_of(worker.id)
    if left_on is None:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return
    if left_on > clock.today():
        raise AwardError(_("The leave date cannot be in the future: record it on or after the day the worker "
                           "leaves."))
    if row is None:
        row = AllowanceDeparture(user_id=worker.id, recorded_by_id=actor.id)
        db.session.add(row)
    row.left_on = left_on
    db.session.flush()
