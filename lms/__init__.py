"""社区学堂 — the Flask application factory."""
import mimetypes
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import (
    Flask,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError

from . import config as config_module
from .database import configure_engine, database_unavailable, include_name, unavailable_reason
from .extensions import babel, csrf, db, login_manager, migrate
from .i18n import lazy_gettext as _l

# The web app manifest (lms/static/manifest.webmanifest) goes out with its registered type whatever
# the platform's own MIME table says.
mimetypes.add_type("application/manifest+json", ".webmanifest")


class App(Flask):
    """Flask, asking once per function whether it is a coroutine function: Flask asks inspect for each
    view, hook and context processor of every request (some 20 times a page). No function of ours is
    one; a request-made function (`after_this_request`) past the table's bound is asked each time."""

    _sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync.get(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync) < 2000:
                self._sync[func] = sync
        return sync


def create_app(config: dict | None = None) -> Flask:
    app = App(__name__, instance_relative_config=False)
    app.config.update(config_module.from_env())
    if config:
        app.config.update(config)
    app.instance_path = app.config["INSTANCE_PATH"]
    from .sessions import KeptSessionInterface

    app.session_interface = KeptSessionInterface()

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(_project_dir() / "migrations"), render_as_batch=True,
                      include_name=include_name)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from . import i18n

    i18n.install(app)
    _init_login(app)

    from .allowances import views as allowance_views
    from .api import models as _api_models  # noqa: F401
    from .api import tokens as api_token_views
    from .api import views as api_views
    from .ask import models as _ask_models  # noqa: F401
    from .ask import views as ask_views
    from .audit import events as _audit_events  # noqa: F401 (the audit trail's flush listener)
    from .audit import models as _audit_models  # noqa: F401
    from .audit import views as audit_views
    from .auth import accounts_views
    from .auth import views as auth_views
    from .exams import mock_views
    from .exams import models as _exam_models  # noqa: F401
    from .exams import views as exam_views
    from .learning import models as _learning_models  # noqa: F401 (every table known to Alembic)
    from .learning import views as learning_views
    from .library import models as _library_models  # noqa: F401
    from .library import views as library_views
    from .main import bp as main_bp
    from .messages import models as _message_models  # noqa: F401
    from .messages import views as message_views
    from .orgs import views as org_views
    from .prep import models as _prep_models  # noqa: F401
    from .prep import views as prep_views
    from .stats import models as _stats_models  # noqa: F401
    from .stats import views as stats_views
    from .surveys import models as _survey_models  # noqa: F401
    from .surveys import views as survey_views
    from .tasks import models as _task_models  # noqa: F401
    from .tasks import views as task_views
    from .training import models as _training_models  # noqa: F401
    from .training import views as training_views
    from .uploads import models as _upload_models  # noqa: F401
    from .uploads import views as upload_views

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(org_views.bp)
    app.register_blueprint(library_views.bp)
    app.register_blueprint(learning_views.bp)
    app.register_blueprint(exam_views.bp)
    app.register_blueprint(mock_views.bp)
    app.register_blueprint(upload_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(training_views.bp)
    app.register_blueprint(stats_views.bp)
    app.register_blueprint(api_token_views.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(task_views.bp)
    app.register_blueprint(prep_views.bp)
    app.register_blueprint(message_views.bp)
    app.register_blueprint(allowance_views.bp)
    app.register_blueprint(ask_views.bp)
    app.register_blueprint(survey_views.bp)

    from .cli import register as register_cli

    register_cli(app)
    _init_templates(app)
    _init_errors(app)
    app.after_request(_security_headers)
    from . import requestlog

    requestlog.init_app(app)
    from . import transaction

    transaction.init_app(app)  # registered last: its after_request runs first
    if app.config.get("TRUSTED_PROXIES"):  # behind nginx: the client's address and scheme from X-Forwarded-*
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    from . import tasks

    tasks.init_app(app)
    return app


def _project_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def _select_locale():
    """The session's language, else the default: as a Locale object kept per identifier (Flask-Babel
    takes one as it is, where it would build a new one from the identifier on every request)."""
    from flask import current_app, has_request_context

    lang = session.get("lang") if has_request_context() else None
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    return _locale(lang)


@cache
def _locale(identifier: str):
    from babel import Locale

    return Locale.parse(identifier)


def _init_login(app: Flask) -> None:
    from .auth.models import session_account, session_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _sep, nonce = session_id.partition(":")
        if not user_id.isdigit():
            return None
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "account_id_only", False):  # its id and that it is active is all the view needs
            return session_account(int(user_id), nonce)
        user = session_user(int(user_id))
        if user is None or user.session_nonce != nonce or not user.active:
            return None
        return user

    @app.before_request
    def _require_password_change():
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in ("auth.change_password", "auth.logout", "auth.logout_everywhere",
                                         "auth.set_language", "static")):
            flash(_("Please set a new password before you go on."), "warning")
            return redirect(url_for("auth.change_password"))


def _init_templates(app: Flask) -> None:
    from flask_babel import get_locale

    from .auth import choices
    from .messages.inbox import unread_of
    from .nav import menu_html

    app.jinja_env.globals.update(choices=choices, LANGUAGES=app.config["LANGUAGES"], main_menu_html=menu_html,
                                 unread_messages=unread_of)
    from . import templating

    templating.install(app)

    @app.context_processor
    def _ctx():
        return {"current_locale": str(get_locale())}

    from .markdown import render_markdown

    app.add_template_filter(render_markdown, "markdown")

    from .exams.explain import as_seen

    app.add_template_filter(as_seen, "seen_letters")  # an explanation in the option letters a candidate saw

    from .exams import qtypes

    def type_partial(name: str):
        """A question type's partial as a module: its take(item, key) and result(item, answer) macros."""
        return app.jinja_env.get_template(qtypes.get(name).template).module

    app.jinja_env.globals.update(question_type=qtypes.get, question_types=qtypes.names, type_partial=type_partial)


def _init_errors(app: Flask) -> None:
    def page(code, title, message):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(400)
    def bad_request(e):
        from .inputs import BadInput

        if isinstance(e, BadInput):  # a value that was not understood: say which and what is accepted
            return page(400, _("Bad request"), e.message)
        return page(400, _("Bad request"), _("The request could not be understood. Go back and try again."))

    @app.before_request
    def _refuse_nul():
        """No text column can store a NUL character (PostgreSQL refuses it): refuse it at the door in a
        query string or a form field. (JSON bodies are the exam autosave's: it answers per item.)"""
        from .inputs import BadInput, has_nul

        field = has_nul(request.args)
        if field is None and request.method == "POST":
            field = has_nul(request.form)
        if field is not None:
            raise BadInput(_("The field “%(field)s” contains a NUL character (\\0), which is never valid text.",
                             field=field.replace("\x00", "\\0")))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(
            400,
            _("The form has expired"),
            _("The form was missing its security token or it has expired. Reload the page and submit it again."),
        )

    @app.errorhandler(403)
    def forbidden(e):
        """Never a bare "not allowed": say why (the roles the page is for, or the refusal's reason), who
        the user is signed in as, and what to do (lms/auth/scope.py raises these with their reason)."""
        from flask_login import current_user

        from .auth.choices import ROLES

        roles = getattr(e, "roles", ())
        reason, remedy = getattr(e, "reason", None), getattr(e, "remedy", None)
        if roles:
            names = "、".join(str(label) for r, label in ROLES.items() if r in roles)
            reason = _("This page is for %(roles)s only.", roles=names)
            remedy = _("If your work needs this page, ask your training office to give your account that role, "
                       "or log out and sign in with an account that has it.")
        elif not reason:
            reason = _("Your account may not open this page.")
        if not remedy:
            remedy = _("If you think your account should be allowed, ask your training office.")
        signed_in = None
        if current_user.is_authenticated:
            signed_in = _("You are signed in as %(name)s (account %(username)s, %(roles)s).",
                          name=current_user.name, username=current_user.username,
                          roles="、".join(current_user.role_labels))
        body = render_template("error.html", code=403, title=_("This page is not open to your account"),
                               message=reason, remedy=remedy, signed_in=signed_in)
        return body, 403

    @app.errorhandler(404)
    def not_found(e):
        return page(404, _("Page not found"), _("The page does not exist or has been removed."))

    @app.errorhandler(413)
    def too_large(e):
        return page(413, _("File too large"), _("The uploaded file is larger than the site accepts."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(
            500, _("Something went wrong"), _("The site hit an error. It has been logged; please try again later.")
        )

    @app.errorhandler(DBAPIError)
    def database_down(e):
        """The database is down, restarting or dropped the connection (or, on SQLite, stayed locked past
        the busy timeout): 503 with Retry-After, so clients try again (exam.js resends every unacknowledged
        answer). The pool's pre-ping replaces dead connections once the database is back. Any other
        database error is a bug and goes on to the 500 handler with its traceback."""
        if not database_unavailable(e):
            raise e
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: nothing to roll back
            pass
        # Nothing after this may ask the database again: Flask-Login's template context and the request
        # log would load (or refresh) the user. Answer this request as an anonymous one.
        g._login_user = login_manager.anonymous_user()
        app.logger.warning("database unavailable, answered 503: %s %s: %s", request.method, request.path,
                           unavailable_reason(e))
        title = _("Temporarily unavailable")
        message = _("The site cannot reach its database just now. Please try again in a few seconds.")
        if request.blueprint == "api":   # the API's error format (lms/api/views.py)
            response = jsonify(error={"status": 503, "message": message})
        elif request.is_json or request.accept_mimetypes.best == "application/json":
            response = jsonify(error=message)
        else:  # a page of its own: base.html would ask the (unreachable) database for the user's menu
            response = make_response(render_template_string(DATABASE_DOWN_PAGE, title=title, message=message))
        response.status_code = 503
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response


# Seconds a client should wait before trying again when the database is unavailable (a restart takes a few).
DATABASE_RETRY_AFTER = 5
DATABASE_DOWN_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if current_locale.startswith('zh') else 'en' }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='vendor/bootstrap/bootstrap.min.css') }}"></head>
<body><main class="container py-5 text-center">
<div class="display-4 text-muted">503</div><h1 class="h3">{{ title }}</h1><p class="lead">{{ message }}</p>
<a class="btn btn-outline-primary" href="{{ url_for('main.index') }}">{{ _('Back to the home page') }}</a>
</main></body></html>
"""

# No inline script anywhere: every script is a file under /static (style attributes are allowed).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    if "frame-ancestors" not in response.headers["Content-Security-Policy"]:  # a view's own, stricter CSP
        response.headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
