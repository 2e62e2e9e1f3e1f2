"""Domain rules of training classes: plain functions that flush, never commit.

Times are naive UTC like every DateTime column; pages convert to Asia/Shanghai.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..auth.models import User, UserRole
from ..auth.scope import can_see_unit
from ..database import utcnow
from ..extensions import db
from ..learning.progress import credit
from ..orgs.models import OrgUnit
from ..util import utc_to_local
from .models import (Attendance, AttendanceChange, ProxyCheckinFlag, Registration, Training, TrainingSession)

CODE_PERIOD = 30  # seconds a check-in code lives
EPOCH = datetime(1970, 1, 1)
CREDITED = ("present", "late")


class TrainingError(ValueError):
    pass


# --- classes and sessions -----------------------------------------------------------------------

def check_organiser(viewer: User, level: str, organiser: OrgUnit, audience: OrgUnit) -> None:
    """A class's level is its organiser's level, and its audience lies inside the organiser's area."""
    if not can_see_unit(viewer, organiser):
        raise TrainingError(_("You cannot organise classes for %(unit)s.", unit=organiser.name))
    if organiser.level != level:
        raise TrainingError(_("A %(level)s class must be organised by a unit of that level; %(unit)s is not.",
                              level=_level_label(level), unit=organiser.name))
    if not organiser.contains(audience):
        raise TrainingError(_("The audience must be %(unit)s or a unit below it.", unit=organiser.name))


def _level_label(level: str) -> str:
    from .models import TRAINING_LEVELS

    return str(TRAINING_LEVELS.get(level, level))


def organiser_for(viewer: User) -> OrgUnit | None:
    """The unit an office user organises for: its own, when that unit's level can run classes."""
    unit = viewer.org_unit
    return unit if unit.level in ("city", "district", "street") else None


def new_session(training: Training, *, starts_at: datetime, ends_at: datetime, credit_hours: Decimal,
                place_kind: str = "text", base=None, place_text: str = "", online_url: str | None = None) -> TrainingSession:
    if ends_at <= starts_at:
        raise TrainingError(_("A session must end after it starts."))
    if not Decimal("0") < credit_hours <= Decimal("24"):
        raise TrainingError(_("Credit hours of a session must be between 0.1 and 24."))
    if place_kind == "base" and base is None:
        raise TrainingError(_("Choose the training base."))
    if place_kind == "online" and not online_url:
        raise TrainingError(_("Give the link of the online session."))
    if place_kind == "text" and not place_text.strip():
        raise TrainingError(_("Say where the session takes place."))
    session = TrainingSession(training=training, starts_at=starts_at, ends_at=ends_at, credit_hours=credit_hours,
                              place_kind=place_kind, base=base if place_kind == "base" else None,
                              place_text=place_text.strip(), online_url=online_url if place_kind == "online" else None,
                              checkin_secret=secrets.token_hex(32))
    db.session.add(session)
    db.session.flush()
    return session


def weekly_series(training: Training, first_start: datetime, duration: timedelta, weeks: int, **place) -> list[TrainingSession]:
    if not 1 <= weeks <= 52:
        raise TrainingError(_("A weekly series has between 1 and 52 sessions."))
    return [new_session(training, starts_at=first_start + timedelta(weeks=i), ends_at=first_start + timedelta(weeks=i) + duration,
                        **place) for i in range(weeks)]


# --- audience and registration --------------------------------------------------------------------

def audience_users(training: Training):
    """A select of the users this class is for."""
    stmt = (select(User).join(User.org_unit)
            .where(OrgUnit.path.startswith(training.audience_unit.path, autoescape=True), User.active.is_(True),
                   User.role_rows.any(UserRole.role == (training.audience_role or "learner"))))
    if training.cert_levels:
        stmt = stmt.where(User.cert_level.in_(training.cert_levels))
    return stmt


def in_audience(training: Training, user: User) -> bool:
    return (user.active and training.audience_unit.contains(user.org_unit)
            and user.has_role(training.audience_role or "learner")
            and (not training.cert_levels or user.cert_level in training.cert_levels))


def lock_training(training_id: int) -> None:
    """Serialise registration changes of one class: the UPDATE takes PostgreSQL's row lock and
    SQLite's write lock. Run it first in a transaction (SQLite cannot upgrade an older read)."""
    db.session.execute(update(Training).where(Training.id == training_id)
                       .values(lock_version=Training.lock_version + 1).execution_options(synchronize_session=False))


def _lock(training: Training) -> None:
    lock_training(training.id)


def seats_taken(training: Training) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.training_id == training.id, Registration.status == "registered"))


def _registration(training: Training, user: User) -> Registration | None:
    return db.session.scalar(select(Registration).where(Registration.training_id == training.id,
                                                        Registration.user_id == user.id))


def register(training: Training, user: User, now: datetime | None = None, source: str = "self") -> Registration:
    """Take a seat, or a place on the waiting list when the class is full."""
    now = now or utcnow()
    if training.status != "open":
        raise TrainingError(_("This class is not open for registration."))
    if source == "self" and now > training.registration_deadline:
        raise TrainingError(_("Registration closed on %(d)s.", d=_local(training.registration_deadline)))
    if source == "self" and not in_audience(training, user):
        raise TrainingError(_("This class is not meant for you: it is for %(unit)s.", unit=training.audience_unit.name))
    _lock(training)
    reg = _registration(training, user)
    if reg is not None and reg.status != "cancelled":
        return reg
    status = "registered" if seats_taken(training) < training.capacity else "waitlisted"
    if reg is None:
        reg = Registration(training_id=training.id, user_id=user.id, status=status, source=source, created_at=now)
        db.session.add(reg)
    else:
        reg.status, reg.source, reg.created_at = status, source, now
    db.session.flush()
    return reg


def cancel(training: Training, user: User) -> Registration | None:
    """Give up a seat; the first on the waiting list moves up. Returns whoever moved up."""
    _lock(training)
    reg = _registration(training, user)
    if reg is None or reg.status == "cancelled":
        raise TrainingError(_("You are not registered for this class."))
    had_seat = reg.status == "registered"
    reg.status = "cancelled"
    db.session.flush()
    if had_seat:
        return promote(training)
    return None


def promote(training: Training) -> Registration | None:
    if seats_taken(training) >= training.capacity:
        return None
    nxt = db.session.scalar(select(Registration).where(Registration.training_id == training.id,
                                                       Registration.status == "waitlisted")
                            .order_by(Registration.created_at, Registration.id).limit(1))
    if nxt is not None:
        nxt.status = "registered"
        db.session.flush()
    return nxt


def assign(training: Training, users: list[User], now: datetime | None = None) -> tuple[int, int]:
    """An office registers workers (outside the deadline). Returns (seated, waitlisted)."""
    seated = waiting = 0
    for user in users:
        reg = register(training, user, now, source="assigned")
        seated += reg.status == "registered"
        waiting += reg.status == "waitlisted"
    return seated, waiting


def _local(value: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "yyyy-MM-dd HH:mm")


# --- check-in -------------------------------------------------------------------------------------

def window(session: TrainingSession) -> tuple[datetime, datetime]:
    before = current_app.config["CHECKIN_OPENS_MINUTES_BEFORE"]
    return session.starts_at - timedelta(minutes=before), session.ends_at


def code_at(session: TrainingSession, when: datetime) -> str:
    """The 6-digit code of a session for the 30-second period holding `when`."""
    period = int((when - EPOCH).total_seconds() // CODE_PERIOD)
    digest = hmac.new(session.checkin_secret.encode(), f"{session.id}:{period}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


def seconds_left(when: datetime) -> int:
    elapsed = int((when - EPOCH).total_seconds()) % CODE_PERIOD
    return CODE_PERIOD - elapsed


@dataclass
class CheckinResult:
    attendance: Attendance
    status: str


def _open_sessions_with_code(code: str, now: datetime) -> list[TrainingSession]:
    before = timedelta(minutes=current_app.config["CHECKIN_OPENS_MINUTES_BEFORE"])
    candidates = db.session.scalars(select(TrainingSession).where(TrainingSession.ends_at >= now,
                                                                  TrainingSession.starts_at <= now + before))
    return [s for s in candidates if code_at(s, now) == code]


def check_in(session: TrainingSession, user: User, code: str, device_id: str, method: str = "code",
             now: datetime | None = None) -> CheckinResult:
    """A worker checks in with the code on the projector. Refusals raise TrainingError and change nothing,
    except a second worker on the same device, which is refused and flagged for the office."""
    now = now or utcnow()
    code = (code or "").strip()
    opens, closes = window(session)
    if now < opens:
        raise TrainingError(_("Check-in opens at %(t)s.", t=_local(opens)))
    if now > closes:
        raise TrainingError(_("Check-in for this session has closed."))
    if code != code_at(session, now):
        others = [s for s in _open_sessions_with_code(code, now) if s.id != session.id]
        if others:
            raise TrainingError(_("This code belongs to another session (%(title)s). Check the screen in your room.",
                                  title=others[0].training.title))
        raise TrainingError(_("The code is wrong or has expired: enter the code now on the screen."))
    training = session.training
    if not in_audience(training, user):
        raise TrainingError(_("This class is not meant for you, so you cannot check in."))
    reg = _registration(training, user)
    if reg is None or reg.status != "registered":
        raise TrainingError(_("You are not registered for this class."))
    existing = db.session.scalar(select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == user.id))
    if existing is not None and existing.status in CREDITED:
        raise TrainingError(_("You have already checked in (%(t)s).", t=_local(existing.checked_in_at or existing.updated_at)))
    first = db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                       Attendance.device_id == device_id,
                                                       Attendance.user_id != user.id).limit(1))
    if first is not None:
        db.session.add(ProxyCheckinFlag(session_id=session.id, device_id=device_id, first_user_id=first.user_id,
                                        attempted_user_id=user.id, created_at=now))
        db.session.flush()
        raise ProxyCheckinError(_("This phone has already checked in %(name)s to this session: each worker checks in "
                                  "on their own phone. The training office has been told.", name=first.user.name))
    late_after = timedelta(minutes=current_app.config["CHECKIN_LATE_AFTER_MINUTES"])
    status = "present" if now <= session.starts_at + late_after else "late"
    attendance = set_status(session, user, status, method=method, by=None, now=now, existing=existing)
    attendance.device_id, attendance.checked_in_at = device_id, now
    db.session.flush()
    return CheckinResult(attendance, status)


class ProxyCheckinError(TrainingError):
    """Refused as 代签到; the flag is already added, so the caller commits."""


def set_status(session: TrainingSession, user: User, status: str, *, method: str, by: User | None,
               now: datetime | None = None, existing: Attendance | None = None) -> Attendance:
    """Create or change one attendance record, with its audit row and its 学时."""
    now = now or utcnow()
    attendance = existing or db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                                        Attendance.user_id == user.id))
    old = attendance.status if attendance else None
    if attendance is None:
        attendance = Attendance(session_id=session.id, user_id=user.id, status=status, method=method)
        db.session.add(attendance)
    elif old == status:
        return attendance
    attendance.status, attendance.method = status, method
    db.session.flush()
    db.session.add(AttendanceChange(attendance_id=attendance.id, changed_by_id=by.id if by else None, changed_at=now,
                                    old_status=old, new_status=status, method=method))
    hours = session.credit_hours if status in CREDITED else Decimal("0")
    if status in CREDITED or old in CREDITED:
        credit(user.id, "session", session.id, hours, utc_to_local(session.starts_at).date())  # the local day
    return attendance


def close_session(session: TrainingSession, now: datetime | None = None) -> int:
    """After a session ends, registered workers with no record become absent. Returns how many."""
    now = now or utcnow()
    if session.closed_at is not None or session.ends_at > now:
        return 0
    marked = select(Attendance.user_id).where(Attendance.session_id == session.id)
    users = db.session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.training_id == session.training_id, Registration.status == "registered",
        User.id.not_in(marked))).all()
    for user in users:
        set_status(session, user, "absent", method="auto", by=None, now=now)
    session.closed_at = now
    db.session.flush()
    return len(users)


def close_ended_sessions(now: datetime | None = None, training: Training | None = None) -> int:
    now = now or utcnow()
    stmt = select(TrainingSession).where(TrainingSession.closed_at.is_(None), TrainingSession.ends_at <= now)
    if training is not None:
        stmt = stmt.where(TrainingSession.training_id == training.id)
    return sum(close_session(s, now) for s in db.session.scalars(stmt).all())


# --- figures ----------------------------------------------------------------------------------------

def attendance_by_user(training: Training, now: datetime | None = None) -> dict[int, dict[int, Attendance]]:
    """user → session → attendance. Registered workers with no record for a session that has ended
    show as absent (unsaved: the sweeper or the next roster change writes them)."""
    rows = db.session.scalars(select(Attendance).join(TrainingSession).where(TrainingSession.training_id == training.id))
    out: dict[int, dict[int, Attendance]] = {}
    for a in rows:
        out.setdefault(a.user_id, {})[a.session_id] = a
    now = now or utcnow()
    ended = [s for s in training.sessions if s.ends_at <= now and s.closed_at is None]
    if ended:
        registered = db.session.scalars(select(Registration.user_id).where(
            Registration.training_id == training.id, Registration.status == "registered")).all()
        for session in ended:
            for user_id in registered:
                if session.id not in out.get(user_id, {}):
                    out.setdefault(user_id, {})[session.id] = Attendance(session_id=session.id, user_id=user_id,
                                                                         status="absent", method="auto")
    return out


def attendance_rate(records: dict[int, Attendance], held_session_ids: list[int]) -> float | None:
    """Share of the held sessions attended (present or late); None before any session is held."""
    if not held_session_ids:
        return None
    attended = sum(1 for sid in held_session_ids if sid in records and records[sid].status in CREDITED)
    return attended / len(held_session_ids)


def trainings_for_trainer(trainer, include_drafts: bool) -> list[Training]:
    """The classes a trainer of the 师资库 teaches, newest first."""
    stmt = select(Training).where(Training.trainers.any(id=trainer.id))
    if not include_drafts:
        stmt = stmt.where(Training.status != "draft")
    return db.session.scalars(stmt.order_by(Training.registration_deadline.desc())).all()


def trainings_at_base(base, include_drafts: bool) -> list[Training]:
    """The classes with at least one session held at a training base, newest first."""
    stmt = select(Training).where(Training.sessions.any(TrainingSession.base_id == base.id))
    if not include_drafts:
        stmt = stmt.where(Training.status != "draft")
    return db.session.scalars(stmt.order_by(Training.registration_deadline.desc())).all()
