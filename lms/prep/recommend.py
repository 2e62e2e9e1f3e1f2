"""What a worker preparing for the exam should do next (docs/EXAM_PREP.md, "What to do next").

From the worker's weakest topics with a settled estimate (mastery.settled), in the subjects they have a
plan for, today's three recommendations, each with its reason:
1. a lesson that teaches the weakest topic (a lesson of a published course naming the topic, or the
   first lesson of a course naming it), the worker's own courses first, lessons already completed skipped;
   the next weakest topic when nothing teaches the weakest;
2. a short practice set on the weakest topic (PREP_PRACTICE_QUESTIONS questions, fewer if the bank has
   fewer);
3. the mistakes due for review by the end of today (Asia/Shanghai), or, when none is due, a practice
   set on the next weakest topic.
Topics below PREP_MIN_EVIDENCE answers are never recommended from: their estimate is a first impression.
The same data gives the same list all day (ties go by the subject's and the topic list's order).

No function here touches `request` or commits.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from .. import clock
from ..exams import qtypes
from ..exams import topics as bank_topics
from ..exams.models import ExamSubject, Mistake, Question
from ..extensions import db
from ..learning.models import Course, Enrollment, Lesson, LessonProgress
from ..util import local_to_utc
from . import mastery
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


def standing(subject: ExamSubject, topic: str, row: TopicMastery | None, params: mastery.Params) -> TopicStanding:
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


def plan_subjects(user_id: int) -> list[ExamSubject]:
    """The subjects the worker has a plan for, in the subjects' order."""
    return list(db.session.scalars(select(ExamSubject).join(PrepPlan, PrepPlan.subject_id == ExamSubject.id)
                                   .where(PrepPlan.user_id == user_id).order_by(ExamSubject.position)))


def weakest(user_id: int, subjects: Sequence[ExamSubject], params: mastery.Params) -> list[TopicStanding]:
    """The settled topics of these subjects, weakest first (one query)."""
    if not subjects:
        return []
    by_id = {s.id: s for s in subjects}
    rows = db.session.scalars(select(TopicMastery).where(
        TopicMastery.user_id == user_id, TopicMastery.subject_id.in_(list(by_id)),
        TopicMastery.evidence >= params.min_evidence)).all()
    position = {s.id: i for i, s in enumerate(subjects)}
    rows = sorted(rows, key=lambda r: (r.theta, position[r.subject_id],
                                       bank_topics.sort_key(by_id[r.subject_id], r.topic)))
    return [standing(by_id[r.subject_id], r.topic, r, params) for r in rows]


def end_of_today() -> datetime:
    """The end of the Asia/Shanghai day, as the naive UTC the database stores."""
    return local_to_utc(datetime.combine(clock.today() + timedelta(days=1), time()))


def due_mistakes(user_id: int, subject_ids: Sequence[int]) -> dict[int, int]:
    """subject id → the worker's mistakes of it still in the book and due by the end of today (a mistake
    never scheduled is due now); subjects with none left out."""
    if not subject_ids:
        return {}
    return {s: n for s, n in db.session.execute(
        select(Question.subject_id, func.count()).select_from(Mistake)
        .join(Question, Question.id == Mistake.question_id)
        .where(Mistake.user_id == user_id, Mistake.cleared_at.is_(None), Question.subject_id.in_(subject_ids),
               or_(Mistake.due_at.is_(None), Mistake.due_at < end_of_today()))
        .group_by(Question.subject_id))}


def practice_sizes(pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """(subject, topic) → the questions practice can draw there, up to PREP_PRACTICE_QUESTIONS."""
    if not pairs:
        return {}
    most = current_app.config["PREP_PRACTICE_QUESTIONS"]
    rows = db.session.execute(
        select(Question.subject_id, Question.topic, func.count())
        .where(Question.status == "active", Question.parent_id.is_(None),
               Question.type.in_(qtypes.names(practisable=True)),
               or_(*(and_(Question.subject_id == s, Question.topic == t) for s, t in pairs)))
        .group_by(Question.subject_id, Question.topic))
    return {(s, t): min(n, most) for s, t, n in rows}


def teaching(user_id: int, topics: Sequence[str]) -> dict[str, tuple[int, str, int, str, bool]]:
    """topic → (course id, course title, lesson id, lesson title, enrolled) of the lesson to study for it: a lesson
    of a published course that names the topic (or any lesson of a course that does), not yet completed
    by the worker; in a course the worker is enrolled in first, then the featured, then by course and
    lesson order. Two queries."""
    if not topics:
        return {}
    rows = db.session.execute(
        select(Course.id, Course.title, Course.topics, Course.featured, Lesson.id, Lesson.title, Lesson.topics,
               Lesson.position, Enrollment.id)
        .join(Lesson, Lesson.course_id == Course.id)
        .outerjoin(Enrollment, and_(Enrollment.course_id == Course.id, Enrollment.user_id == user_id))
        .where(Course.status == "published", Course.revision_of_id.is_(None))
        .order_by(Course.id, Lesson.position)).all()
    wanted = set(topics)
    candidates = [r for r in rows if wanted & set(r[2] or []) or wanted & set(r[6] or [])]
    done = set(db.session.scalars(select(LessonProgress.lesson_id).where(
        LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None),
        LessonProgress.lesson_id.in_([r[4] for r in candidates])))) if candidates else set()
    found: dict[str, tuple[tuple, tuple[int, str, int, str, bool]]] = {}
    for course_id, course_title, course_topics, featured, lesson_id, lesson_title, lesson_topics, position, enrolled \
            in candidates:
        if lesson_id in done:
            continue
        for topic in wanted:
            named_by_lesson = topic in (lesson_topics or [])
            if not named_by_lesson and topic not in (course_topics or []):
                continue
            # the worker's own course first, then a lesson that names the topic itself, featured, in order
            rank = (enrolled is None, not named_by_lesson, not featured, course_id, position)
            if topic not in found or rank < found[topic][0]:
                found[topic] = (rank, (course_id, course_title, lesson_id, lesson_title, enrolled is not None))
    return {topic: value for topic, (_rank, value) in found.items()}


def today(user_id: int, params: mastery.Params | None = None) -> list[Recommendation]:
    """The worker's three recommendations for today ([] without a plan or without a settled topic and a
    due mistake)."""
    params = params or mastery.Params.from_config()
    subjects = plan_subjects(user_id)
    if not subjects:
        return []
    weak = weakest(user_id, subjects, params)
    due = due_mistakes(user_id, [s.id for s in subjects])
    lessons = teaching(user_id, list(dict.fromkeys(s.topic for s in weak[:3])))
    sizes = practice_sizes([(s.subject.id, s.topic) for s in weak[:2]])
    out: list[Recommendation] = []
    for s in weak[:3]:  # the weakest topic something teaches
        if s.topic in lessons:
            course_id, course_title, lesson_id, lesson_title, enrolled = lessons[s.topic]
            out.append(Recommendation("lesson", s.subject, s, course_id, course_title, lesson_id, lesson_title,
                                      enrolled=enrolled))
            break
    practised = []
    for s in weak[:2]:
        if sizes.get((s.subject.id, s.topic)):
            practised.append(Recommendation("practice", s.subject, s, questions=sizes[(s.subject.id, s.topic)]))
    if practised:
        out.append(practised.pop(0))
    if due:  # the subject with the most due (the first of them on a tie)
        subject = max(subjects, key=lambda x: due.get(x.id, 0))
        out.append(Recommendation("review", subject, questions=due[subject.id]))
    out.extend(practised)
    return out[:3]
