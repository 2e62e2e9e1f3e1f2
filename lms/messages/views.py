"""The inbox (/messages), the message settings (kinds, e-mail, the calendar feed) and the feed itself."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.forms import ConfirmForm
from ..auth.scope import can_see_message, get_in_scope_or_404
from ..util import Page, page_arg, safe_next
from . import inbox, kinds, settings
from .models import Message

bp = Blueprint("messages", __name__, url_prefix="/messages")


@bp.route("/")
@login_required
def index():
    page = Page(inbox.inbox(current_user.id), page_arg(), current_app.config["PAGE_SIZE"])
    shown = [(m, kinds.get(m.kind)) for m in page.items]
    return render_template("messages/index.html", page=page, shown=shown, form=ConfirmForm())


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/<int:message_id>/read", methods=["POST"])
@login_required
def read(message_id: int):
    """Mark one message read; with `open`, go on to what it is about."""
    message = get_in_scope_or_404(Message, message_id, can_see_message)
    _confirmed()
    inbox.mark_read(message)
    if request.form.get("open") and message.url:
        return redirect(safe_next(message.url, url_for(".index")))
    return redirect(safe_next(request.form.get("next"), url_for(".index")))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    _confirmed()
    count = inbox.mark_all_read(current_user.id)
    if count:
        flash(_("All messages are marked as read."), "success")
    return redirect(url_for(".index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def preferences():
    form = settings.SettingsForm()
    if request.method == "GET":
        form.fill(current_user.id)
    elif form.validate_on_submit():
        settings.save(current_user.id, form.choices(), form.email.data)
        flash(_("Your message settings are saved."), "success")
        return redirect(url_for(".preferences"))
    return render_template("messages/settings.html", form=form, kinds=kinds.KINDS,
                           mail_on=bool(current_app.config.get("MAIL_SERVER")),
                           feed_form=ConfirmForm(), feed_url=settings.shown_feed_url())


@bp.route("/settings/feed", methods=["POST"])
@login_required
def new_feed():
    """A new calendar feed address; the old one stops working."""
    _confirmed()
    token = settings.new_feed_token(current_user.id)
    settings.remember_feed_url(token)
    flash(_("Your calendar has a new address. Subscribe to it again on your phone: the old address no longer works."),
          "success")
    return redirect(url_for(".preferences") + "#feed")


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """The sessions of the classes the feed's owner is registered for (no login: the address is the secret)."""
    from . import ical

    user_id = settings.feed_owner(token)
    if user_id is None:
        abort(404)
    response = current_app.response_class(ical.calendar(user_id), mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=sessions.ics"
    response.headers["Cache-Control"] = "private, no-store"
    return response
