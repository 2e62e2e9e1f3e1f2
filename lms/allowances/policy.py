"""Policy versions: which version is in force for an org unit on a day, and saving one (validated).

A unit's policy on a day is the version in force that day of the nearest unit on its path to the root,
itself included; among one unit's versions in force, the one starting latest. Plain functions: they
flush, never commit, and raise PolicyError with a message for the user.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import DomainError
from ..extensions import db
from ..orgs.models import OrgUnit
from .models import PAID_LEVELS, UPGRADE_MODES, AllowancePolicy

MAX_AMOUNT = 1_000_000   # 元: a bound that catches a typo (an extra zero or two), not a policy limit


class PolicyError(DomainError):
    """A policy version that cannot be saved; the message is for the user."""


def all_versions() -> Sequence[AllowancePolicy]:
    """Every version of every unit (a city holds a few dozen at most), with its unit."""
    return db.session.scalars(select(AllowancePolicy).options(selectinload(AllowancePolicy.org_unit))
                              .order_by(AllowancePolicy.effective_from)).all()


class Resolver:
    """Answers "the policy of the unit at `path` on `day`" from one read of the versions."""

    def __init__(self, versions: Sequence[AllowancePolicy] | None = None):
        self.versions = list(all_versions() if versions is None else versions)
        self._cache: dict[tuple[str, date], AllowancePolicy | None] = {}

    def at(self, path: str, day: date) -> AllowancePolicy | None:
        key = (path, day)
        if key not in self._cache:
            mine = [v for v in self.versions if path.startswith(v.org_unit.path) and v.in_force(day)]
            self._cache[key] = max(mine, key=lambda v: (len(v.org_unit.path), v.effective_from), default=None)
        return self._cache[key]


def in_force(unit: OrgUnit, day: date) -> AllowancePolicy | None:
    return Resolver().at(unit.path, day)


def versions_of(units: Sequence[OrgUnit]) -> Sequence[AllowancePolicy]:
    ids = [u.id for u in units]
    return db.session.scalars(select(AllowancePolicy).where(AllowancePolicy.org_unit_id.in_(ids))
                              .options(selectinload(AllowancePolicy.org_unit))
                              .order_by(AllowancePolicy.org_unit_id, AllowancePolicy.effective_from)).all()


@dataclass
class Draft:
    """A version as typed: dates and whole amounts already read (forms.PolicyForm does that)."""
    effective_from: date
    effective_to: date | None
    monthly: dict[str, int]
    reward: dict[str, int]
    upgrade_reward: str
    note: str = ""


def save(unit: OrgUnit, draft: Draft, actor, version: AllowancePolicy | None = None) -> AllowancePolicy:
    """Create a version of `unit`'s policy, or change `version`. The audit trail records the change."""
    if draft.effective_to is not None and draft.effective_to < draft.effective_from:
        raise PolicyError(_("“Effective to” (%(to)s) is before “effective from” (%(start)s).",
                            to=draft.effective_to.isoformat(), start=draft.effective_from.isoformat()))
    if draft.upgrade_reward not in UPGRADE_MODES:
        raise PolicyError(_("Choose how an upgrade's reward is paid."))
    for level in PAID_LEVELS:
        for amount in (draft.monthly.get(level, 0), draft.reward.get(level, 0)):
            if not 0 <= amount <= MAX_AMOUNT:
                raise PolicyError(_("Amounts are whole yuan from 0 to %(max)d.", max=MAX_AMOUNT))
    clash = db.session.scalar(select(AllowancePolicy).where(
        AllowancePolicy.org_unit_id == unit.id, AllowancePolicy.effective_from == draft.effective_from,
        AllowancePolicy.id != (version.id if version is not None else 0)))
    if clash is not None:
        raise PolicyError(_("%(unit)s already has a version in force from %(day)s: change that one, or choose "
                            "another start date.", unit=unit.name, day=draft.effective_from.isoformat()))
    if version is None:
        version = AllowancePolicy(org_unit_id=unit.id, created_by_id=actor.id)
        db.session.add(version)
    version.effective_from, version.effective_to = draft.effective_from, draft.effective_to
    for level in PAID_LEVELS:
        setattr(version, f"monthly_{level}", draft.monthly.get(level, 0))
        setattr(version, f"reward_{level}", draft.reward.get(level, 0))
    version.upgrade_reward, version.note = draft.upgrade_reward, draft.note.strip()
    db.session.flush()
    return version
