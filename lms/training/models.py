"""培训班: tiered training classes, their sessions, registration and attendance."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model, db
from ..i18n import lazy_gettext as _l
from ..library import models as _library_models  # noqa: F401 (Training.trainers → Trainer)

TRAINING_STATUSES = ("draft", "open", "closed", "cancelled")
TRAINING_LEVELS = {"city": _l("City level"), "district": _l("District level"), "street": _l("Street level")}
PLACE_KINDS = {"base": _l("Training base"), "text": _l("Other place"), "online": _l("Online")}
REGISTRATION_STATUSES = {"registered": _l("Registered"), "waitlisted": _l("Waiting list"), "cancelled": _l("Cancelled")}
ATTENDANCE_STATUSES = {"present": _l("Present"), "late": _l("Late"), "excused": _l("Excused"), "absent": _l("Absent")}
# What a worker's pages say of a session: its attendance, or where it stands without one.
SESSION_STATES = {**ATTENDANCE_STATUSES, "in_progress": _l("Under way, not checked in"), "upcoming": _l("Not started")}
ATTENDANCE_METHODS = {"code": _l("Check-in code"), "qr": _l("QR code"), "roster": _l("Roster"), "auto": _l("Automatic")}

training_trainer = Table(
    "training_trainer",
    db.metadata,
    Column("training_id", ForeignKey("training.id", ondelete="CASCADE"), primary_key=True),
    Column("trainer_id", ForeignKey("trainer.id"), primary_key=True, index=True),
)


class Training(Model):
    __tablename__ = "training"
    __table_args__ = (
        one_of("level", TRAINING_LEVELS),
        one_of("status", TRAINING_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)  # the organiser
    audience_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    audience_cert_levels: Mapped[str] = mapped_column(String(100), default="")  # comma-separated; empty = all
    audience_role: Mapped[str | None] = mapped_column(String(16))  # None = any learner
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"))
    capacity: Mapped[int] = mapped_column(Integer)
    registration_deadline: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # Bumped by every registration change: the UPDATE takes the row lock that serialises them.
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org_unit = relationship("OrgUnit", foreign_keys=[org_unit_id])
    audience_unit = relationship("OrgUnit", foreign_keys=[audience_unit_id])
    course = relationship("Course")
    trainers = relationship("Trainer", secondary=training_trainer, order_by="Trainer.id", backref="trainings")
    sessions: Mapped[list["TrainingSession"]] = relationship(
        back_populates="training", order_by="TrainingSession.starts_at", cascade="all, delete-orphan"
    )

    @property
    def cert_levels(self) -> list[str]:
        return [c for c in (self.audience_cert_levels or "").split(",") if c]

    @property
    def total_hours(self) -> Decimal:
        return sum((s.credit_hours for s in self.sessions), Decimal("0"))


class TrainingSession(Model):
    __tablename__ = "training_session"
    __table_args__ = (one_of("place_kind", PLACE_KINDS),
                      CheckConstraint("ends_at > starts_at", name="times"))

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    place_kind: Mapped[str] = mapped_column(String(8), default="text")
    base_id: Mapped[int | None] = mapped_column(ForeignKey("training_base.id"), index=True)
    place_text: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    credit_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    checkin_secret: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # when unmarked registrants became absent

    training: Mapped[Training] = relationship(back_populates="sessions")
    base = relationship("TrainingBase", backref="sessions")


class Registration(Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("training_id", "user_id", name="uq_registration_training_user"),
        one_of("status", REGISTRATION_STATUSES),
        Index("ix_registration_training_status", "training_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="self")  # self / assigned
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # waiting-list order
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    training: Mapped[Training] = relationship()
    user = relationship("User")


class Attendance(Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_attendance_session_user"),
        one_of("status", ATTENDANCE_STATUSES),
        Index("ix_attendance_session_device", "session_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    device_id: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Copies of the session's start and the class's level: what the statistics filter and group
    # by, so that they read attendance alone (see stats/models.py). Never set by hand: the
    # listeners below write them on every insert through the ORM (over any value given) and
    # follow a rescheduled session or a class whose level changes. Code that inserts rows
    # without the ORM (bench/scale/training.py) writes them itself.
    # Nullable in the schema only because SQLite cannot add a NOT NULL column without rebuilding
    # the table, and dropping the old table would cascade-delete attendance_change rows.
    session_starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    training_level: Mapped[str | None] = mapped_column(String(16))

    session: Mapped[TrainingSession] = relationship()
    user = relationship("User")


@event.listens_for(Attendance, "before_insert")
def _copy_session_facts(_mapper, connection, target: Attendance) -> None:
    """A new record takes its session's start and its class's level, as they stand in the
    database (the flush writes a new or changed session before the records that refer to it)."""
    target.session_starts_at, target.training_level = connection.execute(
        select(TrainingSession.starts_at, Training.level).join(Training, Training.id == TrainingSession.training_id)
        .where(TrainingSession.id == target.session_id)).one()


@event.listens_for(TrainingSession, "after_update")
def _session_changed(_mapper, connection, target: TrainingSession) -> None:
    """A rescheduled session (or one moved to another class) takes its records along. Their
    updated_at moves too (the column's onupdate): what the API shows of them has changed."""
    changed = inspect(target).attrs
    if changed.starts_at.history.has_changes() or changed.training_id.history.has_changes():
        level = select(Training.level).where(Training.id == target.training_id).scalar_subquery()
        connection.execute(update(Attendance).where(Attendance.session_id == target.id)
                           .values(session_starts_at=target.starts_at, training_level=level))


@event.listens_for(Training, "after_update")
def _training_level_changed(_mapper, connection, target: Training) -> None:
    if inspect(target).attrs.level.history.has_changes():
        sessions = select(TrainingSession.id).where(TrainingSession.training_id == target.id)
        connection.execute(update(Attendance).where(Attendance.session_id.in_(sessions))
                           .values(training_level=target.level))


class AttendanceChange(Model):
    """The audit trail of every attendance record: who, when, old → new."""

    __tablename__ = "attendance_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("attendance.id", ondelete="CASCADE"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))

    changed_by = relationship("User")


class ProxyCheckinFlag(Model):
    """代签到: one device tried to check in a second worker to the same session."""

    __tablename__ = "proxy_checkin_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    first_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    attempted_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[TrainingSession] = relationship()
    first_user = relationship("User", foreign_keys=[first_user_id])
    attempted_user = relationship("User", foreign_keys=[attempted_user_id])
