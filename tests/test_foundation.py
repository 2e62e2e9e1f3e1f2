"""App factory, configuration, database setup and transaction isolation."""

import fcntl
import os

import pytest
from sqlalchemy import create_engine, func, select, text

from lms import create_app
from lms.auth.models import User
from lms.extensions import db
from lms.orgs.models import OrgUnit

from .conftest import rolled_back


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CREDIT_HOUR_MINUTES", "40")
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path / "up"))
    app = create_app()
    assert app.config["CREDIT_HOUR_MINUTES"] == 40
    assert app.config["UPLOAD_FOLDER"] == str(tmp_path / "up")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"
    monkeypatch.delenv("CREDIT_HOUR_MINUTES")
    assert create_app().config["CREDIT_HOUR_MINUTES"] == 45


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _queue_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_sqlite_writers_queue_and_always_leave_the_queue(tmp_path, monkeypatch):
    """Writing transactions take the flock beside the database file (database._WriteQueue) and let it
    go at commit, at rollback and when a request fails; reads never take it."""
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    app = create_app({"WTF_CSRF_ENABLED": False})
    lock = str(tmp_path / "lms.sqlite3") + ".writelock"
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert not _queue_is_free(lock)  # another writer waits
        db.session.commit()
        assert _queue_is_free(lock)
        db.session.execute(text("INSERT INTO t VALUES (1)"))
        assert not _queue_is_free(lock)
        db.session.rollback()
        assert _queue_is_free(lock)
    with app.test_request_context("/", method="GET"):
        assert db.session.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert _queue_is_free(lock)  # a GET reads without queueing
        db.session.remove()
    # A request that fails half-way (no tables: the login query raises) leaves the queue too;
    # a missing table is a bug (500), not the database being unavailable (503).
    response = app.test_client().post("/auth/login", data={"username": "x", "password": "y"})
    assert response.status_code == 500
    assert _queue_is_free(lock)


def test_begin_writing_refuses_changes_made_before_the_lock(app):
    from lms.database import begin_writing

    with rolled_back(app), app.test_request_context("/", method="POST"):
        db.session.add(OrgUnit(code="EARLY", name="早写", level="district", path="/e/"))
        with pytest.raises(RuntimeError):
            begin_writing()
        db.session.rollback()


def test_each_test_is_rolled_back(app):
    """The per-test transaction really isolates: what a request commits is gone afterwards."""
    with rolled_back(app):
        with app.app_context():
            city = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "C"))
            db.session.add(OrgUnit(code="TMP-ISO", name="临时", level="district", parent=city, path="/x/"))
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.code == "TMP-ISO")) == 1
    # A brand-new connection outside the fixture sees nothing of it.
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM org_unit WHERE code = 'TMP-ISO'")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM org_unit")).scalar() == 10
    engine.dispose()


def test_healthz_checks_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"}


def test_the_world_is_in_place(ctx, world):
    assert db.session.get(User, world["worker_a"]).org_unit.code == "C111"
    assert db.session.get(OrgUnit, world["C111"]).path == f"/{world['C']}/{world['D1']}/{world['S11']}/{world['C111']}/"
