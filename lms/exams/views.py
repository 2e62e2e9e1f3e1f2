"""题库 pages for trainers, offices and admins. Learners get 403 on every one of them: the pages show
answers and explanations (DESIGN.md §4, no answer leaks)."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, lazyload

from .. import clock, inputs
from ..auth.scope import QUESTION_REVIEWERS, can_review_questions, roles_required
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..imports import Outcome, run_import
from ..markdown import plain_text, render_markdown
from ..tabular import download
from ..transaction import discard
from ..util import Page, get_or_404, page_arg
from . import bank, qtypes, topics
from .assembly import option_rules
from .forms import (
    ImportQuestionsForm,
    QuestionForm,
    StatusForm,
    fill_form,
    options_shown,
    question_data,
    question_form,
)
from .interchange import FORMATS, export_gift, import_file, imported_message, xlsx_template
from .models import DIFFICULTIES, LEVELS, STATUSES, TYPES, ExamSubject, Question

bp = Blueprint("exams", __name__, url_prefix="/exams")

STAFF = ("trainer", "office", "admin")      # see the bank, write questions, import and export
EXPORT_STATUSES = {"active": (_l("Active only"), ("active",)),
                   "usable": (_l("Active and drafts"), ("active", "draft")),
                   "all": (_l("All, retired ones too"), tuple(STATUSES))}


@bp.context_processor
def _helpers():
    return {"markdown": render_markdown, "TYPES": TYPES, "STATUSES": STATUSES, "DIFFICULTIES": DIFFICULTIES,
            "LEVELS": LEVELS, "excerpt": lambda text: plain_text(text, 90),
            "pts": lambda d: "" if d is None else f"{d.normalize():f}"}


def _subject_choices():
    return [(s.id, s.name) for s in bank.subjects()]


# What the bank's list leaves unread: the answer side of each question (JSON decoded per row) and its
# subject (a join per row; the list names none). Read when used, as always.
BANK_LIST = (defer(Question.options), defer(Question.answer), defer(Question.explanation), defer(Question.reference),
             lazyload(Question.subject))


@bp.route("/")
@roles_required(*STAFF)
def index():
    args = request.args
    subject_id = inputs.id_arg("subject", _("Subject"))
    filters = {"subject_id": subject_id, "topic": args.get("topic", "").strip() or None, "qtype": args.get("type"),
               "difficulty": inputs.arg("difficulty", lambda raw, field: inputs.whole(raw, field, 1, 3),
                                        _("Difficulty")),
               "status": args.get("status"),
               "search": args.get("q", "").strip() or None}
    page = Page(bank.filtered_questions(**filters).options(*BANK_LIST), page_arg(),
                current_app.config.get("PAGE_SIZE", 50))
    subjects = bank.subjects()
    counts = None
    if not any(filters.values()):
        by_subject = bank.counts_by_subject()
        counts = [(s, {t: n for (t, st), n in by_subject.get(s.id, {}).items() if st == "active"},
                   sum(n for (_t, st), n in by_subject.get(s.id, {}).items() if st == "draft")) for s in subjects]
    topic_lists = bank.topics_by_subject(subjects)
    return render_template("exams/index.html", page=page, subjects=subjects,
                           topics=topic_lists.get(subject_id, []) if subject_id else [],
                           topics_by_subject=topic_lists, counts=counts)


@bp.route("/questions/<int:question_id>")
@roles_required(*STAFF)
def detail(question_id):
    question = get_or_404(Question, question_id)
    if question.parent_id:
        return redirect(url_for(".detail", question_id=question.parent_id))
    return render_template("exams/detail.html", q=question, form=StatusForm(),
                           may_review=can_review_questions(current_user),
                           option_rules=option_rules())


@bp.route("/questions/new")
@bp.route("/questions/new/<qtype>", methods=["GET", "POST"])
@roles_required(*STAFF)
def create(qtype=None):
    if qtype is None:
        return render_template("exams/choose_type.html")
    if qtype not in TYPES:
        abort(404)
    form = question_form(qtype)()
    form.subject_id.choices = _subject_choices()
    if request.method == "GET":
        form.subject_id.data = request.args.get("subject", type=int)
        form.topic.data = request.args.get("topic", "")
        if not qtypes.get(qtype).answerable:  # a case starts with one part
            form.parts.append_entry()
    return _save(form, qtype, None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(question_id):
    question = get_or_404(Question, question_id)
    if question.parent_id:
        return redirect(url_for(".edit", question_id=question.parent_id))
    form = question_form(question.type)()
    form.subject_id.choices = _subject_choices()
    if request.method == "GET":
        fill_form(form, question)
    return _save(form, question.type, question)


def _save(form: QuestionForm, qtype: str, question: Question | None):
    """Shared by create and edit: add a case part, or check and save."""
    if form.is_submitted() and form.add_part.data:
        form.parts.append_entry()
    elif form.validate_on_submit():
        subject = get_or_404(ExamSubject, form.subject_id.data)
        data = question_data(form, qtype)
        stays_active = question is not None and question.status == "active" and can_review_questions(current_user)
        problems = bank.check_question(data, law_required=subject.law_required, complete=stays_active)
        try:
            data["topic"] = topics.canonical(subject, data["topic"])
        except topics.TopicError as exc:
            problems.append((("topic",), str(exc)))
        if problems:
            _show_problems(form, qtype, problems)
        elif question is None:
            question = bank.create_question(data, subject, current_user)
            db.session.flush()  # its id, for the redirect
            flash(_("Question %(id)s saved as a draft. An office approves it for the exams.", id=question.external_id),
                  "success")
            return redirect(url_for(".detail", question_id=question.id))
        else:
            was_active = question.status == "active"
            bank.edit_question(question, data, subject, may_approve=can_review_questions(current_user))
            if was_active and question.status == "draft":
                flash(_("Changes saved. The question is a draft again until an office approves it."), "warning")
            else:
                flash(_("Changes saved."), "success")
            return redirect(url_for(".detail", question_id=question.id))
    elif form.is_submitted() and form.errors:
        flash(_("The question was not saved: see the marked fields."), "danger")
    rules = option_rules()
    return render_template("exams/form.html", form=form, qtype=qtype, question=question, option_rules=rules,
                           topics_by_subject=bank.topics_by_subject(bank.subjects()),
                           shown=options_shown(form, rules.get(qtype)), min_options=bank.MIN_OPTIONS)


def _show_problems(form: QuestionForm, qtype: str, problems) -> None:
    """Put each problem under its field; flash them all too (some have no field of their own)."""
    answer = qtypes.get(qtype).answer_field
    kept = [entry.form for entry in form.parts if not entry.form.remove.data]
    for path, message in problems:
        if path[0] == "parts" and len(path) > 2 and path[1] < len(kept):
            owner, name = kept[path[1]], path[2]
        else:
            owner, name = form, path[-1]
        name = {"options": "option_a", "answer": answer if owner is form else "answer"}.get(name, name)
        target = getattr(owner, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
    flash(_("The question was not saved: %(problems)s", problems=" ".join(m for _p, m in problems)), "danger")


@bp.route("/questions/<int:question_id>/status", methods=["POST"])
@roles_required(*QUESTION_REVIEWERS)
def change_status(question_id):
    question = get_or_404(Question, question_id)
    form = StatusForm()
    if not form.validate_on_submit() or question.parent_id:
        abort(400)
    action = request.form.get("action", "")
    try:
        bank.change_status(question, action)
    except bank.BankError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("The question is now %(status)s.", status=STATUSES[question.status]), "success")
    return redirect(url_for(".detail", question_id=question.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*STAFF)
def import_view():
    form = ImportQuestionsForm()
    form.subject_id.choices = _subject_choices()
    outcome = Outcome()
    if form.validate_on_submit() and _known_topic(form):
        subject = get_or_404(ExamSubject, form.subject_id.data)
        upload = form.file.data
        topic = (form.topic.data or "").strip()
        outcome = run_import(lambda: import_file(form.fmt.data, upload.read(), upload.filename or "", subject,
                                                 topic, current_user, form.use_file_topics.data),

                             imported_message)
        if outcome.ok:
            return redirect(url_for(".index", subject=subject.id, status="draft"))
    return render_template("exams/import.html", form=form, report=outcome.report, formats=FORMATS,
                           topics_by_subject=bank.topics_by_subject(bank.subjects()))


def _known_topic(form: ImportQuestionsForm) -> bool:
    """The import page's topic is one of the chosen subject's (an alias becomes its name); else a field error."""
    subject = db.session.get(ExamSubject, form.subject_id.data)
    if subject is None:
        form.subject_id.errors = [*form.subject_id.errors, _("Choose a subject")]
        return False
    try:
        form.topic.data = topics.canonical(subject, form.topic.data or "")
    except topics.TopicError as exc:
        form.topic.errors = [*form.topic.errors, str(exc)]
        return False
    return True


@bp.route("/import/template.xlsx")
@roles_required(*STAFF)
def import_template():
    return download(xlsx_template(), "questions-template.xlsx")


@bp.route("/export")
@roles_required(*STAFF)
def export():
    return render_template("exams/export.html", subjects=bank.subjects(), statuses=EXPORT_STATUSES)


@bp.route("/export.gift")
@roles_required(*STAFF)
def export_file():
    subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == request.args.get("subject", "")))
    if subject is None:
        abort(404)
    _label, statuses = EXPORT_STATUSES.get(request.args.get("status", "active"), EXPORT_STATUSES["active"])
    questions = bank.questions_for_export(subject, statuses)
    text, _skipped = export_gift(questions, subject)
    name = f"{subject.code}-{clock.today().isoformat()}.gift.txt"
    return Response(text.encode("utf-8"), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
