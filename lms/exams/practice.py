"""Practice by topic and from the mistakes book, with instant feedback."""
from decimal import Decimal

from sqlalchemy import func, select

from ..database import utcnow
from ..extensions import db
from . import grading, qtypes
from .models import ExamSubject, Mistake, Question

CLEAR_AFTER = 2  # right answers in a row that take a question out of the mistakes book


def topics(subject: ExamSubject) -> list[str]:
    return list(db.session.scalars(
        select(Question.topic)
        .where(Question.subject_id == subject.id, Question.status == "active", Question.parent_id.is_(None))
        .distinct()
        .order_by(Question.topic)
    ))


def practisable(question: Question) -> bool:
    """Practice takes an answer to this question: an active question of a practisable type."""
    return question.status == "active" and question.type in qtypes.names(practisable=True)


def next_question(user, subject: ExamSubject | None, topic: str | None, source: str) -> Question | None:
    stmt = select(Question).where(
        Question.status == "active", Question.type.in_(qtypes.names(practisable=True)), Question.parent_id.is_(None)
    )
    if subject is not None:
        stmt = stmt.where(Question.subject_id == subject.id)
    if topic:
        stmt = stmt.where(Question.topic == topic)
    if source == "mistakes":
        stmt = stmt.join(Mistake, Mistake.question_id == Question.id).where(Mistake.user_id == user.id,
                                                                              Mistake.cleared_at.is_(None))
    return db.session.scalar(stmt.order_by(func.random()).limit(1))


def response_from_form(question: Question, form) -> object:
    return qtypes.get(question.type).practice_response(form)


def answer(user, question: Question, response) -> dict:
    """Grade one practice answer and update the mistakes book; returns what the page shows."""
    points = Decimal(1)
    score = grading.grade({"type": question.type, "answer": question.answer, "points": points}, response)
    correct = score == points
    mistake = db.session.scalar(select(Mistake).where(Mistake.user_id == user.id, Mistake.question_id == question.id))
    if not correct:
        if mistake is None:
            mistake = Mistake(user_id=user.id, question_id=question.id, wrong_count=1, right_streak=0)
            db.session.add(mistake)
        else:
            mistake.wrong_count += 1
            mistake.right_streak, mistake.cleared_at, mistake.last_wrong_at = 0, None, utcnow()
    elif mistake is not None and mistake.cleared_at is None:
        mistake.right_streak += 1
        if mistake.right_streak >= CLEAR_AFTER:
            mistake.cleared_at = utcnow()
    db.session.flush()
    return {"correct": correct, "partial": bool(score) and not correct, "response": response,
            "streak": mistake.right_streak if mistake else None,
            "cleared": bool(mistake and mistake.cleared_at)}
