"""Command-line commands: `flask --app wsgi <command>`."""
import click
from flask import Flask

from .transaction import command_transaction


def register(app: Flask) -> None:
    from .exams.cli import register as register_exam_commands

    register_exam_commands(app)
    from .stats.cli import register as register_stats_commands

    register_stats_commands(app)
    from .backup import register as register_backup_commands

    register_backup_commands(app)
    from .tasks.cli import register as register_task_commands

    register_task_commands(app)
    from .prep.cli import register as register_prep_commands

    register_prep_commands(app)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
    @command_transaction
    def seed_demo_command(if_empty):
        """Create the fictional demo city, dated from today (idempotent: running it twice duplicates nothing)."""
        from .demo import seed_demo

        summary = seed_demo(if_empty=if_empty)
        click.echo(summary)

    @app.cli.command("import-courses")
    @click.argument("path", type=click.Path(exists=True, file_okay=False))
    @command_transaction
    def import_courses_command(path):
        """Import or update the course library from PATH (see courses/README.md). Idempotent."""
        from pathlib import Path

        from .learning.importer import CourseFileError, import_courses

        try:
            result = import_courses(Path(path))
        except CourseFileError as exc:  # the command's transaction rolls back
            raise click.ClickException(f"nothing imported:\n{exc}") from exc
        click.echo(f"courses: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")

    @app.cli.command("sweep")
    def sweep_command():
        """Grade attempts past their deadline, mark absentees of ended sessions and record today's workforce
        snapshot if not yet done (one pass)."""
        from .sweeper import sweep_once

        graded, absent = sweep_once()
        click.echo(f"{graded} attempts graded, {absent} attendance records marked absent")
