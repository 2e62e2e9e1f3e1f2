"""The kinds of job that are not an export: the nightly backup."""
from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from .. import clock
from .jobs import Progress, Result, kind
from .models import Job


@kind("backup", read_only=True)
def backup_job(job: Job, progress: Progress) -> Result:
    """A backup into BACKUP_FOLDER (lms-YYYYmmdd-HHMM.dump or .sqlite3); those older than
    BACKUP_KEEP_DAYS are deleted after it is written."""
    from ..backup import backup

    folder = Path(current_app.config["BACKUP_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    backend = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    suffix = "sqlite3" if backend == "sqlite" else "dump"
    path = folder / f"lms-{clock.local_now():%Y%m%d-%H%M}.{suffix}"
    backup(path)
    keep = current_app.config["BACKUP_KEEP_DAYS"]
    cutoff = (clock.now() - timedelta(days=keep)).replace(tzinfo=UTC).timestamp() if keep else None
    for old in folder.glob("lms-*"):
        if cutoff is not None and old != path and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return Result(path=path, name=path.name)
