"""The monthly roster of a unit's subtree: allowances, adjustments of closed months, one-time rewards.

Rules (docs/ALLOWANCES.md says them in words an office can repeat):
- a level is paid from the month after the one it was earned in (the award's `earned_on`), at the amount of
  the policy in force for the worker's unit on the first day of the month; a higher level, likewise from the
  month after;
- a worker who left is paid through the month of the leave date, nothing after; an inactive account with no
  leave date gets nothing in an open month (closed months stand);
- a one-time reward is due from the month after the award, at the amount of the policy in force on the day it
  was earned; an upgrade pays the higher level's full amount or the difference, as that policy says;
- a closed month (已发放) is fixed: its lines are stored and shown as they were paid; when a later change (a
  policy made retroactive, a leave date recorded late) means a closed month was paid too much or too little,
  the next open month carries an adjustment line for it; a payment slot (worker and month, worker and level)
  is unique, so nothing is paid twice.
Plain functions: they read, flush (closing), never commit, and raise RosterError with a message for the user.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..auth.models import User
from ..auth.scope import in_subtree
from ..errors import DomainError
from ..extensions import db
from ..orgs.models import OrgUnit
from ..util import utc_to_local
from .awards import rank
from .models import AllowanceAward, AllowanceClosing, AllowanceDeparture, AllowanceLine, AllowancePolicy
from .policy import Resolver

LOOKBACK_MONTHS = 12   # how far back an open month looks for closed months to correct
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class RosterError(DomainError):
    """A roster that cannot be closed; the message is for the user."""


# --- months ---------------------------------------------------------------------------------------------

def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_month(raw: str) -> date | None:
    m = _MONTH.fullmatch((raw or "").strip())
    if not m or not 2000 <= int(m.group(1)) <= 2100 or not 1 <= int(m.group(2)) <= 12:
        return None
    return date(int(m.group(1)), int(m.group(2)), 1)


def this_month() -> date:
    return month_of(clock.today())


# --- the rows -------------------------------------------------------------------------------------------

@dataclass
class Row:
    kind: str                               # monthly / adjustment / reward
    user: User
    unit: OrgUnit
    level: str
    amount: int
    policy: AllowancePolicy | None
    award: AllowanceAward | None
    corrects: date | None = None            # an adjustment: the closed month it corrects
    line: AllowanceLine | None = None       # paid: the stored line of a closed month

    @property
    def paid(self) -> bool:
        return self.line is not None

    @property
    def slot(self) -> str:
        if self.kind == "monthly":
            return f"m:{self.month_key}"
        if self.kind == "reward":
            return f"r:{self.level}"
        assert self.corrects is not None
        return f"a:{self.corrects:%Y-%m}:{self.month_key}"

    month_key: str = ""

    @property
    def reference(self) -> str:
        """The certificate behind the row: the verified result, or the office's confirmation."""
        award = self.award
        if award is None:
            return ""
        if award.result is not None:
            r = award.result
            return f"{r.subject.name} {r.exam_year} #{r.id}"
        return award.reference


@dataclass
class Roster:
    unit: OrgUnit
    month: date
    rows: list[Row] = field(default_factory=list)
    closed_above: AllowanceClosing | None = None                     # the unit's month closed by it or a unit above

    def of(self, kind: str) -> list[Row]:
        return [r for r in self.rows if r.kind == kind]

    def total(self, kind: str | None = None, paid: bool | None = None) -> int:
        return sum(r.amount for r in self.rows if (kind is None or r.kind == kind) and (paid is None or r.paid == paid))

    @property
    def due(self) -> list[Row]:
        return [r for r in self.rows if not r.paid]

    @property
    def closable(self) -> bool:
        return self.closed_above is None and self.month <= this_month()


class _Worker:
    """What the rules need of one worker, read in bulk."""

    def __init__(self, user: User):
        self.user = user
        self.awards: list[AllowanceAward] = []
        self.left_on: date | None = None
        self.lines: list[AllowanceLine] = []

    def level_in(self, month: date) -> AllowanceAward | None:
        """The highest award earned before the month began (a level counts from the month after)."""
        return max((a for a in self.awards if a.earned_on < month), key=lambda a: rank(a.level), default=None)

    def line(self, slot: str) -> AllowanceLine | None:
        return next((ln for ln in self.lines if ln.slot == slot), None)


def _due_monthly(w: _Worker, month: date, policies: Resolver) -> Row | None:
    award = w.level_in(month)
    if award is None:
        return None
    if w.left_on is not None and w.left_on < month:
        return None   # paid through the month of leaving
    policy = policies.at(w.user.org_unit.path, month)
    if policy is None or policy.monthly(award.level) <= 0:
        return None
    return Row("monthly", w.user, w.user.org_unit, award.level, policy.monthly(award.level), policy, award,
               month_key=f"{month:%Y-%m}")


def _paid_for(w: _Worker, month: date) -> int:
    """What the closed lines paid for `month`: its allowance and every adjustment of it since."""
    return sum(ln.amount for ln in w.lines if (ln.kind == "monthly" and ln.month == month)
               or (ln.kind == "adjustment" and ln.corrects == month))


def _rewards_due(w: _Worker, month: date, policies: Resolver) -> list[Row]:
    rows: list[Row] = []
    counted = 0   # the rewards of lower levels, paid or due now: what a "difference" policy subtracts
    for award in sorted(w.awards, key=lambda a: rank(a.level)):
        paid = w.line(f"r:{award.level}")
        if paid is not None:
            counted += paid.amount
            continue
        if award.earned_on >= month:
            continue   # due from the month after it was earned
        policy = policies.at(w.user.org_unit.path, award.earned_on)
        if policy is None:
            continue
        amount = policy.reward(award.level)
        if policy.upgrade_reward == "difference":
            amount -= counted
        if amount <= 0:
            continue
        counted += amount
        rows.append(Row("reward", w.user, w.user.org_unit, award.level, amount, policy, award,
                        month_key=f"{month:%Y-%m}"))
    return rows


def _row_of_line(line: AllowanceLine, w: _Worker) -> Row:
    return Row(line.kind, w.user, line.org_unit, line.level or "", line.amount, line.policy, line.award,
               corrects=line.corrects, line=line, month_key=f"{line.month:%Y-%m}")


def _workers(unit: OrgUnit) -> dict[int, _Worker]:
    awards = db.session.scalars(
        select(AllowanceAward).join(User, AllowanceAward.user_id == User.id)
        .join(OrgUnit, User.org_unit_id == OrgUnit.id).where(in_subtree(OrgUnit.path, unit))
        .options(selectinload(AllowanceAward.user), selectinload(AllowanceAward.result))).all()
    workers: dict[int, _Worker] = {}
    for a in awards:
        workers.setdefault(a.user_id, _Worker(a.user)).awards.append(a)
    ids = list(workers)
    if not ids:
        return workers
    for dep in db.session.scalars(select(AllowanceDeparture).where(AllowanceDeparture.user_id.in_(ids))):
        workers[dep.user_id].left_on = dep.left_on
    for line in db.session.scalars(
            select(AllowanceLine).where(AllowanceLine.user_id.in_(ids))
            .options(selectinload(AllowanceLine.policy).selectinload(AllowancePolicy.org_unit),
                     selectinload(AllowanceLine.org_unit), selectinload(AllowanceLine.award))):
        workers[line.user_id].lines.append(line)
    return workers


def _closings(first: date, last: date) -> dict[date, list[AllowanceClosing]]:
    out: dict[date, list[AllowanceClosing]] = defaultdict(list)
    for c in db.session.scalars(select(AllowanceClosing).where(AllowanceClosing.month >= first,
                                                               AllowanceClosing.month <= last)
                                .options(selectinload(AllowanceClosing.org_unit))):
        out[c.month].append(c)
    return out


def _closed(closings: dict[date, list[AllowanceClosing]], path: str, month: date) -> AllowanceClosing | None:
    return next((c for c in closings.get(month, []) if path.startswith(c.org_unit.path)), None)


def build(unit: OrgUnit, month: date) -> Roster:
    """The roster of `unit`'s subtree for `month`: stored lines where the month is closed, the rules elsewhere."""
    first = add_months(month, -LOOKBACK_MONTHS)
    closings = _closings(first, month)
    policies = Resolver()
    roster = Roster(unit=unit, month=month, closed_above=_closed(closings, unit.path, month))
    for w in _workers(unit).values():
        paid_now = [ln for ln in w.lines if ln.month == month]
        roster.rows.extend(_row_of_line(ln, w) for ln in paid_now)
        if _closed(closings, w.user.org_unit.path, month) is not None or any(ln.kind == "monthly" for ln in paid_now):
            continue   # the worker's month is closed: what was paid stands
        if not w.user.active and w.left_on is None:
            continue   # an inactive account without a leave date: nothing in an open month, closed ones stand
        due = _due_monthly(w, month, policies)
        if due is not None:
            roster.rows.append(due)
        for back in range(LOOKBACK_MONTHS, 0, -1):
            earlier = add_months(month, -back)
            if _closed(closings, w.user.org_unit.path, earlier) is None and w.line(f"m:{earlier:%Y-%m}") is None:
                continue   # an open month is paid by its own roster, not corrected
            should = _due_monthly(w, earlier, policies)
            diff = (should.amount if should else 0) - _paid_for(w, earlier)
            if diff:
                last = should or next((ln for ln in w.lines if ln.month == earlier and ln.kind == "monthly"), None)
                roster.rows.append(Row("adjustment", w.user, w.user.org_unit,
                                       (last.level if last is not None else "") or "", diff,
                                       should.policy if should else None, should.award if should else None,
                                       corrects=earlier, month_key=f"{month:%Y-%m}"))
        roster.rows.extend(_rewards_due(w, month, policies))
    order = {"monthly": 0, "adjustment": 1, "reward": 2}
    roster.rows.sort(key=lambda r: (order[r.kind], r.unit.path, r.user.name, r.user.id))
    return roster


def close(unit: OrgUnit, month: date, actor) -> AllowanceClosing:
    """Mark the month paid (已发放) for the unit's subtree: store every row due, as it is now."""
    if month > this_month():
        raise RosterError(_("%(month)s has not begun: a month is closed at the earliest once it has begun.",
                            month=f"{month:%Y-%m}"))
    roster = build(unit, month)
    if roster.closed_above is not None:
        c = roster.closed_above
        raise RosterError(_("%(month)s was already closed for %(unit)s on %(day)s.", month=f"{month:%Y-%m}",
                            unit=c.org_unit.name, day=f"{utc_to_local(c.closed_at):%Y-%m-%d}"))
    closing = AllowanceClosing(org_unit_id=unit.id, month=month, closed_by_id=actor.id, closed_at=clock.now())
    db.session.add(closing)
    db.session.flush()
    for r in roster.due:
        db.session.add(AllowanceLine(
            closing_id=closing.id, user_id=r.user.id, month=month, kind=r.kind, slot=r.slot, level=r.level or None,
            amount=r.amount, corrects=r.corrects, org_unit_id=r.unit.id, policy_id=r.policy.id if r.policy else None,
            award_id=r.award.id if r.award else None))
    db.session.flush()
    return closing
