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
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..auth.models import User, UserRole
from ..auth.scope import can_see_unit, in_subtree
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..learning.progress import credit
from ..orgs.models import OrgUnit
from ..util import utc_to_local
from .models import Attendance, AttendanceChange, ProxyCheckinFlag, Registration, Training, TrainingSession

CODE_PERIOD = 30  # seconds a check-in code lives
EPOCH = datetime(1970, 1, 1)
CREDITED = ("present", "late")


class TrainingError(DomainError):
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


def new_session(
    training: Training,
    *,
    starts_at: datetime,
    ends_at: datetime,
    credit_hours: Decimal,
    place_kind: str = "text",
    base=None,
    place_text: str = "",
    online_url: str | None = None,
) -> TrainingSession:
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


def delete_session(session: TrainingSession) -> None:
    """Delete a session, never one that already has attendance records (they are 学时 evidence)."""
    if db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == session.id)):
        raise TrainingError(_("This session already has attendance records and cannot be deleted."))
    db.session.delete(session)
    db.session.flush()


def weekly_series(
    training: Training, first_start: datetime, duration: timedelta, weeks: int, **place
) -> list[TrainingSession]:
    if not 1 <= weeks <= 52:
        raise TrainingError(_("A weekly series has between 1 and 52 sessions."))
    return [
        new_session(
            training,
            starts_at=first_start + timedelta(weeks=i),
            ends_at=first_start + timedelta(weeks=i) + duration,
            **place,
        )
        for i in range(weeks)
    ]


# --- audience and registration --------------------------------------------------------------------

def audience_users(training: Training):
    """A select of the users this class is for."""
    stmt = (select(User).join(User.org_unit)
            .where(in_subtree(OrgUnit.path, training.audience_unit), User.active.is_(True),
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


def registrations(training: Training, status: str | None = None) -> list[Registration]:
    """The class's registrations (only those of `status` when given), in seat order: by status, then
    first come first served; each with its worker and the worker's unit, loaded in the same statement."""
    stmt = select(Registration).where(Registration.training_id == training.id).options(joinedload(Registration.user))
    if status is not None:
        stmt = stmt.where(Registration.status == status)
    return list(db.session.scalars(stmt.order_by(Registration.status, Registration.created_at, Registration.id)))


def proxy_flags(*where, limit: int | None = None) -> list[ProxyCheckinFlag]:
    """代签到 flags meeting `where` (on the flag, its session or its class), newest first, each with its
    session, class and both workers loaded in the same statement."""
    stmt = (select(ProxyCheckinFlag).join(ProxyCheckinFlag.session).join(TrainingSession.training).where(*where)
            .options(contains_eager(ProxyCheckinFlag.session).contains_eager(TrainingSession.training),
                     joinedload(ProxyCheckinFlag.first_user), joinedload(ProxyCheckinFlag.attempted_user))
            .order_by(ProxyCheckinFlag.created_at.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())


def seats_taken(training: Training) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.training_id == training.id, Registration.status == "registered")) or 0



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
    if status == "registered" and source == "self":  # an office's assignment tells its workers at once (assign)
        from ..messages import events as message_events

        message_events.registration(training, [user.id])
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
        from ..messages import events as message_events

        message_events.registration(training, [nxt.user_id], promoted=True)
    return nxt


def assignees(training: Training, unit: OrgUnit | None, usernames: str | None) -> tuple[list[User], list[str]]:
    """The workers an office names for a class: the audience within `unit` (if given) and the
    accounts whose usernames are listed (whitespace-separated), each of them in the audience.
    Returns (users, problems); the problems are sentences for the office to read."""
    users: list[User] = []
    problems: list[str] = []
    if unit is not None:
        users += db.session.scalars(audience_users(training).where(in_subtree(OrgUnit.path, unit))).all()
    names = [n.strip() for n in (usernames or "").split() if n.strip()]
    found = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))} if names else {}
    for name in names:
        user = found.get(name)
        if user is None:
            problems.append(_("No account has the username %(u)s.", u=name))
        elif not in_audience(training, user):
            problems.append(_("%(name)s (%(u)s) is not in this class's audience.", name=user.name, u=name))
        else:
            users.append(user)
    return users, problems


def assign(training: Training, users: list[User], now: datetime | None = None) -> tuple[int, int]:
    """An office registers workers (outside the deadline). Returns (seated, waitlisted)."""
    now = now or utcnow()
    seated = waiting = 0
    told: list[int] = []
    for user in users:
        reg = register(training, user, now, source="assigned")
        seated += reg.status == "registered"
        waiting += reg.status == "waitlisted"
        if reg.status == "registered" and reg.created_at == now:  # seated by this assignment, not before
            told.append(user.id)
    from ..messages import events as message_events

    message_events.registration(training, told)  # one send (one task) for the whole list
    return seated, waiting


def _local(value: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "yyyy-MM-dd HH:mm")


# --- check-in -------------------------------------------------------------------------------------
#
# The projector shows a 6-digit code that changes every CODE_PERIOD seconds (an HMAC of the session's
# secret and the period, as TOTP). A typed code is judged by the server's clock at the request: the
# current period's code, or the previous period's within CHECKIN_CODE_GRACE_SECONDS of the change.
# A scanned QR code is judged at the scan: the scan becomes a signed ticket for that device (the
# session, the device cookie, the time), redeemable within CHECKIN_TICKET_MINUTES, e.g. after logging in.

def window(session: TrainingSession) -> tuple[datetime, datetime]:
    before = current_app.config["CHECKIN_OPENS_MINUTES_BEFORE"]
    return session.starts_at - timedelta(minutes=before), session.ends_at


def _period(when: datetime) -> int:
    return int((when - EPOCH).total_seconds() // CODE_PERIOD)


def code_at(session: TrainingSession, when: datetime) -> str:
    """The 6-digit code of a session for the 30-second period holding `when`."""
    digest = hmac.new(
        session.checkin_secret.encode(), f"{session.id}:{_period(when)}".encode(), hashlib.sha256
    ).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


def seconds_left(when: datetime) -> int:
    elapsed = int((when - EPOCH).total_seconds()) % CODE_PERIOD
    return CODE_PERIOD - elapsed


def code_is_valid(session: TrainingSession, code: str, now: datetime) -> bool:
    """The code of the period holding `now`, or the previous period's while `now` is within the grace
    after the change."""
    if hmac.compare_digest(code, code_at(session, now)):
        return True
    changed_at = EPOCH + timedelta(seconds=_period(now) * CODE_PERIOD)
    grace = timedelta(seconds=current_app.config["CHECKIN_CODE_GRACE_SECONDS"])
    return now - changed_at <= grace and hmac.compare_digest(
        code, code_at(session, now - timedelta(seconds=CODE_PERIOD))
    )


RECENT_PERIODS = 20  # an older code of the last ten minutes is "changed", not "wrong"


def _was_code(session: TrainingSession, code: str, now: datetime) -> bool:
    return any(hmac.compare_digest(code, code_at(session, now - timedelta(seconds=CODE_PERIOD * n)))
               for n in range(1, RECENT_PERIODS + 1))


@dataclass
class CheckinResult:
    attendance: Attendance
    status: str
    session: TrainingSession
    already: bool = False  # checked in before: nothing changed


def _open_sessions_with_code(code: str, now: datetime) -> list[TrainingSession]:
    before = timedelta(minutes=current_app.config["CHECKIN_OPENS_MINUTES_BEFORE"])
    candidates = db.session.scalars(select(TrainingSession).where(TrainingSession.ends_at >= now,
                                                                  TrainingSession.starts_at <= now + before))
    return [s for s in candidates if code_is_valid(s, code, now)]


def verify_code(session: TrainingSession, code: str, now: datetime) -> None:
    """Raise TrainingError, saying what is wrong, unless `code` checks in to `session` at `now`."""
    opens, closes = window(session)
    if now < opens:
        raise TrainingError(_("Check-in opens at %(t)s.", t=_local(opens)))
    if now > closes:
        raise TrainingError(_("Check-in for this session has closed."))
    if code_is_valid(session, code, now):
        return
    if _was_code(session, code, now):
        raise TrainingError(_("The check-in code has changed: enter the new code shown on the screen."))
    others = [s for s in _open_sessions_with_code(code, now) if s.id != session.id]
    if others:
        raise TrainingError(_("This code belongs to another session (%(title)s). Check the screen in your room.",
                              title=others[0].training.title))
    raise TrainingError(_("The code is wrong: enter the code now on the screen."))


def mask_name(name: str) -> str:
    """A name as a stranger may see it: the first character, the rest starred (张三丰 → 张**)."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1)


def check_in(session: TrainingSession, user: User, code: str, device_id: str, method: str = "code",
             now: datetime | None = None) -> CheckinResult:
    """A worker checks in with the code on the projector, judged by the server's clock now."""
    now = now or utcnow()
    verify_code(session, (code or "").strip(), now)
    return _record_check_in(session, user, device_id, method, at=now, now=now)


def _record_check_in(session: TrainingSession, user: User, device_id: str, method: str, *, at: datetime,
                     now: datetime) -> CheckinResult:
    """Record a check-in made at `at` (the typed code's request or the QR scan). Refusals raise
    TrainingError and change nothing, except a second worker on the same device, which is refused and
    flagged for the office. Checking in again changes nothing."""
    training = session.training
    if not in_audience(training, user):
        raise TrainingError(_("This class is not meant for you, so you cannot check in."))
    reg = _registration(training, user)
    if reg is None or reg.status != "registered":
        raise TrainingError(_("You are not registered for this class."))
    existing = db.session.scalar(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == user.id)
    )
    if existing is not None and existing.status in CREDITED:
        return CheckinResult(existing, existing.status, session, already=True)
    first = db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                       Attendance.device_id == device_id,
                                                       Attendance.user_id != user.id).limit(1))
    if first is not None:
        db.session.add(ProxyCheckinFlag(session_id=session.id, device_id=device_id, first_user_id=first.user_id,
                                        attempted_user_id=user.id, created_at=now))
        db.session.flush()
        raise ProxyCheckinError(_("This phone has already checked in another worker (%(name)s) to this session: each "
                                  "worker checks in on their own phone. The training office has been told.",
                                  name=mask_name(first.user.name)))
    late_after = timedelta(minutes=current_app.config["CHECKIN_LATE_AFTER_MINUTES"])
    status = "present" if at <= session.starts_at + late_after else "late"
    attendance = set_status(session, user, status, method=method, by=None, now=now, existing=existing)
    attendance.device_id, attendance.checked_in_at = device_id, at
    db.session.flush()
    return CheckinResult(attendance, status, session)


class ProxyCheckinError(TrainingError):
    """Refused as 代签到; the flag is already flushed and stays (the request commits it)."""

    keeps_flushed = True


# --- check-in tickets: a QR scan, redeemable for a few minutes on the device that scanned ----------

_TICKET_SALT = "lms.training.checkin-ticket"


def _tickets() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_TICKET_SALT)


@dataclass
class Ticket:
    session_id: int
    device_id: str
    scanned_at: datetime


def scan(session: TrainingSession, code: str, device_id: str, now: datetime | None = None) -> str:
    """A QR scan on a device: the code is checked now, and the scan becomes a signed ticket binding
    the session, the device and the time of the scan. Nothing is written."""
    now = now or utcnow()
    verify_code(session, (code or "").strip(), now)
    return _tickets().dumps({"s": session.id, "d": device_id, "t": now.isoformat()})


def read_ticket(token: str, device_id: str, now: datetime | None = None) -> Ticket:
    """The ticket in `token`, if it was signed here, for this device, and is still fresh."""
    now = now or utcnow()
    try:
        data = _tickets().loads(token or "")
        ticket = Ticket(int(data["s"]), str(data["d"]), datetime.fromisoformat(data["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TrainingError(_("This check-in scan is not valid: scan the QR code on the screen again.")) from None
    if not hmac.compare_digest(ticket.device_id, device_id):
        raise TrainingError(_("This scan was made on another phone: scan the QR code on the screen with this phone."))
    life = timedelta(minutes=current_app.config["CHECKIN_TICKET_MINUTES"])
    if now > ticket.scanned_at + life:
        raise TrainingError(
            _(
                "Your scan at %(t)s was more than %(n)d minutes ago: scan the QR code on the screen again.",
                t=_local(ticket.scanned_at),
                n=current_app.config["CHECKIN_TICKET_MINUTES"],
            )
        )
    return ticket


def redeem_ticket(token: str, user: User, device_id: str, now: datetime | None = None) -> CheckinResult:
    """Check in the logged-in worker with a scan of this device: present or late as at the scan."""
    now = now or utcnow()
    ticket = read_ticket(token, device_id, now)
    session = db.session.get(TrainingSession, ticket.session_id)
    if session is None:
        raise TrainingError(_("No such session: scan the code on the screen again."))
    return _record_check_in(session, user, device_id, "qr", at=ticket.scanned_at, now=now)


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
    rows = db.session.scalars(
        select(Attendance).join(TrainingSession).where(TrainingSession.training_id == training.id)
    )
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


def ended_session_ids(training: Training, now: datetime | None = None) -> list[int]:
    """The sessions an attendance rate counts: those that have ended. A session under way or still to
    come never lowers a rate (a worker may yet check in)."""
    now = now or utcnow()
    return [s.id for s in training.sessions if s.ends_at <= now]


def attendance_rate(records: dict[int, Attendance], held_session_ids: list[int]) -> float | None:
    """Share of the held sessions attended (present or late); None before any session is held."""
    if not held_session_ids:
        return None
    attended = sum(1 for sid in held_session_ids if sid in records and records[sid].status in CREDITED)
    return attended / len(held_session_ids)


@dataclass
class AttendanceSummary:
    records: dict[int, dict[int, Attendance]]  # user → session → attendance
    rates: dict[int, float | None]  # registered user → rate over ended sessions
    overall: float | None
    below: list[Registration]  # registered workers under the alert rate


def attendance_summary(training: Training, regs: list[Registration], now: datetime | None = None) -> AttendanceSummary:
    """Each registered worker's attendance rate over the sessions that have ended, and who falls
    below ATTENDANCE_ALERT_RATE."""
    now = now or utcnow()
    records = attendance_by_user(training, now)
    held = ended_session_ids(training, now)
    registered = [r for r in regs if r.status == "registered"]
    rates = {r.user_id: attendance_rate(records.get(r.user_id, {}), held) for r in registered}
    threshold = current_app.config["ATTENDANCE_ALERT_RATE"]
    below = [r for r in registered if rates[r.user_id] is not None and rates[r.user_id] < threshold]
    known = [v for v in rates.values() if v is not None]
    return AttendanceSummary(records, rates, sum(known) / len(known) if known else None, below)


def session_state(session: TrainingSession, attendance: Attendance | None, now: datetime) -> str:
    """What a worker's page says of one session: the attendance recorded, else absent once it has ended,
    under way ("in_progress", not checked in yet) or upcoming."""
    if attendance is not None:
        return attendance.status
    if session.ends_at <= now:
        return "absent"
    return "in_progress" if session.starts_at <= now else "upcoming"


@dataclass
class MySession:
    session: TrainingSession
    state: str
    attendance: Attendance | None


def my_sessions(user: User, now: datetime | None = None) -> list[MySession]:
    """A worker's sessions, latest first: every session of the classes they hold a seat in, and any
    other session they have a record of."""
    now = now or utcnow()
    records = {a.session_id: a for a in db.session.scalars(select(Attendance).where(Attendance.user_id == user.id))}
    seated = select(Registration.training_id).where(
        Registration.user_id == user.id, Registration.status == "registered"
    )
    mine = or_(TrainingSession.training_id.in_(seated), TrainingSession.id.in_(list(records)))


    sessions = db.session.scalars(select(TrainingSession).where(mine)
        .options(joinedload(TrainingSession.training), joinedload(TrainingSession.base))
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id)).all()
    return [MySession(s, session_state(s, records.get(s.id), now), records.get(s.id)) for s in sessions]


# What a list of classes shows of each (organiser, first session): loaded with the list, not per row.
_LISTED = (joinedload(Training.org_unit), selectinload(Training.sessions))


def trainings_for_trainer(trainer, include_drafts: bool) -> list[Training]:
    """The classes a trainer of the 师资库 teaches, newest first."""
    stmt = select(Training).where(Training.trainers.any(id=trainer.id))
    if not include_drafts:
        stmt = stmt.where(Training.status != "draft")
    return list(db.session.scalars(stmt.options(*_LISTED).order_by(Training.registration_deadline.desc())))


def trainings_at_base(base, include_drafts: bool) -> list[Training]:
    """The classes with at least one session held at a training base, newest first."""
    stmt = select(Training).where(Training.sessions.any(TrainingSession.base_id == base.id))
    if not include_drafts:
        stmt = stmt.where(Training.status != "draft")
    return list(db.session.scalars(stmt.options(*_LISTED).order_by(Training.registration_deadline.desc())))
