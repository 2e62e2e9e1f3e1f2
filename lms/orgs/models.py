from functools import cache

from sqlalchemy import ForeignKey, Index, Select, String, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of
from ..extensions import Model, db
from ..i18n import lazy_gettext as _l

LEVELS = ("city", "district", "street", "community")
LEVEL_LABELS = {
    "city": _l("City"),
    "district": _l("District / county"),
    "street": _l("Street / township"),
    "community": _l("Community / village"),
}
# The level a child of each level must have.
CHILD_LEVEL = {"city": "district", "district": "street", "street": "community", "community": None}


class OrgUnit(Model):
    """A node of the org tree: city → district → street → community.

    `path` is the materialised path of ids ("/1/4/17/"), so a subtree is one indexed
    prefix match: the basis of every scope filter and every statistic over the tree.
    """

    __tablename__ = "org_unit"
    __table_args__ = (
        one_of("level", LEVELS),
        Index("ix_org_unit_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["OrgUnit"]] = relationship(back_populates="parent", order_by="OrgUnit.code")

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    @property
    def depth(self) -> int:
        return LEVELS.index(self.level)

    def ancestors(self) -> list["OrgUnit"]:
        """From the root down to (not including) this unit, in one query."""
        ids = [int(x) for x in self.path.strip("/").split("/")[:-1] if x]
        if not ids:
            return []
        units = db.session.scalars(_units_statement(), {"ids": ids}).all()
        return sorted(units, key=lambda u: len(u.path))

    @property
    def full_name(self) -> str:
        return " / ".join([u.name for u in self.ancestors()] + [self.name])

    def contains(self, other: "OrgUnit | None") -> bool:
        return other is not None and other.path.startswith(self.path)


@cache
def _units_statement() -> Select:
    """Units by id, built once per process (a home page names the user's unit with its ancestors)."""
    return select(OrgUnit).where(OrgUnit.id.in_(bindparam("ids", expanding=True)))
