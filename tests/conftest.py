"""Test fixtures: one app per database per xdist worker, one rolled-back transaction per test.

The whole suite runs on SQLite and again on a real PostgreSQL server started from the
system binaries. Set LMS_REQUIRE_POSTGRES=1 (CI does) to fail instead of skip when the
binaries are missing.
"""
import os
import re
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="lms-test-"))
os.environ["LMS_INSTANCE_PATH"] = str(_TMP / "instance")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("SECRET_KEY", None)

from flask import current_app  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from flask_sqlalchemy.session import Session as FSASession  # noqa: E402

from lms import create_app  # noqa: E402
from lms.extensions import db  # noqa: E402

from . import world as world_module  # noqa: E402
from .pgserver import PostgresServer, find_bindir  # noqa: E402

PASSWORD = world_module.PASSWORD


@pytest.fixture(scope="session")
def pg_server():
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("LMS_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL binaries not found and LMS_REQUIRE_POSTGRES=1")
        pytest.skip("no PostgreSQL binaries on this machine")
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


def make_app(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "UPLOAD_FOLDER": str(_TMP / "uploads"), "JOBS_FOLDER": str(_TMP / "jobs"),
                      # tasks run where enqueued, retries at once (tests/test_tasks.py also runs real consumers)
                      "TASK_QUEUE": "immediate", "JOB_RETRY_DELAY": 0})
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        url = f"sqlite:///{_TMP / f'test-{worker}.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"lms_test_{worker}")
    app = make_app(url)
    app.config["DB_KIND"] = request.param
    with app.app_context():
        world_module.build()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class BoundSession(FSASession):
    """Flask-SQLAlchemy's Session ignores `bind=`; honour it so tests can own the connection.

    Only for apps on the test's database (the app under test, or a test's "second app server" on the
    same database): `db.session` is one object for the whole process, and the browser journeys' live
    server (another app, on its own database) serves requests from a thread of the same worker. Those
    must never run on the test's connection (they would add statements to a query budget, write during
    a "GET never writes" check, or use the connection from two threads at once)."""

    def __init__(self, db, *, tested_url=None, **kwargs):
        super().__init__(db, **kwargs)
        self._tested_url = tested_url

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if self.bind is not None and current_app.config["SQLALCHEMY_DATABASE_URI"] == self._tested_url:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=None, **kwargs)


@contextmanager
def rolled_back(app):
    """Everything the app commits inside this block is rolled back at its end."""
    with app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": BoundSession, "bind": conn, "tested_url": app.config["SQLALCHEMY_DATABASE_URI"],
         "join_transaction_mode": "create_savepoint"})
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        conn.close()


@pytest.fixture
def tx(app):
    with rolled_back(app):
        yield


@pytest.fixture
def client(app, tx):
    return app.test_client()


@pytest.fixture
def ctx(app, tx):
    """An app context for tests that call domain functions directly (not with the client)."""
    with app.app_context():
        yield


class FrozenClock:
    """The app's one clock (lms/clock.py), held still: `at` is naive UTC, as the database stores."""

    # 10:00 in Shanghai on an ordinary working day; tests that care set their own moment.
    DEFAULT = datetime(2026, 6, 15, 2, 0, 0)

    def __init__(self, at: datetime = DEFAULT):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def clock(app):
    """Inject time: every now/today of the app (requests, domain code, column defaults) reads this."""
    frozen = FrozenClock()
    app.config["CLOCK"] = frozen
    try:
        yield frozen
    finally:
        app.config.pop("CLOCK", None)


@pytest.fixture
def world(app):
    """Ids of the fixed org tree and accounts built once per database (see tests/world.py)."""
    return world_module.IDS


_CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str = "/auth/login") -> str:
    html = client.get(url).get_data(as_text=True)
    m = _CSRF_RE.search(html)
    assert m, f"no CSRF token on {url}"
    return m.group(1) or m.group(2)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    """POST like a browser: take the CSRF token from the page that holds the form."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=data, **kwargs)
