"""Domain rules of the org tree. Plain functions: they flush, never commit."""
import re
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import DomainError
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..tabular import Column, ImportReport, UnitRow, read_rows
from .models import CHILD_LEVEL, LEVEL_LABELS, LEVELS, OrgUnit


def units_by_code(codes) -> dict[str, OrgUnit]:
    """The org units an import names by code (empty codes ignored), by code, in one query."""
    codes = {c for c in codes if c}
    return {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))} if codes else {}


def unit_for_code(units: dict[str, OrgUnit], code: str, report: ImportReport, row: int, column: str) -> OrgUnit | None:
    """The unit of an import row's code (from `units_by_code`), or None with the row reported."""
    unit = units.get(code)
    if unit is None:
        report.add(row, column, _("No org unit has the code %(code)s.", code=code))
    return unit

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class TreeError(DomainError):
    pass


def parse_level(text: str) -> str:
    text = text.strip()
    for key, label in LEVEL_LABELS.items():
        if text.lower() == key or text == str(label) or text in _LEVEL_ALIASES[key]:
            return key
    raise ValueError(_("Unknown level \"%(value)s\": use city, district, street or community.", value=text))


_LEVEL_ALIASES = {
    "city": ("市", "市级"),
    "district": ("区", "县", "区县", "区/县", "区（县）"),
    "street": ("街道", "乡镇", "镇", "街道/乡镇", "镇街"),
    "community": ("社区", "村", "社区/村"),
}


def check_placement(level: str, parent: OrgUnit | None) -> None:
    if parent is None:
        if level != "city":
            raise TreeError(_("Only a city may be at the top of the tree."))
        return
    expected = CHILD_LEVEL[parent.level]
    if expected != level:
        if expected is None:
            raise TreeError(_("A community cannot have units below it."))
        raise TreeError(_("A unit under a %(parent)s must be a %(child)s.",
                          parent=LEVEL_LABELS[parent.level], child=LEVEL_LABELS[expected]))


def check_code(code: str, unit: OrgUnit | None = None) -> None:
    if not CODE_RE.match(code or ""):
        raise TreeError(_("A code is 1–32 letters, digits, hyphens or underscores."))
    other = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if other is not None and other is not unit:
        raise TreeError(_("The code %(code)s is already used by %(name)s.", code=code, name=other.name))


def create_unit(code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
    check_code(code)
    check_placement(level, parent)
    unit = OrgUnit(code=code, name=name.strip(), level=level, parent=parent, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def update_unit(unit: OrgUnit, code: str, name: str) -> None:
    check_code(code, unit)
    unit.code = code
    unit.name = name.strip()


def delete_unit(unit: OrgUnit) -> None:
    from ..auth.models import User

    if unit.children:
        raise TreeError(_("%(name)s still has units below it.", name=unit.name))
    users = db.session.scalar(select(func.count()).select_from(User).where(User.org_unit_id == unit.id))
    if users:
        raise TreeError(_("%(name)s still has %(n)d accounts.", name=unit.name, n=users))
    db.session.delete(unit)


IMPORT_COLUMNS = [
    Column("code", _l("Code"), required=True, aliases=("编码", "单位编码"), example="C9901"),
    Column("name", _l("Unit name"), required=True, aliases=("名称", "单位名称"), width=30, example="幸福里社区"),
    Column("level", _l("Level"), required=True, parse=parse_level, aliases=("层级", "级别"),
           example=LEVEL_LABELS["community"], options=LEVEL_LABELS),
    Column("parent_code", _l("Parent code"), aliases=("上级编码", "上级单位编码"), unit_code=True),
]


def import_tree(data: bytes, filename: str) -> tuple[ImportReport, int, int]:
    """Create or rename units from a table (code, name, level, parent code).

    Parents may appear anywhere in the file or exist already. Returns the report and the
    numbers created and updated; nothing is written when the report has errors.
    """
    report = ImportReport()
    rows = read_rows(data, filename, IMPORT_COLUMNS, report)
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    by_code: dict[str, dict] = {}
    for number, row in rows:
        code = row["code"]
        if code is None:
            continue
        if not CODE_RE.match(code):
            report.add(number, str(_l("Code")), _("A code is 1–32 letters, digits, hyphens or underscores."))
            continue
        if report.repeated(
            "code",
            code,
            number,
            str(_l("Code")),
            lambda first: _("The code %(code)s already appears in row %(row)d.", code=code, row=first),  # noqa: B023 (called at once)
        ):
            continue
        by_code[code] = {**row, "row": number}

    def level_of(code):
        if code in by_code:
            return by_code[code]["level"]
        return existing[code].level if code in existing else None

    for code, row in by_code.items():
        number, level, parent_code = row["row"], row["level"], row["parent_code"]
        if level is None:
            continue
        if code in existing and existing[code].level != level:
            report.add(number, str(_l("Level")), _("%(code)s exists as a %(level)s; its level cannot change.",
                                                   code=code, level=LEVEL_LABELS[existing[code].level]))
            continue
        if parent_code is None:
            if level != "city":
                report.add(number, str(_l("Parent code")), _("Only a city may be at the top of the tree."))
            elif (
                code not in existing
                and db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None))) is not None
            ):
                report.add(number, str(_l("Parent code")), _("The tree already has a city; give the parent code."))
            continue
        parent_level = level_of(parent_code)
        if parent_level is None:
            report.add(
                number,
                str(_l("Parent code")),
                _("No unit with code %(code)s exists in the file or the site.", code=parent_code),
            )
        elif CHILD_LEVEL[parent_level] != level:
            expected = CHILD_LEVEL[parent_level]
            report.add(number, str(_l("Level")), _("A unit under a %(parent)s must be a %(child)s.",
                       parent=LEVEL_LABELS[parent_level], child=LEVEL_LABELS[expected]) if expected else
                       _("A community cannot have units below it."))
        elif code in existing and (parent := existing[code].parent) is not None and parent.code != parent_code:
            report.add(
                number,
                str(_l("Parent code")),
                _(
                    "%(code)s already sits under %(parent)s; moving units is done on the site.",
                    code=code,
                    parent=parent.code,
                ),
            )

    if not report.ok:
        return report, 0, 0

    created = updated = 0
    # Parents before children: sort by level depth.
    for code, row in sorted(by_code.items(), key=lambda kv: LEVELS.index(kv[1]["level"])):
        if code in existing:
            if existing[code].name != row["name"]:
                existing[code].name = row["name"]
                updated += 1
            continue
        parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        existing[code] = create_unit(code, row["name"], row["level"], parent)
        created += 1
    return report, created, updated


def tree_order(units) -> list[OrgUnit]:
    """Units parents-first in tree order (a path sorted as text puts /1/18/ before /1/2/)."""
    return sorted(units, key=lambda u: [int(x) for x in u.path.strip("/").split("/") if x])


def tree_rows(units: Sequence[OrgUnit]) -> list[tuple[OrgUnit, int]]:
    """Units in tree order with their depth relative to the shallowest one."""
    if not units:
        return []
    base = min(u.depth for u in units)
    return [(u, u.depth - base) for u in tree_order(units)]


def unit_choices(stmt) -> list[tuple[int, str]]:
    """(id, indented name) pairs for a select box, in tree order, from a select of OrgUnit."""
    units = tree_order(db.session.scalars(stmt).all())
    base = min((u.depth for u in units), default=0)
    return [(u.id, "　" * (u.depth - base) + u.name) for u in units]


def unit_rows(stmt) -> list[UnitRow]:
    """The units of a select of OrgUnit (chosen by scope) in tree order, for a template's unit sheet."""
    return [UnitRow(u.code, u.name, u.level_label) for u in tree_order(db.session.scalars(stmt).all())]
