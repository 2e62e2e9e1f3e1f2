"""Statistics pages for training offices and admins: load → authorise (scope) → compute → render."""

import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import clock, inputs
from ..auth.forms import ConfirmForm
from ..auth.models import User
from ..auth.scope import can_see_unit, can_see_user, get_in_scope_or_404, roles_required, scope_unit, visible_ancestors
from ..extensions import db
from ..inputs import BadInput
from ..learning.progress import year_credit
from ..orgs.models import OrgUnit
from ..tabular import content_disposition, download
from ..tasks.exports import background
from ..util import Page, count_rows, page_arg
from . import ce, charts, filters, queries, record, reports, whitepaper
from .profile import profile as build_profile

bp = Blueprint("stats", __name__, url_prefix="/stats")
PER_PAGE = 50


def _unit(unit_id: int) -> OrgUnit:
    return get_in_scope_or_404(OrgUnit, unit_id, can_see_unit)


def _breadcrumb(unit: OrgUnit) -> list[OrgUnit]:
    """The units from the viewer's scope root down to (not including) `unit`."""
    return visible_ancestors(current_user, unit)


def _parsed() -> filters.Parsed:
    return filters.parse(request.args, current_user)


def _page(template: str, unit: OrgUnit, parsed: filters.Parsed, tab: str, **context):
    """The page; with filters it did not understand, it says which (and ignored them) and answers 400."""
    html = render_template(template, unit=unit, parsed=parsed, tab=tab, crumbs=_breadcrumb(unit),
                           choices=filters.choices(current_user, parsed.filters), args=parsed.args, **context)
    return html, 400 if parsed.errors else 200


def _download(report: reports.Report, fmt: str, unit: OrgUnit, parsed: filters.Parsed, extra_notes=None):
    if parsed.errors:  # a file of other figures than those asked for would be taken for the right ones
        raise BadInput(" ".join(parsed.errors))
    stamp = clock.today().isoformat()
    name = f"{report.name}-{unit.code}-{stamp}"
    if fmt == "csv":
        return download(report.csv(), f"{name}.csv")
    return download(report.xlsx(filters.notes(unit, parsed, extra_notes)), f"{name}.xlsx")


# --- the dashboard ----------------------------------------------------------------------------------

@bp.route("/")
@roles_required("admin", "office")
def index():
    root = scope_unit(current_user)
    if root is None:
        abort(404)
    args: dict[str, Any] = request.args.to_dict()
    return redirect(url_for(".dashboard", unit_id=root.id, **args))




def _row_link(args):
    def link(row):
        if row.direct:
            return url_for(".workers", unit_id=row.unit.id, direct=1, **args)
        if row.unit.level == "community":
            return url_for(".workers", unit_id=row.unit.id, **args)
        return url_for(".dashboard", unit_id=row.unit.id, **args)
    return link


def _units_report(unit, parsed):
    dash = queries.dashboard(current_user, unit, parsed.filters)
    return dash, reports.units_report(dash, _row_link(parsed.args))


@bp.route("/unit/<int:unit_id>")
@roles_required("admin", "office")
def dashboard(unit_id):
    unit = _unit(unit_id)
    parsed = _parsed()
    dash, table = _units_report(unit, parsed)
    return _page("stats/dashboard.html", unit, parsed, "dashboard", dash=dash, table=table,
                 charts=charts.comparison(dash))


@bp.route("/unit/<int:unit_id>/trends")
@roles_required("admin", "office")
def trends(unit_id):
    unit = _unit(unit_id)
    parsed = _parsed()
    table = reports.trend_report(queries.trend(current_user, unit, parsed.filters))
    return _page("stats/trends.html", unit, parsed, "trends", table=table, charts=charts.trend(table))


# --- workers ----------------------------------------------------------------------------------------

def _workers_stmt(unit: OrgUnit):
    stmt = queries.population_users(current_user, unit)
    if request.args.get("direct"):
        stmt = stmt.where(User.org_unit_id == unit.id)
    return stmt.order_by(OrgUnit.path, User.username)


def _worker_link(args):
    return lambda user: url_for(".worker", user_id=user.id, **args)


@bp.route("/unit/<int:unit_id>/workers")
@roles_required("admin", "office")
def workers(unit_id):
    unit = _unit(unit_id)
    parsed = _parsed()
    page = Page(_workers_stmt(unit), page_arg(), PER_PAGE)
    figures = queries.worker_figures(current_user, unit, parsed.filters, user_ids=[u.id for u in page.items])
    table = reports.workers_report(page.items, figures, _worker_link(parsed.args))
    total = queries.compute(queries.Population(current_user, unit, by="unit"), parsed.filters).get(unit.id)
    return _page("stats/workers.html", unit, parsed, "workers", page=page, table=table,
                 total=total or queries.Figures(), direct=bool(request.args.get("direct")))


@bp.route("/worker/<int:user_id>")
@roles_required("admin", "office")
def worker(user_id):
    user = get_in_scope_or_404(User, user_id, can_see_user)
    parsed = _parsed()
    figures = queries.worker_figures(current_user, user.org_unit, parsed.filters, user_ids=[user.id]).get(user.id)
    credit = year_credit(user.id, parsed.year)
    return _page("stats/worker.html", user.org_unit, parsed, "workers", user=user, figures=figures or queries.Figures(),
                 tables=record.reports(user.id, parsed.filters), ce_year=credit.year, ce_hours=credit.hours,
                 target=credit.target, shortfall=ce.shortfall(credit.hours, credit.target))


@bp.route("/worker/<int:user_id>/export/<report>.<fmt>")
@roles_required("admin", "office")
def worker_export(user_id, report, fmt):
    user = get_in_scope_or_404(User, user_id, can_see_user)
    if fmt not in ("xlsx", "csv"):
        abort(404)
    parsed = _parsed()
    tables = record.reports(user.id, parsed.filters)
    if report not in tables:
        abort(404)
    return _download(tables[report], fmt, user.org_unit, parsed, [[_("Worker"), f"{user.name} ({user.username})"]])


# --- continuing education --------------------------------------------------------------------------

def _ce_args():
    cert = request.args.get("cert")
    cert_levels = ["assistant", "intermediate", "senior"] if cert == "certified" else None
    show_all = request.args.get("show") == "all"
    return cert_levels, show_all


def _ce_tables(unit, parsed, paged: bool):
    year = parsed.year or filters.this_year()
    target = current_app.config["ANNUAL_CREDIT_HOURS_TARGET"]
    cert_levels, show_all = _ce_args()
    figures = ce.summary(current_user, unit, year, target, cert_levels)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)).all()
    rows = [(c, figures.get(c.id, ce.CeFigures()), False) for c in children if can_see_unit(current_user, c)]
    if figures.get(unit.id) and figures[unit.id].workers:
        rows.append((unit, figures[unit.id], True))
    total = ce.CeFigures()
    for f in figures.values():
        total.add(f)
    extra = {k: v for k, v in request.args.items() if k in ("cert", "show")}
    link_args = {**parsed.args, **extra}

    def unit_link(u, direct):
        return url_for(".continuing_education", unit_id=u.id, **link_args) if not direct else None

    summary = reports.ce_units_report(unit, rows, total, target, unit_link)
    stmt = ce.workers(current_user, unit, year, target, behind_only=not show_all, cert_levels=cert_levels)
    page = None
    if paged:  # the summary has counted the list already: every worker, or those behind
        page = Page.counted(page_arg(), PER_PAGE, total.workers if show_all else total.behind)
        total_rows = page.total
        rows_ = db.session.execute(stmt.limit(PER_PAGE).offset((page.page - 1) * PER_PAGE)).all()
    else:
        rows_ = db.session.execute(stmt).all()
        total_rows = len(rows_)
    listing = reports.ce_workers_report([(r[0], r[1]) for r in rows_], target, _worker_link(parsed.args))
    return year, target, summary, listing, page, total_rows, total, extra


@bp.route("/unit/<int:unit_id>/continuing-education")
@roles_required("admin", "office")
def continuing_education(unit_id):
    unit = _unit(unit_id)
    parsed = _parsed()
    year, target, summary, listing, page, n, total, extra = _ce_tables(unit, parsed, paged=True)
    return _page("stats/ce.html", unit, parsed, "ce", year=year, target=target, summary=summary, listing=listing,
                 page=page, listed=n, total=total, extra=extra, charts=charts.ce(summary))


# --- the workforce profile -------------------------------------------------------------------------

@bp.route("/unit/<int:unit_id>/profile")
@roles_required("admin", "office")
def profile(unit_id):
    unit = _unit(unit_id)
    parsed = _parsed()
    prof = build_profile(current_user, unit, filters.this_year())
    tables = reports.profile_reports(prof)
    return _page("stats/profile.html", unit, parsed, "profile", prof=prof, tables=tables,
                 charts=charts.profile(prof, tables))


# --- exports ----------------------------------------------------------------------------------------

@bp.route("/unit/<int:unit_id>/export/<report>.<fmt>")
@roles_required("admin", "office")
def export(unit_id, report, fmt):
    unit = _unit(unit_id)
    if fmt not in ("xlsx", "csv"):
        abort(404)
    parsed = _parsed()
    extra = None
    if report in ("workers", "ce_workers") and not parsed.errors:  # a row per worker: maybe a background job
        later = background(count_rows(_workers_stmt(unit)))
        if later is not None:
            return later
    if report == "units":
        _dash, table = _units_report(unit, parsed)
    elif report == "trend":
        table = reports.trend_report(queries.trend(current_user, unit, parsed.filters))
    elif report == "workers":
        users = db.session.scalars(_workers_stmt(unit)).unique().all()
        figures = queries.worker_figures(current_user, unit, parsed.filters)
        table = reports.workers_report(users, figures, lambda u: None)
    elif report in ("ce_units", "ce_workers"):
        year, target, summary, listing, *_rest = _ce_tables(unit, parsed, paged=False)
        table = summary if report == "ce_units" else listing
        extra = [[_("Year"), str(year)], [_("Target"), str(target)]]
    elif report == "profile":
        table = reports.profile_report(build_profile(current_user, unit, filters.this_year()))
    else:
        abort(404)
    return _download(table, fmt, unit, parsed, extra)


# --- the white paper (whitepaper.py, docs/WHITEPAPER.md) -----------------------------------------------------

def _whitepaper_year() -> int:
    this_year = clock.this_year()
    year = inputs.arg("year", inputs.year, _("Year"), default=this_year)
    if year > this_year:
        raise BadInput(_("The white paper of %(year)d can be made once that year has begun.", year=year))
    return year


@bp.route("/unit/<int:unit_id>/whitepaper")
@roles_required("admin", "office")
def whitepaper_page(unit_id):
    unit = _unit(unit_id)
    year = _whitepaper_year()
    shown = whitepaper.current(current_user, unit, year)
    parsed = filters.Parsed(queries.Filters.for_year(year), year)
    page = whitepaper.page_parts(shown.paper) if shown.paper else {}
    return render_template("stats/whitepaper.html", unit=unit, parsed=parsed, tab="whitepaper", args={},
                           crumbs=_breadcrumb(unit), year=year,
                           years=range(clock.this_year(), clock.this_year() - 10, -1),
                           shown=shown, form=ConfirmForm(), **page)


@bp.route("/unit/<int:unit_id>/whitepaper/generate", methods=["POST"])
@roles_required("admin", "office")
def whitepaper_generate(unit_id):
    unit = _unit(unit_id)
    year = _whitepaper_year()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = url_for(".whitepaper_page", unit_id=unit.id, year=year)
    if not whitepaper.is_large(current_user, unit, year):
        flash(_("This white paper is made afresh each time it is opened: it is always up to date."), "info")
        return redirect(back)
    job = whitepaper.request_generation(current_user, unit, year, secrets.token_urlsafe(12))
    if job is None:
        job = whitepaper.pending_job(unit, year)
        if job is None or job.user_id != current_user.id:
            flash(_("This white paper is being generated already. Open this page again in a moment."), "info")
            return redirect(back)
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/unit/<int:unit_id>/whitepaper.pdf")
@roles_required("admin", "office")
def whitepaper_pdf(unit_id):
    from .whitepaper_pdf import render_pdf

    unit = _unit(unit_id)
    year = _whitepaper_year()
    shown = whitepaper.current(current_user, unit, year)
    if shown.live and shown.paper is not None:
        pdf, name = render_pdf(shown.paper), whitepaper.pdf_name(shown.paper)
    else:
        row = whitepaper.stored(unit, year)
        if row is None:
            flash(_("This white paper has not been generated yet."), "warning")
            return redirect(url_for(".whitepaper_page", unit_id=unit.id, year=year))
        pdf, name = row.pdf, whitepaper.pdf_name(row.content)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": content_disposition(name)})
