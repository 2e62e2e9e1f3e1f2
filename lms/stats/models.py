"""Statistics: the indexes the aggregates need, and yearly workforce snapshots.

The indexes sit on other features' tables but exist for the statistics' GROUP BY queries,
so they are declared here (an Index built from Column objects attaches itself to their table)
and created by the statistics migration.
"""
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..auth.models import User
from ..database import one_of, utcnow
from ..exams.models import Attempt
from ..extensions import Model
from ..learning.models import Credit, Enrollment
from ..training.models import Attendance

# The statistics drive every aggregate from the workers (by unit) into each fact table through
# an index that leads with user_id and covers what the aggregate reads, so the rows of a year
# are read from the index alone, grouped by unit without a sort (see queries.Population).
STATS_INDEXES = (
    Index("ix_stats_user_unit", User.org_unit_id, User.active, User.id),
    Index("ix_stats_credit_user", Credit.user_id, Credit.earned_on, Credit.source, Credit.source_id, Credit.hours),
    # attendance carries its session's start and its class's level (training/models.py), so the
    # period and the level are read here without a session lookup per record; session_id last
    # serves the class filter
    Index("ix_stats_attendance_user", Attendance.user_id, Attendance.session_starts_at, Attendance.training_level,
          Attendance.status, Attendance.session_id),
    Index("ix_stats_enrollment_user", Enrollment.user_id, Enrollment.enrolled_at, Enrollment.completed_at,
          Enrollment.course_id),
    Index("ix_stats_attempt_user", Attempt.user_id, Attempt.status, Attempt.graded_at, Attempt.exam_id, Attempt.score,
          Attempt.passed),
)

DIMENSIONS = ("age", "gender", "education", "political_status", "cert_level", "years_in_work")


class WorkforceSnapshot(Model):
    """The workforce profile of one org unit's subtree as it stood when recorded (one row per bucket).

    Recorded for the current year once a day by the sweeper (`profile.keep_snapshot_current`), so the
    last day of a year leaves that year's rows; `flask --app wsgi stats-snapshot --year N` records one by
    hand. The year-on-year columns of the profile page compare with these rows and with nothing else.
    """

    __tablename__ = "workforce_snapshot"
    __table_args__ = (
        UniqueConstraint("org_unit_id", "year", "dimension", "bucket", name="uq_workforce_snapshot_unit_year_bucket"),
        one_of("dimension", DIMENSIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# The columns of a rollup row (see rollups.py for what each counts and which rows carry it).
ROLLUP_COUNTS = (
    # monthly rows (month = YYYYMM of the fact's local month)
    "enrolled", "completed_in_year", "completed_ever", "completions",
    "records_city", "records_district", "records_street", "records_other",
    "attended_city", "attended_district", "attended_street",
    "attempts", "passed",
    # yearly rows (month = -YYYY)
    "takers", "ce_reached", "ce_reached_certified",
    # the row of "now" (month = 0)
    "workers", "cert_none", "cert_assistant", "cert_intermediate", "cert_senior", "takers_ever",
)
ROLLUP_SUMS = (
    "hours_course", "hours_city", "hours_district", "hours_street", "hours_unknown", "hours_other",  # monthly
    "score_sum",  # monthly
    "ce_hours", "ce_hours_certified",  # yearly
)
ROLLUP_COLUMNS = ROLLUP_COUNTS + ROLLUP_SUMS


class StatsRollup(Model):
    """The statistics' figures of the active community workers of one org unit (their current unit)
    for one period: month = YYYYMM (a local calendar month), -YYYY (a calendar year: figures that
    count distinct workers) or 0 (now / ever). Kept by rollups.py in the transaction that changes
    the facts; `flask --app wsgi stats rebuild-rollups` rebuilds the table from the raw rows."""

    __tablename__ = "stats_rollup"

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)

    enrolled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed_in_year: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed_ever: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    records_city: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    records_district: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    records_street: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    records_other: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attended_city: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attended_district: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attended_street: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    passed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    takers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ce_reached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ce_reached_certified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    workers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cert_none: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cert_assistant: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cert_intermediate: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cert_senior: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    takers_ever: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hours_course: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    hours_city: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    hours_district: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    hours_street: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    hours_unknown: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    hours_other: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    score_sum: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    ce_hours: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")
    ce_hours_certified: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0, server_default="0")


class StatsWorkerYear(Model):
    """Each counted worker's 学时 of a calendar year (the sum of their ledger rows dated in it), with what
    the continuing-education list sorts and filters by: the path of the worker's unit, their user name and
    certificate level. Kept with the rollups (rollups.py) for the active community workers only: a row for
    every year they have 学时 in and, 0 hours included, for every year of the target row's list range
    (`list_from`..`list_to`), so that a year of that range lists its workers straight from the index
    ix_stats_worker_year_list, in the list's order (hours, unit path, user name), without a sort."""

    __tablename__ = "stats_worker_year"
    __table_args__ = (
        Index("ix_stats_worker_year_list", "year", "hours", "unit_path", "username", "cert_level", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    unit_path: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(64))
    cert_level: Mapped[str] = mapped_column(String(16))


class StatsProfileRollup(Model):
    """The workforce profile "now": how many active community workers of one org unit (their own unit,
    not the subtree) have each recorded value of one dimension. Kept by rollups.py with the other rollups.

    `value` is what the account records, not a band: the birth year for "age" (so a profile of any year
    bands the ages as in that year when it reads them), the years of service as entered for
    "years_in_work" (a number that does not move with time), the code for the others; "unknown" for an
    empty field. Rows that fall to 0 stay (a few per unit and dimension)."""

    __tablename__ = "stats_profile_rollup"
    __table_args__ = (one_of("dimension", DIMENSIONS),)

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StatsRollupTarget(Model):
    """The annual 学时 target the yearly rows' ce_reached columns were counted against (one row)."""

    __tablename__ = "stats_rollup_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    # the years for which stats_worker_year holds a row for every counted worker (None: none yet)
    list_from: Mapped[int | None] = mapped_column(Integer)
    list_to: Mapped[int | None] = mapped_column(Integer)


class WhitePaper(Model):
    """A generated annual white paper (whitepaper.py) of a unit's subtree for a year: its figures (`content`,
    plain JSON that the page renders in the reader's language) and its PDF, with the version of the data it
    was made from (`version`: a fingerprint of the figures that mark it stale when they change)."""

    __tablename__ = "white_paper"
    __table_args__ = (UniqueConstraint("org_unit_id", "year", name="uq_white_paper_unit_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
