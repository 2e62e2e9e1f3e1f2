"""Mock-exam attempts (table attempt). Their papers carry no questions: the statistics read scores."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from lms.exams.models import Exam
from lms.extensions import db

from .bulk import Run
from .learning import DAYS_BACK
from .people import City

PAPER = {"sections": [], "items": {}, "synthetic": True}


def build(run: Run, city: City, count: int) -> None:
    w, rng, now = run.writer, run.rng, run.now
    exams = db.session.execute(select(Exam.id, Exam.duration_minutes, Exam.pass_score)).all()
    if not exams or not count:
        return
    first = w.next_id("attempt")

    def attempts():
        for i in range(count):
            exam_id, minutes, pass_score = rng.choice(exams)
            start = now - timedelta(days=rng.random() * DAYS_BACK)
            # no attempt is left in progress (the app's sweeper would grade it); a few await marking
            graded = rng.random() < 0.95
            status = "graded" if graded else "submitted"
            score = min(100.0, max(0.0, round(rng.gauss(63, 14) * 2) / 2))
            done = start + timedelta(minutes=rng.randint(30, minutes))
            yield (first + i, rng.randrange(city.first_user, city.worker_hi), exam_id, rng.getrandbits(48), PAPER,
                   start, start + timedelta(minutes=minutes), done, status,
                   Decimal(str(score)) if graded else None, Decimal("100"), 0 if graded else 1,
                   (Decimal(str(score)) >= pass_score) if graded else None, done if graded else None)

    w.insert("attempt", ("id", "user_id", "exam_id", "seed", "paper", "started_at", "deadline_at", "submitted_at",
                         "status", "score", "max_score", "pending_marks", "passed", "graded_at"), attempts())
    run.log(f"{w.counts['attempt']} exam attempts over {len(exams)} exams")
