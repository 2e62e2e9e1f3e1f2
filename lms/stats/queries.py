"""The statistics as GROUP BY queries over the org tree. Plain functions: no request, no commit.

Every figure is computed for a *population*: the active accounts with the community-worker
(learner) role in a unit's subtree, each tagged with a group key. For a dashboard the key is
the child unit whose path prefixes the worker's unit (one small join of org units on the path
prefix, then an equi-join of users on their unit id); for a list of workers it is the worker.
The viewer's scope (auth.scope.unit_filter) is part of the population itself, so no figure can
count a row outside it. Each fact table (enrolments, the 学时 ledger, attendance, attempts) is
then read once, inside the period, and grouped by key (and month) in SQL.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from ..auth.models import User, UserRole
from ..auth.scope import unit_filter
from ..exams.models import Attempt
from ..extensions import db
from ..learning.models import Credit, Enrollment
from ..orgs.models import OrgUnit
from ..training.models import Attendance, Training, TrainingSession
from ..util import local_to_utc

TRAINING_LEVELS = ("city", "district", "street")
CERT_LEVELS = ("none", "assistant", "intermediate", "senior")
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
        hi = local_to_utc(datetime.combine(self.end_exclusive, time())) if self.end else None
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
    return and_(*clauses) if clauses else literal(True)


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

def _learners(stmt):
    return (stmt.join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
            .where(User.active.is_(True)))


def unit_groups(viewer: User, unit: OrgUnit):
    """(unit_id, key): every unit of `unit`'s subtree mapped to the child of `unit` holding it;
    `unit` itself maps to itself (for accounts placed directly on it)."""
    child = aliased(OrgUnit, name="grp")
    member = aliased(OrgUnit, name="member")
    below = (select(member.id.label("unit_id"), child.id.label("key"))
             .join(child, member.path.startswith(child.path))
             .where(child.parent_id == unit.id, unit_filter(viewer, member.path)))
    own = select(OrgUnit.id.label("unit_id"), OrgUnit.id.label("key")).where(OrgUnit.id == unit.id,
                                                                            unit_filter(viewer, OrgUnit.path))
    return union_all(below, own).subquery("groups")


def population(viewer: User, unit: OrgUnit, by: str = "child", user_ids=None):
    """A subquery (user_id, key, cert_level) of the workers in `unit`'s subtree, within the viewer's scope.

    by="child": key = the child unit (or `unit` itself); by="user": key = the user id;
    by="unit": key = `unit`'s id for everyone.
    """
    if by == "child":
        groups = unit_groups(viewer, unit)
        stmt = select(User.id.label("user_id"), groups.c.key.label("key"), User.cert_level.label("cert_level")) \
            .join(groups, groups.c.unit_id == User.org_unit_id)
    else:
        key = User.id if by == "user" else literal(unit.id)
        stmt = (select(User.id.label("user_id"), key.label("key"), User.cert_level.label("cert_level"))
                .join(OrgUnit, OrgUnit.id == User.org_unit_id)
                .where(OrgUnit.path.startswith(unit.path, autoescape=True), unit_filter(viewer, OrgUnit.path)))
    if user_ids is not None:
        stmt = stmt.where(User.id.in_(list(user_ids)))
    return _learners(stmt).subquery("pop")


def population_users(viewer: User, unit: OrgUnit):
    """A select of the User rows of the population (for lists of workers), with their unit joined."""
    return _learners(select(User).join(User.org_unit)
                     .where(OrgUnit.path.startswith(unit.path, autoescape=True), unit_filter(viewer, OrgUnit.path)))


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
        num = (lambda v: None if v is None else float(v))
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


def compute(pop, f: Filters, trend: Trend | None = None) -> dict:
    """key → Figures for the population `pop`, and (when given) the monthly trend filled in."""
    out: dict = {}

    def fig(key) -> Figures:
        if key not in out:
            out[key] = Figures()
        return out[key]

    lo, hi = f.utc_bounds()

    # workers and certificate levels
    for key, level, n in db.session.execute(
            select(pop.c.key, pop.c.cert_level, func.count()).group_by(pop.c.key, pop.c.cert_level)):
        fig(key).workers += n
        if level in CERT_LEVELS:
            fig(key).cert[level] += n

    # enrolments made in the period, and of those the ones completed by its end
    done = Enrollment.completed_at.is_not(None) if hi is None else Enrollment.completed_at < hi
    month = month_of_datetime(Enrollment.enrolled_at)
    stmt = (select(pop.c.key, month, func.count(), func.sum(case((done, 1), else_=0)))
            .join(pop, pop.c.user_id == Enrollment.user_id)
            .where(_in_period(Enrollment.enrolled_at, lo, hi)).group_by(pop.c.key, month))
    if f.course_id:
        stmt = stmt.where(Enrollment.course_id == f.course_id)
    for key, m, n, completed in db.session.execute(stmt):
        fig(key).enrolled += n
        fig(key).completed += int(completed or 0)
        if trend is not None:
            trend.enrolled[m] = trend.enrolled.get(m, 0) + n

    # the 学时 ledger, by source
    month = month_of_date(Credit.earned_on)
    stmt = (select(pop.c.key, Credit.source, month, func.sum(Credit.hours))
            .join(pop, pop.c.user_id == Credit.user_id)
            .where(_in_period(Credit.earned_on, f.start, f.end_exclusive))
            .group_by(pop.c.key, Credit.source, month))
    if f.course_id:
        stmt = stmt.where(or_(Credit.source != "course", Credit.source_id == f.course_id))
    if f.training_filtered:
        stmt = stmt.where(or_(Credit.source != "session", Credit.source_id.in_(_session_filter(f))))
    for key, source, m, hours in db.session.execute(stmt):
        if source == "course":
            fig(key).hours_course += _d(hours)
        else:
            fig(key).hours_session += _d(hours)
        if trend is not None:
            trend.hours[m] = trend.hours.get(m, Decimal(0)) + _d(hours)

    # attendance: 人次 by class level, and the records behind the attendance rate
    month = month_of_datetime(TrainingSession.starts_at)
    attended = func.sum(case((Attendance.status.in_(ATTENDED), 1), else_=0))
    stmt = (select(pop.c.key, Training.level, month, func.count(), attended)
            .select_from(Attendance)
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .join(Training, Training.id == TrainingSession.training_id)
            .join(pop, pop.c.user_id == Attendance.user_id)
            .where(_in_period(TrainingSession.starts_at, lo, hi))
            .group_by(pop.c.key, Training.level, month))
    if f.level:
        stmt = stmt.where(Training.level == f.level)
    if f.training_id:
        stmt = stmt.where(Training.id == f.training_id)
    for key, level, m, records, n in db.session.execute(stmt):
        fig(key).attendance_records += records
        fig(key).attended[level] += int(n or 0)
        if trend is not None:
            trend.person_times[m] = trend.person_times.get(m, 0) + int(n or 0)

    # graded mock-exam attempts
    exam_where = [Attempt.status == "graded", _in_period(Attempt.graded_at, lo, hi)]
    if f.exam_id:
        exam_where.append(Attempt.exam_id == f.exam_id)
    month = month_of_datetime(Attempt.graded_at)
    passed = func.sum(case((Attempt.passed.is_(True), 1), else_=0))
    for key, m, n, score, p in db.session.execute(
            select(pop.c.key, month, func.count(), func.sum(Attempt.score), passed)
            .join(pop, pop.c.user_id == Attempt.user_id).where(*exam_where).group_by(pop.c.key, month)):
        fig(key).attempts += n
        fig(key).score_sum += _d(score)
        fig(key).passed += int(p or 0)
        if trend is not None:
            trend.attempts[m] = trend.attempts.get(m, 0) + n
            trend.passed[m] = trend.passed.get(m, 0) + int(p or 0)
    for key, takers in db.session.execute(
            select(pop.c.key, func.count(func.distinct(Attempt.user_id)))
            .join(pop, pop.c.user_id == Attempt.user_id).where(*exam_where).group_by(pop.c.key)):
        fig(key).exam_takers += takers

    if trend is not None:
        # completions by the month they happened (the table counts the period's enrolments instead)
        month = month_of_datetime(Enrollment.completed_at)
        stmt = (select(month, func.count()).join(pop, pop.c.user_id == Enrollment.user_id)
                .where(Enrollment.completed_at.is_not(None), _in_period(Enrollment.completed_at, lo, hi))
                .group_by(month))
        if f.course_id:
            stmt = stmt.where(Enrollment.course_id == f.course_id)
        for m, n in db.session.execute(stmt):
            trend.completed[m] = n
        trend.months = _months(f, trend)
    return out


def _months(f: Filters, trend: Trend) -> list[str]:
    """Every month of the period (or of the data, when the period is open), at most the last 36."""
    seen = set(trend.hours) | set(trend.person_times) | set(trend.enrolled) | set(trend.completed) | set(trend.attempts)
    seen.discard(None)
    first = f"{f.start:%Y-%m}" if f.start else min(seen, default=None)
    last = f"{f.end:%Y-%m}" if f.end else max(seen, default=None)
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
    trend: Trend


def dashboard(viewer: User, unit: OrgUnit, f: Filters, with_trend: bool = True) -> Dashboard:
    """The unit's total and one row per unit directly below it (plus one for accounts on the unit itself)."""
    trend = Trend() if with_trend else None
    figures = compute(population(viewer, unit, by="child"), f, trend)
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
    return Dashboard(unit, f, total, rows, trend or Trend())


def worker_figures(viewer: User, unit: OrgUnit, f: Filters, user_ids=None) -> dict[int, Figures]:
    """user id → Figures for the workers of `unit`'s subtree (only `user_ids` when given)."""
    return compute(population(viewer, unit, by="user", user_ids=user_ids), f)
