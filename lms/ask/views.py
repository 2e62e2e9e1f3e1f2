"""请教一下 pages: the public library, asking, 我也想问, answering; the office's queue, routing and statistics."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.forms import ConfirmForm
from ..auth.scope import (
    can_answer_question,
    can_edit_course,
    can_manage_question,
    can_see_question,
    can_see_unit,
    get_in_scope_or_404,
    managed_questions_filter,
    refuse,
    roles_required,
    scope_unit,
    shows_asker,
)
from ..extensions import db
from ..inputs import id_arg
from ..learning.models import Course
from ..messages import send
from ..orgs.models import OrgUnit
from ..tabular import download, write_xlsx
from ..transaction import discard
from ..util import Page, get_or_none, page_arg
from . import queries, rules
from .forms import AnswerForm, AskForm, LessonForm, RejectForm, RouteForm
from .models import PUBLIC, REJECT_REASONS, STATUSES, AskQuestion, AskVote

bp = Blueprint("ask", __name__, url_prefix="/ask")
PER_PAGE = 20
LISTED = (selectinload(AskQuestion.expert), selectinload(AskQuestion.trainer), selectinload(AskQuestion.answered_by),
          selectinload(AskQuestion.asker))


def _helpers() -> dict:
    return {"shows_asker": shows_asker, "statuses": STATUSES, "reasons": REJECT_REASONS}


def _sort() -> str:
    sort = request.args.get("sort", "votes")
    return sort if sort in queries.SORTS else "votes"


def _topic_choices(other_label: str) -> list[tuple[str, str]]:
    return [(t, t) for t in rules.topic_choices()] + [("other", other_label)]


@bp.route("/")
@login_required
def index():
    """The public library: answered questions (or those waiting for an answer), searched and ranked."""
    show = request.args.get("show", "answered")
    statuses = ("routed",) if show == "waiting" else ("answered",)
    q, topic = request.args.get("q", "").strip()[:100], request.args.get("topic", "").strip()[:100]
    stmt = queries.library(statuses, q, topic, _sort()).options(*LISTED)
    to_answer = db.session.scalar(select(func.count(AskQuestion.id)).where(
        AskQuestion.answerer_id == current_user.id, AskQuestion.status == "routed")) or 0
    return render_template("ask/index.html", page=Page(stmt, page_arg(), PER_PAGE), show=show, q=q, topic=topic,
                           sort=_sort(), topics=_topic_choices(_("Other")), to_answer=to_answer,
                           vote_form=ConfirmForm(), **_helpers())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = AskForm()
    form.topic.choices = [("", _("Other"))] + [(t, t) for t in rules.topic_choices()]
    if form.validate_on_submit():
        try:
            question = rules.ask(current_user, title=form.title.data, body=form.body.data, topic=form.topic.data,
                                 anonymous=form.anonymous.data, files=request.files.getlist(form.attachments.name))
        except rules.AskError as exc:
            discard()
            form.attachments.errors = [str(exc)]
        else:
            flash(_("Your question has been sent to the training office, which will pass it to an expert."), "success")
            return redirect(url_for(".question", question_id=question.id))
    return render_template("ask/form.html", form=form, limits=rules.attachment_limits())


@bp.route("/mine")
@login_required
def mine():
    stmt = (select(AskQuestion).where(AskQuestion.asker_id == current_user.id).options(*LISTED)
            .order_by(AskQuestion.created_at.desc(), AskQuestion.id.desc()))
    return render_template("ask/mine.html", page=Page(stmt, page_arg(), PER_PAGE), **_helpers())


@bp.route("/to-answer")
@login_required
def to_answer():
    """My questions to answer: those routed to me, open ones first."""
    stmt = (select(AskQuestion).where(AskQuestion.answerer_id == current_user.id,
                                      AskQuestion.status.in_(PUBLIC)).options(*LISTED)
            .order_by((AskQuestion.status == "answered"), AskQuestion.routed_at.desc(), AskQuestion.id.desc()))
    return render_template("ask/to_answer.html", page=Page(stmt, page_arg(), PER_PAGE), **_helpers())


def _question(question_id: int) -> AskQuestion:
    return get_in_scope_or_404(AskQuestion, question_id, can_see_question)


@bp.route("/<int:question_id>")
@login_required
def question(question_id):
    q = _question(question_id)
    voted = db.session.scalar(select(AskVote.id).where(AskVote.question_id == q.id,
                                                       AskVote.user_id == current_user.id)) is not None
    return render_template("ask/question.html", q=q, voted=voted, vote_form=ConfirmForm(),
                           may_answer=can_answer_question(current_user, q),
                           may_manage=can_manage_question(current_user, q), **_helpers())


@bp.route("/<int:question_id>/vote", methods=["POST"])
@login_required
def vote(question_id):
    q = _question(question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        added = rules.vote(current_user, q)
    except rules.AskError as exc:
        discard()
        flash(str(exc), "warning")
    else:
        flash(_("Added: you want to know too.") if added else _("You had already added your vote."), "success")
    return redirect(url_for(".question", question_id=question_id))


@bp.route("/<int:question_id>/answer", methods=["GET", "POST"])
@login_required
def answer(question_id):
    q = _question(question_id)
    if not can_answer_question(current_user, q):
        if q.status == "answered":
            refuse(_("Only the answer's author changes an answer."))
        refuse(_("Only the expert or trainer the training office routed the question to answers it."),
               _("If you can help, tell your training office: it may route the question to you."))
    form = AnswerForm(data={"answer": q.answer} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            first = rules.answer(q, current_user, form.answer.data)
        except rules.AskError as exc:
            discard()
            form.answer.errors = [str(exc)]
        else:
            if first:
                _notify_answered(q)
            flash(_("The answer is published in the library.") if first else _("Changes saved."), "success")
            return redirect(url_for(".question", question_id=q.id))
    return render_template("ask/answer.html", q=q, form=form, **_helpers())


def _notify_answered(q: AskQuestion) -> None:
    """Tell the asker, through the message centre (written once the request commits)."""
    send("ask_answered", [q.asker_id], {"question_id": q.id, "title": q.title},
         url=url_for(".question", question_id=q.id))


# --- the office --------------------------------------------------------------------------------

@bp.route("/office")
@roles_required("office", "admin")
def office():
    status = request.args.get("status", "open")
    stmt = select(AskQuestion).where(managed_questions_filter(current_user))
    if status in STATUSES:
        stmt = stmt.where(AskQuestion.status == status)
    stmt = queries.ordered(queries.matching(stmt, request.args.get("q", "")[:100]), _sort()).options(
        *LISTED, selectinload(AskQuestion.org_unit))
    return render_template("ask/office.html", page=Page(stmt, page_arg(), PER_PAGE), status=status, sort=_sort(),
                           q=request.args.get("q", "")[:100], **_helpers())


def _managed(question_id: int) -> AskQuestion:
    return get_in_scope_or_404(AskQuestion, question_id, can_manage_question)


def _draft_courses() -> list[Course]:
    courses = db.session.scalars(select(Course).where(Course.status.in_(("draft", "returned")),
                                                      Course.revision_of_id.is_(None))
                                 .order_by(Course.updated_at.desc()).limit(200))
    return [c for c in courses if can_edit_course(current_user, c)]


@bp.route("/office/<int:question_id>")
@roles_required("office", "admin")
def manage(question_id):
    q = _managed(question_id)
    route_form, lesson_form = RouteForm(), LessonForm()
    route_form.target.choices = [("", "—"), *rules.answerer_choices()]
    if q.expert_id:
        route_form.target.data = f"expert:{q.expert_id}"
    elif q.trainer_id:
        route_form.target.data = f"trainer:{q.trainer_id}"
    lesson_form.course_id.choices = [(0, _("A new draft course"))] + [(c.id, c.title) for c in _draft_courses()]
    return render_template("ask/manage.html", q=q, route_form=route_form, reject_form=RejectForm(),
                           lesson_form=lesson_form, may_answer=can_answer_question(current_user, q), **_helpers())


@bp.route("/office/<int:question_id>/route", methods=["POST"])
@roles_required("office", "admin")
def route(question_id):
    q = _managed(question_id)
    form = RouteForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for(".manage", question_id=q.id))
    try:
        rules.route(q, current_user, form.target.data)
    except rules.AskError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".manage", question_id=question_id))
    flash(_("Routed to %(name)s.", name=(q.expert or q.trainer).name), "success")
    return redirect(url_for(".office"))


@bp.route("/office/<int:question_id>/reject", methods=["POST"])
@roles_required("office", "admin")
def reject(question_id):
    q = _managed(question_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for(".manage", question_id=q.id))
    try:
        rules.reject(q, current_user, form.reason.data, form.note.data)
    except rules.AskError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".manage", question_id=question_id))
    flash(_("The question was not accepted; the asker sees the reason."), "success")
    return redirect(url_for(".office"))


@bp.route("/office/<int:question_id>/lesson", methods=["POST"])
@roles_required("office", "admin")
def lesson(question_id):
    q = _managed(question_id)
    form = LessonForm()
    if not form.validate_on_submit():
        flash(_("Choose the course to put the lesson in."), "danger")
        return redirect(url_for(".manage", question_id=q.id))
    course = None
    if form.course_id.data:
        course = get_or_none(Course, form.course_id.data)
        if course is None or not can_edit_course(current_user, course):
            abort(404)
    try:
        made = rules.make_lesson(q, current_user, course)
    except rules.AskError as exc:
        discard()
        flash(str(exc), "danger")
        return redirect(url_for(".manage", question_id=question_id))
    flash(_("The lesson draft is ready: check it, then submit the course for review."), "success")
    return redirect(url_for("learning.edit_lesson", lesson_id=made.id))


def _stats_unit() -> OrgUnit:
    ident = id_arg("unit", _("Org unit"))
    if ident is None:
        unit = scope_unit(current_user)
        if unit is None:
            abort(404)
        return unit
    return get_in_scope_or_404(OrgUnit, ident, can_see_unit)


@bp.route("/office/stats")
@roles_required("office", "admin")
def stats():
    unit = _stats_unit()
    up = unit.parent if unit.parent is not None and can_see_unit(current_user, unit.parent) else None
    return render_template("ask/stats.html", stats=queries.stats(unit, _("Asked at %(unit)s itself", unit=unit.name)),
                           up=up)


@bp.route("/office/stats.xlsx")
@roles_required("office", "admin")
def stats_export():
    unit = _stats_unit()
    s = queries.stats(unit, _("Asked at %(unit)s itself", unit=unit.name))

    def hours(t: queries.Tally):
        return None if t.median_hours is None else round(t.median_hours, 1)

    rows = [[_("Org unit"), t.label, t.asked, t.answered, t.open, t.rejected, hours(t)] for t in [s.total, *s.units]]
    rows += [[_("Answerer"), t.label, t.asked, t.answered, t.open, t.rejected, hours(t)] for t in s.answerers]
    headers = [_("Counted by"), _("Name"), _("Asked"), _("Answered"), _("Not yet answered"), _("Declined"),
               _("Median hours to answer")]
    data = write_xlsx(_("Questions to experts"), headers, rows, widths=[12, 30, 10, 10, 10, 12, 20])
    return download(data, _("Questions to experts statistics %(unit)s.xlsx", unit=unit.name))
