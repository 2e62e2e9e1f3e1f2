"""题库: exam subjects (科目) and questions (题目), a case's parts being child questions."""
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric,
                        SmallInteger, String, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db

LEVELS = {"junior": _l("Junior level"), "intermediate": _l("Intermediate level"), "senior": _l("Senior level")}
TYPES = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "judge": _l("True or false"),
    "case": _l("Case analysis"),
    "essay": _l("Essay"),
}
PART_TYPES = ("single", "multiple", "essay")
STATUSES = {"draft": _l("Draft"), "active": _l("Active"), "retired": _l("Retired")}
DIFFICULTIES = {1: _l("Easy"), 2: _l("Medium"), 3: _l("Hard")}


class ExamSubject(db.Model):
    """A 科目 of the qualification exam. Rows are data (seeded by the migration and the bank importer)."""

    __tablename__ = "exam_subject"
    __table_args__ = (CheckConstraint("level IN ('junior','intermediate','senior')", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)      # the bank folder, e.g. junior-general
    name: Mapped[str] = mapped_column(String(100), unique=True)     # e.g. 社会工作综合能力(初级)
    level: Mapped[str] = mapped_column(String(16))
    # 法规与政策: every question names its law or policy and the date that version came into force.
    law_required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<ExamSubject {self.code}>"


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (
        CheckConstraint("type IN ('single','multiple','judge','case','essay')", name="type"),
        CheckConstraint("status IN ('draft','active','retired')", name="status"),
        CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty"),
        Index("ix_question_subject_topic", "subject_id", "topic"),
        Index("ix_question_subject_status_type", "subject_id", "status", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(80), unique=True)  # the YAML id; "<case id>#<n>" for parts
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"))
    topic: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[int] = mapped_column(SmallInteger, default=2)
    stem: Mapped[str] = mapped_column(Text)                             # Markdown
    options: Mapped[list] = mapped_column(JSON, default=list)           # [{"key": "A", "text": "…"}, …]
    answer: Mapped[object | None] = mapped_column(JSON)                 # ["B"] / ["A", "C"] / true / null
    explanation: Mapped[str] = mapped_column(Text, default="")          # Markdown
    reference: Mapped[str] = mapped_column(Text, default="")            # marking points (essay parts), Markdown
    points: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))       # case and essay; objective: the blueprint's
    source: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    law: Mapped[str | None] = mapped_column(String(200))
    law_in_force: Mapped[date | None] = mapped_column(Date)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    subject: Mapped[ExamSubject] = relationship(lazy="joined")
    parent: Mapped["Question | None"] = relationship(remote_side=[id], back_populates="parts")
    parts: Mapped[list["Question"]] = relationship(back_populates="parent", order_by="Question.position",
                                                   cascade="all, delete-orphan")
    created_by = relationship("User")

    def __repr__(self) -> str:
        return f"<Question {self.external_id}>"

    @property
    def right_keys(self) -> set[str]:
        return set(self.answer) if isinstance(self.answer, list) else set()

    @property
    def total_points(self) -> Decimal | None:
        if self.type == "case":
            return sum((p.points or Decimal(0) for p in self.parts), Decimal(0))
        return self.points
