"""Real exam results in the demo city, so that the certificate-progress pages and the offices'
verification queue have something to show: the workers of every community (w0001 … w0036, one per
community) have results waiting for their office today; others have results their office verified
earlier, consistent with their profile's level. Deterministic; runs once (nothing when any result
exists); flushes, never commits."""
import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from .. import clock
from ..auth.models import User, UserRole
from ..extensions import db
from .models import ExamSubject, RealExamResult


def seed_real_results() -> str:
    if db.session.scalar(select(func.count()).select_from(RealExamResult)):
        return "real exam results already present"
    rng = random.Random(2026_12)
    subjects = {s.code: s for s in db.session.scalars(select(ExamSubject))}
    if not {"junior-general", "junior-practice", "mid-general", "mid-law"} <= set(subjects):
        return "no exam subjects"
    now = clock.now().replace(microsecond=0)
    local = clock.local_now()
    latest = local.year if local.month >= 9 else local.year - 1  # results of the June exam are out by September
    workers = db.session.scalars(select(User).where(User.active.is_(True), User.username.like("w%"),
                                                    User.role_rows.any(UserRole.role == "learner"))
                                 .order_by(User.username).limit(120)).all()
    offices = {u.org_unit.path: u for u in db.session.scalars(
        select(User).where(User.username.like("office_%"), User.role_rows.any(UserRole.role == "office")))}

    def office_of(worker: User) -> User | None:
        """The nearest office above the worker's community (its street's, else its district's)."""
        path = worker.org_unit.path
        candidates = [p for p in offices if path.startswith(p) and p != path]
        return offices[max(candidates, key=len)] if candidates else None

    rows = []

    def add(worker, code, year, passed, status, days_ago):
        entered = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        reviewer = office_of(worker) if status == "verified" else None
        if status == "verified" and reviewer is None:
            return
        score = Decimal(rng.randint(60, 86) if passed else rng.randint(42, 59))
        rows.append(RealExamResult(
            user_id=worker.id, subject_id=subjects[code].id, exam_year=year, score=score, passed=passed,
            entered_by_id=worker.id, entered_at=entered, status=status,
            reviewed_by_id=reviewer.id if reviewer else None,
            reviewed_at=entered + timedelta(days=rng.randint(1, 6)) if reviewer else None))

    for n, worker in enumerate(workers):
        if n < 36:  # one worker in every community: something in every office's queue today
            if worker.cert_level == "none":
                add(worker, "junior-general", latest, True, "pending", rng.randint(0, 10))
                if n % 3:
                    add(worker, "junior-practice", latest, n % 5 != 0, "pending", rng.randint(0, 10))
                if n % 4 == 0:  # passed one subject the year before: verified then, expired now
                    add(worker, "junior-practice", latest - 1, True, "verified", 400)
            elif worker.cert_level == "assistant":
                add(worker, "mid-law", latest - 1, True, "verified", 420)  # still valid for 中级
                add(worker, "mid-general", latest, True, "pending", rng.randint(0, 10))
        elif worker.cert_level == "assistant" and n % 2 == 0:  # how they earned 助理社会工作师
            year = latest - rng.randint(1, 6)
            add(worker, "junior-general", year, True, "verified", 365 * (latest - year) + 60)
            add(worker, "junior-practice", year, True, "verified", 365 * (latest - year) + 60)
        elif worker.cert_level == "none" and n % 3 == 0:  # one subject verified, the other still to pass
            add(worker, "junior-general", latest, True, "verified", rng.randint(30, 90))
            add(worker, "junior-practice", latest, False, "verified", rng.randint(30, 90))
    db.session.add_all(rows)
    db.session.flush()
    pending = sum(1 for r in rows if r.status == "pending")
    return f"{len(rows)} real exam results ({pending} waiting for verification)"
