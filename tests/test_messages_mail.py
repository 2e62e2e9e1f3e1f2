"""E-mail of messages through a real SMTP server (aiosmtpd, started by the test on a free port): sent to those
who gave an address and kept e-mail on for the kind, tried again when the server refuses, never when SMTP
is not configured."""
import email
import socket
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from lms.messages import send
from lms.transaction import unit

from .conftest import login, post_form


class Inbox:
    """The SMTP server's handler: refuses the first `refuse` messages (451), keeps the others."""

    def __init__(self, refuse: int = 0):
        self.refuse, self.received, self.refused = refuse, [], 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refuse:
            self.refused += 1
            return "451 Try again later"
        self.received.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_FROM", "SITE_URL", "JOB_RETRIES")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="xuetang@example.cn",
                      SITE_URL="https://xuetang.example.cn", JOB_RETRIES=2)
    try:
        yield inbox
    finally:
        controller.stop()
        app.config.update(saved)


def _settings(client, address, email_kinds=(), in_app_kinds=("course_assigned",)):
    data = {"email": address, **{f"email-{k}": "1" for k in email_kinds}, **{f"in_app-{k}": "1" for k in in_app_kinds}}
    r = post_form(client, "/messages/settings", data)
    assert r.status_code == 302, r.get_data(as_text=True)


def _send(app, kind, ids, params, url=None):
    with app.app_context(), unit():
        send(kind, ids, params, url)


def test_a_message_goes_out_by_email_to_those_who_want_it(app, client, world, smtp):
    login(client, "worker_a")
    _settings(client, "worker.a@example.cn", email_kinds=("course_assigned",))
    b = app.test_client()
    login(b, "worker_b")
    _settings(b, "worker.b@example.cn", email_kinds=())  # e-mail off for every kind
    _send(app, "course_assigned", [world["worker_a"], world["worker_b"], world["worker_c"]],
          {"course_id": 7, "title": "社区议事协商"}, url="/learn/courses/7")
    assert [rcpt for rcpt, _m in smtp.received] == [["worker.a@example.cn"]]  # c gave no address
    mail = smtp.received[0][1]
    assert mail["Subject"] == "新指派课程：社区议事协商"
    assert mail["To"] == "worker.a@example.cn" and "xuetang@example.cn" in mail["From"]
    body = mail.get_content()
    assert "社区议事协商" in body and "https://xuetang.example.cn/learn/courses/7" in body


def test_email_only_still_mails_when_the_app_message_is_off(app, client, world, smtp):
    login(client, "worker_a")
    _settings(client, "worker.a@example.cn", email_kinds=("course_published",), in_app_kinds=())
    _send(app, "course_published", [world["worker_a"]], {"course_id": 1, "title": "课程"})
    assert len(smtp.received) == 1
    assert "暂无消息" in client.get("/messages/").get_data(as_text=True)


def test_a_refused_email_is_tried_again(app, client, world, smtp):
    smtp.refuse = 1
    login(client, "worker_a")
    _settings(client, "worker.a@example.cn", email_kinds=("course_assigned",))
    _send(app, "course_assigned", [world["worker_a"]], {"course_id": 7, "title": "社区议事协商"})
    assert smtp.refused == 1 and len(smtp.received) == 1


def test_no_email_without_an_smtp_server(app, client, world, smtp):
    app.config["MAIL_SERVER"] = None
    login(client, "worker_a")
    _settings(client, "worker.a@example.cn", email_kinds=("course_assigned",))
    assert "本站目前尚未开通邮件发送" in client.get("/messages/settings").get_data(as_text=True)
    _send(app, "course_assigned", [world["worker_a"]], {"course_id": 7, "title": "x"})
    assert smtp.received == []
