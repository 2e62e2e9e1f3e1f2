"""Class evaluations and needs surveys: workers fill them in, trainers and offices read the results."""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import clock
from ..auth.forms import ConfirmForm
from ..auth.scope import (
    can_answer_survey,
    can_evaluate,
    can_manage_training,
    can_see_evaluations,
    can_see_survey,
    can_see_unit,
    get_in_scope_or_404,
    in_scope_or_404,
    roles_required,
    scope_unit,
    sees_evaluation_completion,
    visible_surveys_filter,
    visible_units,
)
from ..database import utcnow
from ..extensions import db
from ..library.models import Trainer
from ..markdown import render_markdown
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_choices
from ..tabular import download
from ..training.models import Training
from ..transaction import discard
from ..util import Page, get_or_none, local_to_utc, page_arg, utc_to_local
from . import evaluations, exports, needs
from . import tasks as _tasks  # noqa: F401 (the periodic call for evaluations)
from .forms import SurveyForm
from .models import QUESTION_KINDS, STARS, Survey, SurveyResponse

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.app_context_processor
def _labels():
    return {"STARS": STARS, "QUESTION_KINDS": QUESTION_KINDS}


# --- workers ---------------------------------------------------------------------------------------------

@bp.route("/mine")
@roles_required("learner")
def mine():
    """待评价 and the needs surveys open to the worker."""
    return render_template("surveys/mine.html", due=evaluations.due_for(current_user),
                           surveys=needs.open_for(current_user))


def _answers(training: Training) -> evaluations.Answers:
    def number(name: str) -> int | None:
        value = request.form.get(name, "")
        return int(value) if value.isdigit() else None

    return evaluations.Answers(
        overall=number("overall"), comment=request.form.get("comment", ""),
        ratings={t.id: number(f"trainer-{t.id}") for t in training.trainers},
        comments={t.id: request.form.get(f"trainer-comment-{t.id}", "") for t in training.trainers})


def _evaluation_page(training: Training, existing, answers=None, errors=None, status: int = 200):
    if answers is None and existing is not None:
        answers = evaluations.Answers(existing.overall, existing.comment,
                                      {r.trainer_id: r.rating for r in existing.ratings},
                                      {r.trainer_id: r.comment for r in existing.ratings})
    return render_template("surveys/evaluate.html", training=training, existing=existing,
                           answers=answers or evaluations.Answers(None), errors=errors or {},
                           state=evaluations.state(training), deadline=evaluations.deadline(training),
                           form=ConfirmForm()), status


def _save(training: Training, existing, save):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    answers = _answers(training)
    errors = evaluations.problems(training, answers)
    if errors and evaluations.state(training) == "open":
        return _evaluation_page(training, existing, answers, errors, 400)
    try:
        save(answers)
    except evaluations.AlreadyEvaluated as exc:
        discard()
        flash(str(exc), "warning")
    except evaluations.EvaluationError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("Thank you: your evaluation is saved. You may change it until %(day)s.",
                day=utc_to_local(evaluations.deadline(training)).strftime("%Y-%m-%d")), "success")
    return redirect(url_for(".evaluate", training_id=training.id))


@bp.route("/classes/<int:training_id>/evaluate", methods=["GET", "POST"])
@login_required
def evaluate(training_id):
    """The worker's evaluation of a class: a new one (POST here), or theirs to change (POST …/change)."""
    training = get_in_scope_or_404(Training, training_id, can_evaluate)
    existing = evaluations.mine(training, current_user)
    if request.method == "POST":
        return _save(training, existing, lambda a: evaluations.submit(training, current_user, a))
    return _evaluation_page(training, existing)


@bp.route("/classes/<int:training_id>/evaluate/change", methods=["POST"])
@login_required
def change_evaluation(training_id):
    training = get_in_scope_or_404(Training, training_id, can_evaluate)
    existing = evaluations.mine(training, current_user)
    if existing is None:
        return redirect(url_for(".evaluate", training_id=training.id))
    return _save(training, existing, lambda a: evaluations.change(existing, training, current_user, a))


# --- trainers and offices: evaluation results -------------------------------------------------------------

def _shown_results(training: Training) -> tuple[evaluations.ClassResults, bool, bool]:
    """The results the viewer may read, whether they see the figures (the small-number rule: a trainer
    sees none below EVALUATION_MIN_SHOWN evaluations) and whether they see completion (offices)."""
    results = evaluations.class_results(training)
    office = sees_evaluation_completion(current_user, training)
    if not office:  # a trainer reads their own rows
        results.trainers = [r for r in results.trainers if r.trainer.user_id == current_user.id]
    return results, office or results.count >= evaluations.min_shown(), office


@bp.route("/classes/<int:training_id>/evaluations")
@login_required
def class_results(training_id):
    training = get_in_scope_or_404(Training, training_id, can_see_evaluations)
    results, shown, office = _shown_results(training)
    return render_template("surveys/class_results.html", training=training, results=results, shown=shown,
                           office=office, completion=evaluations.completion(training) if office else None,
                           minimum=evaluations.min_shown(), state=evaluations.state(training),
                           deadline=evaluations.deadline(training))


@bp.route("/classes/<int:training_id>/evaluations.xlsx")
@roles_required("office", "admin")
def class_export(training_id):
    training = get_in_scope_or_404(Training, training_id, can_manage_training)
    return download(exports.evaluations_xlsx(training), f"training-{training.id}-evaluations.xlsx")


@bp.route("/teaching")
@roles_required("trainer")
def teaching():
    """A trainer's classes with their evaluation counts, and their running rating."""
    records = db.session.scalars(select(Trainer).where(Trainer.user_id == current_user.id)).all()
    classes = db.session.scalars(
        select(Training).where(Training.trainers.any(Trainer.user_id == current_user.id), Training.status != "draft")
        .options(joinedload(Training.org_unit)).order_by(Training.registration_deadline.desc(), Training.id.desc())
    ).unique().all()
    return render_template("surveys/teaching.html", classes=classes, counts=evaluations.counts([t.id for t in classes]),
                           ratings=[(r, evaluations.trainer_rating(r.id)) for r in records],
                           minimum=evaluations.min_shown())


# --- offices: needs surveys ---------------------------------------------------------------------------------

@bp.route("/")
@roles_required("office", "admin")
def index():
    stmt = (select(Survey).where(visible_surveys_filter(current_user)).options(joinedload(Survey.org_unit))
            .order_by(Survey.deadline.desc(), Survey.id.desc()))
    page = Page(stmt, page_arg(), 50)
    ids = [s.id for s in page.items]
    answered = dict(db.session.execute(select(SurveyResponse.survey_id, func.count()).where(
        SurveyResponse.survey_id.in_(ids)).group_by(SurveyResponse.survey_id)).tuples().all()) if ids else {}
    return render_template("surveys/index.html", page=page, answered=answered, now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("office", "admin")
def create():
    form = SurveyForm()
    form.org_unit_id.choices = unit_choices(visible_units(current_user))
    if request.method == "GET":
        root = scope_unit(current_user)
        form.org_unit_id.data = root.id if root else None
        form.deadline.data = (clock.local_now() + timedelta(days=14)).replace(hour=18, minute=0, second=0,
                                                                             microsecond=0)
    if form.validate_on_submit():
        unit = in_scope_or_404(get_or_none(OrgUnit, form.org_unit_id.data), can_see_unit)
        drafts = [needs.QuestionDraft(kind=q.kind.data or "", text=q.text.data or "",
                                      options=(q.options.data or "").splitlines(), required=bool(q.required.data))
                  for q in form.questions if (q.text.data or "").strip() or (q.options.data or "").strip()]
        try:
            survey = needs.create(current_user, unit, form.title.data or "", form.description.data or "",
                                  local_to_utc(form.deadline.data), drafts)
        except needs.SurveyError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Survey sent: the workers of %(unit)s can answer it until its deadline.", unit=unit.name),
                  "success")
            return redirect(url_for(".results", survey_id=survey.id))
    return render_template("surveys/form.html", form=form)


@bp.route("/<int:survey_id>/results")
@roles_required("office", "admin")
def results(survey_id):
    survey = get_in_scope_or_404(Survey, survey_id, can_see_survey)
    return render_template("surveys/results.html", survey=survey, results=needs.results(survey),
                           open=needs.is_open(survey), body=render_markdown(survey.description))


@bp.route("/<int:survey_id>/results.xlsx")
@roles_required("office", "admin")
def export(survey_id):
    survey = get_in_scope_or_404(Survey, survey_id, can_see_survey)
    return download(exports.survey_xlsx(survey, needs.results(survey)), f"survey-{survey.id}-results.xlsx")


# --- workers: answering a survey ----------------------------------------------------------------------------

def _given(survey: Survey) -> needs.Given:
    given: needs.Given = {}
    for q in survey.questions:
        if q.kind == "text":
            given[q.id] = request.form.get(f"q-{q.id}", "")
        else:
            given[q.id] = [int(v) for v in request.form.getlist(f"q-{q.id}") if v.isdigit()]
    return given


@bp.route("/<int:survey_id>", methods=["GET", "POST"])
@login_required
def respond(survey_id):
    survey = get_in_scope_or_404(Survey, survey_id, can_answer_survey)
    response = needs.response_of(survey, current_user)
    given: needs.Given = {}
    errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        given = _given(survey)
        errors = needs.answer_problems(survey, given) if response is None and needs.is_open(survey) else {}
        if errors:
            status = 400
        else:
            try:
                needs.answer(survey, current_user, given)
            except needs.AlreadyAnswered as exc:
                discard()
                flash(str(exc), "warning")
            except needs.SurveyError as exc:
                discard()
                flash(str(exc), "danger")
            else:
                flash(_("Thank you: your answers are saved."), "success")
                return redirect(url_for(".mine"))
            return redirect(url_for(".respond", survey_id=survey.id))
    return render_template("surveys/respond.html", survey=survey, response=response, given=given, errors=errors,
                           open=needs.is_open(survey), body=render_markdown(survey.description),
                           form=ConfirmForm()), status
