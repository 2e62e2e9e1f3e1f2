"""The org tree: browse (admins and offices, within scope), manage and import (admins)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.forms import ConfirmForm, ImportForm
from ..auth.models import User
from ..auth.scope import can_see_unit, get_in_scope_or_404, roles_required, visible_units
from ..extensions import db
from ..imports import Outcome, run_import
from ..tabular import download, write_template, write_xlsx
from ..transaction import discard
from ..util import get_or_404
from .forms import UnitForm
from .models import LEVEL_LABELS, OrgUnit
from .tree import (
    IMPORT_COLUMNS,
    TreeError,
    create_unit,
    delete_unit,
    import_tree,
    tree_rows,
    unit_rows,
    update_unit,
)

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


def _user_counts() -> dict[int, int]:
    stmt = (select(User.org_unit_id, func.count()).join(User.org_unit)
            .where(OrgUnit.id.in_(visible_units(current_user).with_only_columns(OrgUnit.id)))
            .group_by(User.org_unit_id))
    return dict(db.session.execute(stmt).tuples().all())


@bp.route("/")
@roles_required("admin", "office")
def index():
    units = db.session.scalars(visible_units(current_user)).all()
    return render_template("orgs/index.html", rows=tree_rows(units), counts=_user_counts(),
                           can_edit=current_user.has_role("admin"), form=ConfirmForm())


def _parent_choices():
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.level != "community").order_by(OrgUnit.path)).all()
    return [(0, _("(none: the city at the top)"))] + [(u.id, "　" * u.depth + u.name) for u in units]


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    form = UnitForm()
    form.parent_id.choices = _parent_choices()
    if form.validate_on_submit():
        parent = db.session.get(OrgUnit, form.parent_id.data) if form.parent_id.data else None
        try:
            unit = create_unit((form.code.data or "").strip(), form.name.data or "", form.level.data, parent)
        except TreeError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("%(name)s created.", name=unit.name), "success")
            return redirect(url_for(".index"))
    return render_template("orgs/form.html", form=form, unit=None)


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(unit_id):
    unit = get_or_404(OrgUnit, unit_id)
    form = UnitForm(obj=unit)
    del form.level, form.parent_id
    if form.validate_on_submit():
        try:
            update_unit(unit, (form.code.data or "").strip(), form.name.data or "")

        except TreeError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".index"))
    return render_template("orgs/form.html", form=form, unit=unit)


@bp.route("/<int:unit_id>/delete", methods=["POST"])
@roles_required("admin")
def delete(unit_id):
    unit = get_or_404(OrgUnit, unit_id)
    try:
        name = unit.name
        delete_unit(unit)
    except TreeError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("%(name)s deleted.", name=name), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:unit_id>")
@roles_required("admin", "office")
def detail(unit_id):
    unit = get_in_scope_or_404(OrgUnit, unit_id, can_see_unit)
    return redirect(url_for("accounts.index", unit=unit.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required("admin")
def import_view():
    form = ImportForm()
    outcome = Outcome()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = run_import(
            lambda: import_tree(upload.read(), upload.filename or ""),
            lambda created, updated: _("Imported: %(c)d new units, %(u)d renamed.", c=created, u=updated),
        )
        if outcome.ok:
            return redirect(url_for(".index"))
    return render_template("orgs/import.html", form=form, report=outcome.report)


@bp.route("/import/template.xlsx")
@roles_required("admin")
def import_template():
    units = unit_rows(visible_units(current_user))
    street = db.session.scalar(visible_units(current_user).where(OrgUnit.level == "street").limit(1))
    notes = [
        [_("Column"), _("What to fill in")],
        [_("Code"), _("1–32 letters, digits, hyphens or underscores. An existing code renames that unit.")],
        [_("Level"), "、".join(str(v) for v in LEVEL_LABELS.values())],
        [_("Parent code"), _("The code of the unit above; empty only for a city.")],
    ]
    data = write_template(_("Org units"), IMPORT_COLUMNS, notes, units=units,
                          unit_example=street.code if street is not None else None)
    return download(data, "org-units-template.xlsx")


@bp.route("/export.xlsx")
@roles_required("admin", "office")
def export():
    units = db.session.scalars(visible_units(current_user)).all()
    codes = {u.id: u.code for u in units}
    rows = [[u.code, u.name, str(LEVEL_LABELS[u.level]),
             codes.get(u.parent_id) or (u.parent.code if u.parent_id else "")] for u in units]
    data = write_xlsx(_("Org units"), [str(c.label) for c in IMPORT_COLUMNS], rows, widths=[16, 30, 16, 16])
    return download(data, "org-units.xlsx")
