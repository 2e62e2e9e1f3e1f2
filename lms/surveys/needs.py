"""Training-needs surveys (需求调研): an office builds one for a unit's subtree; the workers there answer it
once before its deadline; the office reads the counts per choice overall and by unit, and the free texts.

"By unit" is by the survey unit's direct child units (a district survey: its streets), with a row for the
workers of the survey's unit itself; a response is placed by the unit its worker was in when answering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User, UserRole
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..orgs.models import OrgUnit
from .models import QUESTION_KINDS, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse

MAX_QUESTIONS = 30
MAX_OPTIONS = 20
MAX_TEXT = 2000


class SurveyError(DomainError):
    pass


class AlreadyAnswered(SurveyError):
    pass


@dataclass
class QuestionDraft:
    kind: str
    text: str
    options: list[str] = field(default_factory=list)
    required: bool = True


def question_problem(number: int, q: QuestionDraft) -> str | None:
    if q.kind not in QUESTION_KINDS:
        return _("Question %(n)d: choose its kind.", n=number)
    if not q.text.strip():
        return _("Question %(n)d: write the question.", n=number)
    if len(q.text.strip()) > 300:
        return _("Question %(n)d: a question has at most 300 characters.", n=number)
    if q.kind != "text":
        options = [o.strip() for o in q.options if o.strip()]
        if len(options) < 2:
            return _("Question %(n)d: a choice question needs at least two choices, one a line.", n=number)
        if len(options) > MAX_OPTIONS:
            return _("Question %(n)d: at most %(m)d choices.", n=number, m=MAX_OPTIONS)
        if len(set(options)) != len(options):
            return _("Question %(n)d: two choices are the same.", n=number)
        if any(len(o) > 200 for o in options):
            return _("Question %(n)d: a choice has at most 200 characters.", n=number)
    return None


def create(creator: User, unit: OrgUnit, title: str, description: str, deadline: datetime,
           questions: list[QuestionDraft], now: datetime | None = None) -> Survey:
    """A new survey for the workers of `unit`'s subtree (the caller checked the unit is in the creator's scope)."""
    now = now or utcnow()
    if not title.strip():
        raise SurveyError(_("Give the survey a title."))
    if deadline <= now:
        raise SurveyError(_("The deadline must be in the future."))
    if not questions:
        raise SurveyError(_("Add at least one question."))
    if len(questions) > MAX_QUESTIONS:
        raise SurveyError(_("A survey has at most %(n)d questions.", n=MAX_QUESTIONS))
    for number, q in enumerate(questions, start=1):
        problem = question_problem(number, q)
        if problem:
            raise SurveyError(problem)
    survey = Survey(title=title.strip(), description=description, org_unit=unit, deadline=deadline,
                    created_by_id=creator.id)
    for position, q in enumerate(questions, start=1):
        options = "\n".join(o.strip() for o in q.options if o.strip()) if q.kind != "text" else ""
        survey.questions.append(SurveyQuestion(position=position, kind=q.kind, text=q.text.strip(),
                                               options=options, required=q.required))
    db.session.add(survey)
    db.session.flush()
    return survey


def is_open(survey: Survey, now: datetime | None = None) -> bool:
    return (now or utcnow()) < survey.deadline


def in_audience(survey: Survey, user: User) -> bool:
    """The workers (learners) of the survey unit's subtree."""
    return user.has_role("learner") and survey.org_unit.contains(user.org_unit)


def response_of(survey: Survey, user: User) -> SurveyResponse | None:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                          SurveyResponse.user_id == user.id))


def open_for(user: User, now: datetime | None = None) -> list[tuple[Survey, bool]]:
    """The surveys open to the worker (their unit or one above it), each with whether they answered it."""
    from ..auth.scope import above

    if not user.has_role("learner"):
        return []
    now = now or utcnow()
    answered = select(SurveyResponse.survey_id).where(SurveyResponse.user_id == user.id)
    rows = db.session.execute(
        select(Survey, Survey.id.in_(answered)).join(OrgUnit, OrgUnit.id == Survey.org_unit_id)
        .where(above(user.org_unit.path), Survey.deadline > now).order_by(Survey.deadline, Survey.id)).tuples()
    return [(s, bool(done)) for s, done in rows]


Given = dict[int, list[int] | str]  # question id → chosen option indexes, or the text


def answer_problems(survey: Survey, given: Given) -> dict[int, str]:
    """question id → what is wrong with its answer."""
    out: dict[int, str] = {}
    for q in survey.questions:
        value = given.get(q.id)
        if q.kind == "text":
            text = value.strip() if isinstance(value, str) else ""
            if q.required and not text:
                out[q.id] = _("Answer this question.")
            elif len(text) > MAX_TEXT:
                out[q.id] = _("An answer has at most %(n)d characters.", n=MAX_TEXT)
            continue
        chosen = value if isinstance(value, list) else []
        if any(i not in range(len(q.choices)) for i in chosen):
            out[q.id] = _("Choose from the choices given.")
        elif q.required and not chosen:
            out[q.id] = _("Choose an answer.") if q.kind == "single" else _("Choose at least one answer.")
        elif q.kind == "single" and len(chosen) > 1:
            out[q.id] = _("Choose one answer only.")
    return out


def answer(survey: Survey, user: User, given: Given, now: datetime | None = None) -> SurveyResponse:
    if not is_open(survey, now):
        raise SurveyError(_("This survey closed at its deadline."))
    if response_of(survey, user) is not None:
        raise AlreadyAnswered(_("You have already answered this survey."))
    found = answer_problems(survey, given)
    if found:
        raise SurveyError(next(iter(found.values())))
    response = SurveyResponse(survey_id=survey.id, user_id=user.id, org_path=user.org_unit.path)
    for q in survey.questions:
        value = given.get(q.id)
        if q.kind == "text":
            if isinstance(value, str) and value.strip():
                response.answers.append(SurveyAnswer(question_id=q.id, text=value.strip()))
        elif isinstance(value, list):
            for i in sorted(set(value)):
                response.answers.append(SurveyAnswer(question_id=q.id, option=i))
    try:
        with db.session.begin_nested():
            db.session.add(response)
            db.session.flush()
    except IntegrityError:
        raise AlreadyAnswered(_("You have already answered this survey.")) from None
    return response


# --- results ------------------------------------------------------------------------------------------

@dataclass
class Bucket:
    """A column of the results: the survey's unit itself (its own workers) or one of its direct children."""
    unit: OrgUnit
    own: bool  # the survey unit's own workers, not its subtree

    def holds(self, path: str) -> bool:
        return path == self.unit.path if self.own else path.startswith(self.unit.path)


@dataclass
class ChoiceRow:
    label: str
    total: int
    by_bucket: list[int]


@dataclass
class QuestionResult:
    question: SurveyQuestion
    rows: list[ChoiceRow]  # choice questions
    texts: list[tuple[str, str]]  # free texts: (unit name, text)
    answered: int


@dataclass
class Results:
    buckets: list[Bucket]
    respondents: int
    respondents_by_bucket: list[int]
    audience: int
    audience_by_bucket: list[int]
    questions: list[QuestionResult]


def buckets(survey: Survey) -> list[Bucket]:
    return [Bucket(survey.org_unit, True)] + [Bucket(u, False) for u in survey.org_unit.children]


def _bucket_of(columns: list[Bucket], path: str) -> int | None:
    return next((i for i, b in enumerate(columns) if b.holds(path)), None)


def _spread(columns: list[Bucket], by_path: dict[str, int]) -> list[int]:
    out = [0] * len(columns)
    for path, n in by_path.items():
        i = _bucket_of(columns, path)
        if i is not None:
            out[i] += n
    return out


def results(survey: Survey) -> Results:
    """The counts from the rows, grouped by the respondents' unit paths in SQL and placed in buckets here
    (a few hundred paths at most: the communities of a city)."""
    from ..auth.scope import in_subtree

    columns = buckets(survey)
    responses = dict(db.session.execute(
        select(SurveyResponse.org_path, func.count()).where(SurveyResponse.survey_id == survey.id)
        .group_by(SurveyResponse.org_path)).tuples().all())
    audience = dict(db.session.execute(
        select(OrgUnit.path, func.count(func.distinct(User.id))).join(User, User.org_unit_id == OrgUnit.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(in_subtree(OrgUnit.path, survey.org_unit), User.active.is_(True), UserRole.role == "learner")
        .group_by(OrgUnit.path)).tuples().all())
    choice_counts: dict[tuple[int, int], dict[str, int]] = {}
    for question_id, option, path, n in db.session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.option, SurveyResponse.org_path, func.count())
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.survey_id == survey.id, SurveyAnswer.option.is_not(None))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.option, SurveyResponse.org_path)).tuples():
        choice_counts.setdefault((question_id, option or 0), {})[path] = n
    answered = dict(db.session.execute(
        select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id).group_by(SurveyAnswer.question_id)).tuples().all())
    texts: dict[int, list[tuple[str, str]]] = {}
    for question_id, path, text in db.session.execute(
            select(SurveyAnswer.question_id, SurveyResponse.org_path, SurveyAnswer.text)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.survey_id == survey.id, SurveyAnswer.text.is_not(None))).tuples():
        i = _bucket_of(columns, path)
        texts.setdefault(question_id, []).append((columns[i].unit.name if i is not None else "", text or ""))
    out = []
    for q in survey.questions:
        rows = []
        for index, label in enumerate(q.choices):
            spread = _spread(columns, choice_counts.get((q.id, index), {}))
            rows.append(ChoiceRow(label, sum(choice_counts.get((q.id, index), {}).values()), spread))
        out.append(QuestionResult(q, rows, sorted(texts.get(q.id, [])), answered.get(q.id, 0)))
    return Results(columns, sum(responses.values()), _spread(columns, responses), sum(audience.values()),
                   _spread(columns, audience), out)
