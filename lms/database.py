"""Engine setup shared by the app, the CLI and the tests."""
import fcntl
import os
from datetime import datetime

from sqlalchemy import CheckConstraint, event
from sqlalchemy.engine import Engine


def utcnow() -> datetime:
    """Naive UTC timestamp: what every DateTime column stores (shown in Asia/Shanghai).

    The one clock (lms/clock.py), so that tests can inject time.
    """
    from .clock import now

    return now()


def one_of(column: str, keys, nullable: bool = False) -> CheckConstraint:
    """A CHECK (named after `column`) that the column holds one of `keys`, in their order: a vocabulary
    is written once, as the dict or tuple its code uses, and the constraint follows from it."""
    listed = ",".join(f"'{k}'" for k in keys)
    sql = f"{column} IN ({listed})"
    return CheckConstraint(f"{column} IS NULL OR {sql}" if nullable else sql, name=column)


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

    lock_path = None if engine.url.database in (None, "", ":memory:") else engine.url.database + ".writelock"

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A transaction that may write takes SQLite's write lock up front (waiting busy_timeout
        # for it): a deferred one that read first cannot wait for it later and fails with
        # "database is locked". Reads (GET requests) stay deferred and run alongside.
        if _read_only_request():
            conn.exec_driver_sql("BEGIN")
            return
        held = _WriteQueue.enter(conn, lock_path)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                _WriteQueue.leave(conn)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn):
        if not conn.invalidated:  # an invalidated connection let go at its pool's "invalidate"
            _WriteQueue.leave(conn)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_conn, record, exception):
        _WriteQueue.leave_record(record)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record):
        _WriteQueue.leave_record(record)  # a safety net: never keep the queue across requests

    @event.listens_for(engine, "close")
    def _on_close(dbapi_conn, record):
        _WriteQueue.leave_record(record)
        fd = record.info.pop("write_queue_fd", None)
        if fd is not None and fd[0] == os.getpid():
            os.close(fd[1])


class _WriteQueue:
    """Writers on one SQLite file wait their turn on an flock of a file beside it.

    SQLite lets one writer in at a time; the others poll with sleeps that grow to 100 ms
    (sqlite3_busy_timeout), so under load a process can miss its turn again and again while the
    lock is free most of the time. Blocking on flock(2) wakes a waiting process the moment the lock
    is let go. Each DBAPI connection has its own open file, so two threads of one process queue
    too; the kernel lets go of the flock when a process dies. SQLite's busy timeout still guards
    writers that do not queue (sqlite3 shell, another program).
    The flock is let go when SQLAlchemy commits or rolls back, just before the COMMIT itself: a
    writer let in at that moment waits a millisecond in SQLite's busy handler.
    """

    @staticmethod
    def enter(conn, lock_path) -> bool:
        if lock_path is None:
            return False
        info = conn.connection.info  # the pool's record of this DBAPI connection
        fd = info.get("write_queue_fd")
        if fd is None or fd[0] != os.getpid():  # opened before a fork: the open file would be shared
            fd = (os.getpid(), os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600))
            info["write_queue_fd"] = fd
        fcntl.flock(fd[1], fcntl.LOCK_EX)
        info["write_queue_held"] = True
        return True

    @staticmethod
    def leave(conn) -> None:
        _WriteQueue.leave_record(conn.connection)

    @staticmethod
    def leave_record(record) -> None:
        """`record`: a pool record or a pooled connection; their `info` is the same dict."""
        if record.info.pop("write_queue_held", False):
            fd = record.info.get("write_queue_fd")
            if fd is not None and fd[0] == os.getpid():
                fcntl.flock(fd[1], fcntl.LOCK_UN)


SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def database_unavailable(exc) -> bool:
    """Whether a DBAPIError means the database cannot be reached just now (down, restarting, a dropped
    connection; SQLite: locked past the busy timeout), as opposed to a bug such as a missing table."""
    from sqlalchemy.exc import OperationalError

    if getattr(exc, "connection_invalidated", False):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(m in str(exc.orig).lower() for m in SQLITE_UNAVAILABLE)
    return True  # PostgreSQL: connection failures, shutdowns, a cancelled statement


def unavailable_reason(exc) -> str:
    """The first line of what the database driver said, for a one-line log entry."""
    return (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]


def _read_only_request() -> bool:
    from flask import current_app, g, has_app_context, has_request_context, request

    if has_app_context() and g.get("lms_reading", False):  # a background job's long read (lms.tasks.reading)
        return True
    if not has_request_context():
        return False
    if g.get("lms_writing", False):  # begin_writing(), or lms.transaction.write_after's own transaction
        return False
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")

    return getattr(view, "writes_late", False)


def writes_late(view):
    """Mark a POST view that reads first and writes at the end (SQLite's write lock is one for the
    whole database): its transaction starts deferred, like a GET's, so other writers go on while it
    reads, and it calls begin_writing() before its first write. Keep the marker under @bp.route."""
    view.writes_late = True
    return view


def begin_writing() -> None:
    """End a writes_late view's reading: the next statement starts a transaction that may write
    (BEGIN IMMEDIATE on SQLite). Every object read so far is expired and read again, under the
    lock, when next used, so no decision rests on what was read before. (PostgreSQL: the
    transaction goes on; see below.)"""
    from flask import g

    from .extensions import db

    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("begin_writing() after a change: the change would be written without the lock")
    g.lms_writing = True
    if db.session.get_bind().dialect.name != "sqlite":
        # PostgreSQL has no database-wide write lock to take, and under READ COMMITTED every statement
        # reads what is committed when it runs: the transaction goes on (no COMMIT round trip), and what
        # was read is read again when next used, as on SQLite.
        db.session.expire_all()
        return
    db.session.commit()  # nothing to write: ends the read transaction


def include_name(name, type_, parent_names) -> bool:
    """Alembic autogenerate: skip the search objects the migrations create by hand
    (SQLite FTS5 tables, the PostgreSQL expression index)."""
    if type_ == "table" and name and name.endswith("_fts") or "_fts_" in (name or ""):
        return False
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


HAND_MADE_INDEXES = {"ix_course_search"}


def dialect_insert(model, bind=None):
    """The INSERT of `model` in the dialect of `bind` (a connection or engine; default: the session's), the
    one that has ON CONFLICT (PostgreSQL's and SQLite's)."""
    from .extensions import db

    if (bind if bind is not None else db.session.get_bind()).dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


def insert_or_ignore(model, connection=None, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect of the session's database: a row that another
    request may have created at the same moment (the caller then reads it, usually FOR UPDATE).
    `connection`: run it there rather than through the session (inside a flush's event)."""
    from .extensions import db

    (connection or db.session).execute(dialect_insert(model, connection).values(**values).on_conflict_do_nothing())
