"""Mock exams for workers: start, take (autosave), submit, results, mistakes book, practice,
progress toward the certificate; exam days for offices; marking and item analysis for trainers."""
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import cast

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from .. import clock
from ..auth import choices
from ..auth.forms import ConfirmForm
from ..auth.models import User, account_id_only
from ..auth.scope import (
    above,
    assignable_markers,
    can_assign_marking_to,
    can_mark_attempt,
    can_see_attempt,
    can_see_unit,
    can_see_unit_record,
    can_see_user,
    can_sit_mock_day,
    can_verify_results_of,
    get_in_scope_or_404,
    in_scope_or_404,
    markable_answers_filter,
    marks_blind,
    owns,
    roles_required,
    scope_unit,
    unit_filter,
    verifiable_results,
    visible_marking_assignments_filter,
    visible_units,
)
from ..database import begin_writing, utcnow, writes_late
from ..extensions import db
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_choices
from ..prep import review
from ..transaction import discard
from ..util import MAX_ID, Page, get_or_404, get_or_none, local_to_utc, page_arg, safe_next, utc_to_local
from . import analysis, attempts, mock_days, practice, real_results
from .mock_forms import MarkingAssignmentForm, MockDayForm, RealResultForm, RejectResultForm
from .models import (
    Attempt,
    AttemptAnswer,
    Exam,
    ExamSubject,
    MarkingAssignment,
    MockExamDay,
    Question,
    RealExamResult,
)

bp = Blueprint("mock", __name__, url_prefix="/mock")


def _my_attempt(attempt_id: int, *options) -> Attempt:
    return get_in_scope_or_404(Attempt, attempt_id, owns, options=options)


# --- the worker's exam page -----------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    exams = db.session.scalars(select(Exam).where(Exam.active.is_(True), Exam.kind == "mock")
                               .order_by(Exam.subject_id)).all()
    days = _open_days_for(current_user)
    mine = db.session.scalars(select(Attempt).where(Attempt.user_id == current_user.id)
                              .order_by(Attempt.started_at.desc()).limit(50)).all()
    return render_template("mock/index.html", exams=exams, days=days, attempts=mine, form=ConfirmForm(), now=utcnow())


def _open_days_for(user) -> list[MockExamDay]:
    now = utcnow()
    stmt = (select(MockExamDay).join(OrgUnit, MockExamDay.org_unit_id == OrgUnit.id)
            .where(MockExamDay.closes_at > now, above(user.org_unit))
            .order_by(MockExamDay.opens_at))
    return list(db.session.scalars(stmt))


@bp.route("/exams/<int:exam_id>/start", methods=["POST"])
@login_required
@writes_late
def start(exam_id):
    exam = get_or_404(Exam, exam_id)
    if exam.kind != "mock":
        abort(404)  # a course's quiz starts from its course page (lessons first, retries counted)
    return _start(exam, None)


@bp.route("/days/<int:day_id>/start", methods=["POST"])
@login_required
@writes_late
def start_day(day_id):
    day = get_in_scope_or_404(MockExamDay, day_id, can_sit_mock_day)
    return _start(day.exam, day)


def _start(exam: Exam, day: MockExamDay | None):
    """Resume the open attempt, or assemble a paper (reading the bank, ~20 ms) before taking the
    write lock, then start: attempts.start() checks everything again under the lock."""
    try:
        existing = attempts.open_attempt(current_user, exam, day)
        if existing is not None and utcnow() <= existing.deadline_at:
            return redirect(url_for(".attempt", attempt_id=existing.id))
        prepared = attempts.prepare(exam)
        begin_writing()
        attempt = attempts.start(current_user, exam, mock_day=day, prepared=prepared)
    except attempts.AttemptError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".index"))
    return redirect(url_for(".attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id):
    attempt = _my_attempt(attempt_id)
    # Past its deadline but not yet graded: the page shows the time is up and submits (a POST);
    # the sweeper grades it anyway if nobody comes back. A GET never changes anything.
    if attempt.status != "in_progress":
        return redirect(url_for(".result", attempt_id=attempt.id))
    return render_template("mock/take.html", attempt=attempt, paper=attempts.public_paper(attempt), form=ConfirmForm())


@bp.route("/attempts/<int:attempt_id>/state.json")
@login_required
def state(attempt_id):
    """What the server holds: the acknowledged answers, the deadline and the server's clock."""
    attempt = _my_attempt(attempt_id, defer(Attempt.paper))
    answers = {a.item: {"response": a.response, "seq": a.seq, "flagged": a.flagged}
               for a in attempts.saved_answers(attempt).values()}
    response = jsonify({"status": attempt.status, "answers": answers, "deadline": attempt.deadline_at.isoformat() + "Z",
                        "now": utcnow().isoformat() + "Z"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@login_required
@account_id_only
@writes_late
def save_answer(attempt_id):
    """Save answers: {"answers": [{"item", "response", "seq"}, …]} → {"ok", "saved": {item: seq},
    "rejected": {item: why}} (exam.js sends every unacknowledged answer in one request), or one
    answer {"item", "response", "seq"} → {"ok", "item", "seq"} (400 if it cannot be stored)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("The request must be JSON.")), 400
    single = "answers" not in data
    user_id = current_user.id  # read before begin_writing() expires the user
    begin_writing()  # whose attempt it is and its state are read under the lock
    try:
        stored, rejected = attempts.save_many(attempt_id, [data] if single else data["answers"], user_id=user_id)
    except attempts.NotFound:
        discard()
        abort(404)
    except attempts.DeadlinePassed as exc:
        discard()
        return jsonify(error=str(exc), closed=True), 409
    except attempts.AttemptError as exc:
        discard()
        return jsonify(error=str(exc)), 400
    if not single:
        return jsonify(ok=True, saved=stored, rejected=rejected)
    if rejected:
        return jsonify(error=next(iter(rejected.values()))), 400
    item = str(data.get("item"))
    return jsonify(ok=True, item=item, seq=stored[item])


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id):
    attempt = _my_attempt(attempt_id)
    attempts.finish(attempt)  # a second submit finds it finished and grades nothing
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ok=True, status=attempt.status, score=str(attempt.score))
    return redirect(url_for(".result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id):
    attempt = get_in_scope_or_404(Attempt, attempt_id, can_see_attempt)
    if attempt.status == "in_progress":
        in_scope_or_404(attempt, owns)  # an unfinished paper is its candidate's alone
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    answers = attempts.saved_answers(attempt)
    topics = attempts.topic_scores(attempt, answers)
    # The filters are query arguments (the page works without JavaScript; result.js applies them at once).
    wrong_only = request.args.get("wrong") == "1"
    topic = request.args.get("topic") or None
    if topic not in {t["topic"] for t in topics}:
        topic = None
    wrong = attempts.wrong_items(attempt, answers)
    return render_template("mock/result.html", attempt=attempt, answers=answers,
                           sections=attempts.section_scores(attempt, answers), topics=topics, wrong=wrong,
                           shown=attempts.shown_items(attempt, wrong, wrong_only, topic), wrong_only=wrong_only,
                           topic=topic, total=len(attempts.answerable(attempt)))


# --- mistakes book and practice ------------------------------------------------------------------------------

@bp.route("/mistakes")
@login_required
def mistakes():
    rows = review.book(current_user.id)
    return render_template("mock/mistakes.html", rows=rows, subjects_due=review.subjects_due(rows),
                           due_total=sum(r.due_today for r in rows), learned=sum(r.learned for r in rows),
                           learned_days=current_app.config["PREP_LEARNED_DAYS"])


@bp.route("/practice", methods=["GET", "POST"])
@login_required
def practice_view():
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position)).all()
    subject = get_or_none(ExamSubject, request.values.get("subject", type=int))
    by_subject = practice.topics_by_subject(subjects)
    topics = by_subject.get(subject.id, []) if subject else []
    topic = request.values.get("topic") or None
    if subject and topic not in topics:  # a topic of the subject chosen before (the form without scripts)
        topic = None
    source = "mistakes" if request.values.get("source") == "mistakes" else "bank"
    lists = {"topics": topics, "topics_by_subject": by_subject}
    feedback = None
    if request.method == "POST":
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        question = get_or_404(Question, request.form.get("question", type=int))
        if not practice.practisable(question):
            abort(404)
        feedback = practice.answer(current_user, question, practice.response_from_form(question, request.form),
                                   "review" if source == "mistakes" else "practice")
        return render_template("mock/practice.html", subjects=subjects, subject=subject, topic=topic, source=source,
                               question=question, feedback=feedback, form=ConfirmForm(), **lists)
    shown = practice.next_question(current_user, subject, topic, source)
    return render_template("mock/practice.html", subjects=subjects, subject=subject, topic=topic, source=source,
                           question=shown, feedback=None, form=ConfirmForm(), **lists)


# --- progress toward the certificate ------------------------------------------------------------------------

@bp.route("/progress", methods=["GET", "POST"])
@login_required
def progress_view():
    return _progress_page(current_user)


@bp.route("/progress/<int:user_id>", methods=["GET", "POST"])
@roles_required("office", "admin")
def learner_progress(user_id):
    return _progress_page(get_in_scope_or_404(User, user_id, can_see_user))


def _progress_page(user):
    """The worker's levels and results; the form to enter a result (the worker's own: pending;
    an office's for a worker in its scope: verified at once if it says so)."""
    may_verify = can_verify_results_of(current_user, user)
    form = RealResultForm()
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position)).all()
    form.subject_id.choices = [("", _("Choose a subject"))] + [(str(s.id), s.name) for s in subjects]
    if not may_verify:
        del form.verify
    if request.method == "GET":
        form.exam_year.data = str(clock.this_year())
    if form.validate_on_submit():
        subject = get_or_404(ExamSubject, int(form.subject_id.data or 0))
        try:
            # the form's validators leave an int year and a Decimal (or None) score in .data
            row, raised = real_results.record(user, subject, cast(int, form.exam_year.data), form.passed.data == "1",
                                              cast(Decimal | None, form.score.data), current_user,
                                              may_verify=may_verify,
                                              verify=may_verify and form.verify.data)
        except real_results.ResultError as exc:
            discard()
            form.subject_id.errors = [*form.subject_id.errors, str(exc)]
        else:
            if row.status == "verified":
                flash(_("Result saved and verified."), "success")
            else:
                flash(_("Result saved. It counts toward the certificate once your training office has verified it."),
                      "success")
            if raised:
                flash(_("%(name)s now holds %(level)s: the profile has been updated.", name=user.name,
                        level=choices.label(choices.CERT_LEVELS, raised)), "success")
            return redirect(request.path)
    levels, real, mock_best, mock_passed = real_results.progress(user)
    return render_template("mock/progress.html", learner=user, levels=levels, real=real, mock_best=mock_best,
                           mock_passed=mock_passed, form=form, may_verify=may_verify, review=ConfirmForm(),
                           reject=RejectResultForm(), cert_levels=choices.CERT_LEVELS)


# --- the office's verification queue ---------------------------------------------------------------------------

@bp.route("/results")
@roles_required("office", "admin")
def results_queue():
    # One worker's results together (an office checks one score report at a time), by community.
    stmt = (verifiable_results(current_user).where(RealExamResult.status == "pending")
            .options(selectinload(RealExamResult.user), selectinload(RealExamResult.subject),
                     selectinload(RealExamResult.entered_by))
            .order_by(OrgUnit.path, User.name, User.id, RealExamResult.exam_year, RealExamResult.subject_id))
    return render_template("mock/results_queue.html", page=Page(stmt, page_arg(), 50), review=ConfirmForm(),
                           reject=RejectResultForm())


def _result_to_review(result_id: int) -> RealExamResult:
    """A result the current office may verify: anything else (another area, its own) is 404."""
    row = None
    if 0 < result_id <= MAX_ID:
        row = db.session.scalar(verifiable_results(current_user).where(RealExamResult.id == result_id))
    if row is None:
        abort(404)
    return row


def _back(row: RealExamResult):
    return redirect(safe_next(request.form.get("next"), url_for(".results_queue")))


@bp.route("/results/<int:result_id>/verify", methods=["POST"])
@roles_required("office", "admin")
def verify_result(result_id):
    row = _result_to_review(result_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        raised = real_results.verify_result(row, current_user)
    except real_results.ResultError as exc:
        discard()
        flash(str(exc), "warning")
        return _back(row)
    flash(_("Verified: %(name)s, %(subject)s %(year)d.", name=row.user.name, subject=row.subject.name,
            year=row.exam_year), "success")
    if raised:
        flash(_("%(name)s now holds %(level)s: the profile has been updated.", name=row.user.name,
                level=choices.label(choices.CERT_LEVELS, raised)), "success")
    return _back(row)


@bp.route("/results/<int:result_id>/reject", methods=["POST"])
@roles_required("office", "admin")
def reject_result(result_id):
    row = _result_to_review(result_id)
    form = RejectResultForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return _back(row)
    try:
        real_results.reject_result(row, current_user, form.reason.data or "")
    except real_results.ResultError as exc:
        discard()
        flash(str(exc), "warning")
        return _back(row)
    flash(_("Not accepted: %(name)s, %(subject)s %(year)d. The worker sees your reason.", name=row.user.name,
            subject=row.subject.name, year=row.exam_year), "success")
    return _back(row)


# --- exam days (offices) ---------------------------------------------------------------------------------------

def _day_in_scope(day_id: int) -> MockExamDay:
    return get_in_scope_or_404(MockExamDay, day_id, can_see_unit_record)


@bp.route("/days")
@roles_required("office", "admin")
def days():
    rows = db.session.scalars(select(MockExamDay).join(OrgUnit, MockExamDay.org_unit_id == OrgUnit.id)
                              .where(unit_filter(current_user)).order_by(MockExamDay.opens_at.desc())).all()
    return render_template("mock/days.html", days=rows)


@bp.route("/days/new", methods=["GET", "POST"])
@roles_required("office", "admin")
def new_day():
    form = MockDayForm()
    form.exam_id.choices = [(e.id, e.name) for e in db.session.scalars(select(Exam).where(Exam.active.is_(True),
                                                                                        Exam.kind == "mock"))]
    form.org_unit_id.choices = unit_choices(visible_units(current_user))
    if request.method == "GET":
        start = utc_to_local(utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        form.opens_at.data, form.closes_at.data = start, start + timedelta(hours=4)
    if form.validate_on_submit():
        unit = in_scope_or_404(db.session.get(OrgUnit, form.org_unit_id.data), can_see_unit)
        exam = get_or_404(Exam, form.exam_id.data)
        opens, closes = local_to_utc(form.opens_at.data), local_to_utc(form.closes_at.data)
        try:
            day = mock_days.schedule_day(title=form.title.data or "", exam=exam, unit=unit, opens_at=opens,
                                         closes_at=closes, stagger_minutes=form.stagger_minutes.data or 0,
                                         by=current_user)
        except mock_days.MockDayError as exc:
            discard()
            form.closes_at.errors = [*form.closes_at.errors, str(exc)]
        else:
            flash(_("Mock exam scheduled."), "success")
            return redirect(url_for(".day", day_id=day.id))
    return render_template("mock/day_form.html", form=form)


@bp.route("/days/<int:day_id>")
@roles_required("office", "admin")
def day(day_id):
    day = _day_in_scope(day_id)
    figures = analysis.day_figures(day, current_user)
    return render_template("mock/day.html", day=day, figures=figures)


# --- marking and item analysis (trainers, offices) ---------------------------------------------------------------

def _markable_answer(answer_id: int) -> tuple[AttemptAnswer, Attempt]:
    """A written answer the viewer may mark (scope.markable_answers_filter); anything else is a 404."""
    answer = get_or_404(AttemptAnswer, answer_id)
    attempt = in_scope_or_404(db.session.get(Attempt, answer.attempt_id), can_mark_attempt)
    return answer, attempt


@bp.route("/marking")
@roles_required("trainer", "office", "admin")
def marking():
    rows = db.session.execute(
        select(AttemptAnswer, Attempt).join(Attempt, AttemptAnswer.attempt_id == Attempt.id)
        .where(AttemptAnswer.score.is_(None), Attempt.status == "submitted", markable_answers_filter(current_user))
        .options(defer(Attempt.paper), selectinload(Attempt.user).selectinload(User.org_unit))
        .order_by(Attempt.submitted_at, AttemptAnswer.id).limit(200)).all()
    named = {attempt.id for _answer, attempt in rows if not marks_blind(current_user, attempt)}
    return render_template("mock/marking.html", rows=rows, named=named,
                           can_assign=current_user.has_role("office", "admin"))


@bp.route("/marking/<int:answer_id>", methods=["GET", "POST"])
@roles_required("trainer", "office", "admin")
def mark(answer_id):
    answer, attempt = _markable_answer(answer_id)
    item = attempt.paper["items"][answer.item]
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            score = Decimal(request.form.get("score", "").strip())
            attempts.mark(attempt, answer.item, score, current_user, request.form.get("feedback", ""))
        except (InvalidOperation, attempts.AttemptError) as exc:
            discard()
            flash(str(exc) if isinstance(exc, attempts.AttemptError) else _("The score must be a number."), "danger")
        else:
            flash(_("Marked."), "success")
            return redirect(url_for(".marking"))
    case = None
    if "." in answer.item:
        case = attempt.paper["items"].get(answer.item.split(".")[0])
    return render_template("mock/mark.html", answer=answer, attempt=attempt, item=item, case=case, form=form,
                           named=not marks_blind(current_user, attempt))


def _assignment_targets() -> list[tuple[str, str]]:
    """What an office may hand out: any active exam (its workers' sittings), or one of its exam days."""
    exams = db.session.scalars(select(Exam).where(Exam.active.is_(True), Exam.kind == "mock")
                               .order_by(Exam.subject_id, Exam.id)).all()
    days = db.session.scalars(select(MockExamDay).join(OrgUnit, MockExamDay.org_unit_id == OrgUnit.id)
                              .where(unit_filter(current_user)).order_by(MockExamDay.opens_at.desc()).limit(100)).all()
    return ([(f"exam:{e.id}", _("Exam: %(name)s", name=e.name)) for e in exams]
            + [(f"day:{d.id}", _("Exam day: %(title)s (%(unit)s)", title=d.title, unit=d.org_unit.name)) for d in days])


@bp.route("/marking/assignments", methods=["GET", "POST"])
@roles_required("office", "admin")
def marking_assignments():
    form = MarkingAssignmentForm()
    form.target.choices = _assignment_targets()
    trainers = db.session.scalars(assignable_markers(current_user).order_by(OrgUnit.path, User.username)).all()
    form.trainer_id.choices = [(t.id, f"{t.name}（{t.username} · {t.org_unit.name}）") for t in trainers]
    if request.method == "GET" and request.args.get("target") in dict(form.target.choices):
        form.target.data = request.args["target"]  # from an exam day's page
    if form.validate_on_submit():
        trainer = get_or_404(User, form.trainer_id.data)
        kind, _sep, target_id = (form.target.data or "").partition(":")
        day = get_or_404(MockExamDay, int(target_id)) if kind == "day" else None
        exam = day.exam if day is not None else get_or_404(Exam, int(target_id))
        unit = day.org_unit if day is not None else scope_unit(current_user)
        if unit is None or not can_assign_marking_to(current_user, trainer) or not can_see_unit(current_user, unit):
            abort(404)

        same = db.session.scalar(select(MarkingAssignment.id).where(
            MarkingAssignment.trainer_id == trainer.id, MarkingAssignment.exam_id == exam.id,
            MarkingAssignment.org_unit_id == unit.id,
            MarkingAssignment.mock_day_id.is_(None) if day is None else MarkingAssignment.mock_day_id == day.id))
        if same is None:
            db.session.add(MarkingAssignment(exam_id=exam.id, mock_day_id=day.id if day else None, org_unit_id=unit.id,
                                             trainer_id=trainer.id, assigned_by_id=current_user.id))
        flash(_("%(name)s now marks these answers.", name=trainer.name), "success")
        return redirect(url_for(".marking_assignments"))
    rows = db.session.scalars(select(MarkingAssignment).where(visible_marking_assignments_filter(current_user))
                              .order_by(MarkingAssignment.created_at.desc(), MarkingAssignment.id.desc())).all()
    return render_template("mock/marking_assignments.html", form=form, rows=rows, confirm=ConfirmForm())


@bp.route("/marking/assignments/<int:assignment_id>/delete", methods=["POST"])
@roles_required("office", "admin")
def withdraw_marking(assignment_id):
    row = get_in_scope_or_404(MarkingAssignment, assignment_id, can_see_unit_record)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    db.session.delete(row)
    flash(_("Assignment withdrawn."), "success")
    return redirect(url_for(".marking_assignments"))


@bp.route("/analysis")
@roles_required("trainer", "office", "admin")
def item_analysis():
    exams = db.session.scalars(select(Exam).order_by(Exam.subject_id)).all()
    exam = get_or_none(Exam, request.args.get("exam", type=int))
    rows = analysis.item_analysis(exam) if exam else []
    return render_template("mock/analysis.html", exams=exams, exam=exam, rows=rows)
