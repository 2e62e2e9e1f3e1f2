"""Periodic work, run by the task queue's consumers (checked once a minute by every consumer).

- the sweep (lms/sweeper.py): attempts past their deadline graded, absentees of ended sessions marked,
  every SWEEP_MINUTES (0: never; `flask sweep` by hand or from cron); each pass logs what it did
  (logger lms.tasks.periodic: "N attempts graded, M attendance records marked absent");
- the workforce snapshot, at minute 5 of every hour (recorded once a day: the first of those wins), and
  with it this year's continuing-education list made listable from the rollups (once a year);
- the nightly backup at BACKUP_AT (Asia/Shanghai) into BACKUP_FOLDER (unset: no backup), as a Job
  keyed by its day: with two consumers (two hosts) one makes the job and the other finds it made. It
  stays due after BACKUP_AT until the day's job is made (consumers down at BACKUP_AT make it later).
- the readiness calibrations (lms/prep/readiness.py): every blueprint's, once the stored one is
  PREP_CALIBRATION_MAX_AGE minutes old (0: never; `flask prep-rebuild` by hand), made in a read of its
  own (the long replay of the mock exams sat) and stored in a short write after it.
- the reminders of tomorrow's training sessions (lms/messages/events.py), every REMINDER_MINUTES: each
  registered worker is told once per session (a unique reminder row), however often it runs.
The consumers look at this work every PERIODIC_SECONDS (60, Huey's minute); a due minute's work runs
at each look in it, so a lower PERIODIC_SECONDS (tests, benchmarks) sweeps every few seconds.
All of it is safe to run twice at once: the sweep's steps are conditional updates, the snapshot has a
unique day, the backup's job a unique key, a calibration is stored in place of the one it replaces (two
consumers looking in the same minute may both make it: the same figures, twice the reading).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask

from ..util import utc_to_local
from . import app_periodic

SNAPSHOT_MINUTE = 5
SWEEP_PASS = "%d attempts graded, %d attendance records marked absent"
CALIBRATION_PASS = "%d readiness calibrations made again"

log = logging.getLogger(__name__)


def sweep_due(app: Flask, utc: datetime) -> bool:
    every = app.config["SWEEP_MINUTES"]
    return bool(every) and utc.minute % every == 0


def snapshot_due(app: Flask, utc: datetime) -> bool:
    return utc.minute == SNAPSHOT_MINUTE


def backup_due(app: Flask, utc: datetime) -> bool:
    if not app.config.get("BACKUP_FOLDER"):
        return False
    return f"{utc_to_local(utc):%H:%M}" >= app.config["BACKUP_AT"]


def calibration_due(app: Flask, utc: datetime) -> bool:
    return bool(app.config["PREP_CALIBRATION_MAX_AGE"])


@app_periodic(sweep_due)
def sweep() -> None:
    from ..sweeper import sweep_deadlines

    log.info(SWEEP_PASS, *sweep_deadlines())


@app_periodic(snapshot_due)
def snapshot() -> None:
    from ..sweeper import keep_list_years, keep_snapshot

    keep_snapshot()
    keep_list_years()


@app_periodic(backup_due)
def nightly_backup() -> None:
    start_backup()


def reminders_due(app: Flask, utc: datetime) -> bool:
    every = app.config["REMINDER_MINUTES"]
    return bool(every) and utc.minute % every == 0


@app_periodic(reminders_due)
def reminders() -> None:
    send_reminders()


def send_reminders() -> int:
    from ..messages.events import remind_tomorrow
    from ..transaction import unit

    with unit():
        return remind_tomorrow()


@app_periodic(calibration_due)
def calibrations() -> None:
    refresh_calibrations()


def refresh_calibrations() -> int:
    """Make again the readiness calibrations PREP_CALIBRATION_MAX_AGE minutes old (or missing): the replay in a
    read beside the writers (SQLite: no write lock held for its seconds), then one short write; how many."""
    from ..prep import readiness
    from ..transaction import unit
    from . import reading, the_app

    max_age = timedelta(minutes=the_app().config["PREP_CALIBRATION_MAX_AGE"])
    with reading(), unit():
        made = readiness.made_again(max_age)
    if made:
        with unit():
            key = readiness.current_key()
            for exam_id, calibration in made:
                readiness.keep(exam_id, key, calibration)
        log.info(CALIBRATION_PASS, len(made))
    return len(made)


def start_backup() -> bool:
    """Tonight's backup job, unless a consumer made it already; True when this call made it."""
    from sqlalchemy import select

    from .. import clock
    from ..extensions import db
    from ..transaction import unit
    from .jobs import start
    from .models import Job

    key = f"backup:{clock.today().isoformat()}"
    with unit():
        if db.session.scalar(select(Job.id).where(Job.key == key)) is not None:  # made (every look after BACKUP_AT)
            return False
        return start("backup", key=key) is not None
