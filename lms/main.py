"""Home page and the pages every role shares."""
from functools import cache

from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required
from sqlalchemy import BindParameter, Select, and_, bindparam, exists, func, literal, select, true

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
    recommendations = None
    if study is not None and study["preparing"]:  # a worker preparing for the exam: today's three
        from .prep import recommend

        recommendations = recommend.today(current_user.id)
    return render_template("home.html", summary=summary, study=study, recommendations=recommendations)


def _study_summary(user) -> dict:
    """What a worker sees first: this year's 学时, courses under way, the next sessions (three statements,
    each built once per process: the home page is the page every worker opens)."""
    from .learning.progress import percent, year_credit

    credit = year_credit(user.id)
    courses_stmt, sessions_stmt = _study_statements()
    connection = db.session.connection()  # plain rows: no ORM entities to build
    courses = connection.execute(courses_stmt, {"user_id": user.id}).all()
    rows = connection.execute(sessions_stmt, {"user_id": user.id, "now": utcnow()}).all()
    return {"year": credit.year, "hours": credit.hours, "target": credit.target, "hours_pct": credit.percent,
            "courses": [(c, percent(c.done, c.lessons)) for c in courses],
            "sessions": [r for r in rows if r.training_id is not None], "preparing": bool(rows[0].preparing)}


@cache
def _study_statements() -> tuple[Select, Select]:
    """The last three courses a worker enrolled in and has not completed, each with its lessons and those
    the worker completed; the worker's next three sessions of classes they are registered for."""
    from .learning.models import Course, Enrollment, Lesson, LessonProgress
    from .prep.models import PrepPlan
    from .training.models import Registration, Training, TrainingSession

    user_id: BindParameter[int] = bindparam("user_id")
    under_way = (select(Enrollment.id, Enrollment.course_id, Enrollment.enrolled_at)
                 .where(Enrollment.user_id == user_id, Enrollment.completed_at.is_(None))
                 .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc()).limit(3).subquery())
    courses = (select(under_way.c.course_id, Course.title, func.count(Lesson.id).label("lessons"),
                      func.count(LessonProgress.completed_at).label("done"))
               .join(Course, Course.id == under_way.c.course_id)
               .outerjoin(Lesson, Lesson.course_id == under_way.c.course_id)
               .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id,
                                               LessonProgress.user_id == user_id))
               .group_by(under_way.c.id, under_way.c.course_id, under_way.c.enrolled_at, Course.title)
               .order_by(under_way.c.enrolled_at.desc(), under_way.c.id.desc()))
    next_three = (select(TrainingSession.training_id, TrainingSession.starts_at, TrainingSession.id, Training.title)
                  .join(Training, Training.id == TrainingSession.training_id)
                  .join(Registration, Registration.training_id == TrainingSession.training_id)
                  .where(Registration.user_id == user_id, Registration.status == "registered",
                         TrainingSession.ends_at >= bindparam("now"))
                  .order_by(TrainingSession.starts_at, TrainingSession.id).limit(3).subquery())
    # Whether the worker prepares for an exam (has a plan: the home page then shows today's recommendations)
    # rides on the same statement: one row even without a session.
    preparing = exists().where(PrepPlan.user_id == user_id)
    one = select(literal(1).label("one")).subquery()
    sessions = (select(preparing.label("preparing"), next_three.c.training_id, next_three.c.starts_at,
                       next_three.c.title)
                .select_from(one.outerjoin(next_three, true()))
                .order_by(next_three.c.starts_at, next_three.c.id))
    return courses, sessions


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
