"""Statistics: the indexes the aggregates need, and yearly workforce snapshots.

The indexes sit on other features' tables but exist for the statistics' GROUP BY queries,
so they are declared here (an Index built from Column objects attaches itself to their table)
and created by the statistics migration.
"""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
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
