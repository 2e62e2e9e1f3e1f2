"""`flask --app wsgi import-questions PATH`: load the YAML question bank (question_bank/README.md)."""
import sys
from pathlib import Path

import click
from flask import Flask
from flask_babel import gettext as _

from ..extensions import db


def register(app: Flask) -> None:
    @app.cli.command("import-questions")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    def import_questions_command(path: Path):
        """Import the YAML question bank at PATH (all-or-nothing; re-importing updates by id)."""
        from .bank_io import default_locale, import_bank

        with default_locale():
            result = import_bank(path)
            if not result.ok:
                db.session.rollback()
                for problem in result.problems:
                    click.echo(str(problem), err=True)
                click.echo(_("Nothing was imported: %(n)d problems in %(files)d files, listed above.",
                             n=len(result.problems), files=result.files), err=True)
                sys.exit(1)
            db.session.commit()
            c = result.counts
            click.echo(_("Question bank imported from %(files)d files: %(new)d new, %(updated)d updated, "
                         "%(same)d unchanged.", files=result.files, new=c.created, updated=c.updated, same=c.unchanged))
