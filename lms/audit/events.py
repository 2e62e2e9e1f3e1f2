"""The audit trail: every change an office or admin makes is written beside it in the same
transaction (SQLAlchemy's before_flush), so a change and its audit row commit or roll back together."""
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .models import AuditEntry

# Tables whose rows are bookkeeping, not decisions: never audited.
SKIP = {"audit_entry", "credit", "lesson_progress", "attempt", "certificate", "upload", "attendance_change",
        "proxy_checkin_flag", "login_throttle", "api_token", "alembic_version", "job"}
SECRET = {"password_hash", "session_nonce", "checkin_secret", "token_hash"}
MAX_TEXT = 500


def _actor():
    if not has_request_context():
        return None
    from flask_login import current_user

    if current_user and current_user.is_authenticated and current_user.has_role("office", "admin"):
        return current_user
    return None


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    if isinstance(value, (int, float, bool, str, type(None), list, dict)):
        return value
    return str(value)


def _columns(obj):
    return [c.key for c in inspect(obj).mapper.column_attrs]


def _org_path(obj, actor) -> str:
    """The changed person's or place's unit, else the actor's: what scopes the entry."""
    if obj.__tablename__ == "org_unit":
        return obj.path or "/"
    unit = getattr(obj, "org_unit", None)
    if unit is None:
        unit = getattr(getattr(obj, "user", None), "org_unit", None)
    return getattr(unit, "path", None) or actor.org_unit.path


def _entry(session, actor, obj, action: str, changes: dict) -> None:
    table = obj.__tablename__
    ident = inspect(obj).identity
    session.add(
        AuditEntry(
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            entity=table,
            entity_id=",".join(str(i) for i in ident) if ident else "",
            org_path=_org_path(obj, actor),
            changes=changes,
            request_id=getattr(g, "request_id", None) if has_request_context() else None,
        )
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    """Runs once the rows are written (new rows have their ids, history is still there);
    the audit rows it adds are flushed in the same commit."""
    actor = _actor()
    if actor is None:
        return
    for obj in list(session.new):
        if getattr(obj, "__tablename__", None) in SKIP:
            continue
        _entry(session, actor, obj, "create", {k: [None, "***" if k in SECRET else _plain(getattr(obj, k))]
                                               for k in _columns(obj) if getattr(obj, k) is not None})
    for obj in list(session.dirty):
        if getattr(obj, "__tablename__", None) in SKIP:
            continue
        state = inspect(obj)
        changes = {}
        for key in _columns(obj):
            hist = state.attrs[key].history
            if hist.added and hist.deleted and hist.deleted[0] != hist.added[0]:
                changes[key] = ["***", "***"] if key in SECRET else [_plain(hist.deleted[0]), _plain(hist.added[0])]
        if changes:
            _entry(session, actor, obj, "update", changes)
    for obj in list(session.deleted):
        if getattr(obj, "__tablename__", None) in SKIP:
            continue
        _entry(session, actor, obj, "delete", {k: ["***" if k in SECRET else _plain(getattr(obj, k)), None]
                                               for k in _columns(obj) if getattr(obj, k) is not None})
