"""Exam preparation's pages, under /prep. Each part keeps its routes in its own module on this blueprint
(imported at the end): the subject page and recommendations here, the review session (review_views),
the plan and its calendar (plan_views), the office's readiness page (office_views)."""
from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..exams.models import ExamSubject
from ..extensions import db
from ..stats.charts import Bar, percent_bars_svg
from ..util import get_or_404
from . import mastery, readiness, recommend
from .models import PrepPlan, TopicMastery

bp = Blueprint("prep", __name__, url_prefix="/prep")

@bp.route("/")
@login_required
def index():
    """The subjects the worker prepares for or has answers in, each with a one-line summary."""
    params = mastery.Params.from_config()
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position)).all()
    planned = set(db.session.scalars(select(PrepPlan.subject_id).where(PrepPlan.user_id == current_user.id)))
    rows: dict[int, list[TopicMastery]] = {}
    for row in db.session.scalars(select(TopicMastery).where(TopicMastery.user_id == current_user.id)):
        rows.setdefault(row.subject_id, []).append(row)
    summaries = []
    for subject in subjects:
        mine = rows.get(subject.id, [])
        settled = sorted((r for r in mine if mastery.settled(r.evidence, params)), key=lambda r: r.theta)
        target = current_app.config["PREP_TARGET_MASTERY"]
        summaries.append({
            "subject": subject, "planned": subject.id in planned, "answers": sum(r.evidence for r in mine),
            "topics": len(mine), "settled": len(settled),
            "mastered": sum(1 for r in settled if mastery.percent(r.theta, params) >= target),
            "weakest": recommend.standing(subject, settled[0].topic, settled[0], params) if settled else None})
    return render_template("prep/index.html", summaries=summaries,
                           recommendations=recommend.today(current_user.id, params) if planned else [])


@bp.route("/subjects/<int:subject_id>")
@login_required
def subject(subject_id: int):
    """The worker's topics of one subject, weakest first, as a chart and a table of the same numbers."""
    subject = get_or_404(ExamSubject, subject_id)
    params = mastery.Params.from_config()
    standings = recommend.subject_standings(current_user.id, subject, params)
    settled = [s for s in standings if s.settled]
    target = current_app.config["PREP_TARGET_MASTERY"]
    chart = percent_bars_svg(
        "mastery-chart", _("Mastery by topic, weakest first (%(subject)s)", subject=subject.name),
        [Bar(s.topic, s.percent or 0, s.low, s.high, _("from %(n)d answers", n=s.evidence)) for s in settled],
        line=target, line_label=_("target %(p)d%%", p=target)) if settled else None
    planned = db.session.scalar(select(PrepPlan.id).where(PrepPlan.user_id == current_user.id,
                                                          PrepPlan.subject_id == subject.id)) is not None
    recommendations = [r for r in recommend.today(current_user.id, params) if r.subject.id == subject.id] \
        if planned else []
    return render_template("prep/subject.html", subject=subject, settled=settled,
                           unsettled=[s for s in standings if not s.settled], chart=chart, target=target,
                           min_evidence=params.min_evidence, planned=planned, recommendations=recommendations,
                           assessment=readiness.assess(current_user.id, subject))


from . import office_views, plan_views, review_views  # noqa: E402,F401
