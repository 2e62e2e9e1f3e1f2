"""One transaction boundary for every request and every CLI command (as indico's web/rh.py).

A request runs in one transaction. Views and domain rules flush, never commit nor roll back; when
the response is ready (`after_request`, the first of those to run) the request

- commits once when it may write, nothing discarded it, and the status is below 400: 2xx pages,
  3xx redirects (the usual answer of a POST) and a 2xx form shown again with its errors;
- rolls back otherwise: any 4xx or 5xx (an abort, a refused form answered 400/409/429, an
  exception turned into a 500), a request whose writes were discarded (`discard()`: a view that
  caught a `DomainError`, or shows a form again after a failed step), and every GET/HEAD/OPTIONS: those never
  write (on SQLite they run in a deferred read transaction beside the writers' queue, see
  lms/database.py); a GET that changed something is a bug and raises in testing.

An exception that no handler turns into a response rolls back at teardown. A streamed body runs
after the boundary: it may read (in a transaction of its own, ended at teardown), never write.
Bookkeeping a GET must record (an API token's last use) is handed to `write_after()`: it runs after
the request's read transaction, in a write transaction of its own that queues like any writer.

CLI commands: `@command_transaction` (or `with unit():`) commits at the end or rolls back on an error.

`after_commit(fn)` runs `fn` once the transaction it was called in has committed (a request's, a
`write_after` one's or a `unit()`'s), and never if it rolls back: a job is handed to the task queue
only when its row is committed, so a consumer never looks for a job that is not (yet) there.
"""
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps

from flask import Flask, current_app, flash, g, has_request_context, redirect, request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .database import database_unavailable
from .errors import DomainError
from .extensions import db

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def init_app(app: Flask) -> None:
    # after_request functions run in reverse order of registration: appended last, ours runs first,
    # before the request log and the security headers (which never ask the database).
    app.after_request(_end_request)
    app.teardown_request(_teardown)
    app.register_error_handler(DomainError, _domain_error)
    if not event.contains(Session, "after_flush", _flushed):  # one listener for every app of the process
        event.listen(Session, "after_flush", _flushed)


def _flushed(session, _context) -> None:
    if has_request_context():
        g.lms_flushed = True


def discard() -> None:
    """Roll back what the request has written so far, and commit nothing more at its end (the view
    goes on to show a form again or a refusal; whatever it reads now is what is in the database)."""
    _drop_after_commit()
    db.session.rollback()
    g.lms_discarded = True


AFTER_COMMIT = "lms_after_commit"


def after_commit(fn: Callable[[], None]) -> None:
    """Run `fn` after the current transaction commits (see the module's doc); dropped on a rollback."""
    db.session.info.setdefault(AFTER_COMMIT, []).append(fn)


def _run_after_commit() -> None:
    for fn in db.session.info.pop(AFTER_COMMIT, ()):
        fn()


def _drop_after_commit() -> None:
    db.session.info.pop(AFTER_COMMIT, None)


def write_after(fn: Callable[[], None]) -> None:
    """Run `fn` (it flushes a small bookkeeping write) after the request's own transaction has ended,
    in a write transaction of its own (SQLite: BEGIN IMMEDIATE in the write queue). For GET requests,
    which never write in their read transaction."""
    g.setdefault("lms_write_after", []).append(fn)


def _end_request(response):
    writes = request.method not in READ_METHODS
    if writes and response.status_code < 400 and not g.get("lms_discarded"):
        try:
            db.session.commit()
        except DBAPIError as exc:  # the database went away: the app's 503 answer, as a view's error
            _rollback()
            if not database_unavailable(exc):
                raise
            response = current_app.make_response(current_app.handle_user_exception(exc))
        else:
            _after_commit_logged()
    else:
        if not writes and _pending() and current_app.testing:
            db.session.rollback()
            raise RuntimeError(f"{request.method} {request.path} changed the database: a GET never writes")
        _rollback()
    for fn in g.pop("lms_write_after", ()):
        _write_aside(fn)
    return response


def _write_aside(fn) -> None:
    g.lms_writing = True  # lms.database: the next transaction may write (SQLite: the write queue)
    try:
        fn()
        db.session.commit()
        _after_commit_logged()
    except Exception:
        _rollback()
        current_app.logger.exception("a bookkeeping write after %s %s failed", request.method, request.path)
    finally:
        g.lms_writing = False


def _after_commit_logged() -> None:
    """A request's after-commit work (handing jobs to the queue): its failure is logged, never turned into
    an error page for what has been committed (the job stays queued; an admin retries it)."""
    try:
        _run_after_commit()
    except Exception:
        current_app.logger.exception("after-commit work of %s %s failed", request.method, request.path)


def _teardown(exc) -> None:
    if exc is not None:
        _rollback()


def _rollback() -> None:
    _drop_after_commit()
    try:
        db.session.rollback()
    except Exception:  # the connection is gone (the 503 answer): nothing to roll back
        pass


def _pending() -> bool:
    s = db.session
    return bool(g.get("lms_flushed") or s.new or s.dirty or s.deleted)


def _domain_error(exc: DomainError):
    """A domain error no view caught: nothing is written (unless it keeps its flush), its message is
    flashed, and the user goes back to the page the form was on (or the home page)."""
    if not exc.keeps_flushed:
        discard()
    flash(str(exc), "danger")
    return redirect(_back())


def _back() -> str:
    """The page the request came from when it is one of ours, else the home page."""
    from urllib.parse import urlsplit

    from flask import url_for

    from .util import safe_next

    ref = urlsplit(request.referrer or "")
    same_site = ref.netloc == request.host and ref.scheme in ("http", "https")
    path = ref.path + ("?" + ref.query if ref.query else "") if same_site else None
    return safe_next(path, url_for("main.index"))


@contextmanager
def unit():
    """One CLI command's (or job's) transaction: commit at the end, roll back on any exception."""
    try:
        yield
    except BaseException:
        _drop_after_commit()
        db.session.rollback()
        raise
    db.session.commit()
    _run_after_commit()


def command_transaction(fn):
    """Decorate a CLI command (under @app.cli.command): its writes commit once when it returns and
    roll back when it raises (click's exit with an error message included)."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        with unit():
            return fn(*args, **kwargs)

    return wrapper
