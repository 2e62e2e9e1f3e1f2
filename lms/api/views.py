"""The read-only JSON API under /api/v1/ (docs/API.md; the OpenAPI document at /api/v1/openapi.json).

Authenticated by per-user bearer tokens only (auth.py); every list and figure is limited to the
token owner's scope through auth.scope, exactly as on the pages.
"""
from datetime import UTC

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ..auth.models import User
from ..auth.scope import (
    can_see_unit,
    can_see_user,
    can_view_course,
    in_subtree,
    scope_unit,
    unit_filter,
    visible_trainings_filter,
    visible_users,
)
from ..extensions import csrf, db
from ..inputs import BadInput
from ..learning.models import Course
from ..orgs.models import OrgUnit
from ..stats import ce, filters, queries, record
from ..stats.profile import profile as build_profile
from ..training.models import Attendance, Training, TrainingSession
from ..util import get_or_none
from . import params as P
from .auth import ApiError, authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie authenticates here (auth.py), so there is no session to forge requests with
PUBLIC = {"api.index", "api.openapi"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC:
        return None
    g.api_user = authenticate()
    return None


@bp.after_request
def _headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Vary", "Authorization")
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _error(exc.status, exc.message, exc.headers)


@bp.errorhandler(HTTPException)
@bp.errorhandler(400)  # Flask prefers the app's handler for a code over a blueprint's for a class: name the codes
@bp.errorhandler(404)
@bp.errorhandler(405)
def _http_error(exc: HTTPException):
    if isinstance(exc, BadInput):  # e.g. a NUL character, refused for the whole app (lms/__init__.py)
        return _error(400, exc.message)
    messages = {404: _("Not found, or outside your area."), 400: _("Bad request."), 405: _("Method not allowed.")}
    return _error(exc.code or 500, messages.get(exc.code or 500, exc.name))


def _error(status: int, message: str, headers: dict | None = None, details: list | None = None):
    body = {"error": {"status": status, "message": message}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


# --- helpers -----------------------------------------------------------------------------------------

def _iso(value) -> str | None:
    """A stored naive-UTC datetime as ISO 8601 with Z."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _num(value):
    return None if value is None else float(value)


def _paginate(stmt, serialise, total: int | None = None):
    page = P.PAGE.read(1)
    per_page = P.PER_PAGE.read(P.DEFAULT_PER_PAGE)
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    pages = max((total + per_page - 1) // per_page, 1)
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(p):
        return url_for(request.endpoint or "", **(request.view_args or {}), **args, page=p, per_page=per_page,
                       _external=True)


    return {"items": [serialise(row) for row in rows], "page": page, "per_page": per_page, "total": total,
            "pages": pages, "next": link(page + 1) if page < pages else None,
            "prev": link(page - 1) if page > 1 else None}


def _unit_arg() -> OrgUnit:
    unit_id = P.UNIT.read()
    if unit_id is None:
        unit = scope_unit(g.api_user)
    else:
        unit = get_or_none(OrgUnit, unit_id)
    if unit is None or not can_see_unit(g.api_user, unit):
        raise ApiError(404, _("Not found, or outside your area."))
    return unit


class _BadFilters(ApiError):
    def __init__(self, details):
        super().__init__(400, _("Some parameters were not understood."))
        self.details = details


@bp.errorhandler(_BadFilters)
def _bad_filters(exc: _BadFilters):
    return _error(400, exc.message, details=exc.details)


def _filters() -> filters.Parsed:
    """The statistics' filters; unlike the pages, the API refuses what it does not understand."""
    parsed = filters.parse(request.args, g.api_user)
    if parsed.errors:
        raise _BadFilters(parsed.errors)
    return parsed


def _unit_json(unit: OrgUnit) -> dict:
    return {"id": unit.id, "code": unit.code, "name": unit.name, "level": unit.level, "parent_id": unit.parent_id}


def _period(parsed: filters.Parsed) -> dict:
    f = parsed.filters
    return {"from": f.start.isoformat() if f.start else None, "to": f.end.isoformat() if f.end else None,
            "year": parsed.year, "training_level": f.level, "course_id": f.course_id, "training_id": f.training_id,
            "exam_id": f.exam_id}


def _worker_json(user: User) -> dict:
    return {"id": user.id, "username": user.username, "name": user.name, "gender": user.gender,
            "birth_year": user.birth_year, "education": user.education, "political_status": user.political_status,
            "cert_level": user.cert_level, "years_in_work": user.years_in_work, "active": bool(user.active),
            "roles": sorted(user.roles), "org_unit": _unit_json(user.org_unit)}


# --- endpoints -----------------------------------------------------------------------------------------

@bp.route("/")
def index():
    names = ["me", "units", "stats_dashboard", "stats_trends", "stats_continuing_education", "stats_ce_workers",
             "stats_profile", "workers", "courses", "trainings", "attendance", "openapi"]
    return jsonify({"name": "社区学堂 API", "version": "1", "auth": "Authorization: Bearer <token>",
                    "endpoints": {n: url_for(f".{n}", _external=True) for n in names}})


@bp.route("/openapi.json")
def openapi():
    from .openapi import document

    return jsonify(document(url_for(".index", _external=True).rstrip("/")))


@bp.route("/me")
def me():
    user = g.api_user
    root = scope_unit(user)
    return jsonify({"id": user.id, "username": user.username, "name": user.name, "roles": sorted(user.roles),
                    "scope": _unit_json(root) if root else None})


@bp.route("/units")
def units():
    stmt = select(OrgUnit).where(unit_filter(g.api_user))
    parent = P.PARENT.read()
    if parent is not None:
        stmt = stmt.where(OrgUnit.parent_id == parent)
    return jsonify(_paginate(stmt.order_by(OrgUnit.path), lambda row: _unit_json(row[0])))


@bp.route("/stats/dashboard")
def stats_dashboard():
    unit = _unit_arg()
    parsed = _filters()
    dash = queries.dashboard(g.api_user, unit, parsed.filters)
    return jsonify({"unit": _unit_json(unit), "period": _period(parsed), "total": dash.total.as_dict(),
                    "rows": [{"unit": _unit_json(r.unit), "direct": r.direct, "figures": r.figures.as_dict()}
                             for r in dash.rows]})


@bp.route("/stats/trends")
def stats_trends():
    unit = _unit_arg()
    parsed = _filters()
    t = queries.trend(g.api_user, unit, parsed.filters)
    return jsonify({"unit": _unit_json(unit), "period": _period(parsed), "months": t.rows()})


def _ce_year() -> int:
    return P.CE_YEAR.read(filters.this_year())


def _ce_cert():
    return ["assistant", "intermediate", "senior"] if P.CERT.read() == "certified" else None


@bp.route("/stats/continuing-education")
def stats_continuing_education():
    unit = _unit_arg()
    year, target, cert = _ce_year(), current_app.config["ANNUAL_CREDIT_HOURS_TARGET"], _ce_cert()
    figures = ce.summary(g.api_user, unit, year, target, cert)
    units_ = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(list(figures))))}
    total = ce.CeFigures()
    rows = []
    for key, f in sorted(figures.items(), key=lambda kv: units_[kv[0]].code):
        total.add(f)
        rows.append({"unit": _unit_json(units_[key]), "direct": key == unit.id, **_ce_json(f)})
    return jsonify({"unit": _unit_json(unit), "year": year, "target": target, "total": _ce_json(total), "rows": rows})


def _ce_json(f: ce.CeFigures) -> dict:
    return {"workers": f.workers, "reached": f.reached, "behind": f.behind, "reached_rate": f.reached_rate,
            "average_hours": _num(f.average)}


@bp.route("/stats/continuing-education/workers")
def stats_ce_workers():
    unit = _unit_arg()
    year, target, cert = _ce_year(), current_app.config["ANNUAL_CREDIT_HOURS_TARGET"], _ce_cert()
    behind = P.SHOW.read() != "all"
    stmt = ce.workers(g.api_user, unit, year, target, behind_only=behind, cert_levels=cert)
    totals = ce.CeFigures()
    for f in ce.summary(g.api_user, unit, year, target, cert).values():
        totals.add(f)
    return jsonify({"year": year, "target": target, **_paginate(stmt, total=totals.behind if behind else totals.workers,
                                                                serialise=lambda row: {
        "worker": _worker_json(row[0]), "hours": float(queries.one_decimal(row[1])),
        "behind": float(ce.shortfall(row[1], target))})})


@bp.route("/stats/profile")
def stats_profile():
    unit = _unit_arg()
    prof = build_profile(g.api_user, unit, filters.this_year())
    return jsonify({"unit": _unit_json(unit), "year": prof.year, "workers": prof.workers,
                    "compared_with_snapshot_of": prof.compared_year,
                    "dimensions": {d: [{"bucket": b.key, "label": b.label, "workers": b.count, "share": b.share,
                                        "workers_before": b.before, "share_before": b.before_share,
                                        "change": b.change, "share_change_points": b.share_change} for b in buckets]
                                   for d, buckets in prof.dimensions.items()}})


@bp.route("/workers")
def workers():
    unit = _unit_arg()
    stmt = visible_users(g.api_user).where(in_subtree(OrgUnit.path, unit))
    if P.ALL.read() != "1":
        stmt = queries.population_users(g.api_user, unit)
    return jsonify(_paginate(stmt.order_by(OrgUnit.path, User.username), lambda row: _worker_json(row[0])))


@bp.route("/workers/<int:user_id>")
def worker(user_id):
    user = get_or_none(User, user_id)
    if user is None or not can_see_user(g.api_user, user):
        raise ApiError(404, _("Not found, or outside your area."))
    parsed = _filters()
    f = parsed.filters
    figures = queries.worker_figures(g.api_user, user.org_unit, f, user_ids=[user.id]).get(user.id) or queries.Figures()
    return jsonify({"worker": _worker_json(user), "period": _period(parsed), "figures": figures.as_dict(),
                    "courses": record.courses(user.id, f), "classes": record.classes(user.id, f),
                    "credits": record.credits(user.id, f), "exams": record.attempts(user.id, f)})


@bp.route("/courses")
def courses():
    """The city-wide course library (offices and admins may see every course, auth.scope.can_view_course),
    with the enrolments of the workers in the viewer's area."""
    stmt = select(Course).order_by(Course.id)
    status = P.COURSE_STATUS.read()
    if status:
        stmt = stmt.where(Course.status == status)
    page = _paginate(stmt, lambda row: row[0])
    viewer = g.api_user
    items = [c for c in page["items"] if can_view_course(viewer, c)]
    counts = queries.enrolments_in_area(viewer, [c.id for c in items])
    page["items"] = [{"id": c.id, "slug": c.slug, "title": c.title, "series": c.series, "category": c.category,
                      "level": c.level, "credit_hours": float(c.credit_hours), "status": c.status,
                      "featured": bool(c.featured), "published_at": _iso(c.published_at),
                      "enrolled_in_area": counts.get(c.id, (0, 0))[0], "completed_in_area": counts.get(c.id, (0, 0))[1]}
                     for c in items]
    return jsonify(page)


def _training_json(t: Training, sessions: int | None = None) -> dict:
    return {"id": t.id, "title": t.title, "level": t.level, "status": t.status, "capacity": t.capacity,
            "organiser": _unit_json(t.org_unit), "audience_unit_id": t.audience_unit_id, "course_id": t.course_id,
            "registration_deadline": _iso(t.registration_deadline), "sessions": sessions}


@bp.route("/trainings")
def trainings():
    counts = (select(func.count()).where(TrainingSession.training_id == Training.id)
              .correlate(Training).scalar_subquery())
    stmt = select(Training, counts).where(visible_trainings_filter(g.api_user)).order_by(Training.id)
    level = P.TRAINING_LEVEL.read()
    if level:
        stmt = stmt.where(Training.level == level)
    return jsonify(_paginate(stmt, lambda row: _training_json(row[0], row[1])))


@bp.route("/trainings/<int:training_id>")
def training(training_id):
    t = get_or_none(Training, training_id)
    if t is None or not db.session.scalar(select(Training.id).where(Training.id == t.id,
                                                                    visible_trainings_filter(g.api_user))):
        raise ApiError(404, _("Not found, or outside your area."))
    # attendance of each session, counting only the workers in the viewer's area
    figures = queries.attendance_in_area(g.api_user, [s.id for s in t.sessions])
    return jsonify({**_training_json(t, len(t.sessions)), "sessions": [
        {"id": s.id, "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at), "credit_hours": float(s.credit_hours),
         "place_kind": s.place_kind, "place": s.place_text or None,
         "attendance_records": figures.get(s.id, (0, 0))[0], "person_times": figures.get(s.id, (0, 0))[1]}
        for s in t.sessions]})


@bp.route("/attendance")
def attendance():
    """Attendance records of the workers in the viewer's area (optionally one unit's subtree)."""
    unit = _unit_arg()
    stmt = (select(Attendance, TrainingSession.training_id, TrainingSession.starts_at)
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .join(User, User.id == Attendance.user_id).join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(unit_filter(g.api_user), in_subtree(OrgUnit.path, unit))
            .order_by(Attendance.id))
    training_id, session_id = P.TRAINING.read(), P.SESSION.read()
    if training_id:
        stmt = stmt.where(TrainingSession.training_id == training_id)
    if session_id:
        stmt = stmt.where(Attendance.session_id == session_id)
    status = P.ATTENDANCE_STATUS.read()
    if status:
        stmt = stmt.where(Attendance.status == status)
    parsed = filters.parse({k: request.args.get(k) for k in ("from", "to") if request.args.get(k)} or {"year": "all"},
                           g.api_user)
    if parsed.errors:
        raise _BadFilters(parsed.errors)
    lo, hi = parsed.filters.utc_bounds()
    if lo:
        stmt = stmt.where(TrainingSession.starts_at >= lo)
    if hi:
        stmt = stmt.where(TrainingSession.starts_at < hi)
    since = P.UPDATED_SINCE.read()
    if since:
        stmt = stmt.where(Attendance.updated_at >= since)
    return jsonify(_paginate(stmt, lambda row: {
        "id": row[0].id, "session_id": row[0].session_id, "training_id": row[1], "session_starts_at": _iso(row[2]),
        "user_id": row[0].user_id, "status": row[0].status, "method": row[0].method,
        "checked_in_at": _iso(row[0].checked_in_at), "updated_at": _iso(row[0].updated_at)}))


@bp.route("/<path:rest>")
def not_found(rest):
    raise ApiError(404, _("No such API endpoint."))
