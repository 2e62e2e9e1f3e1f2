"""Page speed: requests/s of real pages vs a bare Flask route, same gunicorn setup.

    .venv/bin/python bench/pages.py [--seconds 10] [--threads 4] [--database-url URL] [--only home,course]

Both servers run gunicorn with 2 sync workers on 127.0.0.1, one after the other, and the
same client drives them; the figure to read is the ratio (this machine is noisy).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Gunicorn, Session, measure  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="", help="comma-separated page keys: " + ",".join(p[0] for p in PAGES))
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.only or p[0] in args.only.split(",")]

    print(f"load average at the start: {os.getloadavg()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {"LMS_INSTANCE_PATH": str(tmp), "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
           "SWEEP_SECONDS": "0"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for cmd in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)

    with Gunicorn("bare_app:app", cwd=ROOT / "bench") as bare:
        measure(bare.port, "/", 1, args.threads)  # warm-up
        base = measure(bare.port, "/", args.seconds, args.threads)
    results = []
    with Gunicorn("wsgi:app", env=env) as site:
        paths = find_paths(site.port)
        for _key, label, user, path, target in pages:
            path = path.format(**paths)
            measure(site.port, path, 1, args.threads, login=(user, DEMO_PASSWORD))  # warm-up
            r = measure(site.port, path, args.seconds, args.threads, login=(user, DEMO_PASSWORD))
            results.append((label, path, r, target))

    db_kind = env["DATABASE_URL"].split(":", 1)[0]
    print(f"database: {db_kind}; gunicorn 2 sync workers; {args.threads} client threads; {args.seconds:.0f} s per page")
    print(f"{'page':<44}{'req/s':>10}{'errors':>8}{'ratio':>8}{'target':>8}")
    print(f"{'bare Flask route (baseline)':<44}{base['rps']:>10.1f}{base['errors']:>8}{1:>8.2f}")
    for label, path, r, target in results:
        ratio = r["rps"] / base["rps"]
        mark = "" if ratio >= target else "  below"
        print(f"{label:<44}{r['rps']:>10.1f}{r['errors']:>8}{ratio:>8.2f}{target:>8.2f}{mark}   {path}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
