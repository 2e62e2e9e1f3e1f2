"""Small helpers for views."""
from datetime import UTC
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort
from sqlalchemy import Select, func, select

from .extensions import db

T = TypeVar("T")


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


MAX_ID = 2**31 - 1  # INTEGER columns: a larger id cannot exist (and PostgreSQL would refuse it)


def get_or_none(model: type[T], ident: object, options=()) -> T | None:
    if not isinstance(ident, int) or not 0 < ident <= MAX_ID:
        return None
    return db.session.get(model, ident, options=options)


def load_or_none(statement: Select[tuple[T]], ident: object) -> T | None:
    """What get_or_none gives, by a statement built once per process that selects one record by the
    bound parameter `id` (with its eager loads): SQLAlchemy builds no statement and no cache key for it."""
    if not isinstance(ident, int) or not 0 < ident <= MAX_ID:
        return None
    return db.session.execute(statement, {"id": ident}).unique().scalar_one_or_none()


def get_or_404(model: type[T], ident: object, options=()) -> T:
    obj = get_or_none(model, ident, options)

    if obj is None:
        abort(404)
    return obj


def count_rows(stmt) -> int:
    """How many rows a select statement gives."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


class Page:
    """One page of a list: its number, the page count, and (built from a select statement) its rows: the
    records the statement selects, or with `rows=True` its rows of columns (no ORM objects to build)."""

    def __init__(self, stmt, page: int, per_page: int, rows: bool = False):
        self._number(max(page, 1), per_page, count_rows(stmt))
        stmt = stmt.limit(per_page).offset((self.page - 1) * per_page)
        self.items = db.session.execute(stmt).all() if rows else db.session.scalars(stmt).unique().all()

    @classmethod
    def counted(cls, page: int, per_page: int, total: int) -> "Page":
        """Page numbers only, for a list counted elsewhere and fetched by hand (a page past the end is the last)."""
        self = cls.__new__(cls)
        self._number(page, per_page, total)
        self.page = min(max(page, 1), self.pages)
        self.items = []
        return self

    def _number(self, page: int, per_page: int, total: int) -> None:
        self.page, self.per_page, self.total = page, per_page, total
        self.pages = max((total + per_page - 1) // per_page, 1)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def page_arg() -> int:
    """The page number of a list (?page=): 1 when absent; a 400 page saying why when not 1 to 100,000."""
    from .inputs import page_arg as read

    return read()


LOCAL_TZ = "Asia/Shanghai"


def local_to_utc(value):
    """A naive datetime typed in Asia/Shanghai → the naive UTC the database stores."""
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(LOCAL_TZ)).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(value):
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)
