"""Browsing and exporting the audit trail (admins; offices see their own area)."""
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import inputs
from ..auth.scope import roles_required, unit_filter
from ..extensions import db
from ..tabular import download, write_csv, write_xlsx
from ..util import Page, local_to_utc, page_arg
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filtered():
    stmt = select(AuditEntry).where(unit_filter(current_user, AuditEntry.org_path))
    args = request.args
    if args.get("entity"):
        stmt = stmt.where(AuditEntry.entity == args["entity"])
    if args.get("actor"):
        stmt = stmt.where(AuditEntry.actor_name.contains(args["actor"].strip(), autoescape=True))
    for name, label, op in (("from", _("From"), "ge"), ("to", _("To"), "lt")):
        day = inputs.arg(name, inputs.day, label)
        if day is None:
            continue
        moment = datetime.combine(day, time())
        bound = local_to_utc(moment if op == "ge" else moment + timedelta(days=1))
        stmt = stmt.where(AuditEntry.at >= bound if op == "ge" else AuditEntry.at < bound)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


@bp.route("/")
@roles_required("admin", "office")
def index():
    entities = db.session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).all()
    return render_template("audit/index.html", page=Page(_filtered(), page_arg(), 100), entities=entities)


@bp.route("/export.<fmt>")
@roles_required("admin", "office")
def export(fmt):
    from flask import abort
    from flask_babel import format_datetime

    if fmt not in ("xlsx", "csv"):
        abort(404)
    rows = ([format_datetime(e.at, "yyyy-MM-dd HH:mm:ss"), e.actor_name, e.action, e.entity, e.entity_id,
             "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in (e.changes or {}).items())]
            for e in db.session.scalars(_filtered().limit(100_000)))
    headers = [_("When"), _("Who"), _("Action"), _("Record type"), _("Record"), _("Changes")]
    if fmt == "csv":
        return download(write_csv(headers, rows), "audit.csv")
    return download(write_xlsx(_("Audit trail"), headers, rows, widths=[20, 14, 8, 18, 10, 90]), "audit.xlsx")
