"""The workforce profile ("white paper"): distributions of the workers of a unit's subtree,
and the yearly snapshots that year-on-year comparisons rest on. Flushes, never commits.

The distributions now are read from the profile rollups (rollups.py, stats_profile_rollup: per unit the
workers by recorded value, the birth year for ages), added up over the subtree and banded here; the
GROUP BYs over the workers (`source="raw"`) answer before the rollups are built and stay the reference
the tests and bench/stats.py compare them with."""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, delete, func, insert, literal, select, true
from sqlalchemy.orm import aliased

from .. import clock
from ..auth import choices
from ..auth.models import User, UserRole
from ..auth.scope import in_subtree
from ..database import utcnow
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import OrgUnit
from ..util import utc_to_local
from .models import DIMENSIONS, StatsProfileRollup, WorkforceSnapshot
from .queries import Population, rate, rollup_target, subtree_unit_ids
from .rollups import UNKNOWN

AGE_BANDS = [("under_25", None, 25, _l("Under 25")), ("25_34", 25, 35, _l("25–34")), ("35_44", 35, 45, _l("35–44")),
             ("45_54", 45, 55, _l("45–54")), ("55_plus", 55, None, _l("55 and over"))]
SERVICE_BANDS = [
    ("0_2", None, 3, _l("Under 3 years")),
    ("3_5", 3, 6, _l("3–5 years")),
    ("6_10", 6, 11, _l("6–10 years")),
    ("11_20", 11, 21, _l("11–20 years")),
    ("21_plus", 21, None, _l("21 years or more")),
]

DIMENSION_LABELS = {
    "age": _l("Age"),
    "gender": _l("Gender"),
    "education": _l("Education"),
    "political_status": _l("Political status"),
    "cert_level": _l("Certificate level"),
    "years_in_work": _l("Years of service"),
}


def bucket_labels(dimension: str) -> dict:
    """bucket key → label, in display order, "unknown" last."""
    table = {
        "age": {k: label for k, _lo, _hi, label in AGE_BANDS},
        "years_in_work": {k: label for k, _lo, _hi, label in SERVICE_BANDS},
        "gender": choices.GENDERS,
        "education": choices.EDUCATION,
        "political_status": choices.POLITICAL_STATUS,
        "cert_level": choices.CERT_LEVELS,
    }[dimension]
    return {**table, UNKNOWN: _l("Not recorded")}


def _banded(value, bands):
    whens = []
    for key, lo, hi, _label in bands:
        cond = []
        if lo is not None:
            cond.append(value >= lo)
        if hi is not None:
            cond.append(value < hi)
        whens.append((and_(*cond), key))
    return whens


def _band(value: int, bands) -> str:
    """The key of the band holding `value` (what `_banded`'s CASE says in SQL)."""
    for key, lo, hi, _label in bands:
        if (lo is None or value >= lo) and (hi is None or value < hi):
            return key
    return UNKNOWN


def bucket_of(dimension: str, value: str, year: int) -> str:
    """The bucket of a recorded value (a profile rollup row's), ages as in `year`: bucket_expr in Python."""
    if value == UNKNOWN or dimension not in ("age", "years_in_work"):
        return value
    if dimension == "age":
        return _band(year - int(value), AGE_BANDS)
    return _band(int(value), SERVICE_BANDS)


def bucket_expr(dimension: str, year: int):
    """The SQL expression putting a worker into a bucket of `dimension` (ages as in `year`)."""
    if dimension == "age":
        age = literal(year) - User.birth_year
        return case((User.birth_year.is_(None), UNKNOWN), *_banded(age, AGE_BANDS), else_=UNKNOWN)
    if dimension == "years_in_work":
        return case((User.years_in_work.is_(None), UNKNOWN), *_banded(User.years_in_work, SERVICE_BANDS), else_=UNKNOWN)
    column = getattr(User, dimension)
    return func.coalesce(column, UNKNOWN)


@dataclass
class Bucket:
    key: str
    label: str
    count: int
    share: float | None
    before: int | None = None        # in the snapshot compared with
    before_share: float | None = None

    @property
    def change(self) -> int | None:
        return None if self.before is None else self.count - self.before

    @property
    def share_change(self) -> float | None:
        """Change of the share in percentage points."""
        if self.share is None or self.before_share is None:
            return None
        return round((self.share - self.before_share) * 100, 1)


@dataclass
class Profile:
    year: int
    workers: int
    dimensions: dict = field(default_factory=dict)  # dimension → [Bucket]
    compared_year: int | None = None                 # the snapshot compared with, if any


def raw_counts(viewer: User, unit: OrgUnit, year: int) -> dict[str, dict[str, int]]:
    """dimension → bucket → workers of the subtree, by one GROUP BY over the workers per dimension."""
    pop = Population(viewer, unit, by="unit")
    counts = {}
    for dimension in DIMENSIONS:
        bucket = bucket_expr(dimension, year)
        stmt = pop.select(bucket.label("bucket"), func.count(), keyed=False).group_by(bucket)
        counts[dimension] = dict(db.session.execute(stmt).tuples().all())
    return counts


def rollup_counts(viewer: User, unit: OrgUnit, year: int) -> dict[str, dict[str, int]]:
    """The same from the profile rollups: the subtree's rows summed per recorded value, then banded."""
    stmt = (select(StatsProfileRollup.dimension, StatsProfileRollup.value, func.sum(StatsProfileRollup.count))
            .where(StatsProfileRollup.org_unit_id.in_(subtree_unit_ids(viewer, unit)))
            .group_by(StatsProfileRollup.dimension, StatsProfileRollup.value))
    counts: dict[str, dict[str, int]] = {dimension: {} for dimension in DIMENSIONS}
    for dimension, value, n in db.session.execute(stmt):
        if n:
            into = counts[dimension]
            key = bucket_of(dimension, value, year)
            into[key] = into.get(key, 0) + int(n)
    return counts


def profile(viewer: User, unit: OrgUnit, year: int, source: str = "auto") -> Profile:
    """The distributions now (ages as in `year`), compared with the latest earlier snapshot, if one exists.
    From the profile rollups once they are built (source="auto"), else (and with source="raw", the
    reference) from the workers' rows."""
    rolled = source == "auto" and rollup_target() is not None
    counts = rollup_counts(viewer, unit, year) if rolled else raw_counts(viewer, unit, year)
    return compare(unit, year, counts)


def snapshot_counts(unit: OrgUnit, year: int) -> dict[str, dict[str, int]]:
    """dimension → bucket → workers, as the snapshot of `year` recorded them for `unit` ({}: none)."""
    counts: dict[str, dict[str, int]] = {}
    for dimension, bucket, n in db.session.execute(
            select(WorkforceSnapshot.dimension, WorkforceSnapshot.bucket, WorkforceSnapshot.count)
            .where(WorkforceSnapshot.org_unit_id == unit.id, WorkforceSnapshot.year == year)):
        counts.setdefault(dimension, {})[bucket] = n
    return counts


def compare(unit: OrgUnit, year: int, counts: dict[str, dict[str, int]]) -> Profile:
    """The Profile of `counts` (dimension → bucket → workers) for `year`, compared with the latest snapshot of
    `unit` recorded for an earlier year, if any."""
    workers = sum(counts.get("gender", {}).values())
    compared = db.session.scalar(select(func.max(WorkforceSnapshot.year)).where(
        WorkforceSnapshot.org_unit_id == unit.id, WorkforceSnapshot.year < year))
    before = snapshot_counts(unit, compared) if compared is not None else {}
    result = Profile(year=year, workers=workers, compared_year=compared)
    for dimension in DIMENSIONS:
        now = counts.get(dimension, {})
        then = before.get(dimension, {})
        then_total = sum(then.values())
        buckets = []
        for key, label in bucket_labels(dimension).items():
            n = now.get(key, 0)
            if key == UNKNOWN and not n and not then.get(key):
                continue
            b = Bucket(key, str(label), n, rate(n, workers))
            if compared is not None:
                b.before = then.get(key, 0)
                b.before_share = rate(b.before, then_total)
            buckets.append(b)
        result.dimensions[dimension] = buckets
    return result


def keep_snapshot_current() -> int | None:
    """The sweeper's daily step: record this year's snapshot once per (Asia/Shanghai) day, so the last
    one taken in a year stands for that year and next year's profile compares with it; no one has to
    remember a command on 31 December. The rows recorded, or None when today's are already there."""
    year = clock.this_year()
    taken = db.session.scalar(select(func.max(WorkforceSnapshot.taken_at)).where(WorkforceSnapshot.year == year))
    if taken is not None and utc_to_local(taken).date() >= clock.today():
        return None
    return record_snapshot(year)


def record_snapshot(year: int) -> int:
    """Record, for every org unit, the profile of its subtree as it stands now (replacing `year`'s rows).

    One GROUP BY per dimension: each worker counts in every unit whose path prefixes its own."""
    db.session.execute(delete(WorkforceSnapshot).where(WorkforceSnapshot.year == year))
    member = aliased(OrgUnit, name="member")
    ancestor = aliased(OrgUnit, name="ancestor")
    now = utcnow()
    total = 0
    for dimension in DIMENSIONS:
        bucket = bucket_expr(dimension, year)
        rows = db.session.execute(
            select(ancestor.id, bucket, func.count()).select_from(User)
            .join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
            .join(member, member.id == User.org_unit_id)
            .join(ancestor, in_subtree(member.path, ancestor.path))
            .where(User.active == true()).group_by(ancestor.id, bucket)).all()
        if rows:
            db.session.execute(insert(WorkforceSnapshot), [
                {"org_unit_id": unit_id, "year": year, "dimension": dimension, "bucket": b, "count": n, "taken_at": now}
                for unit_id, b, n in rows])
        total += len(rows)
    db.session.flush()
    return total
