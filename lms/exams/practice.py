"""Practice by topic and from the mistakes book, with instant feedback."""
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select

from ..database import utcnow
from ..extensions import db
from ..prep import mastery
from . import grading, qtypes
from . import topics as bank_topics
from .models import ExamSubject, Mistake, Question

CLEAR_AFTER = 2  # right answers in a row that take a question out of the mistakes book


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
    """Grade one practice answer, update the mistakes book and the worker's topic mastery; returns what
    the page shows. `source`: "practice", or "review" for a question of the mistakes book."""
    points = Decimal(1)
    score = grading.grade({"type": question.type, "answer": question.answer, "points": points}, response)
    correct = score == points
    if not mastery.answered_lately(user.id, question.id):
        mastery.record(user.id, [mastery.Evidence(question.id, question.subject_id, question.topic,
                                                  question.difficulty, float(score or 0))], source)
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
