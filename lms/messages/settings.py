"""A user's message settings: per kind in the app and by e-mail, the e-mail address, the calendar feed's
secret address (kept as its SHA-256 only: a new one kills the old)."""
from __future__ import annotations

import hashlib
import re
import secrets

from flask import request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from ..extensions import db
from ..i18n import lazy_gettext as _l
from . import kinds
from .models import MessageAccount, MessagePreference

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
FEED_SESSION_KEY = "messages_feed_token"


def _address(form: FlaskForm, field: StringField) -> None:
    if field.data and not _ADDRESS.fullmatch(field.data):
        raise ValidationError(_l("Enter an e-mail address such as name@example.cn, or leave the field empty."))


class SettingsForm(FlaskForm):
    email = StringField(_l("E-mail address"), filters=[lambda v: (v or "").strip() or None],
                        validators=[Optional(), Length(max=254), _address])

    def fill(self, user_id: int) -> None:
        account = db.session.get(MessageAccount, user_id)
        self.email.data = account.email if account else None
        self.chosen = current_choices(user_id)

    def choices(self) -> dict[str, tuple[bool, bool]]:
        """(in the app, by e-mail) per kind, as the form's check boxes say."""
        return {name: (f"in_app-{name}" in request.form, f"email-{name}" in request.form) for name in kinds.KINDS}

    @property
    def shown(self) -> dict[str, tuple[bool, bool]]:
        return getattr(self, "chosen", None) or self.choices()


def _rows(user_id: int) -> dict[str, MessagePreference]:
    rows = db.session.scalars(select(MessagePreference).where(MessagePreference.user_id == user_id))
    return {p.kind: p for p in rows}


def current_choices(user_id: int) -> dict[str, tuple[bool, bool]]:
    rows = _rows(user_id)
    return {name: ((rows[name].in_app, rows[name].email) if name in rows else (kind.in_app, kind.email))
            for name, kind in kinds.KINDS.items()}


def _account(user_id: int) -> MessageAccount:
    account = db.session.get(MessageAccount, user_id)
    if account is None:
        account = MessageAccount(user_id=user_id)
        db.session.add(account)
    return account


def save(user_id: int, choices: dict[str, tuple[bool, bool]], email: str | None) -> None:
    rows = _rows(user_id)
    for name, (in_app, by_mail) in choices.items():
        row = rows.get(name)
        if row is None:
            db.session.add(MessagePreference(user_id=user_id, kind=name, in_app=in_app, email=by_mail))
        else:
            row.in_app, row.email = in_app, by_mail
    _account(user_id).email = email
    db.session.flush()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(user_id: int) -> str:
    """A new secret for the user's calendar feed (the old one stops working); the token itself is returned
    once and never stored."""
    token = secrets.token_urlsafe(24)
    _account(user_id).feed_token_hash = _hash(token)
    db.session.flush()
    return token


def feed_owner(token: str) -> int | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(MessageAccount.user_id).where(MessageAccount.feed_token_hash == _hash(token)))


def remember_feed_url(token: str) -> None:
    """The token in the user's own session, so the settings page can show the address it makes (the database
    keeps only its hash: after a logout the user makes a new one)."""
    session[FEED_SESSION_KEY] = token


def shown_feed_url() -> str | None:
    """The feed's full address, if this session made the current one."""
    from flask import current_app
    from flask_login import current_user

    token = session.get(FEED_SESSION_KEY)
    if not token or feed_owner(token) != current_user.id:
        return None
    path = url_for("messages.feed", token=token)
    base = (current_app.config.get("SITE_URL") or request.host_url).rstrip("/")
    return base + path
