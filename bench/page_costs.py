"""What each page of bench/pages.py costs inside the process, in figures a busy machine hardly moves:
SQL statements, Python function calls (cProfile's count) and CPU milliseconds per request (the process's
own CPU time, no profiler, the best of --rounds rounds), with the test client. The first line is the bare
route of bench/pages.py (bench/bare_app.py) through the same kind of client.

    .venv/bin/python bench/page_costs.py [--requests 20] [--rounds 5] [--only home,course] [--profile home]

It seeds the demo city into a fresh SQLite file, as bench/pages.py does. With --profile KEY it
prints the cumulative profile of that page (where to look next).
"""
import argparse
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import DEMO_PASSWORD, PAGES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="CPU time: the best of this many rounds")
    parser.add_argument("--only", default="", help="comma-separated page keys")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()}", flush=True)

    root = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-costs-"))
    os.environ.update(LMS_INSTANCE_PATH=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}", SWEEP_MINUTES="0")
    for cmd in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *cmd], cwd=root, check=True,
                       capture_output=True)
    sys.path.insert(0, str(root))
    from sqlalchemy import event

    from lms import create_app
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine

    def client_for(user: str):
        client = app.test_client()
        html = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        r = client.post("/auth/login", data={"username": user, "password": DEMO_PASSWORD, "csrf_token": token})
        assert r.status_code == 302, (user, r.status_code)
        return client

    worker = client_for(PAGES[0][2])
    course = re.search(r'href="(/learn/courses/\d+)"', worker.get("/learn/mine").get_data(as_text=True)).group(1)
    lesson = re.search(r'href="(/learn/lessons/\d+)"', worker.get(course).get_data(as_text=True)).group(1)
    paths = {"course": course, "lesson": lesson}

    def cpu_ms(client, path: str) -> float:
        """CPU milliseconds per GET of `path`: the best of the rounds (another process's load only adds)."""
        best = float("inf")
        for _r in range(args.rounds):
            start = time.process_time()
            for _i in range(args.requests):
                client.get(path)
            best = min(best, (time.process_time() - start) / args.requests * 1000)
        return best

    from bare_app import app as bare_app

    bare = bare_app.test_client()
    bare.get("/")
    print(f"{'page':<44}{'statements':>11}{'calls':>9}{'CPU ms':>9}")
    profile = cProfile.Profile()
    profile.enable()
    for _i in range(args.requests):
        bare.get("/")
    profile.disable()
    calls = pstats.Stats(profile).total_calls / args.requests
    print(f"{'bare Flask route (bench/bare_app.py)':<44}{0:>11}{calls:>9.0f}{cpu_ms(bare, '/'):>9.2f}", flush=True)
    for key, label, user, path, _target in PAGES:
        if args.only and key not in args.only.split(","):
            continue
        path = path.format(**paths)
        client = client_for(user)
        assert client.get(path).status_code == 200, path
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args, into=statements):
            into.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        client.get(path)
        event.remove(engine, "before_cursor_execute", count)
        profile = cProfile.Profile()
        profile.enable()
        for _i in range(args.requests):
            client.get(path)
        profile.disable()
        stats = pstats.Stats(profile)
        print(f"{label:<44}{len(statements):>11}{stats.total_calls / args.requests:>9.0f}"
              f"{cpu_ms(client, path):>9.2f}", flush=True)
        if key == args.profile:
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
