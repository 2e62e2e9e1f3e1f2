"""E-mail of messages, when MAIL_SERVER is set (docs/MESSAGES.md): one task per recipient, sent with
smtplib, tried again JOB_RETRIES times JOB_RETRY_DELAY seconds apart when the server refuses or is away.
The text is the message's, in the site's default language (an e-mail has no request to take it from)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..tasks import app_task


def compose(address: str, kind: str, params: dict[str, Any], url: str | None) -> EmailMessage:
    from . import kinds

    config = current_app.config
    entry = kinds.KINDS[kind]
    with force_locale(config["BABEL_DEFAULT_LOCALE"]):
        subject, body = entry.title(params), entry.body(params)
        site = _("Community Academy")
        if url:
            base = (config.get("SITE_URL") or "").rstrip("/")
            body += "\n\n" + (base + url if url.startswith("/") else url)
        body += "\n\n— " + site + "\n" + _("You can choose which messages reach you by e-mail on the "
                                           "message settings page.")
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = formataddr((site, config["MAIL_FROM"]))
    mail["To"] = address
    mail["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    mail.set_content(body)
    return mail


def deliver(mail: EmailMessage) -> None:
    config = current_app.config
    port, timeout = config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], port, timeout=timeout) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(mail)


@app_task()
def send_mail(user_id: int, address: str, kind: str, params: dict[str, Any], url: str | None) -> None:
    """One message by e-mail to one address (a refusal raises: the queue tries again)."""
    deliver(compose(address, kind, params, url))
