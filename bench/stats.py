"""Statistics speed: the pages (read from the rollups) against the same figures by hand-written SQL, same run.

    .venv/bin/python bench/stats.py [--scale 1.0] [--repeat 7] [--databases sqlite,postgresql]

The pages read lms/stats/rollups.py's tables. Their reference is today's hand-written SQL over the raw
rows, the code the pages ran before the rollups and still run for filters the rollups do not hold:
queries.dashboard / queries.trend / ce.summary, the first 50 of ce.workers and the workforce profile
(profile.profile: six GROUP BYs over the subtree's workers) with source="raw", timed in
this process on a direct app context, REPEAT times each (the data of the page, without rendering). The
rollup side is the whole page over HTTP, rendering included. `seed-scale` ends with the rollups' rebuild.

For each database: a fresh database, `flask db upgrade`, `flask seed-scale --scale S` (full size
at 1.0: 100,000 workers, 1,000,000 attendance records, 300,000 enrolments, 200,000 attempts),
then gunicorn (2 sync workers, the sweeper off) on 127.0.0.1. The city office's dashboard for
this year is fetched REPEAT times one after another (after a warm-up); the baseline runs the five
hand-written SQL queries below — one per kind of figure the page shows (workers and certificates,
enrolments, 学时, attendance, exams), each grouped by district — REPEAT times on a direct
connection. The figure to read is the ratio of the medians. The hand-written figures are checked
against the API's before anything is timed. Other pages are timed too (medians, no baseline).
PostgreSQL runs on a throw-away server started from the system's binaries (tests/pgserver.py).
"""
import argparse
import hashlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import ROOT, Gunicorn, Session  # noqa: E402

PASSWORD = "Demo2026"

# One query per kind of figure, each grouped by the city's districts: aggregate per org unit
# (the worker's unit), then add the units up into the district whose path prefixes theirs.
ROLL_UP = """JOIN org_unit o ON o.id = x.unit_id JOIN org_unit d ON d.parent_id = :city AND o.path LIKE d.path || '%'
             GROUP BY d.id ORDER BY d.id"""
POP = """FROM "user" u JOIN user_role r ON r.user_id = u.id AND r.role = 'learner'"""
POP_WHERE = "u.active = TRUE"
HAND_SQL = {
    "workers": f"""SELECT d.id, SUM(x.n), SUM(x.none_), SUM(x.assistant), SUM(x.intermediate), SUM(x.senior) FROM (
        SELECT u.org_unit_id AS unit_id, COUNT(*) AS n,
               SUM(CASE WHEN u.cert_level = 'none' THEN 1 ELSE 0 END) AS none_,
               SUM(CASE WHEN u.cert_level = 'assistant' THEN 1 ELSE 0 END) AS assistant,
               SUM(CASE WHEN u.cert_level = 'intermediate' THEN 1 ELSE 0 END) AS intermediate,
               SUM(CASE WHEN u.cert_level = 'senior' THEN 1 ELSE 0 END) AS senior
        {POP} WHERE {POP_WHERE} GROUP BY u.org_unit_id) x {ROLL_UP}""",
    "enrolments": f"""SELECT d.id, SUM(x.n), SUM(x.done) FROM (
        SELECT u.org_unit_id AS unit_id, COUNT(*) AS n, SUM(CASE WHEN e.completed_at < :hi THEN 1 ELSE 0 END) AS done
        {POP} JOIN enrollment e ON e.user_id = u.id
        WHERE {POP_WHERE} AND e.enrolled_at >= :lo AND e.enrolled_at < :hi GROUP BY u.org_unit_id) x {ROLL_UP}""",
    "credit_hours": f"""SELECT d.id, SUM(x.h) FROM (
        SELECT u.org_unit_id AS unit_id, SUM(c.hours) AS h
        {POP} JOIN credit c ON c.user_id = u.id
        WHERE {POP_WHERE} AND c.earned_on >= :day_lo AND c.earned_on < :day_hi GROUP BY u.org_unit_id) x {ROLL_UP}""",
    # attendance carries its session's start and its class's level (lms/training/models.py)
    "attendance": f"""SELECT d.id, SUM(x.n), SUM(x.city), SUM(x.district), SUM(x.street) FROM (
        SELECT u.org_unit_id AS unit_id, COUNT(*) AS n,
               SUM(CASE WHEN a.status IN ('present', 'late') AND a.training_level = 'city' THEN 1 ELSE 0 END) AS city,
               SUM(CASE WHEN a.status IN ('present', 'late') AND a.training_level = 'district' THEN 1 ELSE 0 END)
                   AS district,
               SUM(CASE WHEN a.status IN ('present', 'late') AND a.training_level = 'street'
                        THEN 1 ELSE 0 END) AS street
        {POP} JOIN attendance a ON a.user_id = u.id
        WHERE {POP_WHERE} AND a.session_starts_at >= :lo AND a.session_starts_at < :hi
        GROUP BY u.org_unit_id) x {ROLL_UP}""",
    "exams": f"""SELECT d.id, SUM(x.n), SUM(x.takers), SUM(x.score), SUM(x.passed) FROM (
        SELECT u.org_unit_id AS unit_id, COUNT(*) AS n, COUNT(DISTINCT a.user_id) AS takers, SUM(a.score) AS score,
               SUM(CASE WHEN a.passed THEN 1 ELSE 0 END) AS passed
        {POP} JOIN attempt a ON a.user_id = u.id
        WHERE {POP_WHERE} AND a.status = 'graded' AND a.graded_at >= :lo AND a.graded_at < :hi
        GROUP BY u.org_unit_id) x {ROLL_UP}""",
}

# Records whose copies differ from the session and class they copy: checked once, must be 0.
WRONG_COPIES = """SELECT COUNT(*) FROM attendance a JOIN training_session s ON s.id = a.session_id
    JOIN training t ON t.id = s.training_id
    WHERE a.session_starts_at IS NULL OR a.training_level IS NULL OR a.session_starts_at <> s.starts_at
       OR a.training_level <> t.level"""


class Db:
    """A direct connection for the baseline: sqlite3 or psycopg."""

    def __init__(self, url: str):
        self.kind = "postgresql" if url.startswith("postgresql") else "sqlite"
        if self.kind == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(url.split("///", 1)[1])
        else:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def run(self, sql: str, params: dict):
        if self.kind == "postgresql":
            sql = re.sub(r":(\w+)", r"%(\1)s", sql.replace("%", "%%"))
        else:
            params = {k: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else
                          v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}
        cur = self.conn.execute(sql, params)
        return cur.fetchall() if cur.description else []

    def commit(self):
        if self.kind == "sqlite":
            self.conn.commit()


def local_midnight_utc(d: date) -> datetime:
    return (
        datetime(d.year, d.month, d.day, tzinfo=ZoneInfo("Asia/Shanghai"))
        .astimezone(ZoneInfo("UTC"))
        .replace(tzinfo=None)
    )


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _i in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def fetch(session: Session, path: str, headers: dict | None = None):
    if headers:
        session.conn.request("GET", path, headers={**headers})
        resp = session.conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (path, resp.status)
        return body
    status, body = session.request("GET", path)
    assert status == 200, (path, status)
    return body


def run_one(url: str, tmp: Path, scale: float, repeat: int) -> dict:
    env = {"LMS_INSTANCE_PATH": str(tmp), "DATABASE_URL": url, "SWEEP_MINUTES": "0"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    t = time.perf_counter()
    seed = subprocess.run(flask + ["seed-scale", "--scale", str(scale)], cwd=ROOT, env={**os.environ, **env},
                          check=True, capture_output=True, text=True)
    seed_seconds = time.perf_counter() - t
    rows = seed.stdout.strip().splitlines()[-1]

    db = Db(url)
    city = db.run("SELECT id FROM org_unit WHERE parent_id IS NULL", {})[0][0]
    district = db.run("SELECT id FROM org_unit WHERE parent_id = :c ORDER BY code LIMIT 1", {"c": city})[0][0]
    street = db.run("SELECT id FROM org_unit WHERE parent_id = :d ORDER BY code LIMIT 1", {"d": district})[0][0]
    community = db.run("SELECT id FROM org_unit WHERE parent_id = :s ORDER BY code LIMIT 1", {"s": street})[0][0]
    worker = db.run("SELECT id FROM \"user\" WHERE org_unit_id = :c ORDER BY id LIMIT 1", {"c": community})[0][0]
    office = db.run("SELECT id FROM \"user\" WHERE username = 'office_city'", {})[0][0]
    token = "lms_" + secrets.token_urlsafe(32)
    db.run(
        "INSERT INTO api_token (user_id, name, token_hash, hint, created_at) VALUES (:u, 'bench', :h, :hint, :now)",
        {"u": office, "h": hashlib.sha256(token.encode()).hexdigest(), "hint": token[:8], "now": datetime(2026, 1, 1)},
    )
    db.commit()

    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    params = {"city": city, "lo": local_midnight_utc(date(year, 1, 1)), "hi": local_midnight_utc(date(year + 1, 1, 1)),
              "day_lo": date(year, 1, 1), "day_hi": date(year + 1, 1, 1)}

    def baseline():
        return {name: db.run(sql, params) for name, sql in HAND_SQL.items()}

    hand = baseline()
    assert db.run(WRONG_COPIES, {})[0][0] == 0
    if db.kind == "postgresql":
        size = db.run("SELECT pg_database_size(current_database())", {})[0][0]
    else:
        size = sum(p.stat().st_size for p in tmp.glob("bench.sqlite3*"))
    with Gunicorn("wsgi:app", env=env) as site:
        s = Session(site.port)
        s.login("office_city", PASSWORD)
        api = Session(site.port)
        auth = {"Authorization": f"Bearer {token}"}
        # the same figures, from the API (rendered by the same queries as the page)
        body = json.loads(fetch(api, f"/api/v1/stats/dashboard?year={year}", auth))
        rows_by_id = {r["unit"]["id"]: r["figures"] for r in body["rows"]}
        for d_id, n, *_cert in hand["workers"]:
            assert rows_by_id[d_id]["workers"] == n
        for d_id, h in hand["credit_hours"]:
            assert abs(rows_by_id[d_id]["credit_hours"] - float(h)) < 0.05, (d_id, h)
        for d_id, n, c, dd, st in hand["attendance"]:
            f = rows_by_id[d_id]
            assert (f["attendance_records"], f["person_times"]["city"], f["person_times"]["district"],
                    f["person_times"]["street"]) == (n, c, dd, st)
        for d_id, n, takers, _score, passed in hand["exams"]:
            assert (rows_by_id[d_id]["exam_attempts"], rows_by_id[d_id]["exam_takers"],
                    rows_by_id[d_id]["exam_passed"]) == (n, takers, passed)

        pages = {
            "city dashboard": f"/stats/unit/{city}?year={year}",
            "district dashboard": f"/stats/unit/{district}?year={year}",
            "street dashboard": f"/stats/unit/{street}?year={year}",
            "community workers (50 rows)": f"/stats/unit/{community}/workers?year={year}",
            "worker record": f"/stats/worker/{worker}?year={year}",
            "city trends (12 months)": f"/stats/unit/{city}/trends?year={year}",
            "city continuing education": f"/stats/unit/{city}/continuing-education?year={year}",
            "city CE, all workers, page 20": f"/stats/unit/{city}/continuing-education?year={year}&show=all&page=20",
            "city CE, certified": f"/stats/unit/{city}/continuing-education?year={year}&cert=certified",
            "district continuing education": f"/stats/unit/{district}/continuing-education?year={year}",
            "community continuing education": f"/stats/unit/{community}/continuing-education?year={year}",
            "city workforce profile": f"/stats/unit/{city}/profile",
        }
        results = {}
        for name, path in pages.items():
            fetch(s, path)  # warm-up
            results[name] = timed(lambda p=path: fetch(s, p), repeat)
        fetch(api, f"/api/v1/stats/dashboard?year={year}", auth)
        results["API city dashboard"] = timed(lambda: fetch(api, f"/api/v1/stats/dashboard?year={year}", auth), repeat)
        ce_api = f"/api/v1/stats/continuing-education/workers?unit={city}&year={year}"
        fetch(api, ce_api, auth)
        results["API city CE workers (50)"] = timed(lambda: fetch(api, ce_api, auth), repeat)
        # the baseline last, interleaved measuring would favour neither side: same process, same cache state
        baseline()
        base = timed(baseline, repeat)
        again = timed(lambda: fetch(s, pages["city dashboard"]), repeat)
        results["city dashboard"] = results["city dashboard"] + again
    reference = reference_times(url, office, city, year, repeat)
    return {"kind": db.kind, "seed_seconds": seed_seconds, "rows": rows, "size": size, "baseline": base,
            "pages": results,
            "reference": reference, "rollup_line": next((line for line in seed.stdout.splitlines()
                                                          if line.startswith("rollups:")), "")}


def reference_times(url: str, office_id: int, city_id: int, year: int, repeat: int) -> dict:
    """Today's hand-written SQL (source="raw") for the three pages' figures, and the same from the
    rollups, on a direct app context; checks that both give the same figures first."""
    from lms import create_app
    from lms.auth.models import User
    from lms.extensions import db as sadb
    from lms.orgs.models import OrgUnit
    from lms.stats import ce, queries
    from lms.stats.profile import profile

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    out: dict = {}
    with app.app_context():
        viewer, city = sadb.session.get(User, office_id), sadb.session.get(OrgUnit, city_id)
        f = queries.Filters.for_year(year)
        target = app.config["ANNUAL_CREDIT_HOURS_TARGET"]

        def dash(source):
            d = queries.dashboard(viewer, city, f, source)
            return d.total.as_dict(), [(r.unit.id, r.figures.as_dict()) for r in d.rows]

        def ce_summary(source):  # the page's summary and its first 50 workers behind the target
            summary = {k: (v.workers, v.reached, v.hours) for k, v in ce.summary(viewer, city, year, target, None,
                                                                                 source).items()}
            listed = sadb.session.execute(ce.workers(viewer, city, year, target, True, None, source).limit(50)).all()
            return summary, [(u.id, queries.one_decimal(h)) for u, h in listed]

        def ce_list(behind, cert, offset):
            def run(source):
                stmt = ce.workers(viewer, city, year, target, behind, cert, source).limit(50).offset(offset)
                return [(u.id, queries.one_decimal(h)) for u, h in sadb.session.execute(stmt)]
            return run
        cases = {
            "city dashboard": dash,
            "city trends (12 months)": lambda source: queries.trend(viewer, city, f, source).rows(),
            "city continuing education": ce_summary,
            "city CE, all workers, page 20": ce_list(False, None, 950),
            "city CE, certified": ce_list(True, list(ce.CERTIFIED), 0),
            "city workforce profile": lambda source: profile(viewer, city, year, source),
        }
        for name, fn in cases.items():
            assert fn("auto") == fn("raw"), f"{name}: the rollups and the raw rows disagree"
            out[name] = {"raw": timed(lambda fn=fn: fn("raw"), repeat),
                         "rollups": timed(lambda fn=fn: fn("auto"), repeat)}
        sadb.session.remove()
        sadb.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="seed-scale size (1.0 = full, the default)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    reports = []
    for kind in args.databases.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-stats-{kind}-"))
        if kind == "sqlite":
            reports.append(run_one(f"sqlite:///{tmp / 'bench.sqlite3'}", tmp, args.scale, args.repeat))
        else:
            from tests.pgserver import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                print("postgresql: no server binaries on this machine, skipped")
                continue
            server = PostgresServer(bindir).start()
            try:
                reports.append(run_one(server.create_database("bench_stats"), tmp, args.scale, args.repeat))
            finally:
                server.stop()
    for r in reports:
        med = statistics.median
        base = med(r["baseline"])
        dash = med(r["pages"]["city dashboard"])
        print(f"\ndatabase: {r['kind']}; seed-scale --scale {args.scale} took {r['seed_seconds']:.0f} s; {r['rows']}")
        print(f"database size after seeding: {r['size'] / 1e9:.2f} GB")
        print(f"gunicorn 2 sync workers; one client; {args.repeat} requests per page after a warm-up; medians")
        print(f"{'':<34}{'median s':>10}{'min s':>8}{'ratio':>8}")
        print(f"{'hand-written SQL, 5 queries':<34}{base:>10.3f}{min(r['baseline']):>8.3f}{1:>8.2f}")
        for name, times in r["pages"].items():
            ratio = f"{med(times) / base:>8.2f}" if name == "city dashboard" else f"{'':>8}"
            print(f"{name:<34}{med(times):>10.3f}{min(times):>8.3f}{ratio}")
        print(f"city dashboard / hand-written SQL: {dash / base:.2f}")
        print(r["rollup_line"])
        print(f"\n{'figures of the page, in process':<34}{'raw SQL':>10}{'rollups':>10}{'page (HTTP)':>13}{'ratio':>8}")
        for name, t in r["reference"].items():
            raw, rolled, page = med(t["raw"]), med(t["rollups"]), med(r["pages"][name])
            print(f"{name:<34}{raw:>10.3f}{rolled:>10.3f}{page:>13.3f}{page / raw:>8.2f}")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
