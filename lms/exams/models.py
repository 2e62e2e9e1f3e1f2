"""题库: exam subjects (科目) and questions (题目), a case's parts being child questions."""
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from ..database import one_of, utcnow
from ..extensions import Model
from ..i18n import lazy_gettext as _l
from ..learning import models as _learning_models  # noqa: F401 (Exam.course → Course)
from . import qtypes

LEVELS = {"junior": _l("Junior level"), "intermediate": _l("Intermediate level"), "senior": _l("Senior level")}
TYPES = qtypes.TYPES  # question type → label, from the registry of question types (lms/exams/qtypes)
PART_TYPES = qtypes.names(in_case=True)  # the types a case's part may have
STATUSES = {"draft": _l("Draft"), "active": _l("Active"), "retired": _l("Retired")}
EXAM_KINDS = ("mock", "course")
ATTEMPT_STATUSES = ("in_progress", "submitted", "graded")
DIFFICULTIES = {1: _l("Easy"), 2: _l("Medium"), 3: _l("Hard")}


class ExamSubject(Model):
    """A 科目 of the qualification exam. Rows are data (seeded by the migration and the bank importer)."""

    __tablename__ = "exam_subject"
    __table_args__ = (one_of("level", LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)      # the bank folder, e.g. junior-general
    name: Mapped[str] = mapped_column(String(100), unique=True)     # e.g. 社会工作综合能力(初级)
    level: Mapped[str] = mapped_column(String(16))
    # 法规与政策: every question names its law or policy and the date that version came into force.
    law_required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A new random number whenever a question of the bank changes (assembly.bump_bank_versions, in the
    # same transaction): the key under which each process keeps the pool a paper is drawn from.
    bank_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<ExamSubject {self.code}>"


class Question(Model):
    __tablename__ = "question"
    __table_args__ = (
        one_of("status", STATUSES),
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
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)                 # ["B"] / ["A", "C"] / true / null
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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

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
        if not qtypes.get(self.type).answerable:  # a case: the sum of its parts
            return sum((p.points or Decimal(0) for p in self.parts), Decimal(0))
        return self.points


# --- blueprints, exam days, attempts ----------------------------------------------------------------

class Exam(Model):
    """A blueprint (组卷方案): which subject, how long, which sections, which mix, what pass line.

    Every figure is data, seeded from DESIGN.md §5 and editable by admins; `sections` is a list of
    {"type": "single", "count": 60, "points": 1, "options": 4} (multiple choice may add "partial_points": 0.5;
    "options", when present, is the number of options a question must have to be drawn, see assembly.fits);
    `topic_mix` maps topic → share of each section (missing topics share the rest);
    `difficulty_mix` maps "1"/"2"/"3" → share.

    kind 'mock' is a practice paper of the qualification exam; kind 'course' is a course's
    end-of-course quiz (课后测验): it belongs to one course, draws only from `topics`, passes at
    `pass_percent` of its points and allows `max_attempts` sittings (None: unlimited).
    """

    __tablename__ = "exam"
    __table_args__ = (one_of("kind", EXAM_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    sections: Mapped[list] = mapped_column(JSON)
    topic_mix: Mapped[dict] = mapped_column(JSON, default=dict)
    difficulty_mix: Mapped[dict] = mapped_column(JSON, default=dict)
    pass_score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(16), default="mock", server_default="mock")
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), unique=True, index=True)
    topics: Mapped[list | None] = mapped_column(JSON)             # course quizzes: draw only from these
    pass_percent: Mapped[int | None] = mapped_column(Integer)     # course quizzes: the pass mark in percent
    max_attempts: Mapped[int | None] = mapped_column(Integer)     # course quizzes: None = unlimited
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    subject: Mapped[ExamSubject] = relationship(lazy="joined")
    course = relationship("Course", back_populates="quiz")

    @property
    def total_points(self) -> Decimal:
        return sum((Decimal(str(s["points"])) * int(s["count"]) for s in self.sections), Decimal(0))


class MockExamDay(Model):
    """A mock exam an office schedules for its area, with a fixed window and staggered starts."""

    __tablename__ = "mock_exam_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    stagger_minutes: Mapped[int] = mapped_column(Integer, default=0)  # starts spread over this many minutes
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    exam: Mapped[Exam] = relationship()
    org_unit = relationship("OrgUnit")


class Attempt(Model):
    """One sitting of an exam. `paper` freezes the questions as they were when it started."""

    __tablename__ = "attempt"
    __table_args__ = (
        one_of("status", ATTEMPT_STATUSES),
        Index("ix_attempt_user_exam", "user_id", "exam_id"),
        Index("ix_attempt_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    mock_day_id: Mapped[int | None] = mapped_column(ForeignKey("mock_exam_day.id"), index=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    paper: Mapped[dict] = mapped_column(JSON)
    # What a save may hold, item → "type:option letters" (e.g. "multiple:ABCDE"), so that a save
    # checks its item without loading the whole paper (~130 KB of JSON). None: older attempts.
    answer_keys: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    # Totals: objective points are final at grading; free-text points arrive with marking.
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    max_score: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    pending_marks: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    graded_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    exam: Mapped[Exam] = relationship()
    user = relationship("User")
    mock_day: Mapped[MockExamDay | None] = relationship()


class AttemptAnswer(Model):
    """The latest saved response to one item of an attempt ("12" or "12.3" for a case part).

    `seq` is the client's counter for that item: a save with a lower seq than the stored one is
    a late or repeated request and never overwrites a newer answer.
    """

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "item", name="uq_attempt_answer_attempt_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(16))
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    # "标记": the candidate flagged the item to come back to; saved with the response, under its seq.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    marked_at: Mapped[datetime | None] = mapped_column(DateTime)
    feedback: Mapped[str] = mapped_column(Text, default="")


class MarkingAssignment(Model):
    """An office hands the marking of an exam's written answers (of one exam day, or of every
    sitting) by the workers of its area to a trainer, who then sees them in the marking queue,
    without the candidates' names."""

    __tablename__ = "marking_assignment"
    __table_args__ = (Index("ix_marking_assignment_trainer_exam", "trainer_id", "exam_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    mock_day_id: Mapped[int | None] = mapped_column(ForeignKey("mock_exam_day.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)  # whose workers' answers
    trainer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    exam: Mapped[Exam] = relationship()
    mock_day: Mapped[MockExamDay | None] = relationship()
    org_unit = relationship("OrgUnit")
    trainer = relationship("User", foreign_keys=[trainer_id])


class Mistake(Model):
    """错题本: a question the learner got wrong, reviewed on a spaced-repetition schedule (FSRS, lms/prep/review.py)
    until the schedule says it is learned (`cleared_at`)."""

    __tablename__ = "mistake"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_mistake_user_question"),
        Index("ix_mistake_user_due", "user_id", "cleared_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    wrong_count: Mapped[int] = mapped_column(Integer, default=1)
    right_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_wrong_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The FSRS card (py-fsrs's Card): state 1 learning, 2 review, 3 relearning; `fsrs_step` within the
    # (re)learning steps; stability in days; FSRS's difficulty 1…10. due_at None: a mistake recorded
    # before the schedule existed, due at once.
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    fsrs_state: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    fsrs_step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    fsrs_difficulty: Mapped[float | None] = mapped_column(Float)
    last_review_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviews: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lapses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    question: Mapped[Question] = relationship()


RESULT_STATUSES = {"pending": _l("Pending verification"), "verified": _l("Verified"), "rejected": _l("Not accepted")}


class RealExamResult(Model):
    """A subject passed (or not) in the real national exam, entered by the worker or an office.

    A worker's own entry is a claim: `pending` until an office in scope verifies it (or rejects it
    with a reason the worker sees). Only verified passes count toward a level (DESIGN.md §4)."""

    __tablename__ = "real_exam_result"
    __table_args__ = (
        UniqueConstraint("user_id", "subject_id", "exam_year", name="uq_real_exam_result_user_subject_year"),
        one_of("status", RESULT_STATUSES),
        Index("ix_real_exam_result_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"))
    exam_year: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    passed: Mapped[bool] = mapped_column(Boolean)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(500))

    subject: Mapped[ExamSubject] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    entered_by = relationship("User", foreign_keys=[entered_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    @property
    def counts(self) -> bool:
        """A pass that counts toward a level: verified."""
        return self.passed and self.status == "verified"
