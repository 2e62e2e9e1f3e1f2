"""Login (throttled: see throttle.py), logout, log out everywhere, password change and the language switch."""
import math
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from ..transaction import discard
from ..util import safe_next
from . import throttle
from .accounts import password_problems
from .forms import ChangePasswordForm, LoginForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        address = throttle.address_key(request.remote_addr)
        # FOR UPDATE: attempts on one account are checked and counted one after another, so a
        # burst of parallel guesses cannot slip past the lock.
        user = db.session.scalar(select(User).where(User.username == (form.username.data or "").strip())
                                 .with_for_update(of=User))
        block = throttle.blocked(address, user.id if user else None, now)
        if block is not None:
            discard()
            flash(_block_message(block, now), "danger")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            throttle.check_unknown_user(form.password.data or "")
        if user is None or not user.check_password(form.password.data or ""):
            lock = throttle.record_failure(address, user.id if user else None, now)
            flash(_block_message(lock, now) if lock else _("Wrong username or password."), "danger")
        elif not user.active:
            discard()
            flash(_("This account has been deactivated. Ask your training office."), "danger")
        else:
            throttle.record_success(user)
            lang = session.get("lang")
            session.clear()  # a fresh session at every login: no session fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            user.last_login_at = now
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("auth/login.html", form=form)


def _block_message(block: throttle.Block, now: datetime) -> str:
    """When the next attempt may be made, in words (times in the site's time zone)."""
    seconds = max(1, math.ceil((block.until - now).total_seconds()))
    if not block.locked:
        return _("Too many failed logins. Try again in %(n)d s.", n=seconds)
    until = block.until.replace(second=0, microsecond=0)
    if until < block.until:
        until += timedelta(minutes=1)  # "locked until 14:35" must not end before 14:35
    minutes = math.ceil(seconds / 60)
    when = format_datetime(until, "HH:mm" if minutes <= 12 * 60 else "yyyy-MM-dd HH:mm")
    if block.account:
        return _("Too many failed logins: this account is locked until %(time)s (%(n)d min from now). "
                 "Try again then, or ask your training office to unlock it.", time=when, n=minutes)
    return _("Too many failed logins from your network: logging in from it is paused until %(time)s "
             "(%(n)d min from now). Try again then.", time=when, n=minutes)


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device (a new session nonce)."""
    current_user.reset_sessions()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been logged out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # The current password is a password check like a login: the same throttle applies.
        now = utcnow()
        address = throttle.address_key(request.remote_addr)
        block = throttle.blocked(address, current_user.id, now)
        if block is not None:
            form.current.errors = [*form.current.errors, _block_message(block, now)]
        elif not current_user.check_password(form.current.data):
            throttle.record_failure(address, current_user.id, now)
            form.current.errors = [*form.current.errors, _("The current password is wrong.")]
        else:
            problems = password_problems(form.new.data or "", current_user.username)

            if form.new.data == form.current.data:
                problems.append(_("The new password must differ from the current one."))
            if problems:
                form.new.errors = [*form.new.errors, *problems]
            else:
                current_user.set_password(form.new.data)
                current_user.must_change_password = False
                current_user.reset_sessions()  # other devices are logged out
                login_user(current_user._get_current_object())  # the user, not the proxy (it would point at itself)
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>")
def set_language(code):
    """Switch the interface language (kept in the session cookie; no database change)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.home")))
