"""Class evaluations (评价) and training-needs surveys (需求调研).

An evaluation keeps its author (user_id) only to allow one per attendee and to let them change it:
no page or export for anyone but the author shows who wrote which evaluation (docs/SURVEYS.md).
"""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of, utcnow
from ..extensions import Model
from ..i18n import lazy_gettext as _l
from ..library import models as _library_models  # noqa: F401 (TrainerRating.trainer → Trainer)
from ..training import models as _training_models  # noqa: F401 (Evaluation.training → Training)

STARS = {1: _l("Very poor"), 2: _l("Poor"), 3: _l("Fair"), 4: _l("Good"), 5: _l("Excellent")}
QUESTION_KINDS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "text": _l("Free text")}


class Evaluation(Model):
    """One attendee's evaluation of a class: the class overall (1–5) and a comment."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("training_id", "user_id", name="uq_evaluation_training_user"),
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    overall: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    ratings: Mapped[list["TrainerRating"]] = relationship(back_populates="evaluation", cascade="all, delete-orphan",
                                                          order_by="TrainerRating.trainer_id")


class TrainerRating(Model):
    """Within an evaluation: one trainer of the class, 1–5 and an optional comment."""

    __tablename__ = "trainer_rating"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "trainer_id", name="uq_trainer_rating_evaluation_trainer"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="ratings")
    trainer = relationship("Trainer")


class EvaluationCall(Model):
    """The marker that a class's attendees were told their evaluation is due (exactly once per class)."""

    __tablename__ = "evaluation_call"

    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class Survey(Model):
    """A needs survey an office sends to the workers of a unit's subtree, open until its deadline."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)  # the audience's root
    deadline: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org_unit = relationship("OrgUnit")
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position", cascade="all, delete-orphan")


class SurveyQuestion(Model):
    __tablename__ = "survey_question"
    __table_args__ = (one_of("kind", QUESTION_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(300))
    options: Mapped[str] = mapped_column(Text, default="")  # one choice a line (choice questions)
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def choices(self) -> list[str]:
        return [line for line in (self.options or "").split("\n") if line]


class SurveyResponse(Model):
    """One worker's answers to a survey; `org_path` is the worker's unit when they answered (results by unit)."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "user_id", name="uq_survey_response_survey_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    answers: Mapped[list["SurveyAnswer"]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(Model):
    """A chosen option (one row per option ticked) or a free text."""

    __tablename__ = "survey_answer"
    __table_args__ = (Index("ix_survey_answer_question_option", "question_id", "option"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"))
    option: Mapped[int | None] = mapped_column(Integer)  # 0-based index into the question's choices
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
