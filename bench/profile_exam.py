"""What one exam-day request costs in-process: start, paper, state.json, a save, a submit.

    .venv/bin/python bench/profile_exam.py [--database postgresql|sqlite] [--n 40] [--profile save|start|paper]

A fresh database as bench/exam_day.py makes it (the demo city, a mock exam day open now), then the
Flask test client (no server, no network) logs in --n workers and times each request kind, median
and p90 of --n requests, the CPU time of this process (the app's own work: the database server's is
apart, and CPU time holds up better than wall time on a busy machine), and the SQL statements each
ran. --profile prints cProfile's top functions for that kind (--sort: cumulative, tottime, …). The
per-request costs in docs/PERFORMANCE.md "Exam day" come from here.
"""
import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_day import DEMO_PASSWORD, TOKEN_FORM, TOKEN_META, add_candidates, fresh_database, schedule_day  # noqa: E402
from exam_day import prepare as prepare_database  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--profile", choices=("save", "start", "paper", "state", "submit"))
    p.add_argument("--sort", default="cumulative", help="cProfile's order: cumulative, tottime, …")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    args.candidates, args.sweep_seconds = args.n, 0
    with fresh_database(args, p) as (tmp, url, _pg):
        env, engine, names = prepare_database(args, tmp, url)
        names = add_candidates(engine, args.n)
        day_id, _t0, _duration = schedule_day(engine, 60, lead=-1.0)
        engine.dispose()
        os.environ.update(env)
        from lms import create_app
        from lms.extensions import db

        app = create_app()
        statements = [0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        clients = []
        for name in names:
            c = app.test_client()
            html = c.get("/auth/login").data
            token = TOKEN_FORM.search(html).group(1).decode()
            r = c.post("/auth/login", data={"username": name, "password": DEMO_PASSWORD, "csrf_token": token})
            assert r.status_code == 302, r.status_code
            csrf = TOKEN_META.search(c.get("/mock/").data).group(1).decode()
            clients.append((c, csrf))
        kinds = ("start", "paper", "state", "save", "submit")
        costs: dict[str, list[tuple[float, float, int]]] = {k: [] for k in kinds}
        prof = cProfile.Profile()

        def timed(kind, fn):
            n0 = statements[0]
            if kind == args.profile:
                prof.enable()
            t, c = time.perf_counter(), time.process_time()
            r = fn()
            dt, dc = time.perf_counter() - t, time.process_time() - c
            if kind == args.profile:
                prof.disable()
            costs[kind].append((dt, dc, statements[0] - n0))
            return r

        for i, (c, csrf) in enumerate(clients):
            r = timed("start", lambda c=c, csrf=csrf: c.post(f"/mock/days/{day_id}/start", data={"csrf_token": csrf}))
            aid = int(re.search(r"/mock/attempts/(\d+)$", r.headers["Location"]).group(1))
            html = timed("paper", lambda c=c, aid=aid: c.get(f"/mock/attempts/{aid}")).data
            items = re.findall(rb'data-item="([^"]+)" data-type="single"', html)
            timed("state", lambda c=c, aid=aid: c.get(f"/mock/attempts/{aid}/state.json"))
            for k, item in enumerate(items[:10]):
                body = {"answers": [{"item": item.decode(), "response": "A", "seq": 1000 * i + k + 1}]}
                r = timed("save", lambda c=c, aid=aid, body=body, csrf=csrf: c.post(
                    f"/mock/attempts/{aid}/answers", json=body, headers={"X-CSRFToken": csrf}))
                assert r.status_code == 200, r.data
            r = timed("submit", lambda c=c, aid=aid, csrf=csrf: c.post(
                f"/mock/attempts/{aid}/submit", data={"csrf_token": csrf}, headers={"Accept": "application/json"}))
            assert r.status_code == 200, r.data
        print(f"{args.database}: in-process cost of one request (Flask test client), {args.n} candidates; "
              f"load average {os.getloadavg()[0]:.2f}")
        for kind, rows in costs.items():
            ms = sorted(t * 1000 for t, _c, _n in rows)
            cpu = statistics.median(c * 1000 for _t, c, _n in rows)
            sql = statistics.median(n for _t, _c, n in rows)
            print(f"  {kind:<8} n={len(ms):>4}  wall median {statistics.median(ms):6.1f} ms, "
                  f"p90 {ms[int(0.9 * (len(ms) - 1))]:6.1f} ms; app CPU median {cpu:5.1f} ms; SQL statements {sql:.0f}")
        if args.profile:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(40)
            print(out.getvalue())
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
