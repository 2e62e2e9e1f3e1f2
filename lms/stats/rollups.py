"""Statistics rollups: the figures of each org unit's workers, per month, kept beside the raw rows.

Table `stats_rollup` (models.StatsRollup) has one row per (org unit, period) with one column per
kind of figure. The figures count the facts of the *active community workers* (accounts with the
learner role), in the unit the worker belongs to NOW, exactly like the hand-written queries in
queries.py: moving a worker to another unit, deactivating them or taking their learner role
away moves (or removes) all their rows.

Where each figure comes from:

- month = YYYYMM, the Asia/Shanghai calendar month of the fact (additive over months and units):
  enrolled, completed_in_year (completed before the end of the enrolment's calendar year: the
  dashboard's "completed" for a year), completed_ever (the same for "all years") — these three by
  the month of enrolment; completions (trends' "completed") by the month of completion;
  hours_course, hours_city/district/street (session 学时 by the class's level), hours_unknown
  (session 学时 whose session is gone), hours_other (any other source) by the credit's date;
  records_<level> / attended_<level> (attendance records / 人次 present or late) by the session's
  start, records_other for records without a level; attempts, passed, score_sum (graded attempts
  of mock exams) by the grading time.
- month = -YYYY, a calendar year (distinct workers, not additive over months): takers (workers with
  a graded mock attempt in the year), ce_hours / ce_reached (the year's 学时 and the workers at or
  above the annual target, `stats_rollup_target`), and the same for certified workers.
- month = 0, now: workers and their certificate levels (cert_<level>), takers_ever.

Table `stats_profile_rollup` (models.StatsProfileRollup) is the workforce profile now: per unit, dimension
and recorded value (the birth year for ages, the years of service as entered, "unknown" for an empty
field), the number of counted workers. It is kept with the "worker" figures (profile_figures); the
profile page adds up the subtree's rows and bands ages as in the year asked (profile.profile).

Table `stats_worker_year` (models.StatsWorkerYear) is the continuing-education list: a row per counted
worker and year with their 学时 of the year, their unit's path, user name and certificate level, for every
year they have 学时 in and (0 hours) every year of the target row's list range; its index is the list's
order, so a page of the list is read without a sort (ce.workers). The range grows by one year on a year's
first day (`extend_list_years`, the periodic work, with a table lock on PostgreSQL against a concurrent
rewrite); `rebuild()` sets it to the ledger's years up to this one (at most LIST_YEARS). A worker whose
学时, unit, activity, roles, certificate level or user name a transaction changes has their rows rewritten
before the commit (`worker_years`); an org unit's path never changes once made (orgs/tree.py).

A page adds up the units of the subtree (their path starts with the scope's path) over the months
of its period (queries.unit_groups): a few thousand rows. Rollups answer a calendar year or all
years, with or without the class-level filter; a course, class or exam filter, or a period of
other dates, is answered by the hand-written queries (queries.compute / queries.trend), which
remain the reference the tests and bench/stats.py compare with.

Maintenance, in the same transaction as the change (session events): before a flush, the workers
whose facts it may change are found from the pending objects (enrolments, 学时, attendance,
attempts, accounts and their roles, and sessions, classes, exams and courses whose changes reach
those rows). The first time in a transaction that a worker's facts of a kind are about to change,
their figures of that kind are taken from the raw rows (and, on PostgreSQL, their account row is
locked FOR UPDATE, in id order, until the commit: two transactions never interleave for one
worker). Before the commit (`settle`), the same figures are taken again and the difference is
added to the rollup rows (INSERT … ON CONFLICT DO NOTHING, then UPDATE … SET c = c + :d). So after
every commit the rollups are the same function of the raw rows that `rebuild()` computes for
everyone. Inside a transaction they lag its own changes until `settle()` (pages read committed
data; a test may call it). Writes that bypass the ORM's unit of work (bulk UPDATE/DELETE of those
tables, seed-scale's COPY) must be followed by `rebuild()`; none in lms/ touches a counted column
(exams.attempts.finish sets "submitted" in bulk, then grades through the ORM).
"""
import typing
from collections.abc import Iterable
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import clock
from ..auth.models import User, UserRole
from ..database import dialect_insert
from ..exams.models import Attempt, Exam
from ..learning.models import Course, Credit, Enrollment
from ..orgs.models import OrgUnit
from ..training.models import Attendance, Training, TrainingSession
from .models import (
    DIMENSIONS,
    ROLLUP_COLUMNS,
    ROLLUP_COUNTS,
    StatsProfileRollup,
    StatsRollup,
    StatsRollupTarget,
    StatsWorkerYear,
)

LEVELS = ("city", "district", "street")
CERTIFIED = ("assistant", "intermediate", "senior")
ATTENDED = ("present", "late")
DEFAULT_TARGET = Decimal(50)
ZERO = Decimal(0)
TENTH = Decimal("0.1")

UNKNOWN = "unknown"  # the profile's value of an empty field

Key = tuple[int, int]  # (org unit id, month)
Values = dict[str, Decimal | int]
ProfileKey = tuple[int, str]  # (org unit id, dimension)
Counts = dict[str, int]  # recorded value → workers
K = typing.TypeVar("K", Key, ProfileKey)
V = typing.TypeVar("V", Values, Counts)


# --- the figures from the raw rows ------------------------------------------------------------------

def _month_dt(conn: Connection, col):
    """YYYYMM (an integer) of a UTC DateTime column, in Asia/Shanghai."""
    if conn.dialect.name == "postgresql":
        return cast(func.to_char(col + literal_column("interval '8 hours'"), "YYYYMM"), Integer)
    return cast(func.strftime("%Y%m", col, "+8 hours"), Integer)


def _month_d(conn: Connection, col):
    if conn.dialect.name == "postgresql":
        return cast(func.to_char(col, "YYYYMM"), Integer)
    return cast(func.strftime("%Y%m", col), Integer)


def _population(user_ids: Iterable[int] | None):
    """SELECT … FROM user JOIN user_role (learner) WHERE active: the workers the statistics count."""
    def stmt(*columns):
        s = (select(*columns).select_from(User)
             .join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
             .where(User.active == true(), User.org_unit_id.is_not(None)))
        if user_ids is not None:
            s = s.where(User.id.in_(sorted(user_ids)))
        return s
    return stmt


def _count_if(condition):
    return func.count().filter(condition)


def _sum_if(col, condition):
    return func.sum(col).filter(condition)


def read_target(conn: Connection) -> Decimal | None:
    value = conn.execute(select(StatsRollupTarget.hours).where(StatsRollupTarget.id == 1)).scalar()
    return None if value is None else Decimal(str(value))


def _config_target() -> Decimal:
    if has_app_context():
        return Decimal(str(current_app.config.get("ANNUAL_CREDIT_HOURS_TARGET", DEFAULT_TARGET)))
    return DEFAULT_TARGET


ALL_KINDS = frozenset(("enrolment", "credit", "attendance", "attempt", "worker"))


def figures(conn: Connection, user_ids: Iterable[int] | None, target: Decimal,
            kinds: frozenset[str] = ALL_KINDS) -> dict[Key, Values]:
    """(unit, month) → the rollup columns, computed from the raw rows for the given workers (None: all),
    the yearly ce_reached columns against `target`. Only the columns of `kinds` of fact ("worker": the
    workers' count and certificate levels); the figures of disjoint sets of workers add up."""
    pop = _population(user_ids)
    unit = User.org_unit_id
    out: dict[Key, Values] = {}

    def put(rows, names):
        for row in rows:
            if row[1] is None:
                continue
            vals = out.setdefault((row[0], int(row[1])), {})
            for name, value in zip(names, row[2:], strict=True):
                if value:
                    vals[name] = vals.get(name, 0) + (value if name in ROLLUP_COUNTS else Decimal(str(value)))

    # enrolments by the month made; completions by the month completed
    if "enrolment" in kinds:
        _enrolments(conn, pop, put)
    if "credit" in kinds:
        _credits(conn, pop, put, target)
    if "attendance" in kinds:
        _attendance(conn, pop, put)
    if "attempt" in kinds:
        _attempts(conn, pop, put)
    if "worker" in kinds:
        put(conn.execute(pop(unit, literal(0), func.count(),
                             *[_count_if(User.cert_level == c) for c in ("none",) + CERTIFIED]).group_by(unit)),
            ["workers", "cert_none"] + [f"cert_{c}" for c in CERTIFIED])
    return {k: v for k, v in out.items() if v}


def _enrolments(conn: Connection, pop, put) -> None:
    unit = User.org_unit_id
    m_enrol, m_done = _month_dt(conn, Enrollment.enrolled_at), _month_dt(conn, Enrollment.completed_at)
    done = Enrollment.completed_at.is_not(None)
    put(conn.execute(pop(unit, m_enrol, func.count(), _count_if(and_(done, m_done // 100 <= m_enrol // 100)),
                         _count_if(done)).join(Enrollment, Enrollment.user_id == User.id)
                     .group_by(unit, m_enrol)), ["enrolled", "completed_in_year", "completed_ever"])
    put(conn.execute(pop(unit, m_done, func.count()).join(Enrollment, Enrollment.user_id == User.id)
                     .where(done).group_by(unit, m_done)), ["completions"])



def _credits(conn: Connection, pop, put, target: Decimal) -> None:
    """The 学时 ledger (a session's 学时 by its class's level), and each worker's 学时 of a year
    against the target (continuing education)."""
    unit = User.org_unit_id
    m_credit = _month_d(conn, Credit.earned_on)
    level = Training.level
    session = Credit.source == "session"
    cols = [_sum_if(Credit.hours, Credit.source == "course")]
    cols += [_sum_if(Credit.hours, and_(session, level == lv)) for lv in LEVELS]
    cols += [_sum_if(Credit.hours, and_(session, level.is_(None))),
             _sum_if(Credit.hours, Credit.source.not_in(("course", "session")))]
    credits = (pop(unit, m_credit, *cols).join(Credit, Credit.user_id == User.id)
               .outerjoin(TrainingSession, and_(session, TrainingSession.id == Credit.source_id))
               .outerjoin(Training, Training.id == TrainingSession.training_id))
    put(conn.execute(credits.group_by(unit, m_credit)),
        ["hours_course", "hours_city", "hours_district", "hours_street", "hours_unknown", "hours_other"])

    c_year = m_credit // 100
    per_user = (pop(User.id.label("uid"), unit.label("unit"), User.cert_level.label("cert"), c_year.label("year"),
                    func.sum(Credit.hours).label("hours"))
                .join(Credit, Credit.user_id == User.id).group_by(User.id, unit, User.cert_level, c_year)
                .subquery("per_user"))
    certified = per_user.c.cert.in_(CERTIFIED)
    reached = per_user.c.hours >= target
    put(conn.execute(select(per_user.c.unit, -per_user.c.year, func.sum(per_user.c.hours), _count_if(reached),
                            _sum_if(per_user.c.hours, certified), _count_if(and_(reached, certified)))
                     .group_by(per_user.c.unit, per_user.c.year)),
        ["ce_hours", "ce_reached", "ce_hours_certified", "ce_reached_certified"])


def _attendance(conn: Connection, pop, put) -> None:
    """Attendance by the session's start; 人次 by the class's level."""
    unit = User.org_unit_id
    m_att = _month_dt(conn, Attendance.session_starts_at)
    attended = Attendance.status.in_(ATTENDED)
    lvl = Attendance.training_level
    cols = [_count_if(lvl == lv) for lv in LEVELS]
    cols += [_count_if(or_none(lvl, LEVELS))]
    cols += [_count_if(and_(lvl == lv, attended)) for lv in LEVELS]
    put(conn.execute(pop(unit, m_att, *cols).join(Attendance, Attendance.user_id == User.id).group_by(unit, m_att)),
        [f"records_{lv}" for lv in LEVELS] + ["records_other"] + [f"attended_{lv}" for lv in LEVELS])



def _attempts(conn: Connection, pop, put) -> None:
    """Graded attempts of mock exams by the grading time; distinct takers by year and ever."""
    unit = User.org_unit_id
    graded = (pop().join(Attempt, Attempt.user_id == User.id).join(Exam, Exam.id == Attempt.exam_id)
              .where(Attempt.status == "graded", Exam.kind == "mock", Attempt.graded_at.is_not(None)))
    m_graded = _month_dt(conn, Attempt.graded_at)
    put(conn.execute(graded.add_columns(unit, m_graded, func.count(), _count_if(Attempt.passed.is_(True)),
                                        func.sum(Attempt.score)).group_by(unit, m_graded)),
        ["attempts", "passed", "score_sum"])
    year = m_graded // 100
    put(conn.execute(graded.add_columns(unit, -year, func.count(func.distinct(Attempt.user_id)))
                     .group_by(unit, year)), ["takers"])
    put(conn.execute(graded.add_columns(unit, literal(0), func.count(func.distinct(Attempt.user_id)))
                     .group_by(unit)), ["takers_ever"])



def or_none(col, values):
    return case((col.in_(values), False), else_=True)


# the column each profile dimension counts the values of (ages: the birth year, banded when read)
PROFILE_VALUES = {"age": User.birth_year, "gender": User.gender, "education": User.education,
                  "political_status": User.political_status, "cert_level": User.cert_level,
                  "years_in_work": User.years_in_work}
assert tuple(PROFILE_VALUES) == DIMENSIONS


def profile_figures(conn: Connection, user_ids: Iterable[int] | None) -> dict[ProfileKey, Counts]:
    """(unit, dimension) → {recorded value: workers} for the given counted workers (None: all), in one
    query; the figures of disjoint sets of workers add up."""
    pop = _population(user_ids)
    unit = User.org_unit_id
    parts = []
    for dimension, column in PROFILE_VALUES.items():
        value = func.coalesce(cast(column, String(32)), UNKNOWN)
        parts.append(pop(unit.label("unit"), literal(dimension).label("dimension"), value.label("value"),
                         func.count().label("n")).group_by(unit, value))
    out: dict[ProfileKey, Counts] = {}
    for unit_id, dimension, value, n in conn.execute(union_all(*parts)):
        if n:
            out.setdefault((unit_id, dimension), {})[str(value)] = int(n)
    return out


# --- writing ----------------------------------------------------------------------------------------

def cast_table(model) -> Table:
    return typing.cast(Table, model.__table__)


def _insert(conn: Connection, model):
    """The dialect's INSERT of `model` (it has ON CONFLICT)."""
    return dialect_insert(model, conn)


def _insert_ignore(conn: Connection, model, rows: list[dict]) -> None:
    conn.execute(_insert(conn, model).on_conflict_do_nothing(), rows)


def _delta(before: dict[K, V], after: dict[K, V]) -> dict[K, V]:
    out: dict[K, V] = {}
    for key in before.keys() | after.keys():
        b, a = before.get(key, {}), after.get(key, {})
        d: typing.Any = {}
        for name in a.keys() | b.keys():
            diff = a.get(name, 0) - b.get(name, 0)
            if diff:
                d[name] = diff
        if d:
            out[key] = d
    return out


def apply(conn: Connection, delta: dict[Key, Values]) -> None:
    """Add `delta` to the rollup rows (creating the missing ones): safe beside concurrent writers."""
    if not delta:
        return
    _insert_ignore(conn, StatsRollup, [{"org_unit_id": u, "month": m} for u, m in sorted(delta)])
    table = cast_table(StatsRollup)
    stmt = (update(table).where(table.c.org_unit_id == bindparam("k_unit"), table.c.month == bindparam("k_month"))
            .values({name: table.c[name] + bindparam(f"d_{name}", type_=table.c[name].type)
                     for name in ROLLUP_COLUMNS}))
    conn.execute(stmt, [{"k_unit": u, "k_month": m, **{f"d_{n}": vals.get(n, 0) for n in ROLLUP_COLUMNS}}
                        for (u, m), vals in sorted(delta.items())])


def apply_profile(conn: Connection, delta: dict[ProfileKey, Counts]) -> None:
    """Add `delta` to the profile rows (creating the missing ones), in key order like `apply`."""
    keys = sorted((u, dim, value) for (u, dim), counts in delta.items() for value in counts)
    if not keys:
        return
    _insert_ignore(conn, StatsProfileRollup, [{"org_unit_id": u, "dimension": dim, "value": v} for u, dim, v in keys])
    table = cast_table(StatsProfileRollup)
    stmt = (update(table).where(table.c.org_unit_id == bindparam("k_unit"), table.c.dimension == bindparam("k_dim"),
                                table.c.value == bindparam("k_value"))
            .values(count=table.c.count + bindparam("d_count", type_=Integer)))
    conn.execute(stmt, [{"k_unit": u, "k_dim": dim, "k_value": v, "d_count": delta[(u, dim)][v]} for u, dim, v in keys])


def refresh_workers(conn: Connection, before: dict[Key, Values], user_ids: set[int], target: Decimal) -> None:
    """Bring the rollups from `before` (the workers' figures before a change) to what the raw rows say now."""
    apply(conn, _delta(before, figures(conn, user_ids, target)))


LIST_YEARS = 5  # the rebuild lists at most this many years up to this one from stats_worker_year alone


def _worker_year_rows(conn: Connection, user_ids: Iterable[int] | None):
    """SELECT user_id, year, SUM(hours) FROM credit (of the given workers) GROUP BY user_id, year."""
    year = _month_d(conn, Credit.earned_on) // 100
    stmt = (select(Credit.user_id, year.label("year"), func.sum(Credit.hours).label("hours"))
            .group_by(Credit.user_id, year))
    if user_ids is not None:
        stmt = stmt.where(Credit.user_id.in_(sorted(user_ids)))
    return stmt


def read_list_years(conn: Connection) -> tuple[int, int] | None:
    """The years (first, last) for which stats_worker_year holds a row for every counted worker."""
    row = conn.execute(select(StatsRollupTarget.list_from, StatsRollupTarget.list_to)
                       .where(StatsRollupTarget.id == 1)).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return int(row[0]), int(row[1])


_WORKER_YEAR_COLUMNS = ["user_id", "year", "hours", "unit_path", "username", "cert_level"]


def _worker_year_select(conn: Connection, user_ids: Iterable[int] | None, years: Iterable[int]):
    """The rows of stats_worker_year of the given counted workers (None: all): one per year they have
    学时 in, and one of 0 hours for each of `years` they have none in."""
    pop = _population(user_ids)
    per_year = _worker_year_rows(conn, user_ids).subquery("per_year")
    listed = (OrgUnit.path, User.username, User.cert_level)
    with_hours = (pop(User.id, per_year.c.year, per_year.c.hours, *listed).join(OrgUnit, OrgUnit.id == User.org_unit_id)
                  .join(per_year, per_year.c.user_id == User.id))
    years = sorted(years)
    if not years:
        return with_hours
    year_rows = union_all(*[select(literal(y).label("year")) for y in years]).subquery("years")
    none = (pop(User.id, year_rows.c.year, literal(0), *listed).join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .join(year_rows, true())
            .outerjoin(per_year, and_(per_year.c.user_id == User.id, per_year.c.year == year_rows.c.year))
            .where(per_year.c.user_id.is_(None)))
    return union_all(with_hours, none)


def worker_years(conn: Connection, user_ids: Iterable[int] | None) -> None:
    """Rewrite the workers' rows of stats_worker_year (None: everyone's) from their 学时 ledger and their
    account. The list range is read after the DELETE: on PostgreSQL that statement waits for an
    `extend_list_years` in progress (its table lock), so the range read is the one its rows stand for."""
    table = cast_table(StatsWorkerYear)
    wipe = delete(table)
    if user_ids is not None:
        wipe = wipe.where(table.c.user_id.in_(sorted(user_ids)))
    conn.execute(wipe)
    span = read_list_years(conn)
    years = range(span[0], span[1] + 1) if span else ()
    conn.execute(table.insert().from_select(_WORKER_YEAR_COLUMNS, _worker_year_select(conn, user_ids, years)))


def extend_list_years(conn: Connection, year: int, first: int | None = None) -> bool:
    """Make `year` (and the years before it since the range's end; with an empty range, since `first`)
    listable from stats_worker_year alone: a row of 0 hours for every counted worker without one (once a
    year, by the periodic work). Nothing before the rollups are built. True when it added years."""
    if read_target(conn) is None:
        return False
    span = read_list_years(conn)
    if span is not None and span[1] >= year:
        return False
    first = (year if first is None else min(first, year)) if span is None else span[1] + 1
    if conn.dialect.name == "postgresql":  # a concurrent rewrite (worker_years) waits, or is waited for
        conn.execute(text("LOCK TABLE stats_worker_year IN SHARE ROW EXCLUSIVE MODE"))
    pop = _population(None)
    years = union_all(*[select(literal(y).label("year")) for y in range(first, year + 1)]).subquery("years")
    rows = (pop(User.id, years.c.year, literal(0), OrgUnit.path, User.username, User.cert_level)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id).join(years, true()))
    conn.execute(_insert(conn, StatsWorkerYear).from_select(_WORKER_YEAR_COLUMNS, rows).on_conflict_do_nothing())
    conn.execute(update(cast_table(StatsRollupTarget)).where(StatsRollupTarget.id == 1)
                 .values(list_from=span[0] if span else first, list_to=year))
    return True


def worker_year_table(conn: Connection) -> dict[tuple[int, int], tuple]:
    """stats_worker_year as stored (what the tests compare with worker_year_raw)."""
    stmt = select(*[cast_table(StatsWorkerYear).c[n] for n in _WORKER_YEAR_COLUMNS])
    return {(u, y): (Decimal(str(h)).quantize(TENTH), *rest) for u, y, h, *rest in conn.execute(stmt)}


def worker_year_raw(conn: Connection) -> dict[tuple[int, int], tuple]:
    """stats_worker_year as recomputed from the ledger and the accounts (the rows a rebuild writes)."""
    span = read_list_years(conn)
    rows = conn.execute(_worker_year_select(conn, None, range(span[0], span[1] + 1) if span else ()))
    return {(u, int(y)): (Decimal(str(h or 0)).quantize(TENTH), *rest) for u, y, h, *rest in rows}


def rebuild(conn: Connection, target: Decimal | None = None) -> int:
    """Recompute the whole table from the raw rows against `target` (default: the app's), in the
    caller's transaction; from then on flushes keep it. Returns the number of rows."""
    target = _config_target() if target is None else Decimal(str(target))
    this_year = clock.this_year()
    first = conn.execute(select(func.min(_month_d(conn, Credit.earned_on)))).scalar()
    first = this_year if first is None else min(max(int(first) // 100, this_year - LIST_YEARS + 1), this_year)
    conn.execute(delete(StatsRollupTarget))
    conn.execute(cast_table(StatsRollupTarget).insert(),
                 [{"id": 1, "hours": target, "list_from": first, "list_to": this_year}])
    conn.execute(delete(StatsRollup))
    worker_years(conn, None)
    rows = figures(conn, None, target)
    if rows:
        conn.execute(cast_table(StatsRollup).insert(),
                     [{"org_unit_id": u, "month": m, **{n: vals.get(n, 0) for n in ROLLUP_COLUMNS}}
                      for (u, m), vals in sorted(rows.items())])
    conn.execute(delete(StatsProfileRollup))
    profile = [{"org_unit_id": u, "dimension": dim, "value": value, "count": n}
               for (u, dim), counts in sorted(profile_figures(conn, None).items()) for value, n in counts.items()]
    if profile:
        conn.execute(cast_table(StatsProfileRollup).insert(), profile)
    return len(rows)


def table(conn: Connection) -> dict[Key, Values]:
    """The rollup table as stored (rows of zeros left out): what the tests compare with figures()."""
    out: dict[Key, Values] = {}
    for row in conn.execute(select(StatsRollup)).mappings():
        vals: Values = {}
        for name in ROLLUP_COLUMNS:
            value = row[name]
            if value:
                vals[name] = int(value) if name in ROLLUP_COUNTS else Decimal(str(value)).quantize(TENTH)
        if vals:
            out[(row["org_unit_id"], row["month"])] = vals
    return out


def profile_table(conn: Connection) -> dict[ProfileKey, Counts]:
    """stats_profile_rollup as stored (zeros left out): what the tests compare with profile_figures()."""
    out: dict[ProfileKey, Counts] = {}
    for u, dim, value, n in conn.execute(select(StatsProfileRollup.org_unit_id, StatsProfileRollup.dimension,
                                                StatsProfileRollup.value, StatsProfileRollup.count)):
        if n:
            out.setdefault((u, dim), {})[value] = n
    return out


def normalised(rows: dict[Key, Values]) -> dict[Key, Values]:
    """figures() in table()'s terms (sums to one decimal)."""
    return {k: {n: (int(v) if n in ROLLUP_COUNTS else Decimal(v).quantize(TENTH)) for n, v in vals.items()
                if v and (n in ROLLUP_COUNTS or Decimal(v).quantize(TENTH))}
            for k, vals in rows.items()}


# --- keeping them in the flush ----------------------------------------------------------------------

# the account's fields that only the profile counts: a change of these alone retakes the "worker" figures
PROFILE_ONLY = ("birth_year", "gender", "education", "political_status", "years_in_work")

_RELEVANT = {
    Enrollment: ("user_id", "enrolled_at", "completed_at"),
    Credit: ("user_id", "source", "source_id", "hours", "earned_on"),
    Attendance: ("user_id", "session_id", "status", "session_starts_at", "training_level"),
    Attempt: ("user_id", "exam_id", "status", "graded_at", "score", "passed"),
    User: ("org_unit_id", "org_unit", "active", "cert_level", "role_rows", "username", *PROFILE_ONLY),
    UserRole: ("user_id", "role"),
}
_KIND = {Enrollment: "enrolment", Credit: "credit", Attendance: "attendance", Attempt: "attempt", User: "worker",
         UserRole: "worker"}
_PENDING_KEY = "stats_rollup_pending"


def _changed(obj, names) -> list:
    """Old values of the attributes among `names` this flush changes (empty: nothing relevant changed)."""
    state = inspect(obj)
    changed = []
    for name in names:
        hist = state.attrs[name].history
        if hist.has_changes():
            changed.append((name, hist))
    return changed


def _touched(session: Session) -> tuple[set[int], list, set[str]]:
    """(ids of the workers known now whose figures this flush may change, objects whose worker id is
    known only after it, the kinds of fact it may change)."""
    ids: set[int] = set()
    later: list = []
    kinds: set[str] = set()
    sessions: set[int] = set()
    trainings: set[int] = set()
    exams: set[int] = set()
    courses: set[int] = set()

    def note(value):
        if value is not None:
            ids.add(value)

    def worker_of(obj):
        """The worker id of a new row: its user_id, or the id of the (persistent) account it is attached to."""
        if obj.user_id is not None:
            return obj.user_id
        user = obj.__dict__.get("user")
        return getattr(user, "id", None)

    for obj in session.new:
        kind = type(obj)
        if kind is Attempt and obj.status != "graded":
            continue  # an exam started: nothing counts until it is graded (an UPDATE, seen below)
        if kind in _RELEVANT and kind is not User:
            note(worker_of(obj))
            later.append(obj)
            kinds |= ALL_KINDS if _KIND[kind] == "worker" else {_KIND[kind]}
        elif kind is User:
            later.append(obj)
            kinds |= ALL_KINDS
    for obj in session.dirty:
        kind = type(obj)
        if kind in _RELEVANT:
            changes = _changed(obj, _RELEVANT[kind])
            if not changes:
                continue
            if kind is User:
                kinds |= {"worker"} if all(name in PROFILE_ONLY for name, _h in changes) else ALL_KINDS
                note(obj.id)
                continue
            kinds |= ALL_KINDS if _KIND[kind] == "worker" else {_KIND[kind]}
            for name, hist in changes:
                if name == "user_id":
                    for old in hist.deleted:
                        note(old)
            note(obj.user_id)
            later.append(obj)
        elif kind is TrainingSession and _changed(obj, ("starts_at", "training_id")):
            sessions.add(obj.id)
        elif kind is Training and _changed(obj, ("level",)):
            trainings.add(obj.id)
        elif kind is Exam and _changed(obj, ("kind",)):
            exams.add(obj.id)
    for obj in session.deleted:
        kind = type(obj)
        if kind in _RELEVANT:
            note(obj.id if kind is User else obj.user_id)
            kinds |= ALL_KINDS if _KIND[kind] == "worker" else {_KIND[kind]}
        elif kind is TrainingSession:
            sessions.add(obj.id)
        elif kind is Training:
            trainings.add(obj.id)
        elif kind is Exam:
            exams.add(obj.id)
        elif kind is Course:
            courses.add(obj.id)
    if not (trainings or sessions or exams or courses):
        return ids, later, kinds
    conn = session.connection()
    if trainings:
        sessions |= set(conn.execute(select(TrainingSession.id).where(TrainingSession.training_id.in_(trainings)))
                        .scalars())
    if sessions:
        kinds |= {"attendance", "credit"}
        ids |= set(conn.execute(select(Attendance.user_id).where(Attendance.session_id.in_(sessions))).scalars())
        ids |= set(conn.execute(select(Credit.user_id).where(Credit.source == "session",
                                                             Credit.source_id.in_(sessions))).scalars())
    if exams:
        kinds.add("attempt")
        ids |= set(conn.execute(select(Attempt.user_id).where(Attempt.exam_id.in_(exams))).scalars())
    if courses:
        kinds |= {"enrolment", "credit"}
        ids |= set(conn.execute(select(Enrollment.user_id).where(Enrollment.course_id.in_(courses))).scalars())
        ids |= set(conn.execute(select(Credit.user_id).where(Credit.source == "course",
                                                             Credit.source_id.in_(courses))).scalars())
    return ids, later, kinds


def _pending(session: Session) -> dict | None:
    return session.info.get(_PENDING_KEY)


def _before_flush(session: Session, _context, _instances) -> None:
    """Before the first change of a worker's facts of a kind in this transaction, take their figures
    of that kind (locking their account row on PostgreSQL)."""
    ids, later, kinds = _touched(session)
    if not ids and not later:
        return
    conn = session.connection()
    pending = _pending(session)
    if pending is None:
        target = read_target(conn)
        if target is None:  # never built (a database migrated with data, before `stats-rebuild-rollups`)
            return
        pending = session.info[_PENDING_KEY] = {"target": target, "ids": {k: set() for k in ALL_KINDS},
                                                "before": {}, "profile": {}, "later": []}
    new_ids = {k: ids - pending["ids"][k] for k in kinds}
    fresh = set().union(*new_ids.values()) if new_ids else set()
    if fresh and conn.dialect.name == "postgresql":
        conn.execute(select(User.id).where(User.id.in_(sorted(fresh))).order_by(User.id).with_for_update())
    for kind, kind_ids in new_ids.items():
        if kind_ids:
            _add(pending["before"], figures(conn, kind_ids, pending["target"], frozenset((kind,))))
            if kind == "worker":
                _add(pending["profile"], profile_figures(conn, kind_ids))
            pending["ids"][kind] |= kind_ids
    pending["later"].extend((obj, frozenset(kinds)) for obj in later)


def _after_flush(session: Session, _context) -> None:
    """Rows and accounts whose worker had no id before the flush: new, so nothing to take before."""
    pending = _pending(session)
    if pending is None or not pending["later"]:
        return
    for obj, kinds in pending["later"]:
        ident = obj.id if isinstance(obj, User) else obj.user_id
        if ident is not None:
            for kind in kinds:
                pending["ids"][kind].add(ident)
    pending["later"] = []


def settle(session: Session) -> None:
    """Flush, then bring the rollups of the workers this transaction changed up to their raw rows:
    their figures now minus their figures before the transaction first changed them. Runs before
    every commit (and a test may call it to read the rollups inside a transaction)."""
    session.flush()  # a commit's own flush comes after before_commit: the changes must be seen now
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is None:
        return
    conn = session.connection()
    after: dict[Key, Values] = {}
    for kind, ids in pending["ids"].items():
        if ids:
            _add(after, figures(conn, ids, pending["target"], frozenset((kind,))))
    apply(conn, _delta(pending["before"], after))
    if pending["ids"]["worker"]:
        apply_profile(conn, _delta(pending["profile"], profile_figures(conn, pending["ids"]["worker"])))
    if pending["ids"]["credit"]:
        worker_years(conn, pending["ids"]["credit"])


def _add(total: dict[K, V], part: dict[K, V]) -> None:
    for key, vals in part.items():
        into: typing.Any = total.setdefault(key, typing.cast(V, {}))
        for name, value in vals.items():
            into[name] = into.get(name, 0) + value


def _before_commit(session: Session) -> None:
    settle(session)


def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (settled) or rolled back: nothing is pending any more
        session.info.pop(_PENDING_KEY, None)


def install() -> None:
    """Listen to every session's flushes and commits (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _transaction_ended)


install()
