"""Page speed: requests/s of the logged-in home page vs a bare Flask route, same gunicorn setup.

    .venv/bin/python bench/pages.py [--seconds 10] [--threads 4] [--database-url URL]

Both servers run gunicorn with 2 sync workers on 127.0.0.1, one after the other, and the
same client drives them; the figure to read is the ratio (this machine is noisy).
By default the app runs on a fresh SQLite file holding the demo city.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Gunicorn, measure  # noqa: E402

DEMO_PASSWORD = "Demo2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {"LMS_INSTANCE_PATH": str(tmp), "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for cmd in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)

    with Gunicorn("bare_app:app", cwd=ROOT / "bench") as bare:
        measure(bare.port, "/", 1, args.threads)  # warm-up
        base = measure(bare.port, "/", args.seconds, args.threads)
    with Gunicorn("wsgi:app", env=env) as site:
        measure(site.port, "/home", 1, args.threads, login=("w0001", DEMO_PASSWORD))
        home = measure(site.port, "/home", args.seconds, args.threads, login=("w0001", DEMO_PASSWORD))
        measure(site.port, "/accounts/", 1, args.threads, login=("office_qh", DEMO_PASSWORD))
        accounts = measure(site.port, "/accounts/", args.seconds, args.threads, login=("office_qh", DEMO_PASSWORD))

    db_kind = env["DATABASE_URL"].split(":", 1)[0]
    print(f"database: {db_kind}; gunicorn 2 sync workers; {args.threads} client threads; {args.seconds:.0f} s per page")
    print(f"{'page':<36}{'req/s':>10}{'errors':>8}{'ratio':>8}")
    print(f"{'bare Flask route (baseline)':<36}{base['rps']:>10.1f}{base['errors']:>8}{1:>8.2f}")
    for name, r in (("/home, logged-in worker", home), ("/accounts/, district office (50 rows)", accounts)):
        print(f"{name:<36}{r['rps']:>10.1f}{r['errors']:>8}{r['rps'] / base['rps']:>8.2f}")


if __name__ == "__main__":
    main()
