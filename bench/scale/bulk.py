"""Writing rows in bulk with explicit ids: COPY on PostgreSQL, executemany in batches on SQLite."""
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from lms.extensions import db

BATCH = 20_000


class BulkWriter:
    """Insert rows (tuples in column order) fast on the current connection: COPY or executemany."""

    def __init__(self) -> None:
        self.conn = db.session.connection()
        self.dialect = self.conn.dialect.name
        self.raw: Any = self.conn.connection.driver_connection  # psycopg's or sqlite3's own connection
        self.counts: dict[str, int] = {}

    @staticmethod
    def _sqlite_value(v: Any) -> Any:
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores DateTime on SQLite
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return v

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        quoted = ", ".join(f'"{c}"' for c in columns)
        n = 0
        if self.dialect == "postgresql":
            with self.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([json.dumps(v) if isinstance(v, (dict, list)) else v for v in row])
                    n += 1
        else:
            sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _c in columns)})'
            cur = self.raw.cursor()
            batch = []
            for row in rows:
                batch.append(tuple(self._sqlite_value(v) for v in row))
                if len(batch) >= BATCH:
                    cur.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
                n += len(batch)
            cur.close()
        self.counts[table] = self.counts.get(table, 0) + n
        return n

    def next_id(self, table: str) -> int:
        """The first free id of `table` (rows are written with explicit ids)."""
        return 1 + (self.conn.execute(text(f'SELECT MAX(id) FROM "{table}"')).scalar() or 0)

    def fix_sequences(self, tables: Iterable[str]) -> None:
        if self.dialect != "postgresql":
            return
        for table in tables:
            self.conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                   f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"))


@dataclass
class Run:
    """What every table group of one seed-scale run shares: the writer, the random source, the
    moment (naive UTC and the local day), the log and the 学时 ledger's next id."""

    writer: BulkWriter
    rng: random.Random
    now: datetime
    today: date
    echo: Callable[[str], Any]
    started: float = field(default_factory=time.perf_counter)
    credit_id: int = 0

    def log(self, what: str) -> None:
        self.echo(f"{time.perf_counter() - self.started:7.1f} s  {what}")

    def take_credit_id(self) -> int:
        self.credit_id += 1
        return self.credit_id - 1
