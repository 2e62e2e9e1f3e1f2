"""Command-line commands of exam preparation: `prep-rebuild`."""
import click
from flask import Flask

from ..transaction import command_transaction


def register(app: Flask) -> None:
    @app.cli.command("prep-rebuild")
    @click.option("--backfill", is_flag=True,
                  help="First log the graded answers of attempts graded before the log existed (a database "
                       "upgraded with its history).")
    @command_transaction
    def prep_rebuild_command(backfill):
        """Recompute every worker's topic mastery from the log of graded answers (after changing PREP_ELO_*,
        PREP_DIFFICULTY_LOGITS, or with --backfill after an upgrade), then every subject's readiness calibration.
        One transaction: all or nothing."""
        from .backfill import backfill as fill
        from .backfill import rebuild_all
        from .readiness import refresh

        if backfill:
            click.echo(f"{fill()} graded attempts logged")
        workers, rows = rebuild_all()
        click.echo(f"mastery rebuilt: {workers} workers, {rows} topic estimates")
        click.echo(f"readiness calibrations made: {refresh()}")
