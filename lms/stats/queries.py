"""The statistics as GROUP BY queries over the org tree. Plain functions: no request, no commit.

Every figure is computed for a *population*: the active accounts with the community-worker
(learner) role in a unit's subtree, each tagged with a group key. For a dashboard the key is
the child unit whose path prefixes the worker's unit (one small join of org units on the path
prefix, then an equi-join of users on their unit id); for a list of workers it is the worker.
The viewer's scope (auth.scope.unit_filter) is part of the population itself, so no figure can
count a row outside it. Each fact table (enrolments, the 学时 ledger, attendance, attempts) is
then read once, inside the period, and grouped by key (and month) in SQL.

The dashboard and the trends read the same figures from the rollups (rollups.py, `rollup_compute`,
`rollup_trend` below) whenever those hold the period and filters (a calendar year or all years, with
or without the class-level filter); these hand-written queries answer every other request and stay
the reference (`source="raw"`) that the tests and bench/stats.py compare the rollups with.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, literal, literal_column, or_, select, true, union_all
from sqlalchemy.orm import aliased, contains_eager

from ..auth import choices
from ..auth.models import User, UserRole
from ..auth.scope import in_subtree, unit_filter, visible_users
from ..exams.models import Attempt, Exam
from ..extensions import db
from ..learning.models import Credit, Enrollment
from ..orgs.models import OrgUnit
from ..training import models as training_models
from ..training.models import Attendance, Training, TrainingSession
from ..util import local_to_utc
from . import rollups
from .models import ROLLUP_COLUMNS, StatsRollup

TRAINING_LEVELS = tuple(training_models.TRAINING_LEVELS)
CERT_LEVELS = tuple(choices.CERT_LEVELS)
ATTENDED = ("present", "late")  # 人次 counts these
MAX_TREND_MONTHS = 36
LOCAL_OFFSET_HOURS = 8  # Asia/Shanghai has no daylight saving: local month = UTC + 8 h


# --- filters --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The period (local dates, both inclusive; None = open) and the narrowing filters.

    Each filter narrows the figures of its own kind: `course_id` enrolments and course 学时;
    `level` and `training_id` attendance, 人次 and training 学时; `exam_id` exam figures.
    """

    start: date | None = None
    end: date | None = None
    level: str | None = None
    course_id: int | None = None
    training_id: int | None = None
    exam_id: int | None = None

    @classmethod
    def for_year(cls, year: int, **kw) -> "Filters":
        return cls(start=date(year, 1, 1), end=date(year, 12, 31), **kw)

    @property
    def end_exclusive(self) -> date | None:
        return self.end + timedelta(days=1) if self.end else None

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as naive UTC datetimes (what DateTime columns store)."""
        lo = local_to_utc(datetime.combine(self.start, time())) if self.start else None
        end = self.end_exclusive
        hi = local_to_utc(datetime.combine(end, time())) if end else None

        return lo, hi

    @property
    def training_filtered(self) -> bool:
        return bool(self.level or self.training_id)


def _in_period(col, lo, hi):
    clauses = []
    if lo is not None:
        clauses.append(col >= lo)
    if hi is not None:
        clauses.append(col < hi)
    return and_(*clauses) if clauses else true()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_of_datetime(col):
    """'YYYY-MM' of a UTC DateTime column, in local time."""
    if _dialect() == "postgresql":
        return func.to_char(col + literal_column(f"interval '{LOCAL_OFFSET_HOURS} hours'"), "YYYY-MM")
    return func.strftime("%Y-%m", col, f"+{LOCAL_OFFSET_HOURS} hours")


def month_of_date(col):
    if _dialect() == "postgresql":
        return func.to_char(col, "YYYY-MM")
    return func.substr(col, 1, 7)


# --- the population -------------------------------------------------------------------------------

def subtree_unit_ids(viewer: User, unit: OrgUnit):
    """A select of the ids of `unit` and every unit below it that the viewer may see."""
    return select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit), unit_filter(viewer, OrgUnit.path))


def unit_groups(viewer: User, unit: OrgUnit):
    """(unit_id, key): every unit of `unit`'s subtree mapped to the child of `unit` holding it;
    `unit` itself maps to itself (for accounts placed directly on it). A join of org units on
    the path prefix: a few thousand rows at most, whatever the number of workers."""
    child = aliased(OrgUnit, name="grp")
    member = aliased(OrgUnit, name="member")
    below = (select(member.id.label("unit_id"), child.id.label("key"))
             .join(child, in_subtree(member.path, child.path))
             .where(child.parent_id == unit.id, unit_filter(viewer, member.path)))
    own = select(OrgUnit.id.label("unit_id"), OrgUnit.id.label("key")).where(OrgUnit.id == unit.id,
                                                                            unit_filter(viewer, OrgUnit.path))
    return union_all(below, own).subquery("groups")


class Population:
    """The workers of `unit`'s subtree within the viewer's scope: active accounts with the
    community-worker (learner) role, placed by their current org unit.

    by="child": figures per unit directly below `unit` (key = that unit's id; accounts on
    `unit` itself get key `unit.id`); by="user": per worker (key = user id); by="unit": one
    total (key = `unit.id`).

    Every aggregate is driven from the workers (ordered by their unit through ix_stats_user_unit)
    into the fact table's user-leading covering index, grouped by the worker's org_unit_id
    without a sort, then rolled up to the child units through `unit_groups` in an outer query.
    """

    def __init__(self, viewer: User, unit: OrgUnit, by: str = "child", user_ids=None):
        self.viewer, self.unit, self.by = viewer, unit, by
        self.user_ids = None if user_ids is None else list(user_ids)

    def select(self, *columns, keyed: bool = True):
        """SELECT <inner key>, columns FROM user JOIN user_role (learner) WHERE the population."""
        key = {"child": User.org_unit_id, "user": User.id, "unit": literal(self.unit.id)}[self.by]
        stmt = (select(*((key.label("key"),) if keyed else ()), *columns).select_from(User)
                .join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
                .where(User.org_unit_id.in_(subtree_unit_ids(self.viewer, self.unit)), User.active == true()))
        if self.user_ids is not None:
            stmt = stmt.where(User.id.in_(self.user_ids))
        return stmt

    def aggregate(self, stmt, labels: list[str]) -> dict:
        """Group `stmt` (from .select(), with labelled additive aggregates) by key: {key: {label: value}}."""
        if self.by == "unit":
            return self.rollup(stmt, labels)
        return self.rollup(stmt.group_by(User.org_unit_id if self.by == "child" else User.id), labels)

    def rollup(self, grouped, labels: list[str]) -> dict:
        """`grouped` has a column "key" (the inner key) and additive columns `labels`, one row per
        inner key; for by="child" its unit rows are summed into the child units in SQL."""
        if self.by == "child":
            inner = grouped.subquery("per_unit")
            groups = unit_groups(self.viewer, self.unit)
            grouped = (select(groups.c.key, *[func.sum(inner.c[name]).label(name) for name in labels])
                       .join(groups, groups.c.unit_id == inner.c.key).group_by(groups.c.key))
        return {row.key: row._mapping for row in db.session.execute(grouped)}


def population_users(viewer: User, unit: OrgUnit):
    """A select of the User rows of the population (for lists of workers), with their unit joined."""
    return (select(User).join(User.org_unit).options(contains_eager(User.org_unit))
            .join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
            .where(in_subtree(OrgUnit.path, unit), unit_filter(viewer, OrgUnit.path),
                   User.active == true()))


# --- the figures ----------------------------------------------------------------------------------

def _d(value) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def rate(part, whole) -> float | None:
    """A share rounded to 0.1 % (as a fraction); None when there is nothing to divide by."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def one_decimal(value) -> Decimal:
    return _d(value).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Figures:
    workers: int = 0
    cert: dict = field(default_factory=lambda: dict.fromkeys(CERT_LEVELS, 0))
    enrolled: int = 0
    completed: int = 0
    hours_course: Decimal = Decimal(0)
    hours_session: Decimal = Decimal(0)
    attended: dict = field(default_factory=lambda: dict.fromkeys(TRAINING_LEVELS, 0))
    attendance_records: int = 0
    attempts: int = 0
    exam_takers: int = 0
    score_sum: Decimal = Decimal(0)
    passed: int = 0

    def add(self, other: "Figures") -> "Figures":
        for name in ("workers", "enrolled", "completed", "hours_course", "hours_session", "attendance_records",
                     "attempts", "exam_takers", "score_sum", "passed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k in CERT_LEVELS:
            self.cert[k] += other.cert[k]
        for k in TRAINING_LEVELS:
            self.attended[k] += other.attended[k]
        return self

    # derived figures, as shown on the pages, in the exports and in the API
    @property
    def completion_rate(self):
        return rate(self.completed, self.enrolled)

    @property
    def hours(self) -> Decimal:
        return one_decimal(self.hours_course + self.hours_session)

    @property
    def hours_per_worker(self) -> Decimal | None:
        return one_decimal((self.hours_course + self.hours_session) / self.workers) if self.workers else None

    @property
    def person_times(self) -> int:
        return sum(self.attended.values())

    @property
    def attendance_rate(self):
        return rate(self.person_times, self.attendance_records)

    @property
    def participation(self):
        return rate(self.exam_takers, self.workers)

    @property
    def average_score(self) -> Decimal | None:
        return one_decimal(self.score_sum / self.attempts) if self.attempts else None

    @property
    def pass_rate(self):
        return rate(self.passed, self.attempts)

    def cert_share(self, level: str):
        return rate(self.cert[level], self.workers)

    def as_dict(self) -> dict:
        """The figures for the API (rates as fractions, hours and scores as numbers)."""
        def num(v):
            return (None if v is None else float(v))
        return {
            "workers": self.workers,
            "courses_enrolled": self.enrolled, "courses_completed": self.completed,
            "completion_rate": self.completion_rate,
            "credit_hours": float(self.hours), "credit_hours_courses": float(one_decimal(self.hours_course)),
            "credit_hours_training": float(one_decimal(self.hours_session)),
            "credit_hours_per_worker": num(self.hours_per_worker),
            "person_times": {**self.attended, "total": self.person_times},
            "attendance_records": self.attendance_records, "attendance_rate": self.attendance_rate,
            "exam_takers": self.exam_takers, "exam_participation": self.participation,
            "exam_attempts": self.attempts, "exam_average_score": num(self.average_score),
            "exam_passed": self.passed, "exam_pass_rate": self.pass_rate,
            "cert_levels": {k: {"workers": self.cert[k], "share": self.cert_share(k)} for k in CERT_LEVELS},
        }


@dataclass
class Trend:
    months: list = field(default_factory=list)
    hours: dict = field(default_factory=dict)
    person_times: dict = field(default_factory=dict)
    enrolled: dict = field(default_factory=dict)
    completed: dict = field(default_factory=dict)
    attempts: dict = field(default_factory=dict)
    passed: dict = field(default_factory=dict)

    def rows(self) -> list[dict]:
        return [{"month": m, "credit_hours": float(one_decimal(self.hours.get(m, 0))),
                 "person_times": self.person_times.get(m, 0), "courses_enrolled": self.enrolled.get(m, 0),
                 "courses_completed": self.completed.get(m, 0), "exam_attempts": self.attempts.get(m, 0),
                 "exam_pass_rate": rate(self.passed.get(m, 0), self.attempts.get(m, 0))} for m in self.months]


def _session_filter(f: Filters):
    stmt = select(TrainingSession.id).join(Training, Training.id == TrainingSession.training_id)
    if f.level:
        stmt = stmt.where(Training.level == f.level)
    if f.training_id:
        stmt = stmt.where(Training.id == f.training_id)
    return stmt


def _count_if(condition):
    """COUNT(*) FILTER (WHERE condition): cheaper per row than SUM(CASE …) on both databases."""
    return func.count().filter(condition)


def _counts_in_area(viewer: User, key, user_id, condition, keys) -> dict[int, tuple[int, int]]:
    """Per `key` value in `keys`: (rows, rows meeting `condition`) among the workers the viewer may see."""
    if not keys:
        return {}
    in_scope = visible_users(viewer).with_only_columns(User.id)
    return {k: (n, int(met or 0)) for k, n, met in db.session.execute(
        select(key, func.count(), _count_if(condition))
        .where(key.in_(list(keys)), user_id.in_(in_scope)).group_by(key))}


def enrolments_in_area(viewer: User, course_ids) -> dict[int, tuple[int, int]]:
    """Per course id: (enrolled, completed) among the workers the viewer may see (auth.scope)."""
    return _counts_in_area(viewer, Enrollment.course_id, Enrollment.user_id, Enrollment.completed_at.is_not(None),
                           course_ids)


def attendance_in_area(viewer: User, session_ids) -> dict[int, tuple[int, int]]:
    """Per training session id: (attendance records, 人次 present or late) among the viewer's workers."""
    return _counts_in_area(viewer, Attendance.session_id, Attendance.user_id, Attendance.status.in_(ATTENDED),
                           session_ids)


def _credit_where(f: Filters) -> list:
    where = [_in_period(Credit.earned_on, f.start, f.end_exclusive)]
    if f.course_id:
        where.append(or_(Credit.source != "course", Credit.source_id == f.course_id))
    if f.training_filtered:
        where.append(or_(Credit.source != "session", Credit.source_id.in_(_session_filter(f))))
    return where


def _attendance_where(f: Filters, lo, hi) -> list:
    """Attendance carries its session's start and its class's level: no join but for one class."""
    where = [_in_period(Attendance.session_starts_at, lo, hi)]
    if f.level:
        where.append(Attendance.training_level == f.level)
    if f.training_id:
        sessions = select(TrainingSession.id).where(TrainingSession.training_id == f.training_id)
        where.append(Attendance.session_id.in_(sessions))
    return where


def _attempt_where(f: Filters, lo, hi) -> list:
    where = [Attempt.status == "graded", _in_period(Attempt.graded_at, lo, hi)]
    if f.exam_id:
        where.append(Attempt.exam_id == f.exam_id)
    else:  # mock exams; a course's quiz counts toward its course, not toward exam pass rates
        where.append(Attempt.exam_id.in_(select(Exam.id).where(Exam.kind == "mock")))
    return where


def _enrollment_where(f: Filters, lo, hi) -> list:
    where = [_in_period(Enrollment.enrolled_at, lo, hi)]
    if f.course_id:
        where.append(Enrollment.course_id == f.course_id)
    return where


def compute(pop: Population, f: Filters) -> dict:
    """key → Figures for the population: five grouped queries, one per kind of record."""
    out: dict = {}

    def fig(key) -> Figures:
        if key not in out:
            out[key] = Figures()
        return out[key]

    lo, hi = f.utc_bounds()

    # workers and their certificate levels (as they stand now)
    cert_cols = [_count_if(User.cert_level == level).label(f"cert_{level}") for level in CERT_LEVELS]
    labels = ["workers"] + [f"cert_{level}" for level in CERT_LEVELS]
    for key, row in pop.aggregate(pop.select(func.count().label("workers"), *cert_cols), labels).items():
        fig(key).workers = int(row["workers"] or 0)
        for level in CERT_LEVELS:
            fig(key).cert[level] = int(row[f"cert_{level}"] or 0)

    # enrolments made in the period, and of those the ones completed by its end
    done = Enrollment.completed_at.is_not(None) if hi is None else Enrollment.completed_at < hi
    stmt = (pop.select(func.count().label("enrolled"), _count_if(done).label("completed"))
            .join(Enrollment, Enrollment.user_id == User.id).where(*_enrollment_where(f, lo, hi)))
    for key, row in pop.aggregate(stmt, ["enrolled", "completed"]).items():
        fig(key).enrolled, fig(key).completed = int(row["enrolled"] or 0), int(row["completed"] or 0)

    # the 学时 ledger, courses and training apart
    stmt = (pop.select(func.sum(Credit.hours).filter(Credit.source == "course").label("hours_course"),
                       func.sum(Credit.hours).filter(Credit.source != "course").label("hours_session"))
            .join(Credit, Credit.user_id == User.id).where(*_credit_where(f)))
    for key, row in pop.aggregate(stmt, ["hours_course", "hours_session"]).items():
        fig(key).hours_course, fig(key).hours_session = _d(row["hours_course"]), _d(row["hours_session"])

    # attendance records of sessions held in the period; 人次 by the class's level
    attended = Attendance.status.in_(ATTENDED)
    level_cols = [_count_if(and_(Attendance.training_level == level, attended)).label(f"att_{level}")
                  for level in TRAINING_LEVELS]  # the level first: it rules out most rows at once
    stmt = (pop.select(func.count().label("records"), *level_cols)
            .join(Attendance, Attendance.user_id == User.id).where(*_attendance_where(f, lo, hi)))
    for key, row in pop.aggregate(stmt, ["records"] + [f"att_{level}" for level in TRAINING_LEVELS]).items():
        fig(key).attendance_records = int(row["records"] or 0)
        for level in TRAINING_LEVELS:
            fig(key).attended[level] = int(row[f"att_{level}"] or 0)

    # graded mock-exam attempts (a worker sits in one unit, so distinct takers add up across units)
    stmt = (pop.select(func.count().label("attempts"), func.count(func.distinct(Attempt.user_id)).label("takers"),
                       func.sum(Attempt.score).label("score"), _count_if(Attempt.passed.is_(True)).label("passed"))
            .join(Attempt, Attempt.user_id == User.id).where(*_attempt_where(f, lo, hi)))
    for key, row in pop.aggregate(stmt, ["attempts", "takers", "score", "passed"]).items():
        fig(key).attempts, fig(key).exam_takers = int(row["attempts"] or 0), int(row["takers"] or 0)
        fig(key).score_sum, fig(key).passed = _d(row["score"]), int(row["passed"] or 0)
    return out


def trend(viewer: User, unit: OrgUnit, f: Filters, source: str = "auto") -> Trend:
    """The unit's figures month by month (local months), one grouped query per kind of record
    (from the rollups when they hold the period and filters, as in dashboard())."""
    period = rollup_period(f) if source == "auto" and rollup_target() is not None else None
    if period:
        return rollup_trend(viewer, unit, f, period)
    pop = Population(viewer, unit, by="unit")
    lo, hi = f.utc_bounds()
    t = Trend()

    def monthly(month, *columns, joins=(), where=()):
        stmt = pop.select(month.label("month"), *columns, keyed=False)
        for target, on in joins:
            stmt = stmt.join(target, on)
        return db.session.execute(stmt.where(*where).group_by(month)).all()

    for m, hours in monthly(month_of_date(Credit.earned_on), func.sum(Credit.hours),
                            joins=[(Credit, Credit.user_id == User.id)], where=_credit_where(f)):
        t.hours[m] = _d(hours)
    for m, n in monthly(month_of_datetime(Attendance.session_starts_at), _count_if(Attendance.status.in_(ATTENDED)),
                        joins=[(Attendance, Attendance.user_id == User.id)], where=_attendance_where(f, lo, hi)):
        t.person_times[m] = int(n or 0)
    for m, n in monthly(month_of_datetime(Enrollment.enrolled_at), func.count(),
                        joins=[(Enrollment, Enrollment.user_id == User.id)], where=_enrollment_where(f, lo, hi)):
        t.enrolled[m] = n
    completed_where = [Enrollment.completed_at.is_not(None), _in_period(Enrollment.completed_at, lo, hi)]
    if f.course_id:
        completed_where.append(Enrollment.course_id == f.course_id)
    for m, n in monthly(month_of_datetime(Enrollment.completed_at), func.count(),
                        joins=[(Enrollment, Enrollment.user_id == User.id)], where=completed_where):
        t.completed[m] = n
    for m, n, p in monthly(month_of_datetime(Attempt.graded_at), func.count(), _count_if(Attempt.passed.is_(True)),
                           joins=[(Attempt, Attempt.user_id == User.id)], where=_attempt_where(f, lo, hi)):
        t.attempts[m], t.passed[m] = n, int(p or 0)
    t.months = _months(f, t)
    return t


def _months(f: Filters, trend: Trend) -> list[str]:
    """Every month of the period (or of the data, when the period is open), at most the last 36."""
    seen = set(trend.hours) | set(trend.person_times) | set(trend.enrolled) | set(trend.completed) | set(trend.attempts)
    seen.discard(None)
    first = f"{f.start.year:04d}-{f.start.month:02d}" if f.start else min(seen, default=None)  # %Y: "579" for 579
    last = f"{f.end.year:04d}-{f.end.month:02d}" if f.end else max(seen, default=None)
    if not first or not last:
        return []
    months = []
    y, m = int(first[:4]), int(first[5:7])
    while f"{y:04d}-{m:02d}" <= last:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months[-MAX_TREND_MONTHS:]


# --- pages' data ----------------------------------------------------------------------------------

@dataclass
class Row:
    unit: OrgUnit
    figures: Figures
    direct: bool = False  # accounts placed on the unit itself, not in a unit below it


@dataclass
class Dashboard:
    unit: OrgUnit
    filters: Filters
    total: Figures
    rows: list


def dashboard(viewer: User, unit: OrgUnit, f: Filters, source: str = "auto") -> Dashboard:
    """The unit's total and one row per unit directly below it (plus one for accounts on the unit itself).

    From the rollups when they hold the period and filters (source="auto"), else (and with
    source="raw", the reference) from the hand-written queries over the raw rows."""
    period = rollup_period(f) if source == "auto" and rollup_target() is not None else None
    figures = rollup_compute(viewer, unit, f, period) if period else compute(Population(viewer, unit, by="child"), f)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id, unit_filter(viewer))
                                  .order_by(OrgUnit.code)).all()
    rows = [Row(c, figures.get(c.id, Figures())) for c in children]
    own = figures.get(unit.id)
    if own is not None and (own.workers or own.enrolled or own.attendance_records or own.attempts
                            or own.hours_course or own.hours_session):
        rows.append(Row(unit, own, direct=True))
    total = Figures()
    for fig in figures.values():
        total.add(fig)
    return Dashboard(unit, f, total, rows)


def worker_figures(viewer: User, unit: OrgUnit, f: Filters, user_ids=None) -> dict[int, Figures]:
    """user id → Figures for the workers of `unit`'s subtree (only `user_ids` when given)."""
    return compute(Population(viewer, unit, by="user", user_ids=user_ids), f)


# --- the same figures from the rollups (rollups.py) ---------------------------------------------------

RollupPeriod = tuple[str, int]  # ("year", YYYY) or ("all", 0)


def rollup_period(f: Filters) -> RollupPeriod | None:
    """The period as the rollups hold it, or None when they cannot answer (a course, class or exam
    filter, or a period other than a calendar year or all years)."""
    if f.course_id or f.training_id or f.exam_id:
        return None
    if f.start is None and f.end is None:
        return ("all", 0)
    if f.start and f.end and f.start.year == f.end.year and f.start == date(f.start.year, 1, 1) \
            and f.end == date(f.end.year, 12, 31):
        return ("year", f.start.year)
    return None


def _months_of(period: RollupPeriod):
    kind, year = period
    if kind == "year":
        return StatsRollup.month.between(year * 100 + 1, year * 100 + 12)
    return StatsRollup.month > 0


def _sums():
    return [func.sum(getattr(StatsRollup, name)).label(name) for name in ROLLUP_COLUMNS]


def _int(row, name) -> int:
    return int(row[name] or 0)


def _session_hours(row, level: str | None) -> Decimal:
    if level:
        return _d(row[f"hours_{level}"]) + _d(row["hours_other"])
    return sum((_d(row[f"hours_{lv}"]) for lv in ("city", "district", "street", "unknown", "other")), Decimal(0))


def _attended(row, level: str | None) -> dict:
    return {lv: (_int(row, f"attended_{lv}") if level in (None, lv) else 0) for lv in TRAINING_LEVELS}


def _figures_of(row, f: Filters, period: RollupPeriod) -> Figures:
    fig = Figures(workers=_int(row, "workers"), enrolled=_int(row, "enrolled"),
                  completed=_int(row, "completed_in_year" if period[0] == "year" else "completed_ever"),
                  hours_course=_d(row["hours_course"]), hours_session=_session_hours(row, f.level),
                  attempts=_int(row, "attempts"), score_sum=_d(row["score_sum"]), passed=_int(row, "passed"),
                  exam_takers=_int(row, "takers" if period[0] == "year" else "takers_ever"))
    fig.cert = {level: _int(row, f"cert_{level}") for level in CERT_LEVELS}
    fig.attended = _attended(row, f.level)
    fig.attendance_records = (_int(row, f"records_{f.level}") if f.level else
                              sum(_int(row, f"records_{lv}") for lv in ("city", "district", "street", "other")))
    return fig


def rollup_compute(viewer: User, unit: OrgUnit, f: Filters, period: RollupPeriod) -> dict:
    """key (child unit, or `unit` for accounts on it) → Figures: the subtree's rollup rows of the period
    (its months, and the rows of now and of its year) summed per child unit in one query."""
    groups = unit_groups(viewer, unit)
    kind, year = period
    rows = or_(_months_of(period), StatsRollup.month == 0, *([StatsRollup.month == -year] if kind == "year" else []))
    stmt = (select(groups.c.key, *_sums()).select_from(StatsRollup)
            .join(groups, groups.c.unit_id == StatsRollup.org_unit_id).where(rows).group_by(groups.c.key))
    return {row.key: _figures_of(row._mapping, f, period) for row in db.session.execute(stmt)}


def rollup_trend(viewer: User, unit: OrgUnit, f: Filters, period: RollupPeriod) -> Trend:
    """The subtree's rollup rows of the period's months, summed per month."""
    stmt = (select(StatsRollup.month, *_sums())
            .where(StatsRollup.org_unit_id.in_(subtree_unit_ids(viewer, unit)), _months_of(period))
            .group_by(StatsRollup.month))
    t = Trend()
    for row in db.session.execute(stmt):
        r = row._mapping
        m = f"{row.month // 100:04d}-{row.month % 100:02d}"
        hours = _d(r["hours_course"]) + _session_hours(r, f.level)
        if hours:
            t.hours[m] = hours
        records = _int(r, f"records_{f.level}") if f.level else sum(
            _int(r, f"records_{lv}") for lv in ("city", "district", "street", "other"))
        if records:
            t.person_times[m] = sum(_attended(r, f.level).values())
        for name, attr in (("enrolled", "enrolled"), ("completions", "completed"), ("attempts", "attempts")):
            if _int(r, name):
                getattr(t, attr)[m] = _int(r, name)
        if _int(r, "attempts"):
            t.passed[m] = _int(r, "passed")
    t.months = _months(f, t)
    return t


def rollup_target() -> Decimal | None:
    """The annual 学时 target the rollups' yearly rows were counted against."""
    return rollups.read_target(db.session.connection())
