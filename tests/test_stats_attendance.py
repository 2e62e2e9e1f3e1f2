"""Attendance carries its session's start and its class's level (issue 6): every way a record is
written fills them, a rescheduled session or a class whose level changes takes its records along
(into the right period and month of the statistics), and the migration's backfill writes the
same values as the code."""
import os
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, or_, select

from lms.auth.models import User, UserRole
from lms.database import utcnow
from lms.extensions import db
from lms.orgs.models import OrgUnit
from lms.orgs.tree import create_unit
from lms.stats import queries
from lms.training import rules
from lms.training.models import Attendance, AttendanceChange, Training, TrainingSession

from .conftest import make_app
from .test_stats import data  # noqa: F401 (the fixed statistics data set, a fixture)
from .test_training import make_training, user

BEFORE = "157a092b1a72"  # the revision before the copies


def wrong_copies() -> list:
    """Records whose copies differ from their session's start or their class's level."""
    return db.session.execute(
        select(Attendance.id, Attendance.session_starts_at, Attendance.training_level,
               TrainingSession.starts_at, Training.level)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(or_(Attendance.session_starts_at.is_(None), Attendance.training_level.is_(None),
                   Attendance.session_starts_at != TrainingSession.starts_at,
                   Attendance.training_level != Training.level))
    ).all()


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance))


# --- every way a record is written ------------------------------------------------------------------

def test_check_in_roster_and_sweeper_records_carry_the_session_facts(ctx, world):
    t = make_training(organiser="S11", sessions=((-5, 120), (-300, 60)))
    now_session, ended = sorted(t.sessions, key=lambda s: s.starts_at, reverse=True)
    for name in ("worker_a", "worker_b"):
        rules.register(t, user(name))
    now = utcnow()
    rules.check_in(now_session, user("worker_a"), rules.code_at(now_session, now), "device-1", now=now)  # check-in
    rules.set_status(now_session, user("worker_b"), "excused", method="roster", by=user("office_s11"))  # roster
    assert rules.close_ended_sessions() == 2  # the sweeper marks both absent at the ended session
    db.session.commit()
    rows = db.session.execute(select(Attendance.session_id, Attendance.method, Attendance.session_starts_at,
                                     Attendance.training_level).order_by(Attendance.id)).all()
    assert [(r.method, r.session_id) for r in rows] == [("code", now_session.id), ("roster", now_session.id),
                                                         ("auto", ended.id), ("auto", ended.id)]
    starts = {now_session.id: now_session.starts_at, ended.id: ended.starts_at}
    assert all(r.session_starts_at == starts[r.session_id] and r.training_level == "street" for r in rows)
    assert wrong_copies() == []


def test_demo_data_carries_the_session_facts(ctx, world):
    from lms.demo import seed_demo

    seed_demo()
    assert records() > 50
    assert wrong_copies() == []
    levels = set(db.session.scalars(select(Attendance.training_level).distinct()))
    assert levels == {"city", "district", "street"}


@pytest.fixture
def fresh(app, request, tmp_path):
    """An app on a new, empty database of the same kind, migrated to the head."""
    if app.config["DB_KIND"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = request.getfixturevalue("pg_server").create_database(f"lms_fresh_{worker}")
    new = make_app(url)
    yield new
    with new.app_context():
        db.session.remove()
        db.engine.dispose()


def test_seed_scale_bulk_records_carry_the_session_facts(fresh):
    from bench.scale import Sizes, seed_scale

    with fresh.app_context():
        seed_scale(Sizes(workers=300, attendance=2_000, enrollments=10, attempts=0), echo=lambda _m: None)
        db.session.commit()
        assert records() == 2_000
        assert wrong_copies() == []


# --- a session moved, a class's level changed --------------------------------------------------------

def _city(world):
    return db.session.get(User, world["admin"]), db.session.get(OrgUnit, world["C"])


def test_a_rescheduled_session_moves_its_records_to_the_new_period_and_month(app, data, world):
    with app.app_context():
        viewer, city = _city(world)
        y2025, y2026 = queries.Filters.for_year(2025), queries.Filters.for_year(2026)
        before = queries.dashboard(viewer, city, y2025).total
        assert (before.attendance_records, before.attended) == (15, {"city": 3, "district": 5, "street": 2})
        assert queries.trend(viewer, city, y2025).person_times["2025-03"] == 3  # s1: a P, b L, d P

        s1 = db.session.scalar(select(TrainingSession).where(TrainingSession.training_id == data["t1"],
                                                             TrainingSession.starts_at == datetime(2025, 3, 15, 2)))
        # 2025-05-31 17:00 UTC is 2025-06-01 01:00 in Beijing: June, by local time
        s1.starts_at, s1.ends_at = datetime(2025, 5, 31, 17), datetime(2025, 5, 31, 19)
        db.session.commit()
        assert wrong_copies() == []
        moved = queries.trend(viewer, city, y2025).person_times
        assert (moved.get("2025-03", 0), moved["2025-06"]) == (0, 3)
        assert queries.dashboard(viewer, city, y2025).total.attendance_records == 15

        # 2025-12-31 17:00 UTC is already 2026 in Beijing: the records leave 2025 for 2026
        s1.starts_at, s1.ends_at = datetime(2025, 12, 31, 17), datetime(2025, 12, 31, 19)
        db.session.commit()
        after, next_year = queries.dashboard(viewer, city, y2025).total, queries.dashboard(viewer, city, y2026).total
        assert (after.attendance_records, after.attended) == (10, {"city": 0, "district": 5, "street": 2})
        assert (next_year.attendance_records, next_year.attended["city"]) == (5, 3)
        assert queries.trend(viewer, city, y2026).person_times["2026-01"] == 3
        assert wrong_copies() == []


def test_a_class_whose_level_changes_takes_its_records_along(app, data, world):
    with app.app_context():
        viewer, city = _city(world)
        t3 = db.session.get(Training, data["t3"])  # street, s4: a P, b P, e A
        t3.level = "district"
        db.session.commit()
        assert wrong_copies() == []
        total = queries.dashboard(viewer, city, queries.Filters.for_year(2025)).total
        assert (total.attendance_records, total.attended) == (15, {"city": 3, "district": 7, "street": 0})
        by_level = queries.dashboard(viewer, city, queries.Filters.for_year(2025, level="district")).total
        # district classes in 2025: T2's six records, T4's one, and now T3's three
        assert (by_level.attendance_records, by_level.person_times) == (10, 7)


def test_the_class_filter_reads_the_records_of_its_sessions(app, data, world):
    with app.app_context():
        viewer, city = _city(world)
        total = queries.dashboard(viewer, city, queries.Filters.for_year(2025, training_id=data["t2"])).total
        # T2: s2 (a P, b A, c P) and s3 (a L, c E, e P)
        assert (total.attendance_records, total.attended) == (6, {"city": 0, "district": 4, "street": 0})


# --- the migration ----------------------------------------------------------------------------------

def test_the_migration_backfills_what_the_code_writes_and_keeps_the_audit_trail(fresh):
    with fresh.app_context():
        city = create_unit("M", "迁移市", "city", None)
        district = create_unit("M1", "迁移区", "district", city)
        worker = User(username="m_worker", name="迁移甲", org_unit=district, password_hash="x", cert_level="none")
        worker.role_rows = [UserRole(role="learner")]
        admin = User(username="m_admin", name="迁移管理员", org_unit=city, password_hash="x", cert_level="none")
        admin.role_rows = [UserRole(role="admin")]
        db.session.add_all([worker, admin])
        db.session.flush()
        for level, organiser in (("city", city), ("district", district)):
            t = Training(title=f"{level} class", level=level, org_unit=organiser, audience_unit=organiser, capacity=5,
                         registration_deadline=datetime(2025, 1, 1), status="closed", lock_version=0)
            db.session.add(t)
            db.session.flush()
            for days in (0, 40):
                start = datetime(2025, 1, 31, 17) + timedelta(days=days)
                s = rules.new_session(t, starts_at=start, ends_at=start + timedelta(hours=2),
                                      credit_hours=Decimal("2"), place_text="党群服务中心")
                rules.set_status(s, worker, "present", method="roster", by=None)
        db.session.commit()
        written = db.session.execute(select(Attendance.id, Attendance.session_starts_at, Attendance.training_level)
                                     .order_by(Attendance.id)).all()
        assert len(written) == 4 and wrong_copies() == []
        trail = db.session.scalar(select(func.count()).select_from(AttendanceChange))
        db.session.remove()

        downgrade(revision=BEFORE)
        upgrade()

        backfilled = db.session.execute(select(Attendance.id, Attendance.session_starts_at, Attendance.training_level)
                                        .order_by(Attendance.id)).all()
        assert backfilled == written
        assert db.session.scalar(select(func.count()).select_from(AttendanceChange)) == trail == 4
        f = queries.Filters(start=date(2025, 2, 1), end=date(2025, 2, 28))
        viewer = db.session.scalar(select(User).where(User.username == "m_admin"))
        figures = queries.dashboard(viewer, db.session.scalar(select(OrgUnit).where(OrgUnit.code == "M")), f)
        assert figures.total.attended == {"city": 1, "district": 1, "street": 0}  # the two sessions of 1 February


def test_a_session_moved_to_another_class_takes_its_level(app, data, world):
    with app.app_context():
        s4 = db.session.scalar(select(TrainingSession).where(TrainingSession.training_id == data["t3"]))
        before = db.session.scalar(select(func.max(Attendance.updated_at)).where(Attendance.session_id == s4.id))
        s4.training_id = data["t1"]  # street → city
        db.session.commit()
        assert wrong_copies() == []
        levels = db.session.scalars(select(Attendance.training_level).where(Attendance.session_id == s4.id))
        assert set(levels) == {"city"}
        assert db.session.scalar(select(func.min(Attendance.updated_at)).where(Attendance.session_id == s4.id)) > before
