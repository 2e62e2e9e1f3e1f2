"""Background work on a real task queue: Huey (https://huey.readthedocs.io).

Where the queue keeps its messages is the setting TASK_QUEUE:
- `sqlite` (the default): the file tasks.sqlite3 in the instance folder. `make run` starts a
  consumer beside the web server; no other service is needed.
- `redis://host:port/db`: production, one Redis shared by every app host and every worker
  (`flask --app wsgi worker`, deploy/systemd/lms-worker.service).
- `immediate`: a task runs at once, in the process that enqueues it (the tests).

Writing a task: `@app_task()` makes a function a Huey task that runs in the app's context and in one
transaction (`transaction.unit()`): a task is a domain function like any other. Call it (`fn(args)`)
to enqueue it; from a request or a command, enqueue only after the transaction commits:
`transaction.after_commit(lambda: fn(args))`. Work a person waits for or an admin must see is a
`Job` (lms/tasks/jobs.py: `start(kind, params, user)`), run by `run_job` with retries; its status,
progress, error and result file are in the `job` table, shown on /jobs.
Periodic work (the sweep, the workforce snapshot, the nightly backup) is in lms/tasks/periodic.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

NAME = "shequ-xuetang"

_app: Flask | None = None  # the app of the consumer's process (the last one made)


class QueueState:
    """An app's queue: whether tasks run at once, and the storage that holds their messages."""

    def __init__(self, immediate: bool, storage: Any):
        self.immediate = immediate
        self.storage = storage


class AppQueue(Huey):
    """One Huey for the process (tasks register on it as their modules are imported), whose storage is
    the current app's, as init_app() made it from that app's TASK_QUEUE: several apps in one process
    (the tests) each keep their own. Without an app the consumer's app (`_app`) is used."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._fallback = QueueState(True, None)
        super().__init__(*args, **kwargs)

    def _state(self) -> QueueState:
        app = current_app._get_current_object() if has_app_context() else _app  # type: ignore[attr-defined]
        state = app.extensions.get("lms_tasks") if app is not None else None
        return state or self._fallback

    @property
    def storage(self) -> Any:
        return self._state().storage

    @storage.setter
    def storage(self, value: Any) -> None:  # Huey's __init__: the storage used before any app exists
        self._fallback.storage = value

    @property
    def _immediate(self) -> bool:
        return self._state().immediate

    @_immediate.setter
    def _immediate(self, value: bool) -> None:
        self._fallback.immediate = value


queue = AppQueue(NAME, results=False, immediate=True, utc=True)


def init_app(app: Flask) -> None:
    """The app's queue from TASK_QUEUE; a consumer's tasks run in the context of the last app made."""
    global _app
    setting = app.config.get("TASK_QUEUE") or "sqlite"
    if setting == "immediate":
        state = QueueState(True, MemoryStorage(NAME))
    elif setting == "sqlite" or setting.startswith("sqlite:"):
        path = setting.partition(":")[2] or str(Path(app.config["INSTANCE_PATH"]) / "tasks.sqlite3")
        state = QueueState(False, SqliteStorage(NAME, filename=path))
    elif setting.startswith(("redis://", "rediss://", "unix://")):
        state = QueueState(False, RedisStorage(NAME, url=setting))
    else:
        raise ValueError(f"TASK_QUEUE must be sqlite, sqlite:PATH, redis://… or immediate (it is {setting!r})")
    app.extensions["lms_tasks"] = state
    _app = app
    from . import exports as _exports  # noqa: F401 (registers run_job and the kinds of job)
    from . import periodic as _periodic  # noqa: F401


def the_app() -> Flask:
    """The app a task runs for: the current one (immediate mode, inside a request or command),
    else the one the consumer's process was made with."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    if _app is None:
        raise RuntimeError("lms.tasks: no app (create_app() was not called in this process)")
    return _app


@contextmanager
def task_context() -> Iterator[None]:
    """A fresh app context (its own database session) in which a task's transactions may write."""
    with the_app().app_context():
        g.lms_writing = True  # immediate mode inside a GET's request: the task's own transactions write
        yield


@contextmanager
def reading() -> Iterator[None]:
    """A long read (an export): on SQLite the transaction starts deferred, beside the writers' queue,
    instead of holding the one write lock for its whole length."""
    g.lms_reading = True
    try:
        yield
    finally:
        g.lms_reading = False


def app_task(**options: Any) -> Callable:
    """Decorate a domain function: a Huey task (Huey's `options`: retries, retry_delay, …) run in the
    app's context and one transaction, committed when it returns, rolled back when it raises."""
    def decorator(fn: Callable) -> Any:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            from ..transaction import unit

            with task_context(), unit():
                return fn(*args, **kwargs)

        return queue.task(**options)(run)

    return decorator


def app_periodic(due: Callable[[Flask, Any], bool], **options: Any) -> Callable:
    """Decorate a function the consumers run when `due(app, utc_timestamp)` says so (checked every
    minute, by every consumer: the function itself makes sure its work is done once). It runs in the
    app's context; it opens its own transactions (`unit()`)."""
    def decorator(fn: Callable) -> Any:
        @wraps(fn)
        def run() -> Any:
            with task_context():
                return fn()

        return queue.periodic_task(lambda ts: due(the_app(), ts), **options)(run)

    return decorator
