"""Translations at the cost of a dictionary look-up.

Flask-Babel finds the request's locale, spells out its identifier and looks its catalogue up on every
gettext call, and its template gettext sits behind three layers of Jinja's i18n wrappers; a list page
asks for 100 to 200 translations (its labels are lazy strings, translated each time they are shown).
`install(app)` gives Flask-Babel a domain that keeps the catalogue of the request's locale for the
request (found again whenever the locale object changes, as under Flask-Babel's `force_locale`), so
`gettext`, `lazy_gettext` and the templates all use it, and replaces the template callables with ones
that do what Jinja's "newstyle" gettext does without its wrappers: the translation is markup and the
variables are escaped into it in autoescaped templates, and the result is always a format string.
"""
from flask import Flask, g, has_app_context
from flask.globals import _cv_app
from flask_babel import Domain, LazyString, get_locale
from jinja2 import pass_eval_context
from markupsafe import Markup

from .extensions import babel


class _RequestDomain(Domain):
    def get_translations(self):
        if not has_app_context():
            return super().get_translations()  # no request: Flask-Babel's answer (no translation)
        # Flask-Babel's per-request namespace holds the locale it chose (or the one forced on it).
        ctx = vars(g._get_current_object()).get("_flask_babel")
        kept = getattr(ctx, "lms_catalogue", None)
        if kept is not None and kept[0] is getattr(ctx, "babel_locale", None):
            return kept[1]
        locale = get_locale()  # chooses the locale on first use, and creates the namespace
        translations = super().get_translations()
        g._flask_babel.lms_catalogue = (locale, translations)
        return translations

    def gettext(self, string: str, **variables) -> str:
        """What Flask-Babel's does, with the kept catalogue."""
        return _text(string, **variables)


def _catalogue():
    # The kept catalogue straight from the request's namespaces (what get_translations() checks first,
    # without its proxies); anything else goes the long way.
    ctx = _cv_app.get(None)
    if ctx is not None:
        names = vars(ctx.g).get("_flask_babel")
        kept = getattr(names, "lms_catalogue", None)
        if kept is not None and kept[0] is getattr(names, "babel_locale", None):
            return kept[1]
    return babel.domain_instance.get_translations()


def _translate(string: str) -> str:
    catalogue = _catalogue()
    found = getattr(catalogue, "_catalog", _NONE).get(string)  # a GNU catalogue's own dictionary
    return found if found.__class__ is str else catalogue.ugettext(string)


_NONE: dict = {}


@pass_eval_context
def gettext(eval_ctx, string: str, **variables) -> str:
    rv = _translate(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    if not variables and "%" not in rv:
        return rv  # what the formatting below would give
    return rv % variables  # always a format string, as in Jinja's (a "%%" is one "%" with or without variables)


@pass_eval_context
def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = _catalogue().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def _text(string: str, **variables) -> str:
    rv = _translate(string)
    return rv % variables if variables else rv


class _LazyText(LazyString):
    """Flask-Babel's lazy string, translated when shown straight from the kept catalogue (Flask-Babel's
    goes through its module gettext, its domain look-up and three proxies each time)."""

    def __str__(self) -> str:
        return _text(*self._args, **self._kwargs)

    def __html__(self) -> str:
        return _text(*self._args, **self._kwargs)


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's `lazy_gettext` (the `_l` of every module): translated each time it is shown."""
    return _LazyText(_text, string, **variables)


def install(app: Flask) -> None:
    """After Flask-Babel's init_app: its domain, and `_`, `gettext` and `ngettext` in every template."""
    babel.domain_instance = _RequestDomain(domain=app.extensions["babel"].default_domain)
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
