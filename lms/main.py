"""Home page and the pages every role shares."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .auth.models import User
from .auth.scope import scope_unit, unit_filter, visible_users
from .extensions import db
from .markdown import render_markdown
from .orgs.models import OrgUnit

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def home():
    summary = None
    if current_user.has_role("admin", "office"):
        unit = scope_unit(current_user)
        counts = db.session.execute(
            select(OrgUnit.level, func.count()).where(unit_filter(current_user)).group_by(OrgUnit.level)).all()
        workers = db.session.scalar(
            select(func.count()).select_from(visible_users(current_user).where(User.active.is_(True)).subquery()))
        summary = {"unit": unit, "levels": dict(counts), "workers": workers}
    return render_template("home.html", summary=summary)


@bp.route("/healthz")
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(select(1))
    except Exception:  # any driver error means the database is not usable
        db.session.rollback()
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.route("/markdown/preview", methods=["POST"])
@login_required
def markdown_preview():
    """Live preview for Markdown editors: the same render_markdown() the pages use."""
    text = request.form.get("text", "")[:200_000]
    return {"html": str(render_markdown(text))}
