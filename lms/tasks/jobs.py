"""Jobs: background work with a row of its own (status, progress, error, result file).

`start(kind, params, user)` flushes a queued Job and hands it to the queue when the transaction
commits. A consumer runs `run_job(id)`: it claims the job (queued → running, one more attempt), runs
the kind's handler, and records the outcome: done with its result file, or the error; a failed attempt
goes back to queued and Huey retries it after JOB_RETRY_DELAY seconds, up to JOB_RETRIES times; after
the last one the job is failed, with its error, for an admin to see (/jobs) and retry.
"""
from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app, g
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from ..transaction import after_commit, unit
from . import queue, reading, task_context
from .models import Job

MAX_ERROR = 4000


@dataclass(frozen=True)
class Result:
    """A job's outcome: a file for its requester (`path`, shown as `name`), or nothing."""
    path: Path | None = None
    name: str | None = None


Handler = Callable[[Job, "Progress"], Result | None]


@dataclass(frozen=True)
class Kind:
    fn: Handler
    read_only: bool  # its work only reads (an export): on SQLite it never holds the write lock


KINDS: dict[str, Kind] = {}


def kind(name: str, read_only: bool = False) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of job: fn(job, progress) -> Result | None, run in one transaction."""
    def decorator(fn: Handler) -> Handler:
        KINDS[name] = Kind(fn, read_only)
        return fn

    return decorator


# --- the domain ------------------------------------------------------------------------------------

def start(kind_name: str, params: dict[str, Any] | None = None, user_id: int | None = None,
          key: str | None = None) -> Job | None:
    """A queued job, flushed, handed to the queue once the transaction commits. With a `key`, a job of
    that key made before (by this or another process, e.g. the other host's consumer) wins: None."""
    if kind_name not in KINDS:
        raise ValueError(f"no kind of job {kind_name!r}")
    job = Job(kind=kind_name, params=params or {}, user_id=user_id, key=key, status="queued")
    if key is None:
        db.session.add(job)
        db.session.flush()
    else:
        try:
            with db.session.begin_nested():
                db.session.add(job)
        except IntegrityError:
            return None
    job_id = job.id
    after_commit(lambda: enqueue(job_id))
    return job


def enqueue(job_id: int) -> None:
    """Hand a committed job to the queue, with the retries the config asks for."""
    config = current_app.config
    task = run_job.s(job_id)
    task.retries = config["JOB_RETRIES"]
    task.retry_delay = config["JOB_RETRY_DELAY"]
    queue.enqueue(task)


def claim(job_id: int) -> bool:
    """queued → running, one attempt more; False when the job is not queued (done, failed, or another
    consumer runs it)."""
    now = utcnow()
    result = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", attempts=Job.attempts + 1, started_at=now, finished_at=None))
    return result.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult


def finish(job_id: int, result: Result | None) -> None:
    result = result or Result()
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status="done", finished_at=utcnow(), error=None, done=func.coalesce(Job.total, Job.done),
        result_path=str(result.path) if result.path else None, result_name=result.name))


def fail(job_id: int, error: str, final: bool) -> None:
    """Record a failed attempt: the job is failed after the last one, else queued for its retry."""
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status="failed" if final else "queued", error=error[-MAX_ERROR:], finished_at=utcnow() if final else None))


def stuck(job: Job) -> bool:
    """Queued or running for longer than JOB_STUCK_MINUTES (its consumer was killed, the queue lost it)."""
    if job.status not in ("queued", "running"):
        return False
    since = job.started_at or job.created_at
    return since < utcnow() - timedelta(minutes=current_app.config["JOB_STUCK_MINUTES"])


def may_retry(job: Job) -> bool:
    return job.status == "failed" or stuck(job)


def retry(job: Job) -> None:
    """An admin's retry: the job is queued again (its error kept until the next attempt ends)."""
    job.status = "queued"
    job.finished_at = None
    db.session.flush()
    job_id = job.id
    after_commit(lambda: enqueue(job_id))


def describe(exc: BaseException) -> str:
    """What an admin reads: the error, then where it happened (the traceback's last frames)."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines[-1:]).strip() + "\n\n" + "".join(lines[-6:-1])


class Progress:
    """`progress(done, total)` from a handler: written at most twice a second, in a short transaction
    of its own (the handler's own transaction commits only at its end)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        if queue.immediate:  # the job ends before anyone could look
            return
        if time.monotonic() - self._last < 0.5 and done != total:
            return
        self._last = time.monotonic()
        reading_flag = g.get("lms_reading", False)
        g.lms_reading = False  # this write queues like any writer (SQLite: BEGIN IMMEDIATE)
        try:
            with db.engine.begin() as conn:
                conn.execute(update(Job).where(Job.id == self.job_id).values(done=done, total=total))
        finally:
            g.lms_reading = reading_flag


# --- the task --------------------------------------------------------------------------------------

@queue.task(context=True)
def run_job(job_id: int, task: Any = None) -> None:
    with task_context():
        with unit():
            if not claim(job_id):
                return
            handler = KINDS[db.session.get_one(Job, job_id).kind]
        try:
            with reading() if handler.read_only else nullcontext(), unit():
                result = handler.fn(db.session.get_one(Job, job_id), Progress(job_id))
        except Exception as exc:
            final = task is None or not task.retries
            with unit():
                fail(job_id, describe(exc), final)
            raise  # Huey retries it (or logs the last failure)
        with unit():
            finish(job_id, result)


def jobs_dir() -> Path:
    """Where jobs write their files (JOBS_FOLDER, by default instance/jobs)."""
    path = Path(current_app.config["JOBS_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


from . import kinds as _kinds  # noqa: E402,F401 (the kinds of job register themselves)
