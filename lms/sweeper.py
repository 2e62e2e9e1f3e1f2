"""Work the clock makes due, done without anyone opening a page: attempts past their deadline
are graded with what was saved; workers never marked at an ended session become absent; this
year's workforce snapshot is recorded once a day (the profile's year-on-year comparison).

Each app process runs it in a daemon thread every SWEEP_SECONDS (0 turns it off; tests do).
Every step is a conditional update, so several processes or hosts sweeping at once is safe.
`flask --app wsgi sweep` runs one pass (e.g. from cron when the thread is off).
"""
import logging
import threading
import time

from sqlalchemy.exc import DBAPIError, IntegrityError

from .database import database_unavailable, unavailable_reason

log = logging.getLogger(__name__)


def sweep_once() -> tuple[int, int]:
    from .exams.attempts import finish_expired
    from .stats.profile import keep_snapshot_current
    from .training.rules import close_ended_sessions
    from .transaction import unit

    graded = 0
    while True:
        with unit():  # a batch at a time: each one commits (or rolls back) on its own
            n = finish_expired()
        graded += n
        if n == 0:
            break
    with unit():
        absent = close_ended_sessions()
    try:
        with unit():
            keep_snapshot_current()
    except IntegrityError:  # another process recorded today's snapshot at the same moment
        pass
    return graded, absent


def start(app) -> None:
    """Start the sweeper thread with the first request this process serves (CLI commands such as
    seed-demo or db upgrade never serve one, so they never sweep)."""
    interval = app.config.get("SWEEP_SECONDS", 0)
    if not interval or app.config.get("TESTING"):
        return
    lock = threading.Lock()

    @app.before_request
    def _start_sweeper_once():
        if app.extensions.get("lms_sweeper"):
            return
        with lock:
            if not app.extensions.get("lms_sweeper"):
                app.extensions["lms_sweeper"] = _run(app, interval)


def _run(app, interval: int) -> threading.Thread:
    def loop():
        while True:
            time.sleep(interval)
            try:
                with app.app_context():
                    sweep_once()
            except DBAPIError as exc:  # keep sweeping after a database hiccup
                if database_unavailable(exc):
                    log.warning("sweep skipped, database unavailable: %s", unavailable_reason(exc))
                else:
                    log.exception("sweep failed")
            except Exception:
                log.exception("sweep failed")

    thread = threading.Thread(target=loop, name="lms-sweeper", daemon=True)
    thread.start()
    return thread
