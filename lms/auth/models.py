import secrets
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, cast

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, joinedload, mapped_column, query_expression, relationship, with_expression
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import one_of, utcnow
from ..extensions import Model, db
from ..orgs.models import OrgUnit
from . import choices


def _new_nonce() -> str:
    return secrets.token_hex(8)


class UserRole(Model):
    __tablename__ = "user_role"
    __table_args__ = (one_of("role", choices.ROLES),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class User(UserMixin, Model):
    """An account. Community workers carry the profile fields of the city's worker register."""

    __tablename__ = "user"
    __table_args__ = (
        one_of("gender", choices.GENDERS, nullable=True),
        one_of("cert_level", choices.CERT_LEVELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    education: Mapped[str | None] = mapped_column(String(32))
    political_status: Mapped[str | None] = mapped_column(String(32))
    cert_level: Mapped[str] = mapped_column(String(16), default="none")
    years_in_work: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Part of the session identity: changing it logs the user out everywhere.
    session_nonce: Mapped[str] = mapped_column(String(32), default=_new_nonce)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    # The unread messages (up to 100), read with the session's account (lms/messages/inbox.py); None elsewhere.
    unread_messages: Mapped[int | None] = query_expression()

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    # Flask-Login: the session holds id and nonce, so a new nonce invalidates old sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def reset_sessions(self) -> None:
        self.session_nonce = _new_nonce()

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    @roles.setter
    def roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [str(choices.ROLES[r]) for r in choices.ROLES if r in self.roles]

    def label(self, field: str) -> str:
        table = {
            "gender": choices.GENDERS,
            "education": choices.EDUCATION,
            "political_status": choices.POLITICAL_STATUS,
            "cert_level": choices.CERT_LEVELS,
        }[field]
        return choices.label(table, getattr(self, field))


@cache
def _session_user_statement() -> Select:
    from ..messages.inbox import unread_count_expression

    return select(User).options(joinedload(User.role_rows),
                                with_expression(User.unread_messages, unread_count_expression(User.id))
                                ).where(User.id == bindparam("user_id"))


def session_user(user_id: int) -> User | None:
    """The account a login session names, with its unit and its roles, in one statement. Every request
    runs it (and so knows at once of a removed role or a deactivated account); the statement is built
    once per process, which spares SQLAlchemy building it and its cache key on each request."""
    from ..util import MAX_ID

    if not 0 < user_id <= MAX_ID:
        return None
    return db.session.execute(_session_user_statement(), {"user_id": user_id}).unique().scalar_one_or_none()


@cache
def _session_account_statement() -> Select:
    user = cast(Table, User.__table__)
    return select(user.c.session_nonce, user.c.active, user.c.must_change_password).where(
        user.c.id == bindparam("user_id"))


class SessionAccount(UserMixin):
    """The session's account as a request marked `@account_id_only` sees it: its id, read with one
    small prebuilt statement that still checks, on every request, that the account is active and the
    session's nonce current (session_account()). No unit, no roles: such a view asks for nothing else.
    Should anything else ask (an error page's menu), the full account is loaded then."""

    def __init__(self, user_id: int, session_nonce: str, must_change_password: bool) -> None:
        self.id, self.session_nonce, self.must_change_password = user_id, session_nonce, must_change_password

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    def __getattr__(self, name: str) -> Any:  # only for names not set above
        if name.startswith("_"):  # not the account's: Python's and libraries' probes (SQLAlchemy's inspect())
            raise AttributeError(name)
        full = self.__dict__.get("_full")
        if full is None:
            full = self.__dict__["_full"] = session_user(self.id)
        if full is None:
            raise AttributeError(name)
        return getattr(full, name)


def session_account(user_id: int, nonce: str) -> SessionAccount | None:
    """The active account `user_id` if `nonce` is its session's, as a SessionAccount (one statement)."""
    from ..util import MAX_ID

    if not 0 < user_id <= MAX_ID:
        return None
    row = db.session.connection().execute(_session_account_statement(), {"user_id": user_id}).one_or_none()
    if row is None or not row.active or row.session_nonce != nonce:
        return None
    return SessionAccount(user_id, row.session_nonce, bool(row.must_change_password))


def account_id_only(view: Callable) -> Callable:
    """Mark a view that needs of the logged-in account only its id (and that it is active): the
    session loads a SessionAccount for it, not the account with its unit and roles. For the exam
    day's saves, the most frequent request. Keep the marker under @login_required."""
    setattr(view, "account_id_only", True)  # noqa: B010 (a function's attribute, read by lms/__init__.py's user loader)
    return view


class LoginThrottle(Model):
    """Failed-login counter of one account or one client address (see auth/throttle.py).

    Kept in the database, not in process memory, so that every app server behind the load
    balancer counts the same failures and honours the same locks."""

    __tablename__ = "login_throttle"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (address IS NULL)", name="one_key"),
        Index("ix_login_throttle_last_failure_at", "last_failure_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str | None] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.user_id or self.address} {self.failures}>"
