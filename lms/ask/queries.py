"""Reading 请教一下: the public library (search, topic, order), the office's lists and its statistics.

Search reuses the course search's jieba segmentation (lms/learning/search.py tokenize): a question's
words are stored space-separated in search_tokens with a space at each end, and a query matches the
questions holding every one of its words (" word " in the column, on SQLite and PostgreSQL alike).
"""
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select

from ..auth.models import User
from ..extensions import db
from ..learning.search import tokenize
from ..orgs.models import OrgUnit
from .models import AskQuestion

SORTS = ("votes", "newest")


def ordered(stmt: Select, sort: str) -> Select:
    if sort == "newest":
        return stmt.order_by(AskQuestion.created_at.desc(), AskQuestion.id.desc())
    return stmt.order_by(AskQuestion.votes.desc(), AskQuestion.created_at.desc(), AskQuestion.id.desc())


def matching(stmt: Select, words: str) -> Select:
    """Only the questions whose title, body or answer hold every word of `words`."""
    for word in sorted(set(tokenize(words))):
        stmt = stmt.where(AskQuestion.search_tokens.contains(f" {word} ", autoescape=True))
    return stmt


def library(statuses: Iterable[str], q: str = "", topic: str = "", sort: str = "votes") -> Select:
    stmt = select(AskQuestion).where(AskQuestion.status.in_(tuple(statuses)))
    if topic == "other":
        stmt = stmt.where(AskQuestion.topic == "")
    elif topic:
        stmt = stmt.where(AskQuestion.topic == topic)
    return ordered(matching(stmt, q), sort)


# --- statistics -----------------------------------------------------------------------------------

def median_hours(durations: list[float]) -> float | None:
    """The median of times to answer, in hours (None when nothing was answered)."""
    return statistics.median(durations) if durations else None


@dataclass
class Tally:
    label: str
    asked: int = 0
    answered: int = 0
    open: int = 0
    rejected: int = 0
    hours: list[float] = field(default_factory=list)
    unit_id: int | None = None

    @property
    def median_hours(self) -> float | None:
        return median_hours(self.hours)

    def add(self, status: str, created_at: datetime, answered_at: datetime | None) -> None:
        self.asked += 1
        if status == "answered" and answered_at is not None:
            self.answered += 1
            self.hours.append((answered_at - created_at).total_seconds() / 3600)
        elif status == "rejected":
            self.rejected += 1
        else:
            self.open += 1


@dataclass
class Stats:
    unit: OrgUnit
    total: Tally
    units: list[Tally]
    answerers: list[Tally]


def stats(unit: OrgUnit, directly_label: str) -> Stats:
    """Asked, answered, open and the median time to answer for `unit`'s subtree: in total, per unit
    directly below it (each with its subtree; questions asked at `unit` itself in a row of their own), and
    per answerer (those routed a question, by account)."""
    rows = db.session.execute(
        select(AskQuestion.status, AskQuestion.created_at, AskQuestion.answered_at, OrgUnit.path,
               AskQuestion.answerer_id, AskQuestion.answered_by_id)
        .join(OrgUnit, AskQuestion.org_unit_id == OrgUnit.id)
        .where(OrgUnit.path.startswith(unit.path, autoescape=True))).all()
    children = list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)))
    total = Tally(unit.name, unit_id=unit.id)
    per_unit = {c.path: Tally(c.name, unit_id=c.id) for c in children}
    directly = Tally(directly_label)
    per_answerer: dict[int, Tally] = {}
    for status, created_at, answered_at, path, answerer_id, answered_by_id in rows:
        total.add(status, created_at, answered_at)
        child = next((p for p in per_unit if path.startswith(p)), None)
        (per_unit[child] if child else directly).add(status, created_at, answered_at)
        who = answered_by_id or answerer_id
        if who is not None:
            per_answerer.setdefault(who, Tally("")).add(status, created_at, answered_at)
    names: dict[int, str] = {}
    if per_answerer:
        names = {ident: name for ident, name in db.session.execute(
            select(User.id, User.name).where(User.id.in_(per_answerer)))}
    for ident, tally in per_answerer.items():
        tally.label = names.get(ident, "")
    units = [*([directly] if directly.asked else []), *per_unit.values()]
    answerers = sorted(per_answerer.values(), key=lambda t: (-t.answered, t.label))
    return Stats(unit, total, units, answerers)
