"""The offices' page of exam preparation, /prep/office: load (the unit, 404 outside the viewer's scope) →
authorise (offices and admins) → count (office.area) → render, or export the same tables."""
from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.scope import can_see_unit, get_in_scope_or_404, roles_required, scope_unit, visible_units
from ..extensions import db
from ..orgs.models import OrgUnit
from ..stats.charts import stacked_bars_svg
from ..tabular import download
from ..tasks.exports import background
from . import mastery, office
from .views import bp


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not raw.isdigit():
        abort(404)
    return int(raw)


def _unit() -> OrgUnit:
    unit_id = _int_arg("unit")
    if unit_id is None:
        root = scope_unit(current_user)
        if root is None:
            abort(404)
        return root
    return get_in_scope_or_404(OrgUnit, unit_id, can_see_unit)


def _chosen(figures: dict[int, office.SubjectFigures]) -> office.SubjectFigures | None:
    subject_id = _int_arg("subject")
    if subject_id is None:
        return next(iter(figures.values()), None)
    return figures.get(subject_id)


def _chart(figures: dict[int, office.SubjectFigures]):
    if not figures:
        return None
    legend = office.band_labels() + [_("not enough evidence")]
    rows = [(f.subject.name, [*f.bands, len(f.registrants) - f.with_readiness]) for f in figures.values()]
    return stacked_bars_svg("chart-readiness", _("Registrants by chance of passing"), rows, legend,
                            ["#b5292f", "#d08a1e", "#4fa3b5", "#3a9d5d", "#adb5bd"])


@bp.route("/office", endpoint="office")
@roles_required("office", "admin")
def office_page():
    unit = _unit()
    figures = office.area(unit)
    chosen = _chosen(figures)
    params = mastery.Params.from_config()
    units = db.session.scalars(visible_units(current_user)).all()
    return render_template("prep/office.html", unit=unit, units=units, figures=figures, chosen=chosen,
                           subjects=office.subjects_report(figures),
                           topics=office.topics_report(chosen, params) if chosen else None,
                           inactive=office.inactive_report(chosen) if chosen else None,
                           chart=_chart(figures), today=clock.today(), who=office.who_counts(),
                           methods=office.methods(), calibration_min=current_app.config["PREP_CALIBRATION_MIN"])


@bp.route("/office/export/<report>.xlsx")
@roles_required("office", "admin")
def office_export(report: str):
    unit = _unit()
    if report not in ("subjects", "topics", "inactive", "registrants"):
        abort(404)
    if report == "registrants":
        later = background(office.count_registrants(unit))
        if later is not None:
            return later
    figures = office.area(unit)
    chosen = _chosen(figures)
    if report == "subjects":
        table = office.subjects_report(figures)
    elif report == "registrants":
        table = office.registrants_report(figures)
    elif chosen is None:
        abort(404)
    elif report == "topics":
        table = office.topics_report(chosen, mastery.Params.from_config())
    else:
        table = office.inactive_report(chosen)
    return download(table.xlsx(office.about(unit)), f"prep-{report}-{unit.code}-{clock.today().isoformat()}.xlsx")
