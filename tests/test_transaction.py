"""The one transaction boundary (lms/transaction.py): a request commits once at its end when it may write
and answered below 400, and rolls back otherwise; a domain error rolls back and is shown to the user;
a GET never writes (on SQLite its transaction is a deferred read beside the writers' queue).

These tests run on an app of their own (a fresh database of each kind) with a few throw-away views, so
that they commit for real and what reached the database is read back on a new connection."""
import os
from datetime import timedelta

import pytest
from flask import Blueprint, flash, redirect
from sqlalchemy import event, func, select

from lms.api.models import ApiToken, hash_token, new_token_value
from lms.auth.models import LoginThrottle, User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.transaction import discard

from . import world as world_module
from .conftest import make_app


class Refusal(DomainError):
    pass


class KeptRefusal(DomainError):
    keeps_flushed = True


probe = Blueprint("txn_probe", __name__, url_prefix="/txn-probe")


def _write(address: str) -> None:
    db.session.add(LoginThrottle(address=address, failures=1))
    db.session.flush()


@probe.route("/raise", methods=["POST"])
def flush_then_raise():
    _write("raise")
    raise RuntimeError("a bug after the flush")


@probe.route("/refuse", methods=["POST"])
def refuse_uncaught():
    _write("refuse")
    raise Refusal("这一步办不了。")


@probe.route("/refuse-caught", methods=["POST"])
def refuse_caught():
    try:
        _write("caught")
        raise Refusal("这一步也办不了。")
    except Refusal as exc:
        discard()
        flash(str(exc), "danger")
    return redirect("/txn-probe/page")


@probe.route("/keep", methods=["POST"])
def keep_flushed():
    _write("kept")
    raise KeptRefusal("记下了，但不予办理。")


@probe.route("/status/<int:code>", methods=["POST"])
def answer(code):
    _write(f"status-{code}")
    return "answered", code


@probe.route("/twice", methods=["POST"])
def two_steps():
    _write("step-1")
    _write("step-2")
    return redirect("/txn-probe/page")


@probe.route("/get-write")
def get_write():
    _write("get")
    return "changed"


@pytest.fixture(scope="module")
def fresh(app, request, tmp_path_factory):
    """An app on a new database of the app's kind (migrated, the fixed world committed) with the probe views."""
    if app.config["DB_KIND"] == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('txn') / 'txn.sqlite3'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = request.getfixturevalue("pg_server").create_database(f"lms_txn_{worker}")
    new = make_app(url)
    new.config["DB_KIND"] = app.config["DB_KIND"]
    new.register_blueprint(probe)
    with new.app_context():
        world_module.build()
        db.session.commit()
    yield new
    with new.app_context():
        db.session.remove()
        db.engine.dispose()


def stored(app, address: str) -> bool:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(LoginThrottle)
                                  .where(LoginThrottle.address == address))
        db.session.remove()
    return found == 1


def post(client, url, **kw):
    client.application.config["WTF_CSRF_ENABLED"] = False  # the probe views have no forms
    return client.post(url, **kw)


def test_an_exception_after_a_flush_leaves_nothing_written(fresh):
    fresh.config["PROPAGATE_EXCEPTIONS"] = False  # answered as the 500 page, as in production
    try:
        r = post(fresh.test_client(), "/txn-probe/raise")
    finally:
        fresh.config["PROPAGATE_EXCEPTIONS"] = None
    assert r.status_code == 500
    assert not stored(fresh, "raise")


def test_a_domain_error_rolls_back_and_shows_its_message(fresh):
    client = fresh.test_client()
    r = post(client, "/txn-probe/refuse", headers={"Referer": "http://localhost/txn-probe/page?x=1"})
    assert r.status_code == 302 and r.headers["Location"] == "/txn-probe/page?x=1"  # back where the form was
    assert not stored(fresh, "refuse")
    with client.session_transaction() as s:
        assert ("danger", "这一步办不了。") in s["_flashes"]
    r = post(client, "/txn-probe/refuse", headers={"Referer": "http://elsewhere.example/x"})
    assert r.headers["Location"] == "/"  # never back to another site


def test_a_domain_error_caught_by_the_view_writes_nothing_though_it_redirects(fresh):
    client = fresh.test_client()
    r = post(client, "/txn-probe/refuse-caught")
    assert r.status_code == 302 and not stored(fresh, "caught")
    with client.session_transaction() as s:
        assert ("danger", "这一步也办不了。") in s["_flashes"]


def test_a_domain_error_that_keeps_its_flush_commits_it(fresh):
    r = post(fresh.test_client(), "/txn-probe/keep")
    assert r.status_code == 302 and stored(fresh, "kept")


@pytest.mark.parametrize("code", [400, 404, 409, 422])
def test_a_4xx_answer_writes_nothing(fresh, code):
    assert post(fresh.test_client(), f"/txn-probe/status/{code}").status_code == code
    assert not stored(fresh, f"status-{code}")


@pytest.mark.parametrize("code", [200, 204, 302])
def test_a_successful_answer_or_a_redirect_commits(fresh, code):
    assert post(fresh.test_client(), f"/txn-probe/status/{code}").status_code == code
    assert stored(fresh, f"status-{code}")


def test_a_request_commits_once(fresh):
    commits = []
    with fresh.app_context():
        engine = db.engine
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        assert post(fresh.test_client(), "/txn-probe/twice").status_code == 302
    finally:
        event.remove(engine, "commit", listener)
    assert len(commits) == 1 and stored(fresh, "step-1") and stored(fresh, "step-2")


def test_a_get_writes_nothing(fresh):
    fresh.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        r = fresh.test_client().get("/txn-probe/get-write")
    finally:
        fresh.config["PROPAGATE_EXCEPTIONS"] = None
    assert r.status_code == 500  # in testing a GET that changed something is a bug, loudly
    assert not stored(fresh, "get")


def begins(app, fn) -> list[str]:
    """The BEGIN statements the app's engine sent while fn ran (SQLite: deferred or IMMEDIATE)."""
    seen = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def test_a_get_reads_beside_the_writers_and_a_post_takes_the_write_lock(fresh):
    """SQLite: a GET begins deferred (it reads beside the writer), a POST begins IMMEDIATE (it queues
    for the one write lock). PostgreSQL locks rows, not the database: the app sends no BEGIN of its own."""
    client = fresh.test_client()
    on_get = begins(fresh, lambda: client.get("/auth/login"))
    on_post = begins(fresh, lambda: post(client, "/txn-probe/status/201"))
    if fresh.config["DB_KIND"] == "sqlite":
        assert set(on_get) <= {"BEGIN"} and on_post == ["BEGIN IMMEDIATE"]
    else:
        assert on_get == [] and on_post == []


def test_an_api_get_records_the_tokens_use_after_its_read(fresh):
    """GET /api/v1/me reads in its own (on SQLite deferred) transaction; the token's last use is written
    after it, in a short write transaction of its own, at most every TOUCH_EVERY."""
    value = new_token_value()
    with fresh.app_context():
        user = db.session.scalar(select(User).where(User.username == "office_d1"))
        db.session.add(ApiToken(user_id=user.id, name="txn", token_hash=hash_token(value), hint=value[:8]))
        db.session.commit()
        db.session.remove()
    client = fresh.test_client()

    def call():
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 200

    def last_used():
        with fresh.app_context():
            at = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_token(value)))
            db.session.remove()
        return at

    before = utcnow()
    seen = begins(fresh, call)
    assert last_used() is not None and last_used() >= before - timedelta(seconds=1)
    if fresh.config["DB_KIND"] == "sqlite":
        assert seen[0] == "BEGIN" and seen[-1] == "BEGIN IMMEDIATE"  # the read, then the write of its own
    first = last_used()
    seen = begins(fresh, call)  # within TOUCH_EVERY: nothing written at all
    assert last_used() == first
    if fresh.config["DB_KIND"] == "sqlite":
        assert "BEGIN IMMEDIATE" not in seen
