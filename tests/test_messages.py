"""The message centre's core: send() after the commit, the inbox, unread counts in the menu, marking read,
preferences per kind, and whose messages are whose."""
import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.messages import send
from lms.messages.models import Message, MessagePreference
from lms.transaction import unit

from .conftest import login, post_form


def _send(app, kind, users, params, url=None):
    with app.app_context(), unit():
        send(kind, users, params, url)


def _count(app, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Message)
        for name, value in where.items():
            stmt = stmt.where(getattr(Message, name) == value)
        return db.session.scalar(stmt)


def _unread_badge(html: str) -> str | None:
    m = re.search(r'id="unread-count">([^<]+)<', html)
    return m.group(1).strip() if m else None


def test_a_sent_message_shows_in_the_inbox_with_the_unread_count(app, client, world, clock):
    _send(app, "course_assigned", [world["worker_a"]], {"course_id": 7, "title": "社区议事协商"}, url="/learn/7")
    login(client, "worker_a")
    page = client.get("/home").get_data(as_text=True)
    assert _unread_badge(page) == "1"
    inbox = client.get("/messages/").get_data(as_text=True)
    assert "社区议事协商" in inbox and 'data-unread="1"' in inbox
    assert "新指派课程：社区议事协商" in inbox  # rendered in the reader's language


def test_nothing_is_sent_when_the_transaction_rolls_back(app, client, world):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with unit():
                send("course_published", [world["trainer"]], {"course_id": 1, "title": "x"})
                raise RuntimeError("the request failed")
    assert _count(app, user_id=world["trainer"]) == 0


def test_send_writes_nothing_before_the_commit(app, tx, world):
    with app.app_context():
        with unit():
            send("course_published", [world["trainer"]], {"course_id": 1, "title": "课程"})
            assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert _count(app, user_id=world["trainer"]) == 1


def test_an_unknown_kind_is_refused(app, tx, world):
    with app.app_context(), pytest.raises(ValueError):
        send("no_such_kind", [world["worker_a"]], {})


def test_mark_one_and_all_read(app, client, world, clock):
    for n in range(3):
        _send(app, "course_assigned", [world["worker_b"]], {"course_id": n, "title": f"课程{n}"}, url=f"/learn/{n}")
        clock.advance(minutes=1)
    login(client, "worker_b")
    assert _unread_badge(client.get("/messages/").get_data(as_text=True)) == "3"
    with app.app_context():
        first = db.session.scalars(select(Message.id).where(Message.user_id == world["worker_b"])
                                   .order_by(Message.id)).first()
    # open: marked read, then on to what the message is about
    r = post_form(client, f"/messages/{first}/read", {"open": "1"}, page="/messages/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/learn/0")
    assert _unread_badge(client.get("/messages/").get_data(as_text=True)) == "2"
    r = post_form(client, "/messages/read-all", page="/messages/")
    assert r.status_code == 302
    page = client.get("/messages/").get_data(as_text=True)
    assert _unread_badge(page) is None and 'data-unread="1"' not in page
    assert _count(app, user_id=world["worker_b"]) == 3


def test_marking_read_needs_the_csrf_token(app, client, world):
    _send(app, "course_published", [world["trainer"]], {"course_id": 1, "title": "课程"})
    login(client, "trainer")
    with app.app_context():
        mid = db.session.scalar(select(Message.id).where(Message.user_id == world["trainer"]))
    assert client.post(f"/messages/{mid}/read").status_code == 400
    assert client.post("/messages/read-all").status_code == 400


def test_someone_elses_message_is_not_found(app, client, world):
    _send(app, "course_assigned", [world["worker_a"]], {"course_id": 1, "title": "甲的课程"})
    with app.app_context():
        mid = db.session.scalar(select(Message.id).where(Message.user_id == world["worker_a"]))
    login(client, "worker_b")
    assert "甲的课程" not in client.get("/messages/").get_data(as_text=True)
    assert post_form(client, f"/messages/{mid}/read", page="/messages/").status_code == 404
    with app.app_context():
        assert db.session.get(Message, mid).read_at is None


def test_the_inbox_is_newest_first_and_paginated(app, client, world, clock):
    app.config["PAGE_SIZE"], size = 5, app.config["PAGE_SIZE"]
    try:
        for n in range(7):
            _send(app, "course_assigned", [world["worker_c"]], {"course_id": n, "title": f"第{n}门课"})
            clock.advance(minutes=1)
        login(client, "worker_c")
        first = client.get("/messages/").get_data(as_text=True)
        assert first.index("第6门课") < first.index("第2门课") and "第1门课" not in first
        second = client.get("/messages/?page=2").get_data(as_text=True)
        assert "第1门课" in second and "第0门课" in second and "第6门课" not in second
    finally:
        app.config["PAGE_SIZE"] = size


def test_the_unread_count_stops_at_99_plus(app, client, world):
    _send(app, "course_assigned", [world["worker_d"]], {"course_id": 1, "title": "a"})
    with app.app_context():
        send_key = db.session.scalar(select(Message.send_key).where(Message.user_id == world["worker_d"]))
        template = {"user_id": world["worker_d"], "kind": "course_assigned", "params": {"course_id": 1, "title": "a"},
                    "created_at": db.session.scalar(select(Message.created_at).where(Message.send_key == send_key))}
        db.session.execute(Message.__table__.insert(), [dict(template, send_key=f"k{i}") for i in range(120)])
        db.session.commit()
    login(client, "worker_d")
    assert _unread_badge(client.get("/home").get_data(as_text=True)) == "99+"


def test_a_kind_turned_off_in_the_app_is_not_written(app, client, world):
    login(client, "worker_a")
    data = {f"in_app-{k}": "1" for k in ("course_assigned", "session_tomorrow")}
    r = post_form(client, "/messages/settings", data)
    assert r.status_code == 302
    with app.app_context():
        pref = db.session.get(MessagePreference, (world["worker_a"], "course_published"))
        assert pref is not None and not pref.in_app and not pref.email
    _send(app, "course_published", [world["worker_a"], world["worker_b"]], {"course_id": 1, "title": "课程"})
    _send(app, "course_assigned", [world["worker_a"]], {"course_id": 1, "title": "课程"})
    assert _count(app, user_id=world["worker_a"], kind="course_published") == 0
    assert _count(app, user_id=world["worker_b"], kind="course_published") == 1
    assert _count(app, user_id=world["worker_a"], kind="course_assigned") == 1
    page = client.get("/messages/settings").get_data(as_text=True)
    assert 'id="in_app-course_assigned" value="1" checked' in page
    assert 'id="in_app-course_published" value="1" checked' not in page


def test_a_bad_email_address_is_refused_with_a_message(app, client, world):
    login(client, "worker_a")
    r = post_form(client, "/messages/settings", {"email": "not an address", "in_app-course_assigned": "1"})
    assert r.status_code == 200
    assert "name@example.cn" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MessagePreference, (world["worker_a"], "course_assigned")) is None


def test_every_kind_renders_in_both_languages(app):
    from flask_babel import force_locale

    from lms.messages import kinds

    params = {"course_id": 1, "training_id": 2, "question_id": 3, "day_id": 4, "result_id": 5, "title": "标题",
              "note": "请补充案例", "starts_at": "2026-06-16T09:00+08:00", "place": "党群服务中心",
              "subject": "社会工作实务(初级)", "year": 2026, "passed": True}
    with app.test_request_context():
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                for kind in kinds.KINDS.values():
                    assert kind.title(params) and kind.body(params) and str(kind.label)
        with force_locale("zh_Hans_CN"):
            assert "2026-06-16 09:00" in kinds.KINDS["session_tomorrow"].body(params)
