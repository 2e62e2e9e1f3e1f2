"""What a worker preparing for the exam should do next (docs/EXAM_PREP.md, "What to do next").

From the worker's weakest topics with a settled estimate (mastery.settled), in the subjects they have a
plan for, today's three recommendations, each with its reason:
1. a lesson that teaches the weakest topic (the first of lms/prep/lessons.py's order, which the plan follows
   too: the worker's own courses first, completed lessons skipped); the next weakest topic when nothing
   teaches the weakest;
2. a short practice set on the weakest topic (PREP_PRACTICE_QUESTIONS questions, fewer if the bank has
   fewer);
3. today's review of the mistakes book (review.due_counts: what the review session will show), or, when
   none is due, a practice set on the next weakest topic.
Topics below PREP_MIN_EVIDENCE answers are never recommended from: their estimate is a first impression.
The same data gives the same list all day (ties go by the subject's and the topic list's order).

No function here touches `request` or commits.
"""
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import BindParameter, Row, Select, and_, bindparam, func, select

from ..exams import qtypes
from ..exams import topics as bank_topics
from ..exams.models import ExamSubject, Question
from ..extensions import db
from . import lessons as teaching
from . import mastery, review
from .models import PrepPlan, TopicMastery


@dataclass(frozen=True)
class TopicStanding:
    """One topic of one subject as the worker's pages show it."""
    subject: ExamSubject
    topic: str
    percent: int | None       # None: no answer yet
    evidence: int
    low: int | None           # the band of one standard error around the estimate, in % of mastery
    high: int | None
    settled: bool
    last_answer_at: datetime | None

    @property
    def band(self) -> int | None:
        """Half the band's width in percentage points: "42 % ± 9"."""
        return None if self.low is None or self.high is None else round((self.high - self.low) / 2)


@dataclass(frozen=True)
class Recommendation:
    kind: str                 # "lesson", "practice" or "review"
    subject: ExamSubject
    standing: TopicStanding | None = None   # the topic it works on (None for a review of the due mistakes)
    course_id: int | None = None
    course_title: str = ""
    lesson_id: int | None = None
    lesson_title: str = ""
    questions: int = 0        # practice: questions to answer; review: mistakes due
    enrolled: bool = False    # lesson: the worker is enrolled in its course (else the course page: enrol first)


def standing(subject: ExamSubject, topic: str, row: TopicMastery | Row | None, params: mastery.Params) -> TopicStanding:
    """`row`: the worker's topic_mastery row (or a row of its columns), None without an answer."""
    if row is None or not row.evidence:
        return TopicStanding(subject, topic, None, 0, None, None, False, None)
    se = mastery.standard_error(row.information)
    return TopicStanding(subject, topic, mastery.percent(row.theta, params), row.evidence,
                         mastery.percent(row.theta - se, params), mastery.percent(row.theta + se, params),
                         mastery.settled(row.evidence, params), row.last_answer_at)


def subject_standings(user_id: int, subject: ExamSubject, params: mastery.Params | None = None) -> list[TopicStanding]:
    """Every topic of the subject (its list's, and any other the worker has answers on): the settled ones
    from weakest to strongest, then the others in the list's order."""
    params = params or mastery.Params.from_config()
    rows = mastery.of_user(user_id, subject.id)
    topics = bank_topics.ordered(subject, set(bank_topics.names(subject) or ()) | set(rows))
    shown = [standing(subject, t, rows.get(t), params) for t in topics]
    order = {t: i for i, t in enumerate(topics)}
    settled = sorted((s for s in shown if s.settled), key=lambda s: (rows[s.topic].theta, order[s.topic]))
    return settled + [s for s in shown if not s.settled]


def planned(user_id: int, params: mastery.Params, first: int = 3) -> tuple[list[ExamSubject], list[TopicStanding]]:
    """The subjects the worker has a plan for, in the subjects' order, and the `first` weakest of their settled
    topics, weakest first: one prebuilt statement. The subjects are read afresh: their bank_version keys
    topic_sizes, and a change of the bank earlier in the transaction moved it behind the ORM's back."""
    rows = db.session.execute(_planned_statement(), {"user_id": user_id, "min_evidence": params.min_evidence},
                              execution_options={"populate_existing": True}).all()
    subjects = list(dict.fromkeys(r[0] for r in rows))
    position = {s.id: i for i, s in enumerate(subjects)}
    settled = sorted((r for r in rows if r.topic is not None),
                     key=lambda r: (r.theta, position[r[0].id], bank_topics.sort_key(r[0], r.topic)))
    return subjects, [standing(r[0], r.topic, r, params) for r in settled[:first]]


@cache
def _planned_statement() -> Select:
    user_id: BindParameter[int] = bindparam("user_id")
    return (select(ExamSubject, TopicMastery.topic, TopicMastery.theta, TopicMastery.evidence,
                   TopicMastery.information, TopicMastery.last_answer_at)
            .join(PrepPlan, and_(PrepPlan.subject_id == ExamSubject.id, PrepPlan.user_id == user_id))
            .outerjoin(TopicMastery, and_(TopicMastery.user_id == user_id, TopicMastery.subject_id == ExamSubject.id,
                                          TopicMastery.evidence >= bindparam("min_evidence")))
            .order_by(ExamSubject.position, ExamSubject.id))


_SIZES: dict[tuple[str, int, int], dict[str, int]] = {}
_SIZES_LOCK = threading.Lock()


def topic_sizes(subject: ExamSubject) -> dict[str, int]:
    """topic → the questions practice by topic can draw on it in this subject. Kept per process under the
    subject's bank_version (read with the subject; lms/exams/assembly.py: every change of a question moves it)."""
    key = (str(db.session.get_bind().engine.url), subject.id, subject.bank_version)
    kept = _SIZES.get(key)
    if kept is None:
        kept = {t: n for t, n in db.session.execute(
            select(Question.topic, func.count())
            .where(Question.subject_id == subject.id, Question.status == "active", Question.parent_id.is_(None),
                   Question.type.in_(qtypes.names(practisable=True)))
            .group_by(Question.topic))}
        with _SIZES_LOCK:
            if len(_SIZES) >= 64:
                _SIZES.clear()
            _SIZES[key] = kept
    return kept


def practice_size(s: TopicStanding) -> int:
    """The questions a recommended practice set on the topic asks: PREP_PRACTICE_QUESTIONS, fewer if the bank
    has fewer."""
    return min(topic_sizes(s.subject).get(s.topic, 0), current_app.config["PREP_PRACTICE_QUESTIONS"])


def today(user_id: int, params: mastery.Params | None = None) -> list[Recommendation]:
    """The worker's three recommendations for today ([] without a plan or without a settled topic and a
    due mistake)."""
    params = params or mastery.Params.from_config()
    subjects, weak = planned(user_id, params)
    if not subjects:
        return []
    due = review.due_counts(user_id, [s.id for s in subjects])
    lessons = {t: found[0] for t, found in teaching.for_worker(user_id, [s.topic for s in weak[:3]], 1).items()}
    out: list[Recommendation] = []
    for s in weak[:3]:  # the weakest topic something teaches
        if s.topic in lessons:
            lesson = lessons[s.topic]
            out.append(Recommendation("lesson", s.subject, s, lesson.course_id, lesson.course_title, lesson.lesson_id,
                                      lesson.lesson_title, enrolled=lesson.enrolled))
            break
    practised = []
    for s in weak[:2]:
        if size := practice_size(s):
            practised.append(Recommendation("practice", s.subject, s, questions=size))
    if practised:
        out.append(practised.pop(0))
    if due:  # the subject with the most due (the first of them on a tie)
        subject = max(subjects, key=lambda x: due.get(x.id, 0))
        out.append(Recommendation("review", subject, questions=due[subject.id]))
    out.extend(practised)
    return out[:3]
