"""Practice by topic and from the mistakes book, with instant feedback."""
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select

from ..database import utcnow
from ..extensions import db
from ..prep import mastery, review
from . import grading, qtypes
from . import topics as bank_topics
from .models import ExamSubject, Mistake, Question


def topics_by_subject(subjects: Sequence[ExamSubject]) -> dict[int, list[str]]:
    """Subject id → the topics practice can draw from (active questions of a type it offers), in the
    subject's order (question_bank/topics.yaml)."""
    found: dict[int, set[str]] = {s.id: set() for s in subjects}
    rows = db.session.execute(
        select(Question.subject_id, Question.topic)
        .where(Question.subject_id.in_(list(found)), Question.status == "active", Question.parent_id.is_(None),
               Question.type.in_(qtypes.names(practisable=True)))
        .distinct())
    for subject_id, topic in rows:
        found[subject_id].add(topic)
    return {s.id: bank_topics.ordered(s, found[s.id]) for s in subjects}


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


def answer(user, question: Question, response, source: str = "practice") -> dict:
    """Grade one practice answer, then move the worker's topic mastery and the question's card in the
    mistakes book (lms/prep/review.py); returns what the page shows. `source`: "practice", or "review"
    for a question of the mistakes book."""
    points = Decimal(1)
    score = grading.grade({"type": question.type, "answer": question.answer, "points": points}, response)
    credit = float(score or 0)
    now = utcnow()
    mastery.lock_worker(user.id)  # a second answer sent at once waits for the first, then is "answered lately"
    if not mastery.answered_lately(user.id, question.id, now):
        mastery.record(user.id, [mastery.Evidence(question.id, question.subject_id, question.topic,
                                                  question.difficulty, credit)], source, now=now)
    outcome = review.record(user.id, [(question.id, credit)], now).get(question.id)
    return {"correct": score == points, "partial": bool(score) and score != points, "response": response,
            "cleared": outcome is not None and outcome.kind == "learned",
            "schedule": outcome.shown(now) if outcome else None}
