"""Login, logout, password change and the language switch."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from ..util import safe_next
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
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.check_password(form.password.data):
            flash(_("Wrong username or password."), "danger")
        elif not user.active:
            flash(_("This account has been deactivated. Ask your training office."), "danger")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at every login: no session fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            problems = password_problems(form.new.data, current_user.username)
            if form.new.data == form.current.data:
                problems.append(_("The new password must differ from the current one."))
            if problems:
                form.new.errors.extend(problems)
            else:
                current_user.set_password(form.new.data)
                current_user.must_change_password = False
                current_user.reset_sessions()  # other devices are logged out
                db.session.commit()
                login_user(current_user)
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>")
def set_language(code):
    """Switch the interface language (kept in the session cookie; no database change)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.home")))
