"""Command-line commands: `flask --app wsgi <command>`."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
    def seed_demo_command(if_empty):
        """Create the fictional demo city (idempotent: running it twice duplicates nothing)."""
        from .demo import seed_demo

        summary = seed_demo(if_empty=if_empty)
        click.echo(summary)
