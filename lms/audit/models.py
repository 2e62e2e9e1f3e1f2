from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import Model


class AuditEntry(Model):
    """Who changed what, when, old → new: one row per created, changed or deleted record."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"), Index("ix_audit_entry_entity", "entity", "entity_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(8))            # create / update / delete
    entity: Mapped[str] = mapped_column(String(40))           # table name
    entity_id: Mapped[str] = mapped_column(String(64))
    # The org path the change belongs to (the changed person's unit, else the actor's): the scope filter.
    org_path: Mapped[str] = mapped_column(String(255), default="/", index=True)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field → [old, new]
    request_id: Mapped[str | None] = mapped_column(String(32))

    actor = relationship("User", foreign_keys=[actor_id])
