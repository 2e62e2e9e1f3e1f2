"""/allowances: the monthly roster and rewards of a unit's subtree, its export, closing a month, the policy
versions, and a worker's awards. Load (404 outside the viewer's scope) → authorise → domain → render."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth import choices
from ..auth.forms import ConfirmForm
from ..auth.models import User
from ..auth.scope import (
    can_edit_allowance_policy,
    can_see_allowance_policy,
    can_see_unit,
    can_verify_results_of,
    ensure_can_edit_allowance_policy,
    get_in_scope_or_404,
    roles_required,
    scope_unit,
    visible_units,
)
from ..extensions import db
from ..inputs import BadInput
from ..orgs.models import OrgUnit
from ..tabular import download
from ..transaction import discard
from . import awards, export, policy, roster
from .forms import LEVEL_WORDS, UPGRADE_WORDS, ConfirmLevelForm, DepartureForm, PolicyForm
from .models import PAID_LEVELS, AllowanceLine, AllowancePolicy

bp = Blueprint("allowances", __name__, url_prefix="/allowances")


def _unit(raw: str | None) -> OrgUnit:
    if not raw:
        root = scope_unit(current_user)
        if root is None:
            abort(404)
        return root
    if not raw.isascii() or not raw.isdigit():
        abort(404)
    return get_in_scope_or_404(OrgUnit, int(raw), can_see_unit)


def _month(raw: str | None):
    if not raw:
        return roster.this_month()
    month = roster.parse_month(raw)
    if month is None:
        raise BadInput(_("Month: “%(value)s” is not a month (YYYY-MM).", value=raw))
    return month


@bp.route("/")
@roles_required("office", "admin")
def index():
    unit, month = _unit(request.args.get("unit")), _month(request.args.get("month"))
    built = roster.build(unit, month)
    units = db.session.scalars(visible_units(current_user)).all()
    names = export.unit_names(built)
    return render_template("allowances/roster.html", roster=built, unit=unit, month=month, units=units,
                           in_force=policy.in_force(unit, month), names=names, cells=export.cells,
                           status=export.status, kinds=export.KIND_WORDS, close_form=ConfirmForm(),
                           prev=roster.add_months(month, -1), next=roster.add_months(month, 1))


@bp.route("/roster.xlsx")
@roles_required("office", "admin")
def export_roster():
    unit, month = _unit(request.args.get("unit")), _month(request.args.get("month"))
    return download(export.xlsx(roster.build(unit, month)), f"allowances-{unit.code}-{month:%Y-%m}.xlsx")


@bp.route("/close", methods=["POST"])
@roles_required("office", "admin")
def close():
    unit, month = _unit(request.form.get("unit")), _month(request.form.get("month"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        closing = roster.close(unit, month, current_user)
    except roster.RosterError as exc:
        discard()
        flash(str(exc), "warning")
    else:
        count = db.session.scalar(select(func.count(AllowanceLine.id)).where(AllowanceLine.closing_id == closing.id))
        flash(_("%(month)s closed for %(unit)s: %(n)d payments are now fixed.", month=f"{month:%Y-%m}",
                unit=unit.name, n=count or 0), "success")
    return redirect(url_for(".index", unit=unit.id, month=f"{month:%Y-%m}"))


# --- policy versions ------------------------------------------------------------------------------------

@bp.route("/policies")
@roles_required("office", "admin")
def policies():
    unit = _unit(request.args.get("unit"))
    chain = unit.ancestors() + [unit]
    below = db.session.scalars(select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True),
                                                     OrgUnit.id != unit.id)).all()
    versions = [v for v in policy.versions_of(chain + list(below)) if can_see_allowance_policy(current_user, v)]
    versions.sort(key=lambda v: (len(v.org_unit.path), v.org_unit.path, v.effective_from))
    units = db.session.scalars(visible_units(current_user)).all()
    return render_template("allowances/policies.html", unit=unit, units=units, versions=versions,
                           in_force=policy.in_force(unit, roster.this_month()), today_month=roster.this_month(),
                           may_edit=can_edit_allowance_policy(current_user, unit), levels=PAID_LEVELS,
                           level_words=LEVEL_WORDS, upgrade_words=UPGRADE_WORDS,
                           editable=lambda v: can_edit_allowance_policy(current_user, v.org_unit))


def _policy_form(unit: OrgUnit, version: AllowancePolicy | None):
    ensure_can_edit_allowance_policy(current_user, unit)
    form = PolicyForm()
    if request.method == "GET" and version is not None:
        form.fill(version)
    if form.validate_on_submit():
        try:
            saved = policy.save(unit, form.draft(), current_user, version)
        except policy.PolicyError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Policy version saved: %(label)s.", label=saved.label), "success")
            return redirect(url_for(".policies", unit=unit.id))
    return render_template("allowances/policy_form.html", form=form, unit=unit, version=version, levels=PAID_LEVELS)


@bp.route("/policies/new", methods=["GET", "POST"])
@roles_required("office", "admin")
def policy_new():
    return _policy_form(_unit(request.args.get("unit")), None)


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@roles_required("office", "admin")
def policy_edit(policy_id: int):
    version = get_in_scope_or_404(AllowancePolicy, policy_id, can_see_allowance_policy)
    return _policy_form(version.org_unit, version)


# --- one worker ---------------------------------------------------------------------------------------

def _worker(user_id: int) -> User:
    return get_in_scope_or_404(User, user_id, can_verify_results_of)


@bp.route("/workers/<int:user_id>")
@roles_required("office", "admin")
def worker(user_id: int):
    person = _worker(user_id)
    lines = db.session.scalars(select(AllowanceLine).where(AllowanceLine.user_id == person.id)
                               .order_by(AllowanceLine.month.desc(), AllowanceLine.id)).all()
    departure = awards.departure_of(person.id)
    form = DepartureForm()
    if departure is not None and not form.left_on.data:
        form.left_on.data = departure.left_on.isoformat()
    top = awards.highest(person.id)
    return render_template("allowances/worker.html", person=person, awards=awards.awards_of(person.id), lines=lines,
                           departure=departure, confirm_form=ConfirmLevelForm(), departure_form=form,
                           may_confirm=person.cert_level in PAID_LEVELS
                           and awards.rank(person.cert_level) > awards.rank(top.level if top else None),
                           cert_levels=choices.CERT_LEVELS, kinds=export.KIND_WORDS)


@bp.route("/workers/<int:user_id>/confirm", methods=["POST"])
@roles_required("office", "admin")
def confirm_level(user_id: int):
    person = _worker(user_id)
    form = ConfirmLevelForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for(".worker", user_id=person.id))
    try:
        award = awards.confirm_profile_level(person, current_user, form.reference.data or "")
    except awards.AwardError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("%(name)s's %(level)s is confirmed: it is paid from next month.", name=person.name,
                level=choices.label(choices.CERT_LEVELS, award.level)), "success")
    return redirect(url_for(".worker", user_id=person.id))


@bp.route("/workers/<int:user_id>/departure", methods=["POST"])
@roles_required("office", "admin")
def departure(user_id: int):
    person = _worker(user_id)
    form = DepartureForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for(".worker", user_id=person.id))
    try:
        awards.set_departure(person, form.day(), current_user)
    except awards.AwardError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("Leave date saved.") if form.day() else _("Leave date cleared."), "success")
    return redirect(url_for(".worker", user_id=person.id))
