"""Engine setup shared by the app, the CLI and the tests."""
from datetime import datetime, timezone

from sqlalchemy import event
from sqlalchemy.engine import Engine


def utcnow() -> datetime:
    """Naive UTC timestamp: what every DateTime column stores (shown in Asia/Shanghai)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, a busy timeout and real transactions (SAVEPOINT works)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, issue BEGIN (pysqlite's own handling breaks SAVEPOINT).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A transaction that may write takes SQLite's write lock up front (waiting busy_timeout
        # for it): a deferred one that read first cannot wait for it later and fails with
        # "database is locked". Reads (GET requests) stay deferred and run alongside.
        conn.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")


def _read_only_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def include_name(name, type_, parent_names) -> bool:
    """Alembic autogenerate: skip the search objects the migrations create by hand
    (SQLite FTS5 tables, the PostgreSQL expression index)."""
    if type_ == "table" and name and name.endswith("_fts") or "_fts_" in (name or ""):
        return False
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


HAND_MADE_INDEXES = {"ix_course_search"}
