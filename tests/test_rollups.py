"""Statistics rollups (lms/stats/rollups.py): after random inserts, corrections and deletions made
through the real domain functions, every figure of the rollups (the workforce profile's included)
equals a full recomputation from the raw rows, and every page figure read from them equals the
hand-written queries' (the reference). The rebuild command reproduces the same tables. Both databases
(the app fixture)."""
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from lms import sweeper
from lms.auth import accounts
from lms.auth.models import User
from lms.exams import attempts
from lms.exams.models import Attempt, Exam
from lms.extensions import db
from lms.learning import progress
from lms.learning.models import Certificate, Course, Credit, Enrollment, Lesson
from lms.orgs.models import OrgUnit
from lms.stats import ce, profile, queries, rollups
from lms.stats.models import StatsProfileRollup, StatsRollup, StatsWorkerYear
from lms.training import rules
from lms.training.models import Attendance, Training, TrainingSession

from .test_stats import build_data

COMMUNITIES = ("C111", "C112", "C121", "C211")
STATUSES = ("present", "late", "excused", "absent")
LEVELS = ("city", "district", "street")
TARGET = 50.0


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _raw() -> dict:
    conn = db.session.connection()
    return rollups.normalised(rollups.figures(conn, None, rollups.read_target(conn)))


def _stored() -> dict:
    return rollups.table(db.session.connection())


def assert_rollups_exact(commit: bool = False) -> None:
    """The stored rollups equal a recomputation from the raw rows, after a commit or an explicit settle."""
    if commit:
        db.session.commit()
    else:
        rollups.settle(db.session)  # what every commit does first
    stored, raw = _stored(), _raw()
    diff = {k: (stored.get(k), raw.get(k)) for k in stored.keys() | raw.keys() if stored.get(k) != raw.get(k)}
    assert diff == {}
    conn = db.session.connection()
    listed, raw = rollups.worker_year_table(conn), rollups.worker_year_raw(conn)
    assert {k: (listed.get(k), raw.get(k)) for k in listed.keys() | raw.keys() if listed.get(k) != raw.get(k)} == {}
    kept, counted = rollups.profile_table(conn), rollups.profile_figures(conn, None)
    assert {k: (kept.get(k), counted.get(k)) for k in kept.keys() | counted.keys() if kept.get(k) != counted.get(k)} \
        == {}


def _profile(p: profile.Profile) -> tuple:
    return p.workers, p.compared_year, {d: [(b.key, b.count, b.share, b.before) for b in buckets]
                                        for d, buckets in p.dimensions.items()}


def _dash(d: queries.Dashboard) -> tuple:
    return d.total.as_dict(), [(r.unit.id, r.direct, r.figures.as_dict()) for r in d.rows]


def assert_pages_match_reference(world) -> None:
    """Dashboard, trends and continuing education from the rollups == from the raw rows."""
    rollups.settle(db.session)
    for viewer_name, unit_code in (("admin", "C"), ("office_d1", "D1"), ("office_s11", "S11")):
        viewer, unit = db.session.get(User, world[viewer_name]), _unit(unit_code)
        for f in [queries.Filters()] + [queries.Filters.for_year(y, level=lv) for y in (2024, 2025, 2026)
                                        for lv in (None, *LEVELS)]:
            assert queries.rollup_period(f) is not None
            assert _dash(queries.dashboard(viewer, unit, f)) == _dash(queries.dashboard(viewer, unit, f, "raw")), f
            assert queries.trend(viewer, unit, f).rows() == queries.trend(viewer, unit, f, "raw").rows(), f
        for year in (2023, 2024, 2025, 2026):  # 2023 lies before the list range: the list's other query
            for cert in (None, ce.CERTIFIED):
                got = ce.summary(viewer, unit, year, TARGET, cert)
                want = ce.summary(viewer, unit, year, TARGET, cert, source="raw")
                assert {k: (v.workers, v.reached, v.hours) for k, v in got.items()} == \
                    {k: (v.workers, v.reached, v.hours) for k, v in want.items()}, (year, cert)
                for behind in (True, False):
                    def listed(source, behind=behind, year=year, cert=cert, viewer=viewer, unit=unit):
                        stmt = ce.workers(viewer, unit, year, TARGET, behind, cert, source)
                        return [(u.id, queries.one_decimal(h)) for u, h in db.session.execute(stmt)]
                    assert listed("auto") == listed("raw"), (year, cert, behind)
        for year in (2024, 2026, 2031, 2041):  # ages as in the year asked, across the bands' edges
            got = profile.profile(viewer, unit, year)
            assert _profile(got) == _profile(profile.profile(viewer, unit, year, source="raw")), year
            assert got.workers > 0


class City:
    """Random activity through the domain functions, on build_data()'s world."""

    def __init__(self, rng: random.Random, clock, world):
        self.rng, self.clock, self.world = rng, clock, world
        self.admin = db.session.get(User, world["admin"])
        self.trainings = list(db.session.scalars(select(Training).order_by(Training.id)))
        self.exams = list(db.session.scalars(select(Exam).where(Exam.kind == "mock").order_by(Exam.id).limit(2)))
        self.courses = []
        for i in range(2):
            course = Course(slug=f"rollup-{i}", title=f"汇总测试课程{i}", summary="简介", category="service",
                            level="beginner", credit_hours=Decimal("1.5") + i, status="published",
                            published_at=clock())
            course.lessons.append(Lesson(slug="l1", position=1, title="第1讲", body="正文", minutes=1, min_minutes=0))
            db.session.add(course)
            self.courses.append(course)
        db.session.flush()

    def moment(self) -> datetime:
        """A random moment of 2024–2026, often near the end of a local month or year (UTC+8)."""
        rng = self.rng
        if rng.random() < 0.4:
            y, m = rng.choice((2024, 2025, 2026)), rng.randint(1, 12)
            start = datetime(y, m, 1) - timedelta(hours=8)  # local midnight of the 1st
            return start + timedelta(minutes=rng.choice((-30, -1, 0, 1, 30)))
        return datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))

    def workers(self) -> list[User]:
        return list(db.session.scalars(select(User).where(User.username.like("worker_%")).order_by(User.id)))

    # --- the operations -------------------------------------------------------------------------------
    def mark(self):
        """Roster edits and check-ins: a record created or corrected (学时 credited or revoked)."""
        sessions = list(db.session.scalars(select(TrainingSession).order_by(TrainingSession.id)))
        session, user = self.rng.choice(sessions), self.rng.choice(self.workers())
        self.clock.set(session.starts_at + timedelta(minutes=5))
        rules.set_status(session, user, self.rng.choice(STATUSES), method="roster", by=self.admin)

    def new_session(self):
        start = self.moment()
        rules.new_session(self.rng.choice(self.trainings), starts_at=start, ends_at=start + timedelta(hours=2),
                          credit_hours=Decimal(self.rng.choice(("0.5", "1", "2.5"))), place_text="党群服务中心")

    def reschedule(self):
        session = self.rng.choice(list(db.session.scalars(select(TrainingSession))))
        start = self.moment()
        session.starts_at, session.ends_at = start, start + timedelta(hours=2)
        db.session.flush()

    def relevel(self):
        self.rng.choice(self.trainings).level = self.rng.choice(LEVELS)
        db.session.flush()

    def study(self):
        """Enrol; sometimes complete (学时 credited) at a later moment."""
        course, user = self.rng.choice(self.courses), self.rng.choice(self.workers())
        if not user.active:
            return
        enrolled = self.moment()
        self.clock.set(enrolled)
        enrollment = progress.enroll(user, course)
        if enrollment.completed_at is None and self.rng.random() < 0.7:
            later = max(enrolled, enrollment.enrolled_at) + timedelta(days=self.rng.choice((0, 3, 40, 200)))
            self.clock.set(later)
            progress.complete_lesson(user, course.lessons[0], now=later)

    def sit_exam(self):
        """An attempt graded by the grading code (a pass or a fail), sometimes one left submitted."""
        user, exam = self.rng.choice(self.workers()), self.rng.choice(self.exams)
        when = self.moment()
        attempt = Attempt(user_id=user.id, exam_id=exam.id, seed=1, started_at=when, deadline_at=when,
                          paper={"items": {}, "sections": [], "pass_score": self.rng.choice(("0", "1"))},
                          status="submitted", submitted_at=when, max_score=Decimal(100))
        db.session.add(attempt)
        db.session.flush()
        if self.rng.random() < 0.8:
            attempts.recompute(attempt, when)

    def move_worker(self):
        """An account edit: another community, sometimes deactivated, another certificate or no learner role."""
        user = self.rng.choice(self.workers())
        roles = ["learner"] if self.rng.random() < 0.85 else []
        accounts.update_user(self.admin, user, org_unit=_unit(self.rng.choice(COMMUNITIES)), roles=roles,
                             active=self.rng.random() < 0.85,
                             cert_level=self.rng.choice(("none", "assistant", "intermediate", "senior")))
        db.session.flush()

    def rename_worker(self):
        """A worker's user name corrected (the list sorts by it)."""
        user = self.rng.choice(self.workers())
        user.username = f"{user.username}_{self.rng.randrange(10)}"[:60]
        db.session.flush()

    def profile_fields(self) -> dict:
        """A worker's profile as an import or an edit may record it, sometimes with fields left empty."""
        rng = self.rng

        def maybe(value):
            return None if rng.random() < 0.15 else value
        return {"gender": maybe(rng.choice(("female", "male"))), "birth_year": maybe(rng.randint(1965, 2004)),
                "education": maybe(rng.choice(("senior_high", "junior_college", "bachelor", "postgraduate"))),
                "political_status": maybe(rng.choice(("cpc_member", "cyl_member", "masses"))),
                "years_in_work": maybe(rng.choice((0, 2, 3, 5, 6, 10, 11, 20, 21, 30)))}

    def edit_profile(self):
        """A worker's profile corrected (birth year, gender, education, political status, years of service)."""
        user = self.rng.choice(self.workers())
        accounts.update_user(self.admin, user, org_unit=user.org_unit, **self.profile_fields())
        db.session.flush()

    def new_worker(self):
        n = len(self.workers())
        accounts.create_user(self.admin, username=f"worker_r{n}", password="Rollup2026x", name=f"随机{n}",
                             org_unit=_unit(self.rng.choice(COMMUNITIES)), roles=["learner"], cert_level="none",
                             phone="13800000000", **self.profile_fields())
        db.session.flush()

    def delete_something(self):
        """Deletions: an attendance record, a 学时 row, an enrolment, an attempt, an unused session."""
        model = self.rng.choice((Attendance, Credit, Enrollment, Attempt, TrainingSession))
        rows = list(db.session.scalars(select(model)))
        if not rows:
            return
        row = self.rng.choice(rows)
        if model is TrainingSession:
            try:
                rules.delete_session(row)
            except rules.TrainingError:
                pass
            return
        if model is Enrollment:  # its certificate goes first (an admin's clean-up)
            db.session.execute(delete(Certificate).where(Certificate.enrollment_id == row.id))
        db.session.delete(row)
        db.session.flush()

    OPERATIONS = ("mark", "mark", "mark", "new_session", "reschedule", "relevel", "study", "study", "sit_exam",
                  "sit_exam", "move_worker", "rename_worker", "edit_profile", "edit_profile", "new_worker",
                  "delete_something")

    def step(self):
        getattr(self, self.rng.choice(self.OPERATIONS))()


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_full_recomputation_after_random_changes(app, ctx, world, clock, seed):
    app.config["ANNUAL_CREDIT_HOURS_TARGET"] = TARGET
    assert rollups.read_target(db.session.connection()) == Decimal(str(TARGET))  # a fresh database: maintained
    assert rollups.extend_list_years(db.session.connection(), 2026, first=2024)  # what the periodic work does
    build_data()
    assert_rollups_exact()
    assert _stored(), "the data set is in the rollups"
    city = City(random.Random(seed), clock, world)
    for round_ in range(4):
        for _ in range(25):
            city.step()
        assert_rollups_exact(commit=round_ % 2 == 1)
    assert_pages_match_reference(world)


def test_rebuild_reproduces_the_maintained_table(app, ctx, world, clock):
    conn = db.session.connection()
    rollups.extend_list_years(conn, 2026, first=2024)
    build_data()
    city = City(random.Random(7), clock, world)
    for _ in range(40):
        city.step()
    rollups.settle(db.session)
    maintained, listed, kept = _stored(), rollups.worker_year_table(conn), rollups.profile_table(conn)
    db.session.execute(rollups.cast_table(StatsRollup).delete())
    db.session.execute(rollups.cast_table(StatsWorkerYear).delete())
    db.session.execute(rollups.cast_table(StatsProfileRollup).delete())
    assert _stored() == {} and rollups.profile_table(conn) == {}
    clock.set(datetime(2026, 6, 1))
    rows = rollups.rebuild(db.session.connection())
    assert rows == len(db.session.scalars(select(StatsRollup)).all()) > 0
    assert _stored() == maintained
    assert rollups.profile_table(conn) == kept != {}
    first, last = rollups.read_list_years(conn) or (0, 0)
    assert first <= 2024 and last == 2026  # from the ledger's first year (at most LIST_YEARS back) to this year

    def years(rows, lo=2024):
        return {k: v for k, v in rows.items() if lo <= k[1] <= 2026}
    assert years(rollups.worker_year_table(conn)) == years(listed) != {}
    assert rollups.worker_year_table(conn) == rollups.worker_year_raw(conn)


def test_the_list_years_grow_with_the_clock_and_list_every_worker(app, ctx, world, clock):
    """A year's first day: the periodic work gives every counted worker a row of 0 hours for the new year
    (once), and from then on the list of that year comes from stats_worker_year in the reference's order."""
    build_data()
    rollups.settle(db.session)
    conn = db.session.connection()
    assert rollups.extend_list_years(conn, 2026)
    assert rollups.read_list_years(conn) == (2026, 2026)
    assert not rollups.extend_list_years(conn, 2026)  # made already
    clock.set(datetime(2027, 1, 1, 1))
    sweeper.keep_list_years()
    assert rollups.read_list_years(conn) == (2026, 2027)
    counted = {u for (u, y), row in rollups.worker_year_table(conn).items() if y == 2027}
    assert len(counted) == 6 and all(h == 0 for (u, y), (h, *_r) in rollups.worker_year_table(conn).items()
                                     if y == 2027)
    assert rollups.worker_year_table(conn) == rollups.worker_year_raw(conn)
    admin = db.session.get(User, world["admin"])
    for year in (2025, 2026, 2027):
        auto = [(u.id, h) for u, h in db.session.execute(ce.workers(admin, _unit("C"), year, TARGET, False))]
        raw = [(u.id, h) for u, h in db.session.execute(ce.workers(admin, _unit("C"), year, TARGET, False,
                                                                   source="raw"))]
        assert [u for u, _h in auto] == [u for u, _h in raw] and len(auto) == 6, year


def test_the_rebuild_command_rebuilds_in_one_transaction(app, ctx, world):
    build_data()
    rollups.settle(db.session)
    maintained = _stored()
    kept = rollups.profile_table(db.session.connection())
    db.session.execute(rollups.cast_table(StatsRollup).update().values(workers=StatsRollup.workers + 5))
    db.session.execute(rollups.cast_table(StatsProfileRollup).update().values(count=StatsProfileRollup.count + 5))
    assert _stored() != maintained
    result = app.test_cli_runner().invoke(args=["stats-rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "statistics rollups:" in result.output
    assert _stored() == maintained
    assert rollups.profile_table(db.session.connection()) == kept


def test_a_moved_worker_takes_their_figures_along(app, ctx, world):
    build_data()
    admin, a = db.session.get(User, world["admin"]), db.session.get(User, world["worker_a"])
    f = queries.Filters.for_year(2025)

    def rows():
        rollups.settle(db.session)
        dash = queries.dashboard(admin, _unit("C"), f)
        return {r.unit.code: (r.figures.workers, r.figures.person_times, r.figures.attempts) for r in dash.rows}

    before = rows()
    accounts.update_user(admin, a, org_unit=_unit("C211"))
    db.session.flush()
    after = rows()
    assert after["D1"][0] == before["D1"][0] - 1 and after["D2"][0] == before["D2"][0] + 1
    assert after["D2"][1] - before["D2"][1] == before["D1"][1] - after["D1"][1] > 0  # a's 人次 moved
    assert after["D2"][2] - before["D2"][2] == 2  # a's two graded attempts
    assert_rollups_exact()


def test_without_a_build_the_pages_read_the_raw_rows(app, ctx, world):
    """A database migrated with data has no target row: flushes leave the rollups alone and the pages
    read the raw rows, until the rebuild."""
    db.session.execute(rollups.cast_table(rollups.StatsRollupTarget).delete())
    db.session.execute(rollups.cast_table(StatsRollup).delete())
    build_data()
    rollups.settle(db.session)
    assert _stored() == {}
    admin = db.session.get(User, world["admin"])
    total = queries.dashboard(admin, _unit("C"), queries.Filters.for_year(2025)).total
    assert (total.workers, total.attendance_records) == (6, 15)
    assert ce.summary(admin, _unit("C"), 2025, TARGET) == ce.summary(admin, _unit("C"), 2025, TARGET, source="raw")
    assert _profile(profile.profile(admin, _unit("C"), 2026)) == \
        _profile(profile.profile(admin, _unit("C"), 2026, source="raw"))
    assert profile.profile(admin, _unit("C"), 2026).workers == 6
    rollups.rebuild(db.session.connection(), Decimal(str(TARGET)))
    assert_rollups_exact()
    assert queries.dashboard(admin, _unit("C"), queries.Filters.for_year(2025)).total.as_dict() == total.as_dict()


def test_a_change_first_flushed_by_the_commit_is_counted(app, ctx, world):
    build_data()
    db.session.commit()
    session = db.session.scalars(select(TrainingSession).order_by(TrainingSession.id)).first()
    session.starts_at, session.ends_at = datetime(2026, 2, 1, 1), datetime(2026, 2, 1, 3)  # no flush before the commit
    db.session.commit()
    assert_rollups_exact(commit=True)
    worker = db.session.get(User, world["worker_b"])
    worker.cert_level, worker.org_unit = "senior", _unit("C211")
    db.session.commit()
    assert_rollups_exact(commit=True)


def test_a_renamed_worker_is_listed_under_the_new_name(app, ctx, world):
    """The list sorts by user name: a rename alone (no other change) rewrites the worker's rows."""
    conn = db.session.connection()
    rollups.extend_list_years(conn, 2026, first=2025)
    build_data()
    db.session.commit()
    worker = db.session.get(User, world["worker_a"])
    worker.username = "zz_renamed"
    db.session.commit()
    names = {row[2] for (u, _y), row in rollups.worker_year_table(conn).items() if u == worker.id}
    assert names == {"zz_renamed"}
    assert rollups.worker_year_table(conn) == rollups.worker_year_raw(conn)


def test_a_profile_edit_alone_moves_the_workers_buckets(app, ctx, world):
    """A birth year, gender or years of service corrected (no other change) moves the worker between the
    profile's buckets at the commit; the ages are banded as in the year asked."""
    build_data()
    db.session.commit()
    admin, worker = db.session.get(User, world["admin"]), db.session.get(User, world["worker_a"])

    def buckets(year: int, dimension: str) -> dict:
        return {b.key: b.count for b in profile.profile(admin, _unit("C"), year).dimensions[dimension]}

    ages, service = buckets(2026, "age"), buckets(2026, "years_in_work")
    worker.birth_year, worker.years_in_work, worker.gender = 2026 - 60, 25, None
    db.session.commit()
    after = buckets(2026, "age")
    assert after["55_plus"] == ages["55_plus"] + 1 and sum(after.values()) == sum(ages.values())
    assert buckets(2026, "years_in_work")["21_plus"] == service["21_plus"] + 1
    assert buckets(2026, "gender")["unknown"] == 1
    assert buckets(2026 - 36, "age")["under_25"] >= 1  # the same row, banded as in another year
    assert_rollups_exact(commit=True)
