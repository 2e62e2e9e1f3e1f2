"""请教一下: a worker's question, its "我也想问" votes and its attachments."""
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model
from ..i18n import lazy_gettext as _l
from ..uploads import models as _upload_models  # noqa: F401 (AskQuestion.attachments → Upload)

STATUSES = {
    "open": _l("New question"),           # waiting for the office to route it
    "routed": _l("Waiting for an answer"),  # routed to an answerer; public, others may add their vote
    "answered": _l("Answered"),           # in the public library
    "rejected": _l("Declined"),           # seen by the asker (with the reason) and the office only
}
REJECT_REASONS = {
    "duplicate": _l("Already asked and answered"),
    "off_topic": _l("Not a question about community work"),
    "personal_data": _l("Contains personal data"),
}
PUBLIC = ("routed", "answered")  # the statuses every logged-in user sees (and may vote on)

ask_attachment = Table(
    "ask_attachment",
    Model.metadata,
    Column("question_id", ForeignKey("ask_question.id", ondelete="CASCADE"), primary_key=True),
    Column("upload_id", ForeignKey("upload.id", ondelete="CASCADE"), primary_key=True),
)


class AskQuestion(Model):
    __tablename__ = "ask_question"
    __table_args__ = (
        one_of("status", STATUSES),
        one_of("reject_reason", REJECT_REASONS, nullable=True),
        Index("ix_ask_question_status_votes", "status", "votes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The asker's unit when they asked: the offices whose subtree holds it route and count the question.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    topic: Mapped[str] = mapped_column(String(100), default="")  # an exam topic (lms/exams/topics.py); "": other
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    votes: Mapped[int] = mapped_column(Integer, default=0)  # how many AskVote rows: kept in step by rules.vote
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Routing: the account that answers, and the pool record it was chosen from (专家智库 or 师资库).
    answerer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id"))
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("trainer.id"))
    routed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    routed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(16))
    reject_note: Mapped[str] = mapped_column(String(500), default="")
    # The answer (Markdown), who wrote it and when: answered_at is the first answer's time.
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The lesson an office made of the answer (lms/ask/rules.py make_lesson).
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id", ondelete="SET NULL"))
    # jieba tokens of title, body and answer, space-separated with a space at each end (lms/ask/queries.py).
    search_tokens: Mapped[str] = mapped_column(Text, default="")

    asker = relationship("User", foreign_keys=[asker_id])
    org_unit = relationship("OrgUnit")
    answerer = relationship("User", foreign_keys=[answerer_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    routed_by = relationship("User", foreign_keys=[routed_by_id])
    expert = relationship("Expert")
    trainer = relationship("Trainer")
    lesson = relationship("Lesson")
    attachments = relationship("Upload", secondary=ask_attachment, order_by="Upload.id")

    @property
    def answerer_label(self) -> str:
        """Who answered, as the library shows it: the pool record's name and title, else the account's name."""
        profile = self.expert or self.trainer
        if profile is not None and self.answered_by_id == self.answerer_id:
            return " · ".join(x for x in (profile.name, profile.title, profile.affiliation) if x)
        return self.answered_by.name if self.answered_by else ""


class AskVote(Model):
    """我也想问: one per worker and question."""

    __tablename__ = "ask_vote"
    __table_args__ = (UniqueConstraint("question_id", "user_id", name="uq_ask_vote"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("ask_question.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
