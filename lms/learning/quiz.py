"""End-of-course quizzes (课后测验): a course's quiz is an Exam of kind 'course' drawn from the
question bank by topic, taken with the mock-exam machinery (frozen shuffled paper, autosave, server
deadline, grading registry). The course completes, and its 学时 and certificate follow, only when
the quiz is passed. Plain functions that flush, never commit."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import DomainError
from ..exams import attempts, qtypes
from ..exams.models import Attempt, Exam, ExamSubject, Question
from ..extensions import db
from .models import Course, Enrollment

MAX_QUESTIONS = 50
MAX_RETRIES = 20


class QuizError(DomainError):
    pass


@dataclass
class QuizSettings:
    """What a trainer (or a course file) says about a course's quiz."""

    subject: ExamSubject
    topics: list[str]
    questions: int
    pass_percent: int
    retries: int | None  # None: unlimited


# --- the bank by topic ---------------------------------------------------------------------------

def quiz_types() -> list[qtypes.QuestionType]:
    """The question types a course quiz draws (those with quiz_points), in registration order."""
    return [t for t in qtypes.all_types() if t.quiz_points is not None]


def topic_counts(subject_id: int | None = None) -> dict[tuple[int, str], dict[str, int]]:
    """(subject id, topic) → type → active questions a quiz can draw, for every topic of the bank."""
    stmt = (select(Question.subject_id, Question.topic, Question.type, func.count())
            .where(Question.status == "active", Question.parent_id.is_(None),
                   Question.type.in_([t.name for t in quiz_types()]))
            .group_by(Question.subject_id, Question.topic, Question.type))
    if subject_id is not None:
        stmt = stmt.where(Question.subject_id == subject_id)
    out: dict[tuple[int, str], dict[str, int]] = {}
    for sid, topic, qtype, n in db.session.execute(stmt):
        out.setdefault((sid, topic), {})[qtype] = n
    return out


def sections_for(questions: int, available: dict[str, int]) -> list[dict]:
    """The paper's sections for `questions` items from a pool with `available` per type: mostly
    single choice, about a quarter multiple choice and one in ten true-or-false where the pool has
    them (each type's quiz_share, see lms/exams/qtypes). QuizError when the pool is too small."""
    if sum(available.values()) < questions:
        raise QuizError(_("The chosen topics have %(have)d questions; the quiz needs %(need)d.",
                          have=sum(available.values()), need=questions))
    types = quiz_types()
    shared = [t for t in types if t.quiz_share]
    want = {t.name: min(available.get(t.name, 0), questions // (t.quiz_share or 1)) for t in shared}

    short = questions - sum(want.values())
    for t in types:  # the types without a share take the rest, then the others make up what is still short
        if not t.quiz_share:
            want[t.name] = min(short, available.get(t.name, 0))
            short -= want[t.name]
    for t in shared:
        extra = min(short, available.get(t.name, 0) - want[t.name])
        want[t.name] += extra
        short -= extra
    return [t.quiz_section(want[t.name]) for t in types if want[t.name]]


def pass_score(sections: list[dict], percent: int) -> Decimal:
    total = sum((Decimal(str(s["points"])) * s["count"] for s in sections), Decimal(0))
    return (total * percent / 100).quantize(Decimal("0.1"), rounding=ROUND_UP)


# --- setting a course's quiz -------------------------------------------------------------------------

def check_settings(settings: QuizSettings) -> list[dict]:
    """The sections the settings make from today's bank, or QuizError saying what is wrong."""
    if not settings.topics:
        raise QuizError(_("Choose at least one topic for the quiz."))
    if not 1 <= settings.questions <= MAX_QUESTIONS:
        raise QuizError(_("A quiz has from 1 to %(n)d questions.", n=MAX_QUESTIONS))
    if not 1 <= settings.pass_percent <= 100:
        raise QuizError(_("The pass mark is a percentage from 1 to 100."))
    if settings.retries is not None and not 0 <= settings.retries <= MAX_RETRIES:
        raise QuizError(_("Retries are from 0 to %(n)d, or unlimited.", n=MAX_RETRIES))
    counts = topic_counts(settings.subject.id)
    available: dict[str, int] = {}
    for topic in settings.topics:
        by_type = counts.get((settings.subject.id, topic))
        if by_type is None:
            raise QuizError(_("The question bank has no topic %(topic)s in %(subject)s.", topic=topic,
                              subject=settings.subject.name))
        for qtype, n in by_type.items():
            available[qtype] = available.get(qtype, 0) + n
    return sections_for(settings.questions, available)


def set_quiz(course: Course, settings: QuizSettings | None) -> Exam | None:
    """Give the course a quiz, change it, or (settings None) take it away. Attempts already made
    keep their frozen papers; a course that loses its quiz keeps the Exam row, inactive."""
    quiz = course.quiz
    if settings is None:
        if quiz is not None:
            quiz.active = False
        return quiz
    sections = check_settings(settings)
    if quiz is None:
        if course.id is None:
            db.session.flush()
        quiz = Exam(code=f"course-{course.id}-quiz", kind="course", course=course, topic_mix={}, difficulty_mix={})
        db.session.add(quiz)
    quiz.name = _("End-of-course quiz: %(title)s", title=course.title)
    quiz.subject = settings.subject
    quiz.topics = list(dict.fromkeys(settings.topics))
    quiz.sections = sections
    quiz.duration_minutes = max(10, 2 * settings.questions)
    quiz.pass_percent = settings.pass_percent
    quiz.pass_score = pass_score(sections, settings.pass_percent)
    quiz.max_attempts = None if settings.retries is None else 1 + settings.retries
    quiz.active = True
    db.session.flush()
    return quiz


QUIZ_SETTINGS = ("subject_id", "topics", "sections", "duration_minutes", "pass_percent", "pass_score",
                 "max_attempts", "active")


def copy_quiz(source: Course, target: Course) -> None:
    """Give `target` the quiz settings of `source` as they stand (a course revision and its live course);
    `target` keeps its own Exam row, so attempts already made stay with it. No quiz on `source`: the
    target's quiz, if any, is switched off."""
    if source.quiz is None:
        if target.quiz is not None:
            target.quiz.active = False
        return
    quiz = target.quiz
    if quiz is None:
        quiz = Exam(code=f"course-{target.id}-quiz", kind="course", course=target, topic_mix={}, difficulty_mix={})
        db.session.add(quiz)
    for key in QUIZ_SETTINGS:
        setattr(quiz, key, getattr(source.quiz, key))
    quiz.name = _("End-of-course quiz: %(title)s", title=target.title)
    db.session.flush()


def active_quiz(course: Course) -> Exam | None:
    quiz = course.quiz
    return quiz if quiz is not None and quiz.active else None


def settings_of(quiz: Exam) -> QuizSettings:
    return QuizSettings(subject=quiz.subject, topics=list(quiz.topics or []),
                        questions=sum(int(s["count"]) for s in quiz.sections), pass_percent=quiz.pass_percent or 60,
                        retries=None if quiz.max_attempts is None else quiz.max_attempts - 1)


# --- a worker's quiz ------------------------------------------------------------------------------------

def _attempts_of(enrollment: Enrollment, quiz: Exam) -> list[Attempt]:
    return list(db.session.scalars(select(Attempt)
                                   .where(Attempt.user_id == enrollment.user_id, Attempt.exam_id == quiz.id)
                                   .order_by(Attempt.started_at, Attempt.id)))



def percent_score(attempt: Attempt) -> int:
    """The attempt's score on a 100-point scale, as the certificate states it."""
    if not attempt.max_score:
        return 0
    return int((Decimal(attempt.score or 0) * 100 / Decimal(attempt.max_score)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class QuizState:
    quiz: Exam
    attempts: list[Attempt]
    allowed: int | None       # sittings allowed in all (None: unlimited)
    lessons_done: bool

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def passed(self) -> Attempt | None:
        return next((a for a in self.attempts if a.passed), None)

    @property
    def open(self) -> Attempt | None:
        return next((a for a in self.attempts if a.status == "in_progress"), None)

    @property
    def last(self) -> Attempt | None:
        graded = [a for a in self.attempts if a.status == "graded"]
        return graded[-1] if graded else None

    @property
    def best(self) -> int:
        """The best graded score on a 100-point scale (0 before any)."""
        return max((percent_score(a) for a in self.attempts if a.status == "graded"), default=0)

    @property
    def left(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - self.used)

    @property
    def exhausted(self) -> bool:
        return self.passed is None and self.open is None and self.left == 0

    @property
    def can_start(self) -> bool:
        return self.lessons_done and self.passed is None and (self.open is not None or self.left != 0)


def state(enrollment: Enrollment) -> QuizState | None:
    """Where this worker stands with the course's quiz (None: the course has no quiz)."""
    quiz = active_quiz(enrollment.course)
    if quiz is None:
        return None
    from .progress import required_lessons_done

    allowed = None if quiz.max_attempts is None else quiz.max_attempts + (enrollment.extra_quiz_attempts or 0)
    return QuizState(quiz=quiz, attempts=_attempts_of(enrollment, quiz), allowed=allowed,
                     lessons_done=required_lessons_done(enrollment))


def check_can_start(enrollment: Enrollment) -> QuizState:
    st = state(enrollment)
    if st is None:
        raise QuizError(_("This course has no quiz."))
    if st.passed is not None:
        raise QuizError(_("You have already passed this quiz."))
    if not st.lessons_done:
        raise QuizError(_("The quiz opens once every required lesson is complete."))
    if st.open is None and st.left == 0:
        raise QuizError(_("You have used every attempt at this quiz. Your training office can allow one more."))
    return st


def start(enrollment: Enrollment, prepared: tuple[int, dict] | None = None, now=None) -> Attempt:
    """Resume the open sitting or start a new one with a freshly drawn paper (call under the write lock)."""
    st = check_can_start(enrollment)
    try:
        return attempts.start(enrollment.user, st.quiz, now=now, prepared=prepared)
    except attempts.AttemptError as exc:
        raise QuizError(str(exc)) from exc


def grant_attempt(enrollment: Enrollment) -> None:
    """An office allows one more sitting to a worker who has used them all."""
    st = state(enrollment)
    if st is None or not st.exhausted:
        raise QuizError(_("This worker can still take the quiz: no extra attempt is needed."))
    enrollment.extra_quiz_attempts = (enrollment.extra_quiz_attempts or 0) + 1
    db.session.flush()


def achievement(enrollment: Enrollment) -> str:
    """What the certificate says the holder did (frozen on it at issue)."""
    st = state(enrollment)
    if st is None or st.passed is None:
        return "完成学习"
    return f"完成学习并通过课后测验（成绩 {percent_score(st.passed)} 分）"
