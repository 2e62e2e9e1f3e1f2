"""Count the SQL statements a request executes, to hold list pages to a budget that does not grow
with their rows (no N+1 loads).

    with count_queries(app) as statements:
        client.get(url)
    assert len(statements) == budget, statements.report()

Only what the database is asked to do for the page counts: the SAVEPOINT / RELEASE / ROLLBACK TO
statements of the rolled-back test transaction (tests/conftest.py `rolled_back`, whose session joins
the test's connection with "create_savepoint") are housekeeping of the fixture and are left out.
"""
import re
from contextlib import contextmanager

from sqlalchemy import event

from lms.extensions import db

_HOUSEKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT)\b", re.IGNORECASE)


class Statements(list):
    """The statements executed, in order (each one's SQL text)."""

    def report(self) -> str:
        return f"{len(self)} statements:\n" + "\n".join(f"{n:3d}. {' '.join(s.split())[:200]}"
                                                       for n, s in enumerate(self, start=1))


@contextmanager
def count_queries(app):
    """Collect the statements executed on the app's engine inside the block (see the module doc)."""
    with app.app_context():
        engine = db.engine
    statements = Statements()

    def on_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
        if not _HOUSEKEEPING.match(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def page_statements(app, client, url: str) -> Statements:
    """GET `url` with the client (200 expected) and return the statements the request executed."""
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements
