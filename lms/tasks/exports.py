"""Exports too large for a request: made by a job, with a progress bar, then downloaded by the requester.

An export view asks `background(rows)` first: with more rows than EXPORT_BACKGROUND_ROWS it answers with
a redirect to the job's page, and a job (kind "export") is created after the GET's read transaction
(`transaction.write_after`), then handed to the queue once committed. The job runs the same view again,
for the same URL, as the requester (their roles and scope as they are when it runs), in a read
transaction, and keeps the file it answers in JOBS_FOLDER; only the requester may download it.
"""
from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..errors import DomainError
from ..extensions import db
from ..transaction import write_after
from .jobs import Progress, Result, jobs_dir, kind, start
from .models import Job

KEY_PREFIX = "export:"


def background(rows: int, kind_label: str = "export") -> Response | None:
    """None when the export is small enough to make now (or is being made by its job); else the redirect
    to the page of the job that will make it."""
    if g.get("lms_export_job") or rows <= current_app.config["EXPORT_BACKGROUND_ROWS"]:
        return None
    token = secrets.token_urlsafe(16)
    params = {"url": request.full_path, "rows": rows}
    user_id = current_user.id
    write_after(lambda: _start(params, user_id, token))
    return redirect(url_for("jobs.by_key", token=token))


def _start(params: dict[str, Any], user_id: int, token: str) -> None:
    start("export", params, user_id, key=KEY_PREFIX + token)


class ExportRefused(DomainError):
    pass


@kind("export", read_only=True)
def export_job(job: Job, progress: Progress) -> Result:
    from ..auth.models import User

    user = db.session.get(User, job.user_id) if job.user_id else None
    if user is None or not user.active:
        raise ExportRefused("the account that asked for this export no longer exists or is disabled")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    total = job.params.get("rows")
    progress(0, total)
    with app.test_request_context(job.params["url"]):
        g._login_user = user  # Flask-Login: the request's user is the requester
        g.lms_export_job = True
        g.lms_export_progress = lambda done: progress(done, total)
        if request.routing_exception is not None or request.endpoint is None:
            raise ExportRefused(f"the export's address answered 404 (not found): {job.params['url']}")
        view = app.view_functions[request.endpoint]
        response = app.make_response(view(**(request.view_args or {})))
        g.lms_export_job = False
    name = getattr(response, "download_name", None)
    if response.status_code != 200 or name is None:
        raise ExportRefused(f"the export answered {response.status_code} instead of a file")
    folder = jobs_dir() / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(response.get_data())
    progress(total or 0, total)
    return Result(path=path, name=name)
