"""What exam preparation adds to grading a full mock exam paper (80 items: 60 single + 20 multiple choice).

    nice -n 19 .venv/bin/python bench/prep_cost.py [--database sqlite|postgresql|both] [--n 15]

Grading cannot run without lms.prep, so the cost is measured from two sides, in-process (the Flask app,
no server), CPU time of this process (the app's own work; holds up on a busy machine), median of --n
papers per figure, each paper on its own day (the clock moves a day between papers, so every answer to a
question in the book is a real review, not an answer "within 20 hours"):
- grade() of a worker whose mistakes book is empty, against grade() of a worker with a 300-question book
  that holds most of the paper's questions (each then a review or a lapse);
- mastery.record() alone, and review.record() (the mistakes book) alone, on the same 80 answers, as a share
  of a whole grade() (which also scores the items, stores the scores and totals the attempt).
Each grade runs as an exam-day submit does: the attempt is started and its answers saved beforehand,
finish() is timed, then committed. A fresh database: a SQLite file, or a throw-away PostgreSQL server
(tests/pgserver.py).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="lms-bench-prep-"))

from sqlalchemy import delete, select  # noqa: E402

from tests.pgserver import PostgresServer, find_bindir  # noqa: E402

BOOK = 300
RIGHT_SHARE = 0.6  # answers right on a paper, about a candidate near the pass line


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def run(url: str, n: int, seed: int = 1) -> dict[str, float]:
    from flask_migrate import upgrade

    from lms import create_app
    from lms.exams import attempts
    from lms.exams.models import Exam, Mistake, Question
    from lms.extensions import db
    from lms.prep import mastery, review
    from lms.prep.models import GradedAnswer, TopicMastery
    from tests import world
    from tests.test_mock_exams import make_bank, right, worker

    clock = Clock(datetime(2026, 3, 2, 2, 0))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock})
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        world.build()
        make_bank(singles=260, multiples=80)
        db.session.commit()
        exam = db.session.scalar(select(Exam).where(Exam.code == "junior-general"))
        empty, full = worker("worker_a"), worker("worker_b")
        # worker_b's book: 300 of the bank's 345 questions, answered wrongly 30 days before the first paper.
        qids = db.session.scalars(select(Question.id).where(Question.external_id.like("t-junior-general-%"))).all()
        book = rng.sample(qids, BOOK)
        review.record(full.id, [(q, 0.0) for q in book], clock.at - timedelta(days=30))
        db.session.commit()

        def paper(user):
            """A started attempt with its answers saved: about RIGHT_SHARE right."""
            attempt = attempts.start(user, exam)
            entries = []
            for seq, (key, item) in enumerate(attempt.paper["items"].items(), 1):
                good = rng.random() < RIGHT_SHARE
                response = right(item) if good else ("B" if item["answer"] != ["B"] else "C")
                entries.append({"item": key, "response": response, "seq": seq})
            attempts.save_many(attempt.id, entries)
            db.session.commit()
            return attempt

        def evidence(attempt):
            items = attempt.paper["items"]
            return [mastery.Evidence(i["qid"], exam.subject_id, i["topic"], i.get("difficulty") or 2,
                                     rng.random()) for i in items.values()]

        times: dict[str, list[float]] = {"grade, empty book": [], f"grade, {BOOK}-question book": [],
                                         "mastery.record alone": [], "review.record alone": []}
        in_book = []
        for _paper in range(n):
            clock.at += timedelta(days=1, minutes=7)
            db.session.execute(delete(Mistake).where(Mistake.user_id == empty.id))
            db.session.commit()
            a = paper(empty)
            times["grade, empty book"].append(_cpu(lambda a=a: attempts.finish(a)))
            db.session.commit()

            b = paper(full)
            in_book.append(len({it["qid"] for it in b.paper["items"].values()} & set(book)))
            times[f"grade, {BOOK}-question book"].append(_cpu(lambda b=b: attempts.finish(b)))
            db.session.commit()

            c = paper(empty)
            ev = evidence(c)
            times["mastery.record alone"].append(_cpu(lambda c=c, ev=ev: mastery.record(
                empty.id, ev, "mock", c.id)))
            db.session.commit()
            answers = [(e.question_id, e.credit) for e in ev]
            clock.at += timedelta(days=1)
            times["review.record alone"].append(_cpu(lambda answers=answers: review.record(full.id, answers)))
            db.session.commit()
        logged = db.session.query(GradedAnswer).count()
        rows = db.session.query(TopicMastery).count()
        db.session.remove()
        db.engine.dispose()
    out = {k: statistics.median(v) * 1000 for k, v in times.items()}
    out["_in_book"] = statistics.median(in_book)
    out["_rows"] = float(logged + rows)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--n", type=int, default=15)
    args = p.parse_args()
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for kind in kinds:
        pg = None
        tmp = tempfile.mkdtemp(prefix="lms-bench-prep-")
        try:
            if kind == "sqlite":
                url = f"sqlite:///{tmp}/prep.sqlite3"
            else:
                bindir = find_bindir()
                if bindir is None:
                    print("no PostgreSQL binaries: skipped")
                    continue
                pg = PostgresServer(bindir).start()
                url = pg.create_database("lms_bench_prep")
            figures = run(url, args.n)
        finally:
            if pg is not None:
                pg.stop()
        base = figures["grade, empty book"]
        print(f"{kind}: {args.n} papers of 80 items, median CPU ms per paper "
              f"(the {BOOK}-question book held {figures['_in_book']:.0f} of the paper's questions)")
        for label, ms in figures.items():
            if not label.startswith("_"):
                print(f"  {label:32s} {ms:7.2f} ms   ×{ms / base:.2f} of grading with an empty book")
        print(f"  load average now: {os.getloadavg()[0]:.2f}", flush=True)
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
