"""Command-line commands of the statistics: `seed-scale` and `stats-snapshot`."""
import click
from flask import Flask
from .. import clock


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
        from ..extensions import db
        from .scale import ScaleError, Sizes, analyze, seed_scale

        sizes = Sizes.scaled(scale)
        for name, value in (("workers", workers), ("attendance", attendance), ("enrollments", enrollments),
                            ("attempts", attempts)):
            if value is not None:
                setattr(sizes, name, value)
        try:
            counts = seed_scale(sizes, seed=seed, echo=click.echo)
        except ScaleError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc))
        db.session.commit()
        analyze()
        db.session.commit()
        click.echo("rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    @app.cli.command("stats-snapshot")
    @click.option("--year", type=int, help="The year the snapshot stands for (default: this year).")
    def stats_snapshot_command(year):
        """Record the workforce profile of every org unit for YEAR (run once a year; re-running replaces it)."""
        from ..extensions import db
        from .profile import record_snapshot

        year = year or clock.this_year()
        n = record_snapshot(year)
        db.session.commit()
        click.echo(f"workforce snapshot {year}: {n} rows")
