"""Creating and revoking one's own API tokens (office and admin users). A normal, CSRF-protected page."""
from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..auth.scope import get_in_scope_or_404, owns, roles_required
from ..database import utcnow
from ..extensions import db
from ..i18n import lazy_gettext as _l
from .models import ApiToken, hash_token, new_token_value

bp = Blueprint("api_tokens", __name__, url_prefix="/api/tokens")
MAX_ACTIVE = 20


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=100)])


class RevokeForm(FlaskForm):
    pass


def _mine():
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).all()


def _render(form, new_token=None, status=200):
    response = make_response(render_template("api/tokens.html", form=form, tokens=_mine(), revoke=RevokeForm(),
                                             new_token=new_token), status)
    response.headers["Cache-Control"] = "no-store"  # the page may show a token once
    return response


@bp.route("/", methods=["GET", "POST"])
@roles_required("office", "admin")
def index():
    form = TokenForm()
    if form.validate_on_submit():
        active = sum(1 for t in _mine() if t.active)
        if active >= MAX_ACTIVE:
            message = _("You already have %(n)d active tokens: revoke one first.", n=active)
            form.name.errors = [*form.name.errors, message]
            return _render(form, status=400)
        value = new_token_value()
        db.session.add(ApiToken(user_id=current_user.id, name=(form.name.data or "").strip(),
                                token_hash=hash_token(value), hint=value[:8]))

        # Shown in this response only: it is not stored anywhere but as a hash, so no redirect.
        return _render(TokenForm(formdata=None), new_token=value)
    return _render(form, status=400 if form.errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles_required("office", "admin")
def revoke(token_id):
    token = get_in_scope_or_404(ApiToken, token_id, owns)
    if RevokeForm().validate_on_submit() and token.revoked_at is None:
        token.revoked_at = utcnow()
        flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    return redirect(url_for(".index"))
