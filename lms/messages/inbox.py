"""A user's inbox: the list, the unread count (read with the account on every page), marking read."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update

from ..database import utcnow
from ..extensions import db
from .models import Message

# The menu shows at most this many unread ("99+"): the count never walks a long backlog.
UNREAD_SHOWN = 99


def unread_count_expression(user_id: Any) -> ColumnElement[int]:
    """The unread messages of `user_id` (a column or a bound parameter), counted up to UNREAD_SHOWN + 1 on
    the inbox index: loaded with the session's account (lms/auth/models.py), so a page asks no more."""
    unread = (select(Message.id).where(Message.user_id == user_id, Message.read_at.is_(None))
              .correlate_except(Message).limit(UNREAD_SHOWN + 1).subquery())
    return select(func.count()).select_from(unread).scalar_subquery()


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(unread_count_expression(user_id))) or 0


def inbox(user_id: int) -> Select[tuple[Message]]:
    """Newest first."""
    return select(Message).where(Message.user_id == user_id).order_by(Message.created_at.desc(), Message.id.desc())


def mark_read(message: Message) -> None:
    if message.read_at is None:
        message.read_at = utcnow()
        db.session.flush()


def mark_all_read(user_id: int) -> int:
    """Every unread message of the user read now; how many."""
    result = db.session.execute(update(Message).where(Message.user_id == user_id, Message.read_at.is_(None))
                                .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult


def unread_of(user: Any) -> int:
    """The menu's unread count: the one loaded with the session's account, else counted now."""
    count = getattr(user, "unread_messages", None)
    if count is None:
        count = unread_count(user.id)
    return int(count)
