"""The review session (/prep/review): today's due questions of the mistakes book, one at a time, with
instant feedback; plain form posts, each answer redirected to its feedback page (no JavaScript needed).

Everything lives on the server (the book, each card's schedule): another device shows the same list and
goes on where the first left off. The feedback of the last answer is kept in the session between the
POST and its page."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.forms import ConfirmForm
from ..database import utcnow
from ..exams import practice
from ..exams.models import ExamSubject, Mistake, Question
from ..extensions import db
from ..inputs import id_arg
from ..util import get_or_404, get_or_none
from . import review
from .views import bp

FEEDBACK = "prep_review_feedback"


def _subject() -> ExamSubject | None:
    subject_id = id_arg("subject", _("Subject"))
    return get_or_404(ExamSubject, subject_id) if subject_id is not None else None


def _page(subject: ExamSubject | None) -> str:
    return url_for(".review", subject=subject.id if subject else None)


@bp.route("/review", methods=["GET", "POST"], endpoint="review")
@login_required
def review_page():
    subject = _subject()
    if request.method == "POST":
        return _answer(subject)
    now = utcnow()
    due = review.due(current_user.id, subject.id if subject else None, now)
    feedback = session.pop(FEEDBACK, None)
    if feedback is not None:
        question = get_or_none(Question, feedback.get("question"))
        if question is not None:
            return render_template("prep/review.html", subject=subject, question=question, feedback=feedback,
                                   left=len(due), form=ConfirmForm())
    if not due:
        return render_template("prep/review_done.html", subject=subject,
                               done=review.done_today(current_user.id, now),
                               later=review.later(current_user.id, subject.id if subject else None, now),
                               learned_days=current_app.config["PREP_LEARNED_DAYS"])
    return render_template("prep/review.html", subject=subject, question=due[0].question, feedback=None,
                           left=len(due), form=ConfirmForm())


def _answer(subject: ExamSubject | None):
    """One answer: only to a question of the worker's own book that is due now; else a message, no review."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please answer again."), "warning")
        return redirect(_page(subject), 303)
    question = get_or_none(Question, request.form.get("question", type=int))
    mistake = None if question is None else db.session.scalar(select(Mistake).where(
        Mistake.user_id == current_user.id, Mistake.question_id == question.id))
    if question is None or mistake is None or mistake.cleared_at is not None or not practice.practisable(question):
        flash(_("That question is not in your mistakes book: nothing was recorded."), "warning")
        return redirect(_page(subject), 303)
    if not review.is_due(mistake):
        flash(_("That question is not due for review now (it was answered less than 20 hours ago, or comes "
                "back on a later day): this answer was not recorded."), "warning")
        return redirect(_page(subject), 303)
    response = practice.response_from_form(question, request.form)
    if response is None or response == "":
        flash(_("Choose an answer first."), "warning")
        return redirect(_page(subject), 303)
    feedback = practice.answer(current_user, question, response, "review")
    session[FEEDBACK] = {"question": question.id, "correct": feedback["correct"], "partial": feedback["partial"],
                         "response": response, "cleared": feedback["cleared"], "schedule": feedback["schedule"]}
    return redirect(_page(subject), 303)
