"""`flask --app wsgi import-questions PATH`: the YAML question bank (question_bank/README.md), or one
GIFT, Aiken or Excel file into a subject (docs/QUESTION_FORMATS.md), all-or-nothing like the site's import."""
import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..transaction import command_transaction


def register(app: Flask) -> None:
    @app.cli.command("import-questions")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option("--subject", "subject_code", metavar="CODE",
                  help="The subject (e.g. junior-general) of a .gift, Aiken .txt or .xlsx file.")
    @click.option("--topic", metavar="TOPIC", help="The topic of its questions (default: the file's name).")
    @click.option("--file-topics", is_flag=True,
                  help="Take topics from the file where it has them ($CATEGORY in GIFT, the Topic column in Excel).")
    @command_transaction
    def import_questions_command(path: Path, subject_code: str | None, topic: str | None, file_topics: bool):
        """Import the YAML question bank at PATH (a folder or .yaml file; re-importing updates by id), or
        a .gift (or .gift.txt), Aiken .txt or .xlsx file into --subject as drafts. All-or-nothing."""
        from .bank_io import default_locale

        with default_locale():
            if path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
                _import_bank(path)
            else:
                _import_file(path, subject_code, topic, file_topics)


def _fail(message: str, code: int = 1) -> NoReturn:

    click.echo(message, err=True)
    sys.exit(code)


def _import_bank(path: Path) -> None:
    from .bank_io import import_bank

    result = import_bank(path)
    if not result.ok:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        _fail(_("Nothing was imported: %(n)d problems in %(files)d files, listed above.",
                n=len(result.problems), files=result.files))
    c = result.counts
    click.echo(_("Question bank imported from %(files)d files: %(new)d new, %(updated)d updated, "
                 "%(same)d unchanged.", files=result.files, new=c.created, updated=c.updated, same=c.unchanged))


def _import_file(path: Path, subject_code: str | None, topic: str | None, file_topics: bool) -> None:
    from ..tabular import TableError
    from .interchange import FORMATS, format_of, import_file, imported_message
    from .models import ExamSubject

    fmt = format_of(path.name)
    if fmt is None:
        _fail(_('Cannot tell the format of "%(name)s": give a folder or .yaml file of the question bank, '
                'or a file ending in .gift, .txt (Aiken) or .xlsx.', name=path.name), 2)
    subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position, ExamSubject.id)).all()
    codes = ", ".join(s.code for s in subjects)
    if not subject_code:
        _fail(_("A %(format)s file carries no subject: give it with --subject CODE (one of: %(codes)s).",
                format=FORMATS[fmt], codes=codes), 2)
    subject = next((s for s in subjects if s.code == subject_code), None)
    if subject is None:
        _fail(_('Unknown subject "%(code)s"; use one of: %(codes)s', code=subject_code, codes=codes), 2)
    topic = (topic or "").strip() or path.name.split(".")[0]
    try:
        report, counts = import_file(fmt, path.read_bytes(), path.name, subject, topic, None, file_topics)
    except TableError as exc:
        _fail(_("Nothing was imported: %(problem)s", problem=str(exc)))
    if not report.ok:
        for error in report.errors:
            where = f" [{error.column}]" if error.column else ""
            click.echo(f"{path}:{error.row}:{where} {error.message}", err=True)
        _fail(_("Nothing was imported: the file has %(n)d problems, listed above.", n=len(report.errors)))
    assert counts is not None  # a file without problems is saved
    click.echo(imported_message(counts))

