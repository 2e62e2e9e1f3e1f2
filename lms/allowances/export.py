"""The finance office's workbook of a roster: one row per payment (as the page lists them), then the totals."""
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..auth import choices
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import OrgUnit
from ..tabular import write_xlsx
from .roster import Roster, Row

KIND_WORDS = {"monthly": _l("Monthly allowance"), "adjustment": _l("Adjustment"), "reward": _l("One-time reward")}


def status(row: Row) -> str:
    return _("Paid (closed)") if row.paid else _("Due")


def unit_names(roster: Roster) -> dict[int, str]:
    """Each row's unit with the units above it ("安澜市 / 青禾区 / 云锦街道 / …"), from one query."""
    ids = {int(x) for r in roster.rows for x in r.unit.path.strip("/").split("/") if x}
    names = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).tuples().all())
    return {r.unit.id: " / ".join(names.get(int(x), "?") for x in r.unit.path.strip("/").split("/") if x)
            for r in roster.rows}


def cells(row: Row, names: dict[int, str]) -> list:
    """A row as the page shows it and the workbook writes it."""
    return [str(KIND_WORDS[row.kind]), row.user.name, row.user.username, names.get(row.unit.id, row.unit.name),
            choices.label(choices.CERT_LEVELS, row.level) if row.level else "", row.amount,
            f"{row.corrects:%Y-%m}" if row.corrects else "", row.policy.label if row.policy else "",
            row.reference, status(row)]


def headers() -> list[str]:
    return [_("Type"), _("Worker"), _("Username"), _("Org unit"), _("Level"), _("Amount (yuan)"),
            _("Corrects month"), _("Policy version"), _("Certificate / result"), _("Status")]


def xlsx(roster: Roster) -> bytes:
    names = unit_names(roster)
    rows: list[list] = [cells(r, names) for r in roster.rows]
    rows.append([])
    for kind, word in KIND_WORDS.items():
        rows.append([_("Total: %(kind)s", kind=str(word)), "", "", "", "", roster.total(kind)])
    rows.append([_("Total"), "", "", "", "", roster.total()])
    notes = [[_("Org unit"), roster.unit.full_name], [_("Month"), f"{roster.month:%Y-%m}"],
             [_("Exported"), clock.local_now().strftime("%Y-%m-%d %H:%M")],
             [_("Rules"), _("A level is paid from the month after it was earned, at the policy in force on the first "
                            "day of the month; closed months are fixed and corrected by adjustment lines; see "
                            "docs/ALLOWANCES.md.")]]
    return write_xlsx(_("Allowances %(month)s", month=f"{roster.month:%Y-%m}"), headers(), rows,
                      widths=[14, 12, 12, 30, 16, 12, 12, 34, 34, 12], number_formats={6: "#,##0"},
                      notes=(_("About"), notes))
