"""The evidence (every graded answer), the mastery estimated from it, each worker's plan, and the readiness
calibration as last fitted."""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..database import one_of, utcnow
from ..exams import models as _exam_models  # noqa: F401 (question, attempt, exam_subject)
from ..extensions import Model

# Where a graded answer came from: a mock exam taken alone, a mock exam day, a course quiz,
# practice by topic, a review of the mistakes book.
SOURCES = ("mock", "day", "course", "practice", "review")


class GradedAnswer(Model):
    """One graded answer to one objective question: the evidence every estimate rests on.

    `credit` is the share of the question's points scored (0, 1, or between for a multiple choice
    partly right). Rows are written when the answer is graded, never changed; mastery can be rebuilt
    from them (mastery.rebuild)."""
    __tablename__ = "graded_answer"
    __table_args__ = (
        one_of("source", SOURCES),
        Index("ix_graded_answer_user_subject_time", "user_id", "subject_id", "answered_at"),
        Index("ix_graded_answer_user_question", "user_id", "question_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"))
    topic: Mapped[str] = mapped_column(String(200))
    difficulty: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"), index=True)
    credit: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TopicMastery(Model):
    """A worker's estimated ability on one topic of one subject (mastery.py): `theta` on the logit
    scale of the question difficulties, `evidence` the number of graded answers behind it."""
    __tablename__ = "topic_mastery"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    theta: Mapped[float] = mapped_column(Float, default=0.0)
    evidence: Mapped[int] = mapped_column(Integer, default=0)
    # The Fisher information of the answers, sum of p(1 − p) at the time of each: the estimate's
    # standard error is about 1 / sqrt(1 + information) logits (mastery.standard_error).
    information: Mapped[float] = mapped_column(Float, default=0.0)
    last_answer_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PrepPlan(Model):
    """A worker preparing for the exam in one subject: the date they sit it and the minutes a day
    they can give. Having one is what makes a worker a registrant an office sees."""
    __tablename__ = "prep_plan"
    __table_args__ = (UniqueConstraint("user_id", "subject_id", name="uq_prep_plan_user_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("exam_subject.id"))
    exam_date: Mapped[date] = mapped_column(Date)
    minutes_per_day: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class PrepCalibration(Model):
    """A subject's readiness calibration (readiness.py, step 3) as last fitted from the mock exams sat, for one set of
    the settings it depends on (`settings_key`, readiness.settings_key): pages read it, the periodic work
    (lms/tasks/periodic.py) makes it again every PREP_CALIBRATION_MAX_AGE minutes, `flask prep-rebuild` at once.
    A change of those settings makes a new key: a row fitted with other settings is never served."""
    __tablename__ = "prep_calibration"
    __table_args__ = (UniqueConstraint("exam_id", "settings_key", name="uq_prep_calibration_exam_settings"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    settings_key: Mapped[str] = mapped_column(String(255))
    a: Mapped[float] = mapped_column(Float)                  # P' = σ(a · logit P + b), when fitted
    b: Mapped[float] = mapped_column(Float)
    fitted: Mapped[bool] = mapped_column(Boolean)            # from PREP_CALIBRATION_MIN pairs on
    pairs: Mapped[int] = mapped_column(Integer)              # (chance given, passed) pairs it rests on
    error: Mapped[float | None] = mapped_column(Float)       # expected calibration error after the map
    bins: Mapped[list] = mapped_column(JSON)                 # the reliability table: [low, high, count, given, passed]
    computed_at: Mapped[datetime] = mapped_column(DateTime)
