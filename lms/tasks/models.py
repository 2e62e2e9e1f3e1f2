"""A Job: one piece of background work someone (or the clock) asked for, as the admin and the
requester see it. Huey carries the message; this row carries the truth (status, progress, error)."""
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model

STATUSES = ("queued", "running", "done", "failed")


class Job(Model):
    __tablename__ = "job"
    __table_args__ = (one_of("status", STATUSES), Index("ix_job_status_created", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Work the clock asks for once (a night's backup): the same key twice is the same job.
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    result_path: Mapped[str | None] = mapped_column(String(500))
    result_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User")

    @property
    def percent(self) -> int | None:
        if self.status == "done":
            return 100
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))
