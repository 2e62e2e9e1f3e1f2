"""Home page and the pages every role shares."""
from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .auth.models import User
from .auth.scope import scope_unit, unit_filter, visible_users
from .database import utcnow
from .extensions import db
from .markdown import render_markdown
from .orgs.models import OrgUnit

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/favicon.ico")
def favicon():
    """Browsers and feed readers ask the site root for its icon, whatever the page links."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico", max_age=7 * 24 * 3600)


@bp.route("/home")
@login_required
def home():
    summary = None
    if current_user.has_role("admin", "office"):
        unit = scope_unit(current_user)
        counts = db.session.execute(
            select(OrgUnit.level, func.count()).where(unit_filter(current_user)).group_by(OrgUnit.level)).tuples().all()

        workers = db.session.scalar(
            select(func.count()).select_from(visible_users(current_user).where(User.active.is_(True)).subquery()))
        summary = {"unit": unit, "levels": dict(counts), "workers": workers}
    study = _study_summary(current_user) if current_user.has_role("learner") else None
    return render_template("home.html", summary=summary, study=study)


def _study_summary(user) -> dict:
    """What a worker sees first: this year's 学时, courses under way, the next sessions."""
    from .learning.models import Enrollment
    from .learning.progress import course_progress, percent, year_credit
    from .training.models import Registration, TrainingSession

    credit = year_credit(user.id)
    open_courses = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.completed_at.is_(None))
        .order_by(Enrollment.enrolled_at.desc())
        .limit(3)
    ).all()
    progress = course_progress(user.id, [e.course_id for e in open_courses])
    sessions = db.session.scalars(
        select(TrainingSession)
        .join(Registration, Registration.training_id == TrainingSession.training_id)
        .where(
            Registration.user_id == user.id, Registration.status == "registered", TrainingSession.ends_at >= utcnow()
        )
        .order_by(TrainingSession.starts_at)
        .limit(3)
    ).all()
    return {"year": credit.year, "hours": credit.hours, "target": credit.target, "hours_pct": credit.percent,
            "courses": [(e, percent(*progress[e.course_id])) for e in open_courses], "sessions": sessions}


@bp.route("/healthz")
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(select(1))
    except Exception:  # any driver error means the database is not usable (the 503 rolls back)
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.route("/markdown/preview", methods=["POST"])
@login_required
def markdown_preview():
    """Live preview for Markdown editors: the same render_markdown() the pages use."""
    text = request.form.get("text", "")[:200_000]
    return {"html": str(render_markdown(text))}
