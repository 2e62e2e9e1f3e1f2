"""Page speed: requests/s of real pages vs a bare Flask route, same gunicorn setup.

    .venv/bin/python bench/pages.py [--seconds 10] [--threads 4] [--database-url URL] [--only home,course]

Both servers run gunicorn with 2 sync workers on 127.0.0.1 at the same time, and the same client
drives them in turn: each page's time is cut into slices, each right after a slice of the bare route,
and its ratio is against the bare route's rate in its own slices (this machine is shared and noisy).
By default the app runs on a fresh SQLite file holding the demo city.

The pages: a worker's home page, the course page and a lesson of a course the worker is enrolled
in (targets ≥ 0.35×), and the list pages an office opens every day (target ≥ 0.15×).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Gunicorn, Session, sessions_for  # noqa: E402

DEMO_PASSWORD = "Demo2026"
WORKER, OFFICE = "w0001", "office_qh"  # a community worker; a district's training office (140 accounts)

# (key, label, user, path, target ratio); the course and lesson paths are found in the running site.
PAGES = [
    ("home", "/home, logged-in worker", WORKER, "/home", 0.35),
    ("course", "course page, enrolled worker", WORKER, "{course}", 0.35),
    ("lesson", "lesson page, enrolled worker", WORKER, "{lesson}", 0.35),
    ("accounts", "/accounts/, district office (50 rows)", OFFICE, "/accounts/", 0.15),
    ("catalog", "/learn/ course catalogue, worker", WORKER, "/learn/", 0.15),
    ("trainings", "/training/, district office", OFFICE, "/training/", 0.15),
    ("bank", "/exams/ question bank, office (50 rows)", OFFICE, "/exams/", 0.15),
    ("library", "/library/trainers/ pool, office", OFFICE, "/library/trainers/", 0.15),
    ("audit", "/audit/ audit trail, district office", OFFICE, "/audit/", 0.15),
]


def find_paths(port: int) -> dict[str, str]:
    """The first course on the worker's learning page and that course's first lesson."""
    s = Session(port)
    s.login(WORKER, DEMO_PASSWORD)
    _status, html = s.request("GET", "/learn/mine")
    course = re.search(rb'href="(/learn/courses/\d+)"', html).group(1).decode()
    _status, html = s.request("GET", course)
    lesson = re.search(rb'href="(/learn/lessons/\d+)"', html).group(1).decode()
    return {"course": course, "lesson": lesson}


def drive(sessions: list[Session], path: str, seconds: float) -> tuple[int, int, float]:
    """GET `path` over and over on each keep-alive session (one thread each) for `seconds`:
    (answered 200, other answers, elapsed seconds)."""
    counts, errors = [0] * len(sessions), [0] * len(sessions)
    start = time.perf_counter()
    stop = start + seconds

    def run(i: int) -> None:
        while time.perf_counter() < stop:
            status, _body = sessions[i].request("GET", path)
            if status == 200:
                counts[i] += 1
            else:
                errors[i] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts), sum(errors), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="seconds per page (and as many for its baseline)")
    parser.add_argument("--slices", type=int, default=5,
                        help="each page's seconds are cut into this many slices, each right after a slice of the "
                             "bare route, so that a page and its baseline see the same load on a shared machine")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="", help="comma-separated page keys: " + ",".join(p[0] for p in PAGES))
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.only or p[0] in args.only.split(",")]

    print(f"load average at the start: {os.getloadavg()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {"LMS_INSTANCE_PATH": str(tmp), "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
           "SWEEP_MINUTES": "0"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for cmd in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)

    results = []
    piece = args.seconds / args.slices
    with Gunicorn("bare_app:app", cwd=ROOT / "bench") as bare, Gunicorn("wsgi:app", env=env) as site:
        bare_sessions = sessions_for(bare.port, args.threads, None)
        drive(bare_sessions, "/", 1)  # warm-up
        paths = find_paths(site.port)
        for _key, label, user, path, target in pages:
            path = path.format(**paths)
            sessions = sessions_for(site.port, args.threads, (user, DEMO_PASSWORD))
            drive(sessions, path, 1)  # warm-up
            totals = {"bare": [0, 0, 0.0], "page": [0, 0, 0.0]}
            for _slice in range(args.slices):
                for kind, ss, p in (("bare", bare_sessions, "/"), ("page", sessions, path)):
                    ok, bad, elapsed = drive(ss, p, piece)
                    totals[kind][0] += ok
                    totals[kind][1] += bad
                    totals[kind][2] += elapsed
            base_rps = totals["bare"][0] / totals["bare"][2]
            rps = totals["page"][0] / totals["page"][2]
            results.append((label, path, base_rps, rps, totals["page"][1] + totals["bare"][1], target))
            print(f"  {label}: {rps:.1f} req/s, its baseline {base_rps:.1f} req/s, load {os.getloadavg()[0]:.1f}",
                  flush=True)

    db_kind = env["DATABASE_URL"].split(":", 1)[0]
    print(f"database: {db_kind}; gunicorn 2 sync workers each; {args.threads} client threads; "
          f"{args.seconds:.0f} s per page and as many for its baseline, in {args.slices} alternating slices")
    print(f"{'page':<44}{'req/s':>9}{'bare':>9}{'errors':>8}{'ratio':>8}{'target':>8}")
    for label, path, base_rps, rps, errors, target in results:
        ratio = rps / base_rps
        mark = "" if ratio >= target else "  below"
        print(f"{label:<44}{rps:>9.1f}{base_rps:>9.1f}{errors:>8}{ratio:>8.2f}{target:>8.2f}{mark}   {path}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
