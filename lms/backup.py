"""Backups: `flask --app wsgi backup PATH` and `flask --app wsgi restore PATH`.

- SQLite: the sqlite3 online backup API copies the database in one step from one read
  transaction, so the copy is consistent while the site keeps reading and writing (WAL).
- PostgreSQL: `pg_dump --format=custom` (one snapshot of the whole database); restored with
  `pg_restore --single-transaction`: all or nothing.

A backup is written to PATH.part and renamed when complete, so PATH is never half a backup.
A restore goes only into an EMPTY database (no tables at all): create a new database, restore
into it, then point DATABASE_URL at it. Afterwards run `flask --app wsgi db upgrade` when the
code is newer than the backup.
"""
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


# --- the commands -----------------------------------------------------------------------------------

def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    def backup_command(path):
        """Write a consistent backup of the database to PATH, while the site runs."""
        try:
            click.echo(backup(Path(path)))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def restore_command(path):
        """Restore the backup at PATH into the configured database, which must be empty."""
        try:
            click.echo(restore(Path(path)))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc


def backup(path: Path) -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    path = path.resolve()
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), part)
        elif url.get_backend_name() == "postgresql":
            _run_pg("pg_dump", "--format=custom", "--compress=6", f"--file={part}", url=url)
        else:
            raise BackupError(f"No backup method for the database kind {url.get_backend_name()!r}.")
        _fsync(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return f"backup written: {path} ({path.stat().st_size:,} bytes, {url.get_backend_name()})"


def restore(path: Path) -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    kind = backup_kind(path)
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(f"{path} is a {kind} backup but the configured database is {backend}: "
                          "restore it into a database of the same kind.")
    if backend == "sqlite":
        target = _sqlite_file(url, must_exist=False)
        tables = _sqlite_tables(target) if target.exists() else []
        _refuse_non_empty(tables, url)
        _sqlite_restore(path, target)
    else:
        _refuse_non_empty(_pg_tables(), url)
        _run_pg("pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                str(path), url=url)
    return f"restored {path} into {url.render_as_string(hide_password=True)}"


def backup_kind(path: Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes (never from its name)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `flask backup` (neither SQLite nor pg_dump custom format).")


def _refuse_non_empty(tables: list[str], url) -> None:
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (" …" if len(tables) > 5 else "")
        raise BackupError(
            f"The database {url.render_as_string(hide_password=True)} is not empty ({len(tables)} tables: {shown}). "
            "A restore goes only into an empty database: create a new one, point DATABASE_URL at it "
            "(do not run `db upgrade` first) and run restore again.")


# --- SQLite -----------------------------------------------------------------------------------------------

def _sqlite_file(url, must_exist: bool = True) -> Path:
    if url.database in (None, "", ":memory:") or (url.query or {}).get("mode") == "memory":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    path = Path(url.database).resolve()
    if must_exist and not path.exists():
        raise BackupError(f"The database file {path} does not exist.")
    return path


def _sqlite_tables(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                          "AND name NOT LIKE 'sqlite_%'")]
    finally:
        con.close()


def _copy(src_path: Path, dst_path: Path) -> None:
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(dst_path)
    try:
        src.execute("PRAGMA busy_timeout=15000")
        src.backup(dst)  # pages=-1: the whole database in one step, from one read transaction
    finally:
        dst.close()
        src.close()


def _check(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        result = con.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        con.close()
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")


def _sqlite_backup(source: Path, part: Path) -> None:
    _copy(source, part)
    con = sqlite3.connect(part)
    try:
        con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        con.close()
    _check(part)


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    _check(backup_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    con = sqlite3.connect(target)
    try:
        con.execute("PRAGMA journal_mode=WAL")  # what the app uses (lms/database.py)
    finally:
        con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- PostgreSQL -----------------------------------------------------------------------------------------

def pg_bindir() -> Path:
    """Where pg_dump and pg_restore are: PG_BINDIR, else the newest /usr/lib/postgresql/*/bin
    (Debian; a pg_dump must be at least as new as the server), else the PATH."""
    configured = current_app.config.get("PG_BINDIR")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_dump")
    if on_path:
        return Path(on_path).parent
    raise BackupError("pg_dump was not found: install the PostgreSQL client (apt-get install postgresql-client) "
                      "or set PG_BINDIR.")


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string for the SQLAlchemy URL; the password goes in the environment
    (PGPASSWORD), never on a command line that `ps` shows."""
    from psycopg.conninfo import make_conninfo

    params = {k: v for k, v in (url.query or {}).items() if isinstance(v, str)}
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username), ("dbname", url.database)):
        if value is not None and key not in params:
            params[key] = str(value)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo(**params), env


def _run_pg(tool: str, *args: str, url) -> None:
    conninfo, env = _libpq(url)
    exe = pg_bindir() / tool
    if not exe.exists():
        raise BackupError(f"{exe} was not found: install the PostgreSQL client or set PG_BINDIR.")
    cmd = [str(exe), *args, f"--dbname={conninfo}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}):\n{done.stderr.strip()}")


def _pg_tables() -> list[str]:
    from .extensions import db

    with db.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")).scalars())
