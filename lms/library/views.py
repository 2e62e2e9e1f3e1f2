"""一教五库 pages: every logged-in user browses the pools; offices and admins create, edit,
import and export them (an office places training bases only inside its own area).

The five pools share one set of views, told apart by the `kind` in the URL:
/library/<kind>/, /library/<kind>/<id>, …/new, …/<id>/edit, …/import, …/import/template.xlsx,
…/export.xlsx with kind one of textbooks, trainers, bases, experts, institutions.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock
from ..auth.forms import ImportForm
from ..auth.scope import (
    can_create_in_pool,
    can_edit_library_record,
    can_manage_library,
    can_place_library_record,
    ensure_can_create_in_pool,
    in_scope_or_404,
    is_city_wide,
    roles_required,
    visible_units,
)
from ..extensions import db
from ..imports import Outcome, run_import
from ..markdown import render_markdown
from ..orgs.models import OrgUnit
from ..orgs.tree import tree_order, unit_rows
from ..surveys import evaluations
from ..tabular import download, write_template, write_xlsx
from ..training import rules as training_rules
from ..transaction import discard
from ..util import Page, get_or_404, get_or_none, page_arg
from .forms import FORMS
from .io import columns, export_row, import_pool, template_notes
from .pools import (
    POOLS,
    Pool,
    account_problem,
    check_record,
    counts,
    expert_account_problem,
    filter_units,
    find_account,
    pool_query,
    save_record,
    split_list,
    trainer_courses,
    visible_to,
)

bp = Blueprint("library", __name__, url_prefix="/library")
KIND = "<kind>"  # checked by _pool(): an unknown pool is a 404
MARKDOWN_ATTR = {"textbooks": "description", "trainers": "bio", "bases": "description", "experts": "bio",
                 "institutions": "description"}
# Form field holding each attribute, where the names differ.
FORM_FIELD = {"org_unit": "org_unit_id", "user": "username"}
FILTER_ARGS = ("q", "type", "unit", "status")


def _unit(unit_id) -> OrgUnit | None:
    return get_or_none(OrgUnit, unit_id)


def _record(pool: Pool, item_id: int):
    return get_or_404(pool.model, item_id)


def _pool(kind: str) -> Pool:
    pool = POOLS.get(kind)
    if pool is None:
        abort(404)
    return pool


def _template_helpers(pool: Pool) -> dict:
    # The list filters of the query string, for the pager and export links.
    query = {k: v for k, v in request.args.items() if k in FILTER_ARGS}
    return {"pool": pool, "staff": can_manage_library(current_user), "split_list": split_list, "query": query,
            "may_create": can_create_in_pool(current_user, pool.has_unit)}


@bp.route("/")
@login_required
def index():
    return render_template("library/index.html", pools=POOLS, counts=counts(can_manage_library(current_user)))


def _filters(pool: Pool) -> dict:
    """The list filters in the query string, as pools.pool_query() takes them.
    (The kind/series filter is `type`: `kind` is the pool in the URL.)"""
    unit = _unit(request.args.get("unit", type=int)) if pool.has_unit else None
    return {"q": request.args.get("q", "").strip()[:100], "kind": request.args.get("type"), "unit": unit,
            "status": request.args.get("status")}


@bp.route(f"/{KIND}/", endpoint="list")
@login_required
def list_view(kind):
    pool = _pool(kind)
    stmt = pool_query(pool, staff=can_manage_library(current_user), load_unit=pool.list_shows_unit, **_filters(pool))
    page = Page(stmt, page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("library/list.html", page=page, units=filter_units(pool), **_template_helpers(pool))


def _load_visible(pool: Pool, item_id: int):
    record = _record(pool, item_id)
    if not visible_to(pool, record, can_manage_library(current_user)):
        abort(404)  # taken out of the pool: not shown to learners
    return record


@bp.route(f"/{KIND}/<int:item_id>", endpoint="detail")
@login_required
def detail(kind, item_id):
    pool = _pool(kind)
    record = _load_visible(pool, item_id)
    staff = can_manage_library(current_user)
    courses = trainer_courses(record, staff) if kind == "trainers" else []
    trainings = (training_rules.trainings_for_trainer(record, staff) if kind == "trainers" else
                 training_rules.trainings_at_base(record, staff) if kind == "bases" else [])
    rating = evaluations.trainer_rating(record.id) if kind == "trainers" else None
    return render_template(f"library/detail_{kind}.html", record=record, courses=courses, trainings=trainings,
                           rating=rating, minimum=evaluations.min_shown(),
                           body=render_markdown(getattr(record, MARKDOWN_ATTR[kind])),
                           can_edit=can_edit_library_record(current_user, record), **_template_helpers(pool))


def _unit_options(units) -> list:
    """The units in the viewer's scope; "no unit" only for those who may keep city-wide records."""
    none = [("", "—")] if is_city_wide(current_user) else []
    return none + [(u.id, "　" * u.depth + u.name) for u in tree_order(units)]


def _prepare(pool: Pool, form) -> None:
    if pool.has_unit:
        form.org_unit_id.choices = _unit_options(db.session.scalars(visible_units(current_user)))


def _values(pool: Pool, form, record) -> dict | None:
    """The validated form's values with the org unit and account resolved, or None after putting
    the problems on the form. A record placed outside the viewer's area is a 404 (lms/auth/scope.py)."""
    values = form.values()
    ok = True
    if pool.has_unit:
        unit = _unit(form.org_unit_id.data)
        if pool.key == "bases" and unit is None:
            form.org_unit_id.errors = [*form.org_unit_id.errors, _("Choose the org unit of the base.")]
            ok = False
        elif unit is None and not can_place_library_record(current_user, None):
            form.org_unit_id.errors = [*form.org_unit_id.errors, _("Choose an org unit in your area.")]
            ok = False
        elif unit is not None:
            in_scope_or_404(unit, can_place_library_record)  # another area's unit, as its records: 404
        values["org_unit"] = unit
    if pool.key in ("trainers", "experts"):
        username = (form.username.data or "").strip()
        values["user"] = None
        if username:
            user = find_account(username)
            problem = (account_problem if pool.key == "trainers" else expert_account_problem)(username, user, record)
            if problem:
                form.username.errors = [*form.username.errors, problem]
                ok = False
            else:
                values["user"] = user
    if ok:
        for attr, message in check_record(pool, record, values):
            getattr(form, FORM_FIELD.get(attr, attr)).errors.append(message)
            ok = False
    return values if ok else None


def _save(pool: Pool, form, record):
    """Save a submitted form; the saved record, or None when the form shows why not."""
    values = _values(pool, form, record)
    if values is None:
        return None
    try:
        record = save_record(pool, record, values)
        db.session.flush()  # a duplicate name is refused here, not at the request's commit
    except IntegrityError:  # the same record saved by someone else a moment ago
        discard()
        flash(_("The record could not be saved: another one with the same name was saved just now. "
                "Check the pool and try again."), "danger")
        return None
    return record


@bp.route(f"/{KIND}/new", methods=["GET", "POST"], endpoint="create")
@roles_required("office", "admin")
def create(kind):
    pool = _pool(kind)
    ensure_can_create_in_pool(current_user, pool.has_unit)
    form = FORMS[kind]()
    _prepare(pool, form)
    if form.validate_on_submit():
        record = _save(pool, form, None)
        if record is not None:
            flash(_("%(name)s created.", name=getattr(record, pool.name_attr)), "success")
            return redirect(url_for(".detail", kind=kind, item_id=record.id))
    return render_template("library/form.html", form=form, record=None, **_template_helpers(pool))


@bp.route(f"/{KIND}/<int:item_id>/edit", methods=["GET", "POST"], endpoint="edit")
@roles_required("office", "admin")
def edit(kind, item_id):
    pool = _pool(kind)
    record = in_scope_or_404(_record(pool, item_id), can_edit_library_record)  # read it on its page: 404 here
    form = FORMS[kind](obj=record)
    _prepare(pool, form)
    if request.method == "GET" and kind in ("trainers", "experts"):
        form.username.data = record.user.username if record.user is not None else ""
    if form.validate_on_submit():
        if _save(pool, form, record) is not None:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".detail", kind=kind, item_id=record.id))
    return render_template("library/form.html", form=form, record=record, **_template_helpers(pool))


@bp.route(f"/{KIND}/import", methods=["GET", "POST"], endpoint="import_view")
@roles_required("office", "admin")
def import_view(kind):
    pool = _pool(kind)
    ensure_can_create_in_pool(current_user, pool.has_unit)
    form = ImportForm()
    outcome = Outcome()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = run_import(lambda: import_pool(current_user, pool, upload.read(), upload.filename or ""),
                             lambda created, updated: _("Imported: %(c)d new, %(u)d updated.", c=created, u=updated))
        if outcome.ok:
            return redirect(url_for(".list", kind=kind))
    return render_template("library/import.html", form=form, report=outcome.report, **_template_helpers(pool))


@bp.route(f"/{KIND}/import/template.xlsx", endpoint="import_template")
@roles_required("office", "admin")
def import_template(kind):
    pool = _pool(kind)
    cols = columns(pool)
    units = unit_rows(visible_units(current_user)) if any(c.unit_code for c in cols) else None
    data = write_template(str(pool.title), cols, template_notes(current_user, pool), units=units)
    return download(data, f"{kind}-template.xlsx")


@bp.route(f"/{KIND}/export.xlsx", endpoint="export")
@roles_required("office", "admin")
def export(kind):
    pool = _pool(kind)
    stmt = pool_query(pool, staff=True, **_filters(pool))
    if kind == "trainers":
        stmt = stmt.options(selectinload(pool.model.user))
    cols = columns(pool)
    rows = (export_row(pool, record) for record in db.session.scalars(stmt))
    data = write_xlsx(str(pool.title), [str(c.label) for c in cols], rows, widths=[c.width for c in cols])
    return download(data, f"{kind}-{clock.today().isoformat()}.xlsx")
