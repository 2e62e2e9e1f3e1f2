"""The message centre's tables: a user's messages, their choices per kind, their e-mail address and
calendar feed, and the reminders already sent (so the periodic work sends each once)."""
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import Model


class Message(Model):
    """One message in one user's inbox: its kind and params, rendered in the reader's language when shown
    (lms/messages/kinds.py). `send_key` names the send() it came from: one message per user and send, so a
    retried delivery writes nothing twice."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_inbox", "user_id", "read_at", "created_at"),
        UniqueConstraint("send_key", "user_id", name="uq_message_send_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(String(500))
    send_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class MessagePreference(Model):
    """A user's choice for one kind; no row: the kind's defaults (kinds.py)."""

    __tablename__ = "message_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageAccount(Model):
    """Per user: the address e-mail goes to, and the calendar feed's secret (only its SHA-256 is kept)."""

    __tablename__ = "message_account"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class ReminderSent(Model):
    """A reminder the periodic work has sent (kind, the thing it is about, the user): never twice."""

    __tablename__ = "message_reminder"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "user_id", name="uq_message_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
