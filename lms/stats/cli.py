"""Command-line commands of the statistics: `seed-scale`, `stats-snapshot` and `stats-rebuild-rollups`."""
import click
from flask import Flask

from .. import clock
from ..extensions import db
from ..transaction import command_transaction, unit
from .rollups import rebuild


def register(app: Flask) -> None:
    @app.cli.command("seed-scale")
    @click.option("--scale", type=float, default=1.0, show_default=True,
                  help="Multiply every size: 0.1 gives 10,000 workers and 100,000 attendance records.")
    @click.option("--workers", type=int, help="Workers (default 100,000 × scale).")
    @click.option("--attendance", type=int, help="Attendance records (default 1,000,000 × scale).")
    @click.option("--enrollments", type=int, help="Course enrolments (default 300,000 × scale).")
    @click.option("--attempts", type=int, help="Mock-exam attempts (default 200,000 × scale).")
    @click.option("--seed", type=int, default=2026, show_default=True, help="Random seed (same seed, same city).")
    def seed_scale_command(scale, workers, attendance, enrollments, attempts, seed):
        """Generate a city at scale for benchmarks, in an empty database (bulk inserts)."""
        # The generator is a benchmark tool and lives in bench/scale/ beside the benchmarks that use it;
        # this command only parses options and holds the transaction, so it works from the source tree.
        try:
            from bench.scale import ScaleError, Sizes, analyze, seed_scale
        except ModuleNotFoundError as exc:
            if exc.name not in ("bench", "bench.scale"):
                raise
            raise click.ClickException("seed-scale runs from the source tree: its generator is bench/scale/, "
                                       "which an installed package does not carry.") from exc

        sizes = Sizes.scaled(scale)
        for name, value in (("workers", workers), ("attendance", attendance), ("enrollments", enrollments),
                            ("attempts", attempts)):
            if value is not None:
                setattr(sizes, name, value)
        try:
            with unit():  # the rows are committed before the planner's statistics are gathered
                counts = seed_scale(sizes, seed=seed, echo=click.echo)
                click.echo(f"rollups: {rebuild(db.session.connection())} rows")
        except ScaleError as exc:
            raise click.ClickException(str(exc)) from exc
        with unit():
            analyze()
        click.echo("rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    @app.cli.command("stats-snapshot")
    @click.option("--year", type=int, help="The year the snapshot stands for (default: this year).")
    @command_transaction
    def stats_snapshot_command(year):
        """Record the workforce profile of every org unit for YEAR (run once a year; re-running replaces it)."""
        from .profile import record_snapshot

        year = year or clock.this_year()
        n = record_snapshot(year)
        click.echo(f"workforce snapshot {year}: {n} rows")

    @app.cli.command("stats-rebuild-rollups")
    @command_transaction
    def stats_rebuild_rollups_command():
        """Rebuild the statistics rollups from the raw rows, in one transaction (after a bulk load, after the
        annual 学时 target changes, or once after the migration that adds them to a database with data)."""
        n = rebuild(db.session.connection())
        click.echo(f"statistics rollups: {n} rows")
