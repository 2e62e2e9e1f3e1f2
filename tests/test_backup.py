"""Backups (issue 7 §5): `flask backup` while the site runs, `flask restore` into an empty
database, and every table comes back row for row, on SQLite and on PostgreSQL."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from lms import create_app
from lms.auth.models import LoginThrottle, User
from lms.database import utcnow
from lms.extensions import db

from .conftest import make_app

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _dump(url: str) -> dict[str, list]:
    """Every row of every table (SQLite: the full-text tables too), in a stable order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted((tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                    for name in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def _urls(kind: str, request, tmp_path) -> tuple[str, str]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    return server.create_database(f"backup_live_{WORKER}"), server.create_database(f"backup_restored_{WORKER}")


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def _dispose(*apps):
    for a in apps:
        with a.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_backup_then_restore_gives_back_every_row(kind, request, tmp_path):
    live_url, restored_url = _urls(kind, request, tmp_path)
    live = make_app(live_url)  # migrated, then populated and committed for real
    with live.app_context():
        from lms.demo import seed_demo

        seed_demo(workers=30)
        db.session.add(LoginThrottle(address="198.51.100.7", failures=3, window_start=utcnow(),
                                     last_failure_at=utcnow(), locked_until=utcnow() + timedelta(minutes=5)))
        db.session.commit()
    expected = _dump(live_url)
    assert sum(len(rows) for rows in expected.values()) > 5000
    assert all(
        expected[t] for t in ("user", "org_unit", "course", "question", "attempt", "attendance", "login_throttle")
    )

    # The site keeps running: another connection holds an uncommitted write during the backup.
    path = tmp_path / "lms.backup"
    with live.app_context():
        engine = db.engine
    writer = engine.connect()
    tx = writer.begin()
    writer.execute(text("UPDATE \"user\" SET name = 'uncommitted' WHERE username = 'w0001'"))
    try:
        code, out = _cli(live, "backup", str(path))
    finally:
        tx.rollback()
        writer.close()
    assert code == 0, out
    assert "backup written" in out and path.exists() and not path.with_name("lms.backup.part").exists()

    restored = create_app({"SQLALCHEMY_DATABASE_URI": restored_url, "TESTING": True})
    code, out = _cli(restored, "restore", str(path))
    assert code == 0, out
    got = _dump(restored_url)
    assert sorted(got) == sorted(expected)
    for table in expected:
        assert got[table] == expected[table], f"table {table} differs after the restore"

    # The restored database is usable: new rows get fresh ids (PostgreSQL: the sequences came back too).
    with restored.app_context():
        before = db.session.scalar(select(func.max(User.id)))
        user = User(username="after-restore", name="恢复后", password_hash="x", org_unit_id=1, cert_level="none")
        db.session.add(user)
        db.session.commit()
        assert user.id > before

    # A second restore is refused: the database is no longer empty.
    code, out = _cli(restored, "restore", str(path))
    assert code != 0 and "is not empty" in out and "create a new one" in out
    _dispose(live, restored)


def test_restore_refuses_a_file_that_is_no_backup_or_of_another_kind(tmp_path):
    junk = tmp_path / "notes.backup"
    junk.write_text("not a database")
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "TESTING": True})
    code, out = _cli(fresh, "restore", str(junk))
    assert code != 0 and "not a backup made by `flask backup`" in out
    pg_dump_like = tmp_path / "pg.backup"
    pg_dump_like.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    code, out = _cli(fresh, "restore", str(pg_dump_like))
    assert code != 0 and "postgresql backup but the configured database is sqlite" in out
    assert not (tmp_path / "fresh.sqlite3").exists() or not inspect(create_engine(
        f"sqlite:///{tmp_path / 'fresh.sqlite3'}")).get_table_names()
    _dispose(fresh)


def test_backup_says_where_it_cannot_write(app, tmp_path):
    code, out = _cli(app, "backup", str(tmp_path / "no" / "such" / "folder" / "lms.backup"))
    assert code != 0 and "does not exist" in out
