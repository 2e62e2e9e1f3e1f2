"""Bearer-token authentication of the API. Cookies are never looked at: a session cookie alone
authenticates nothing here, which is why the API can be exempt from CSRF."""
from datetime import datetime, timedelta
from functools import partial

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..auth.models import User
from ..database import utcnow
from ..extensions import db
from ..transaction import write_after
from .models import ApiToken, hash_token

API_ROLES = ("office", "admin")
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often per token


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _unauthorised(message: str) -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": 'Bearer realm="api", charset="UTF-8"'})


def authenticate() -> User:
    """The user of the request's bearer token, or ApiError (401 without a usable token,
    403 when the token's owner may not use the API)."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorised(_("Send an API token as “Authorization: Bearer <token>”."))
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(value.strip())))
    if token is None or token.revoked_at is not None:
        raise _unauthorised(_("The API token is not valid or has been revoked."))
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        raise _unauthorised(_("The API token is not valid or has been revoked."))
    if not user.has_role(*API_ROLES):
        # Tokens are made on the tokens page, for office and admin users only; a token whose owner
        # has since lost those roles (a learner, a trainer) is refused rather than narrowed.
        raise ApiError(403, _("Only training offices and administrators may use the API."))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        # Not in this GET's read transaction: after it, in a short write transaction of its own.
        write_after(partial(_touch, token.id, now))
    g.api_token = token
    return user


def _touch(token_id: int, now: datetime) -> None:
    """Record a token's use (at most every TOUCH_EVERY: a burst of calls writes once)."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                       .execution_options(synchronize_session=False))
