"""The demo city's white paper data: last year's workforce snapshot, so that this year's white paper (and the
profile page) have a year-on-year change to describe. Flushes, never commits (lms/demo.py's transaction)."""
from sqlalchemy import Table, and_, func, select, true, update

from .. import clock
from ..auth.models import User, UserRole
from ..extensions import db
from .models import WorkforceSnapshot
from .profile import record_snapshot

ONE_LEVEL_BELOW = {"assistant": "none", "intermediate": "assistant", "senior": "intermediate"}


def seed() -> str:
    """Record last year's snapshot of every unit from the workers as they were then: one in four of today's
    certified workers one level lower (they passed since) and one in twelve of today's graduates still at junior
    college. The accounts themselves are left as they are (the changes are undone before this returns)."""
    last = clock.this_year() - 1
    if db.session.scalar(select(func.count()).select_from(WorkforceSnapshot).where(WorkforceSnapshot.year == last)):
        return "last year's workforce snapshot already recorded"
    db.session.flush()
    workers = db.session.execute(
        select(User.id, User.cert_level, User.education)
        .join(UserRole, and_(UserRole.user_id == User.id, UserRole.role == "learner"))
        .where(User.active == true()).order_by(User.id)).all()
    levels: dict[str, list[int]] = {}
    graduates: list[int] = []
    certified = bachelors = 0
    for user_id, level, education in workers:  # every 4th certified worker, every 12th graduate
        if level in ONE_LEVEL_BELOW:
            if certified % 4 == 0:
                levels.setdefault(level, []).append(user_id)
            certified += 1
        elif education == "bachelor":
            if bachelors % 12 == 0:
                graduates.append(user_id)
            bachelors += 1
    conn = db.session.connection()  # Core statements: no audit entry, no rollup change (all undone below)
    users = User.__table__
    assert isinstance(users, Table)  # for the type checker: a mapped class's table

    def put(ids: list[int], **values: str) -> None:
        if ids:
            conn.execute(update(users).where(users.c.id.in_(ids)).values(**values))

    for level, ids in levels.items():
        put(ids, cert_level=ONE_LEVEL_BELOW[level])
    put(graduates, education="junior_college")
    rows = record_snapshot(last)
    for level, ids in levels.items():
        put(ids, cert_level=level)
    put(graduates, education="bachelor")
    return (f"workforce snapshot of {last} ({rows} rows; {sum(map(len, levels.values()))} certified since, "
            f"{len(graduates)} graduated since)")
