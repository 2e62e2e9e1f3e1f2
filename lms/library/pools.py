"""Domain rules of the 一教五库 pools: what each pool is, how it is searched and filtered,
which records count as the same one, and how a record is saved.

Plain functions: they take values and return statements or objects; they flush at most and
never commit or read the request. Who may change what is decided with lms.auth.scope.
"""
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.scope import in_subtree
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..orgs.models import LEVELS, OrgUnit
from .models import (
    BASE_KINDS,
    INSTITUTION_KINDS,
    SERIES,
    TRAINER_KINDS,
    Expert,
    Institution,
    Textbook,
    Trainer,
    TrainingBase,
)


@dataclass(frozen=True)
class Pool:
    key: str                       # URL segment and template name: "trainers"
    model: type[Any]               # the pool's model class
    title: object                  # lazy label of the pool: 师资库
    name_attr: str                 # "name", or "title" for textbooks
    search: tuple[str, ...]        # text columns searched with LIKE
    kind_attr: str | None = None   # the select filter: "kind", or "series" for textbooks
    kinds: dict | None = None
    has_unit: bool = False         # carries an org unit (list filter by subtree)
    has_active: bool = True        # has an active flag (inactive records are hidden from non-staff)
    match: tuple[str, ...] = ()    # the attributes that identify a record (import updates by them)
    list_shows_unit: bool = False  # the list page names each record's org unit (loaded with the page)

    def kind_label(self, record) -> str:
        """The record's type (or series) in the user's language; empty for pools without one."""
        if not self.kinds or not self.kind_attr:
            return ""
        return str(self.kinds.get(getattr(record, self.kind_attr), ""))


POOLS: dict[str, Pool] = {p.key: p for p in (
    Pool("textbooks", Textbook, _l("Textbooks"), "title",
         ("title", "topics", "editors", "publisher", "description"),
         kind_attr="series", kinds=SERIES, has_active=False, match=("title",)),
    Pool("trainers", Trainer, _l("Trainer pool"), "name",
         ("name", "title", "affiliation", "expertise", "bio"),
         kind_attr="kind", kinds=TRAINER_KINDS, has_unit=True, match=("name", "affiliation")),
    Pool("bases", TrainingBase, _l("Training base pool"), "name",
         ("name", "address", "theme", "contact_name", "description"),
         kind_attr="kind", kinds=BASE_KINDS, has_unit=True, match=("name", "org_unit"), list_shows_unit=True),
    Pool("experts", Expert, _l("Expert think tank"), "name",
         ("name", "title", "affiliation", "fields", "bio"), match=("name", "affiliation")),
    Pool("institutions", Institution, _l("Institution pool"), "name",
         ("name", "cooperation", "address", "contact_name", "description"),
         kind_attr="kind", kinds=INSTITUTION_KINDS, match=("name",)),
)}

# Attributes a form or an import row may set, per pool ("org_unit" and "user" are objects).
FIELDS = {
    "textbooks": ("title", "series", "topics", "editors", "publisher", "year", "link", "description"),
    "trainers": ("name", "kind", "title", "affiliation", "expertise", "phone", "org_unit", "user", "bio", "active"),
    "bases": (
        "name",
        "kind",
        "org_unit",
        "address",
        "theme",
        "capacity",
        "contact_name",
        "contact_phone",
        "description",
        "active",
    ),
    "experts": ("name", "title", "affiliation", "fields", "contact", "user", "bio", "active"),
    "institutions": (
        "name",
        "kind",
        "cooperation",
        "address",
        "contact_name",
        "contact_phone",
        "description",
        "active",
    ),
}
# 、-separated list fields: any of ，,;； and line breaks are accepted as separators.
LIST_FIELDS = {"topics", "expertise", "fields", "cooperation"}
_SEPARATORS = re.compile(r"[、，,;；\n\r]+")
MAX_TERMS = 8


def normalize_list(text: str | None) -> str:
    items = []
    for item in _SEPARATORS.split(text or ""):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return "、".join(items)


def split_list(text: str | None) -> list[str]:
    return [t for t in (text or "").split("、") if t]


# ----- listing -------------------------------------------------------------------------------

def pool_query(pool: Pool, *, staff: bool, q: str = "", kind: str | None = None, unit: OrgUnit | None = None,
               status: str | None = None, load_unit: bool = True):
    """A select of the pool's records narrowed by search and filters, in name order (with each record's org
    unit, unless `load_unit` is false: a list that does not name it)."""
    model = pool.model
    stmt = select(model)
    for term in q.split()[:MAX_TERMS]:
        stmt = stmt.where(or_(*(getattr(model, c).icontains(term, autoescape=True) for c in pool.search)))
    if pool.kinds and pool.kind_attr and kind in pool.kinds:
        stmt = stmt.where(getattr(model, pool.kind_attr) == kind)
    if pool.has_unit:
        if unit is not None:
            stmt = stmt.join(model.org_unit).where(in_subtree(OrgUnit.path, unit))
        if load_unit:
            stmt = stmt.options(selectinload(model.org_unit))
    if pool.has_active:
        if not staff:
            stmt = stmt.where(model.active.is_(True))
        elif status in ("active", "inactive"):
            stmt = stmt.where(model.active.is_(status == "active"))
    return stmt.order_by(getattr(model, pool.name_attr), model.id)


class UnitOption(NamedTuple):
    """A unit as the filter offers it (plain columns: no ORM objects for a select box)."""
    id: int
    name: str
    path: str
    depth: int


def filter_units(pool: Pool) -> list[UnitOption]:
    """The org units worth offering in a pool's unit filter: those holding a record and their ancestors,
    in tree order."""
    if not pool.has_unit:
        return []
    paths = db.session.scalars(select(OrgUnit.path).join(pool.model, pool.model.org_unit_id == OrgUnit.id).distinct())
    ids = {int(x) for path in paths for x in path.strip("/").split("/") if x}
    if not ids:
        return []
    rows = db.session.execute(select(OrgUnit.id, OrgUnit.name, OrgUnit.path, OrgUnit.level)
                              .where(OrgUnit.id.in_(ids)))
    return sorted((UnitOption(r.id, r.name, r.path, LEVELS.index(r.level)) for r in rows),
                  key=lambda u: [int(x) for x in u.path.strip("/").split("/") if x])  # as orgs.tree.tree_order


def visible_to(pool: Pool, record, staff: bool) -> bool:
    """Non-staff do not see records taken out of the pool."""
    return staff or not pool.has_active or bool(record.active)


def counts(staff: bool) -> dict[str, int]:
    """How many records each pool holds (active ones for non-staff), and how many courses."""
    from ..learning.models import Course

    out: dict[str, int] = {}
    for key, pool in POOLS.items():
        stmt = select(func.count()).select_from(pool.model)
        if pool.has_active and not staff:
            stmt = stmt.where(pool.model.active.is_(True))
        out[key] = db.session.scalar(stmt) or 0
    stmt = select(func.count()).select_from(Course)
    if not staff:
        stmt = stmt.where(Course.status == "published")
    out["courses"] = db.session.scalar(stmt) or 0
    return out


def trainer_courses(trainer: Trainer, staff: bool) -> list:
    """The courses a trainer wrote: published ones for everyone, all of them for staff."""
    from ..learning.models import Course

    stmt = select(Course).where(Course.authors.any(Trainer.id == trainer.id))
    if not staff:
        stmt = stmt.where(Course.status == "published")
    return list(db.session.scalars(stmt.order_by(Course.title, Course.id)))



# ----- identity and saving -------------------------------------------------------------------

def match_key(pool: Pool, values: dict) -> tuple:
    key = []
    for attr in pool.match:
        value = values.get(attr)
        if attr == "org_unit":
            key.append(value.id if value is not None else None)
        else:
            key.append((value or "").strip())
    return tuple(key)


def record_key(pool: Pool, record) -> tuple:
    return match_key(pool, {attr: getattr(record, attr) for attr in pool.match})


def find_same(pool: Pool, values: dict, exclude=None):
    """The record the values identify (see Pool.match), other than `exclude`."""
    model = pool.model
    stmt = select(model)
    for attr in pool.match:
        value = values.get(attr)
        if attr == "org_unit":
            stmt = stmt.where(model.org_unit_id == (value.id if value is not None else None))
        else:
            stmt = stmt.where(getattr(model, attr) == (value or "").strip())
    if exclude is not None and exclude.id is not None:
        stmt = stmt.where(model.id != exclude.id)
    return db.session.scalars(stmt.order_by(model.id).limit(1)).first()


def duplicate_message(pool: Pool, values: dict) -> str:
    if pool.key == "textbooks":
        return _("A textbook titled %(title)s already exists.", title=values.get("title"))
    if pool.key == "bases":
        unit = values.get("org_unit")
        return _("%(unit)s already has a base named %(name)s.", unit=unit.name if unit else "", name=values.get("name"))
    if pool.key == "institutions":
        return _("An institution named %(name)s already exists.", name=values.get("name"))
    return _("%(name)s with the same affiliation is already in the pool; fill in the affiliation to tell them apart.",
             name=values.get("name"))


def account_problem(username: str, user: User | None, profile: Trainer | None) -> str | None:
    """Why `user` cannot be linked to the trainer profile `profile` (None when it can)."""
    if user is None:
        return _("No account has the username %(u)s.", u=username)
    if not user.has_role("trainer"):
        return _("The account %(u)s is not a trainer account.", u=username)
    other = db.session.scalars(select(Trainer).where(Trainer.user_id == user.id)).first()
    if other is not None and (profile is None or other.id != profile.id):
        return _("The account %(u)s is already linked to the trainer %(name)s.", u=username, name=other.name)
    return None


def expert_account_problem(username: str, user: User | None, profile: Expert | None) -> str | None:
    """Why `user` cannot be linked to the expert `profile` (None when it can): any account, one expert each."""
    if user is None:
        return _("No account has the username %(u)s.", u=username)
    other = db.session.scalars(select(Expert).where(Expert.user_id == user.id)).first()
    if other is not None and (profile is None or other.id != profile.id):
        return _("The account %(u)s is already linked to the expert %(name)s.", u=username, name=other.name)
    return None


def find_account(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def check_record(pool: Pool, record, values: dict) -> list[tuple[str, str]]:
    """Rules across records, for a form: (attribute, message) pairs; empty when the values may be saved."""
    problems = []
    if find_same(pool, values, exclude=record) is not None:
        problems.append((pool.match[0], duplicate_message(pool, values)))
    return problems


def save_record(pool: Pool, record, values: dict, *, partial: bool = False):
    """Create (record None) or update a record from values keyed by attribute.

    partial=True (imports) leaves attributes whose value is None unchanged.
    """
    if record is None:
        record = pool.model()
        if pool.has_active:
            record.active = True
        db.session.add(record)
    for attr in FIELDS[pool.key]:
        if attr not in values:
            continue
        value = values[attr]
        if value is None and partial:
            continue
        if isinstance(value, str):
            value = value.strip()
            if attr in LIST_FIELDS:
                value = normalize_list(value)
        setattr(record, attr, value)
    if pool.has_active and record.active is None:
        record.active = True
    db.session.flush()
    return record
