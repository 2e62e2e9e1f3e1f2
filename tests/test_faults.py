"""The database down or a connection dropped (issue #7, "Nothing lost"): the app answers 503 with
Retry-After, never a 500 with a traceback, and its pool works again once the database is back.
bench/faults.py drives the same faults through a whole exam day.

No mock of our own code: the database is made unreachable for real (an app pointed at a closed port
or at a SQLite file it cannot open), or a pooled connection is dropped for real (PostgreSQL:
pg_terminate_backend from another connection; SQLite: its DB-API connection closed).
"""
import time

from flask_babel import gettext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lms import create_app
from lms.extensions import db

from .pgserver import free_port

TITLE = "Temporarily unavailable"
MESSAGE = "The site cannot reach its database just now. Please try again in a few seconds."


def translated(app, msgid: str) -> str:
    """`msgid` in the default language (Chinese once the catalogue has it)."""
    with app.test_request_context("/"):
        return gettext(msgid)


def drop_connection(app, raw) -> None:
    """Drop one DB-API connection for real: the server ends it (PostgreSQL), or it is closed (SQLite)."""
    if app.config["DB_KIND"] == "sqlite":
        raw.close()
        return
    pid = raw.info.backend_pid
    # Not the app's pool, and autocommit: PostgreSQL keeps one snapshot of pg_stat_activity for a whole
    # transaction, so polling inside one transaction could see the ended backend "running" for ever.
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            for _i in range(100):  # the backend ends asynchronously: wait until it is gone
                if not other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar():
                    return
                time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"backend {pid} still running")


def test_unreachable_database_answers_503_to_pages_json_and_the_api(app, world, tmp_path):
    if app.config["DB_KIND"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'lms.sqlite3'}"   # cannot be opened
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/lms"  # nothing listens there
    down = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                       "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    try:
        client = down.test_client()
        with client.session_transaction() as s:  # a logged-in browser: its user is read from the database
            s["_user_id"] = f"{world['worker_a']}:nonce"

        r = client.get("/home")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        html = r.get_data(as_text=True)
        assert translated(down, TITLE) in html and translated(down, MESSAGE) in html
        assert 'lang="zh-CN"' in html and "Traceback" not in html

        # an exam page's autosave (exam.js resends it): JSON in, JSON out
        r = client.post("/mock/attempts/1/answers", json={"item": "1.1", "response": "A", "seq": 1},
                        headers={"Accept": "application/json"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert r.json == {"error": translated(down, MESSAGE)}

        # the API keeps its own error format
        r = down.test_client().get("/api/v1/me", headers={"Authorization": "Bearer lms_x"})
        assert r.status_code == 503 and r.json == {"error": {"status": 503, "message": translated(down, MESSAGE)}}
    finally:
        with down.app_context():
            db.engine.dispose()


def test_a_connection_that_dies_under_a_request_answers_503_then_the_pool_recovers(app, world, tmp_path):
    """A second app on the same database whose pool does not ping: the request that meets the dead
    connection is answered 503 (the driver's disconnect error), the next one gets a new connection."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
                        "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    try:
        client = other.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = f"{world['worker_a']}:stale-nonce"   # read from the database, then refused
        json = {"Accept": "application/json"}
        assert client.get("/home", headers=json).status_code == 302  # to the login page: the database answered
        with other.app_context():
            assert db.engine.pool.checkedin() == 1
            with db.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
        drop_connection(app, raw)
        r = client.get("/home", headers=json)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert r.json == {"error": translated(other, MESSAGE)}
        assert client.get("/home", headers=json).status_code == 302
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_pool_replaces_a_dead_connection(app):
    """After a database restart every pooled connection is dead: pool_pre_ping (lms/config.py) finds it
    at checkout and connects again, so the first request after the restart is served (no 503, no 500)."""
    client = app.test_client()
    with app.app_context():
        db.engine.dispose()               # an empty pool, then exactly one connection in it
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedin() == 1
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
    drop_connection(app, raw)
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["database"] == "ok"
