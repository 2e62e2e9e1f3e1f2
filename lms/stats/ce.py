"""继续教育 (continuing education): each worker's 学时 for a year against the annual target."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import contains_eager

from ..auth.models import User
from ..auth.scope import in_subtree, unit_filter
from ..extensions import db
from ..learning.models import Credit
from ..orgs.models import OrgUnit
from . import rollups
from .models import StatsRollup, StatsWorkerYear
from .queries import Population, _d, one_decimal, population_users, rate, rollup_target, unit_groups

CERTIFIED = ["assistant", "intermediate", "senior"]


def _year_credits(year: int):
    """The join condition of a worker's 学时 ledger rows of `year`."""
    return and_(
        Credit.user_id == User.id, Credit.earned_on >= date(year, 1, 1), Credit.earned_on < date(year + 1, 1, 1)
    )


HOURS = func.coalesce(func.sum(Credit.hours), 0)


@dataclass
class CeFigures:
    workers: int = 0
    reached: int = 0
    hours: Decimal = Decimal(0)

    @property
    def behind(self) -> int:
        return self.workers - self.reached

    @property
    def reached_rate(self):
        return rate(self.reached, self.workers)

    @property
    def average(self) -> Decimal | None:
        return one_decimal(self.hours / self.workers) if self.workers else None

    def add(self, other: "CeFigures") -> "CeFigures":
        self.workers += other.workers
        self.reached += other.reached
        self.hours += other.hours
        return self


def summary(viewer: User, unit: OrgUnit, year: int, target: float, cert_levels=None, source: str = "auto") -> dict:
    """key (child unit, or the unit itself) → CeFigures: from the rollups' rows of now and of the year
    when they were counted against this target (every worker or the certified ones); else (and with
    source="raw", the reference) each worker's hours summed (a LEFT JOIN grouped by worker, in the
    order of ix_stats_user_unit so that SQLite needs no sort), then counted by unit."""
    if source == "auto" and (not cert_levels or sorted(cert_levels) == sorted(CERTIFIED)) \
            and rollup_target() == Decimal(str(target)):
        return _rollup_summary(viewer, unit, year, bool(cert_levels))
    pop = Population(viewer, unit, by="child")
    per_user = (pop.select(HOURS.label("hours")).outerjoin(Credit, _year_credits(year))
                .group_by(User.org_unit_id, User.active, User.id))
    if cert_levels:
        per_user = per_user.where(User.cert_level.in_(cert_levels))
    per_user = per_user.subquery("per_user")
    grouped = (select(per_user.c.key, func.count().label("workers"),
                      func.sum(case((per_user.c.hours >= target, 1), else_=0)).label("reached"),
                      func.sum(per_user.c.hours).label("hours"))
               .group_by(per_user.c.key))
    out = {}
    for key, row in pop.rollup(grouped, ["workers", "reached", "hours"]).items():
        out[key] = CeFigures(int(row["workers"] or 0), int(row["reached"] or 0), _d(row["hours"]))
    return out


def _rollup_summary(viewer: User, unit: OrgUnit, year: int, certified: bool) -> dict:
    groups = unit_groups(viewer, unit)
    R = StatsRollup
    if certified:
        cols = [R.cert_assistant + R.cert_intermediate + R.cert_senior, R.ce_reached_certified, R.ce_hours_certified]
    else:
        cols = [R.workers, R.ce_reached, R.ce_hours]
    stmt = (select(groups.c.key, *[func.sum(c) for c in cols]).select_from(R)
            .join(groups, groups.c.unit_id == R.org_unit_id).where(R.month.in_((0, -year))).group_by(groups.c.key))
    return {key: CeFigures(int(n), int(reached or 0), _d(hours)) for key, n, reached, hours in db.session.execute(stmt)
            if n}


def workers(viewer: User, unit: OrgUnit, year: int, target: float, behind_only: bool = True, cert_levels=None,
            source: str = "auto"):
    """A select of (User, hours) for the workers of the subtree, most behind first (hours, unit path, user
    name). Once the rollups are built: for a year of their list range, the rows of stats_worker_year in the
    order of its index ix_stats_worker_year_list (a LIMIT reads a page of it, no sort), each joined to its
    account; for another year, every worker of the subtree joined to their row (if any) and sorted. Else (and
    with source="raw", the reference) each worker's hours summed from the ledger in a narrow subquery first,
    the (wide) user rows joined only to what is listed."""
    if source == "auto":
        conn = db.session.connection()
        span = rollups.read_list_years(conn) if rollup_target() is not None else None
        if span is not None and span[0] <= year <= span[1]:
            return _listed_workers(viewer, unit, year, target, behind_only, cert_levels)
    users = population_users(viewer, unit)
    if cert_levels:
        users = users.where(User.cert_level.in_(cert_levels))
    if source == "auto" and rollup_target() is not None:
        hours = func.coalesce(StatsWorkerYear.hours, 0)
        per_user = (users.with_only_columns(User.id.label("uid"), hours.label("hours"))
                    .outerjoin(StatsWorkerYear, and_(StatsWorkerYear.user_id == User.id, StatsWorkerYear.year == year)))
        if behind_only:
            per_user = per_user.where(hours < target)
    else:
        per_user = (users.with_only_columns(User.id.label("uid"), HOURS.label("hours"))
                    .outerjoin(Credit, _year_credits(year)).group_by(User.id))
        if behind_only:
            per_user = per_user.having(HOURS < target)
    per_user = per_user.subquery("per_user")
    return (select(User, per_user.c.hours).join(per_user, per_user.c.uid == User.id)
            .join(User.org_unit).options(contains_eager(User.org_unit))
            .order_by(per_user.c.hours, OrgUnit.path, User.username))


def _listed_workers(viewer: User, unit: OrgUnit, year: int, target: float, behind_only: bool, cert_levels):
    """The list from stats_worker_year alone (it holds the counted workers only, with their unit's path)."""
    W = StatsWorkerYear
    stmt = (select(User, W.hours).select_from(W).join(User, User.id == W.user_id)
            .join(User.org_unit).options(contains_eager(User.org_unit))
            .where(W.year == year, in_subtree(W.unit_path, unit), unit_filter(viewer, W.unit_path)))
    if cert_levels:
        stmt = stmt.where(W.cert_level.in_(cert_levels))
    if behind_only:
        stmt = stmt.where(W.hours < target)
    return stmt.order_by(W.hours, W.unit_path, W.username)


def shortfall(hours, target) -> Decimal:
    return max(one_decimal(Decimal(str(target)) - _d(hours)), Decimal(0))

