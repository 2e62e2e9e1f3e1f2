"""Small helpers for views."""
from urllib.parse import urlsplit

from flask import abort, request
from sqlalchemy import func, select

from .extensions import db


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


class Page:
    """One page of a select statement."""

    def __init__(self, stmt, page: int, per_page: int):
        self.page = max(page, 1)
        self.per_page = per_page
        self.total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        self.items = db.session.scalars(stmt.limit(per_page).offset((self.page - 1) * per_page)).unique().all()
        self.pages = max((self.total + per_page - 1) // per_page, 1)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1
