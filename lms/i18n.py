"""Translations in templates at the cost of a dictionary look-up.

Flask-Babel's template gettext finds the request's locale, spells out its identifier and looks its
catalogue up on every call, behind three layers of Jinja's i18n wrappers; a page calls it 25 to 60
times. `install(app)` replaces the template callables with ones that keep the catalogue of the
request's locale for the request (found again whenever the locale object changes, as under
Flask-Babel's `force_locale`) and do what Jinja's "newstyle" gettext does: the translation is
markup, the variables are escaped into it (every template is autoescaped HTML).
"""
from flask import Flask, g
from flask_babel import get_locale, get_translations
from jinja2 import pass_eval_context
from markupsafe import Markup


def _catalogue():
    locale = get_locale()
    kept = g.get("_lms_catalogue")
    if kept is None or kept[0] is not locale:
        kept = g._lms_catalogue = (locale, get_translations())
    return kept[1]


@pass_eval_context
def gettext(eval_ctx, string: str, **variables) -> str:
    rv = _catalogue().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # always a format string, as in Jinja's (a "%%" is one "%" with or without variables)


@pass_eval_context
def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = _catalogue().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def install(app: Flask) -> None:
    """After Flask-Babel's init_app: `_`, `gettext` and `ngettext` in every template."""
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
