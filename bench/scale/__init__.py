"""`flask --app wsgi seed-scale`: a whole city of synthetic activity, for benchmarks.

Full size is 100,000 workers, 1,000,000 attendance records, 300,000 course enrolments and
200,000 exam attempts (plus the 学时 ledger rows they earn), spread over the last two years.
Rows are written in bulk with explicit ids (bulk.py): executemany in batches inside one
transaction on SQLite, COPY on PostgreSQL. One module per table group: people.py (org tree,
accounts), learning.py (courses, enrolments, lessons, course 学时), training.py (classes,
sessions, registrations, attendance, session 学时), exams.py (attempts). It refuses a database
that already has org units or accounts, so it never mixes with real data. Everything is
deterministic for a given seed.

The command itself stays in lms/stats/cli.py (a thin wrapper that imports this package), so
`flask seed-scale` keeps working from the source tree while the app's package carries no generator.
"""
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from lms import clock
from lms.auth.models import User
from lms.extensions import db
from lms.orgs.models import OrgUnit

from . import exams, learning, people, training
from .bulk import BulkWriter, Run

FULL = {"workers": 100_000, "attendance": 1_000_000, "enrollments": 300_000, "attempts": 200_000}
TABLES = ("org_unit", "user", "course", "lesson", "enrollment", "lesson_progress", "credit", "training",
          "training_session", "registration", "attendance", "attempt")


class ScaleError(RuntimeError):
    pass


@dataclass
class Sizes:
    workers: int
    attendance: int
    enrollments: int
    attempts: int

    @classmethod
    def scaled(cls, factor: float) -> "Sizes":
        return cls(**{k: max(int(v * factor), 1) for k, v in FULL.items()})


def seed_scale(sizes: Sizes, seed: int = 2026, echo: Callable[[str], Any] = print) -> dict[str, int]:
    """Generate the city. Writes through the session's connection; the caller commits."""
    if db.session.scalar(select(func.count()).select_from(OrgUnit)) or \
            db.session.scalar(select(func.count()).select_from(User)):
        raise ScaleError("seed-scale needs an empty database (no org units, no accounts): it makes a city of its own.")
    writer = BulkWriter()
    run = Run(writer=writer, rng=random.Random(seed), now=clock.now().replace(microsecond=0), today=clock.today(),
              echo=echo)
    run.credit_id = writer.next_id("credit")
    city = people.build(run, sizes.workers)
    learning.build(run, city, sizes.enrollments)
    training.build(run, city, sizes.attendance)
    exams.build(run, city, sizes.attempts)
    writer.fix_sequences(TABLES)
    return writer.counts


def analyze() -> None:
    """Refresh the planner's statistics after a bulk load (both databases)."""
    db.session.execute(text("ANALYZE"))
