"""The message centre (站内消息): every user's inbox, their choices per kind, e-mail and the calendar feed.

Senders call one function, after the event has happened in their own transaction:

    from lms.messages import send
    send("course_assigned", [user_id, ...], {"course_id": 7, "title": "…"}, url=url_for(...))

`users` is a list (or set) of user ids, or a SQLAlchemy `select()` of user ids (a whole district's
workers): the select is compiled here and run by the task, never by the request. Nothing is written while
the request runs: once its transaction commits, a task on the queue (lms/tasks) writes the messages in
chunks of MESSAGES_CHUNK, one per user and send (a retried chunk writes nothing twice), leaves out the users
who turned the kind off, and hands the e-mails to their own tasks. If the transaction rolls back, nothing
is sent. The kinds and their params are listed in lms/messages/kinds.py.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select

from . import kinds


def send(kind: str, users: Iterable[int] | Select[Any], params: dict[str, Any], url: str | None = None) -> None:
    """Send a message of `kind` to `users` once the current transaction commits (see the module's doc)."""
    from ..transaction import after_commit
    from .delivery import enqueue_fan_out

    if kinds.get(kind) is None:
        raise ValueError(f"unknown kind of message: {kind!r} (see lms/messages/kinds.py)")
    key = secrets.token_hex(16)
    if isinstance(users, Select):
        sql, ids = _literal_sql(users), None
    else:
        sql, ids = None, sorted({int(u) for u in users})
        if not ids:
            return
    after_commit(lambda: enqueue_fan_out(key, kind, ids, sql, dict(params), url))


def _literal_sql(statement: Select[Any]) -> str:
    """The select as SQL text with its values written in, for the task to run (a task's arguments are pickled)."""
    from ..extensions import db

    return str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
