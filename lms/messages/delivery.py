"""Writing the messages of a send(), on the task queue: the fan-out (the select of users run, the ids cut
into chunks), the chunks (one insert each, idempotent), and the e-mails (lms/messages/mail.py)."""
from __future__ import annotations

from functools import partial
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, select, text

from ..database import dialect_insert, utcnow
from ..extensions import db
from ..tasks import app_task, queue
from ..transaction import after_commit
from .models import Message, MessageAccount, MessagePreference


def _enqueue(task_fn: Any, *args: Any) -> None:
    """Hand a task to the queue with the retries the config asks for (as jobs do)."""
    config = current_app.config
    task = task_fn.s(*args)
    task.retries = config["JOB_RETRIES"]
    task.retry_delay = config["JOB_RETRY_DELAY"]
    queue.enqueue(task)


def enqueue_fan_out(key: str, kind: str, ids: list[int] | None, sql: str | None, params: dict[str, Any],
                    url: str | None) -> None:
    _enqueue(fan_out, key, kind, ids, sql, params, url)


@app_task()
def fan_out(key: str, kind: str, ids: list[int] | None, sql: str | None, params: dict[str, Any],
            url: str | None) -> None:
    """The recipients (the select run now), then their messages: written here when they fit in one chunk,
    else each chunk by a task of its own once this transaction ends."""
    if sql is not None:
        ids = sorted({int(i) for i in db.session.scalars(text(sql)) if i is not None})
    ids = ids or []
    size = current_app.config["MESSAGES_CHUNK"]
    if len(ids) <= size:
        write_chunk(key, kind, ids, params, url)
        return
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        after_commit(partial(_enqueue, deliver_chunk, key, kind, chunk, params, url))


@app_task()
def deliver_chunk(key: str, kind: str, ids: list[int], params: dict[str, Any], url: str | None) -> None:
    write_chunk(key, kind, ids, params, url)


def _insert_ignoring_duplicates() -> Any:
    return dialect_insert(cast(Table, Message.__table__)).on_conflict_do_nothing(index_elements=["send_key", "user_id"])


def write_chunk(key: str, kind: str, ids: list[int], params: dict[str, Any], url: str | None) -> int:
    """The messages of `ids` (those who did not turn the kind off in the app), each once per send (`key`);
    the e-mails of those who want them, after the commit. How many messages were written."""
    from . import kinds

    if not ids:
        return 0
    chosen = {row.user_id: row for row in db.session.scalars(
        select(MessagePreference).where(MessagePreference.kind == kind, MessagePreference.user_id.in_(ids)))}
    default = kinds.KINDS[kind]
    in_app = [i for i in ids if (chosen[i].in_app if i in chosen else default.in_app)]
    written = 0
    if in_app:
        now = utcnow()
        result = db.session.connection().execute(_insert_ignoring_duplicates(), [
            {"user_id": i, "kind": kind, "params": params, "url": url, "send_key": key, "created_at": now}
            for i in in_app])
        written = max(result.rowcount, 0)
    if current_app.config.get("MAIL_SERVER"):
        wanted = [i for i in ids if (chosen[i].email if i in chosen else default.email)]
        if wanted:
            addresses = db.session.execute(select(MessageAccount.user_id, MessageAccount.email).where(
                MessageAccount.user_id.in_(wanted), MessageAccount.email.is_not(None))).all()
            from .mail import send_mail

            for user_id, address in addresses:
                after_commit(partial(_enqueue, send_mail, user_id, address, kind, params, url))
    return written
