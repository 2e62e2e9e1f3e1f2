"""Work the clock makes due, done without anyone opening a page: attempts past their deadline
are graded with what was saved; workers never marked at an ended session become absent; this
year's workforce snapshot is recorded once a day (the profile's year-on-year comparison); from
a year's first day, the continuing-education list of that year is made listable from the rollups'
stats_worker_year (a row of 0 hours for every worker, once).

The task queue's consumers run it (lms/tasks/periodic.py): the deadlines every SWEEP_MINUTES, the
snapshot every hour. Every step is a conditional update, so several consumers or hosts sweeping at
once is safe. `flask --app wsgi sweep` runs one pass of everything by hand.
"""
from sqlalchemy.exc import IntegrityError


def sweep_deadlines() -> tuple[int, int]:
    """Grade attempts past their deadline (a batch per transaction) and mark absentees of ended sessions."""
    from .exams.attempts import finish_expired
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
    return graded, absent


def keep_snapshot() -> None:
    """Record today's workforce snapshot unless it is there already."""
    from .stats.profile import keep_snapshot_current
    from .transaction import unit

    try:
        with unit():
            keep_snapshot_current()
    except IntegrityError:  # another process recorded today's snapshot at the same moment
        pass


def keep_list_years() -> None:
    """From a year's first day, that year's continuing-education list reads stats_worker_year alone."""
    from . import clock
    from .extensions import db
    from .stats.rollups import extend_list_years
    from .transaction import unit

    with unit():
        extend_list_years(db.session.connection(), clock.this_year())


def sweep_once() -> tuple[int, int]:
    graded, absent = sweep_deadlines()
    keep_snapshot()
    keep_list_years()
    return graded, absent
