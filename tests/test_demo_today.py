"""The demo is alive on the day it is loaded: seed-demo dates its activity from the clock, so on two
different days every role finds something to do that day (issue 14 point 5)."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.auth.models import User, UserRole
from lms.demo import DEMO_PASSWORD, seed_demo
from lms.demo_activity import CURRENT_CLASS, MOCK_DAY_TITLE
from lms.exams.models import MockExamDay
from lms.extensions import db
from lms.learning.models import Credit, Enrollment
from lms.library.models import Trainer
from lms.orgs.models import OrgUnit
from lms.training import rules
from lms.training.models import Attendance, Registration, Training, TrainingSession
from lms.transaction import unit
from lms.util import utc_to_local

from .conftest import login

WORKERS = 144  # four a community: enough for the spread, quick to load

# 10:00 on a Monday in June 2026 and 20:30 on a Wednesday in March 2027 (Beijing time), as naive UTC
DAYS = [datetime(2026, 6, 15, 2, 0), datetime(2027, 3, 3, 12, 30)]


def test_the_demo_is_alive_on_the_day_it_is_loaded(app, demo):
    """Loaded once on each day (loading is the slow part), then looked at by each role in turn."""
    _workers_have_classes_to_register_for_and_sessions_coming(app, demo)
    _the_worker_sees_it_on_her_pages(app, demo)
    _an_office_opens_todays_check_in_and_trainers_teach_today(app, demo)
    _continuing_education_has_a_realistic_spread_this_year(app, demo)
    _evaluations_are_due_and_the_needs_survey_is_open(app, demo)
    _loading_again_on_a_later_day_duplicates_nothing(app, demo)


def _evaluations_are_due_and_the_needs_survey_is_open(app, demo):
    """Issue 17: w0001 has a class to evaluate, a trainer has a running rating, the needs survey is open and
    answered across the districts."""
    from lms.surveys import evaluations, needs
    from lms.surveys.models import SurveyResponse

    with app.app_context():
        worker = _user("w0001")
        assert [t.title for t, _until in evaluations.due_for(worker, demo.at)]
        surveys = needs.open_for(worker, demo.at)
        assert surveys and not surveys[0][1]  # open, not answered by the demo login
        paths = db.session.scalars(select(SurveyResponse.org_path).where(
            SurveyResponse.survey_id == surveys[0][0].id)).all()
        assert len({p.split("/")[2] for p in paths}) >= 3  # several districts answered
        rated = db.session.scalars(select(Trainer)).all()
        assert max(evaluations.trainer_rating(t.id).count for t in rated) >= evaluations.min_shown()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _workers() -> list[User]:
    return db.session.scalars(select(User).where(User.username.like("w%"), User.active.is_(True),
                                                 User.role_rows.any(UserRole.role == "learner"))).all()


@pytest.fixture(params=DAYS, ids=["2026-06-15", "2027-03-03"])
def demo(request, app, client, clock):
    """The demo city loaded (and committed, inside the test's rolled-back transaction) on that day."""
    clock.set(request.param)
    with app.app_context(), unit():
        seed_demo(workers=WORKERS)
    return clock


def _workers_have_classes_to_register_for_and_sessions_coming(app, demo):
    with app.app_context():
        _every_worker_has_classes_to_register_for_and_sessions_coming(demo.at)


def _every_worker_has_classes_to_register_for_and_sessions_coming(now):
    today = utc_to_local(now).date()
    open_classes = db.session.scalars(select(Training).where(Training.status == "open",
                                                             Training.registration_deadline >= now)).all()
    upcoming = [t for t in open_classes if t.sessions and all(s.starts_at > now for s in t.sessions)]
    assert {t.level for t in upcoming} == {"city", "district"}
    workers = _workers()
    assert len(workers) >= WORKERS * 0.9
    for worker in workers:
        assert any(rules.in_audience(t, worker) for t in upcoming), worker.username
        mine = db.session.scalars(
            select(TrainingSession).join(Registration, Registration.training_id == TrainingSession.training_id)
            .where(Registration.user_id == worker.id, Registration.status == "registered",
                   TrainingSession.ends_at > now)).all()
        assert any(utc_to_local(s.starts_at).date() == today for s in mine), worker.username
        assert any(s.starts_at > now + timedelta(days=1) for s in mine), worker.username
    # an upcoming mock exam day for the whole city, a few days ahead
    day = db.session.scalar(select(MockExamDay).where(MockExamDay.title == MOCK_DAY_TITLE))
    assert day is not None and now + timedelta(days=2) < day.opens_at < now + timedelta(days=11)


def _the_worker_sees_it_on_her_pages(app, demo):
    with app.app_context():
        street = _user("w0001").org_unit.parent.name
    c = app.test_client()
    login(c, "w0001", DEMO_PASSWORD)
    home = c.get("/home").get_data(as_text=True)
    assert CURRENT_CLASS.format(unit=street) in home
    assert "全市社区工作者专题培训班" in c.get("/training/open").get_data(as_text=True)
    checkin = c.get("/training/checkin").get_data(as_text=True)
    assert CURRENT_CLASS.format(unit=street) in checkin  # today's session, check-in open now
    assert MOCK_DAY_TITLE in c.get("/mock/").get_data(as_text=True)


def _an_office_opens_todays_check_in_and_trainers_teach_today(app, demo):
    with app.app_context():
        session_id, code = _todays_session_of("office_qh01", demo.at)
    c = app.test_client()
    login(c, "office_qh01", DEMO_PASSWORD)
    assert c.get(f"/training/sessions/{session_id}/screen").status_code == 200
    assert code in c.get(f"/training/sessions/{session_id}/code.json").get_data(as_text=True)


def _todays_session_of(username: str, now: datetime) -> tuple[int, str]:
    """The one session of the office's classes today: under way, some workers in already; and the
    trainers with an account teach today."""
    today = utc_to_local(now).date()
    office = _user(username)
    sessions = db.session.scalars(select(TrainingSession).join(Training).where(
        Training.org_unit_id == office.org_unit_id)).all()
    today_sessions = [s for s in sessions if utc_to_local(s.starts_at).date() == today]
    assert len(today_sessions) == 1
    session = today_sessions[0]
    opens, closes = rules.window(session)
    assert opens <= now < closes
    # some workers are in already (checked in by the app's rule, before now); the demo logins are not
    records = db.session.scalars(select(Attendance).where(Attendance.session_id == session.id)).all()
    assert records and all(a.status in ("present", "late") and a.checked_in_at <= now for a in records)
    assert all(a.user.username > "w0040" for a in records)
    # the class is led by a trainer with an account
    assert any(t.user_id is not None for t in session.training.trainers)
    trainer_users = {t.user.username for t in db.session.scalars(select(Trainer).where(Trainer.user_id.is_not(None)))}
    teaching_today = {t.user.username for s in db.session.scalars(select(TrainingSession))
                      if s.starts_at <= now < s.ends_at for t in s.training.trainers if t.user_id is not None}
    assert len(teaching_today) >= 5 and teaching_today <= trainer_users
    return session.id, rules.code_at(session, now)


def _continuing_education_has_a_realistic_spread_this_year(app, demo):
    with app.app_context():
        district_id = _spread(utc_to_local(demo.at).date(), Decimal(str(app.config["ANNUAL_CREDIT_HOURS_TARGET"])))
    c = app.test_client()
    login(c, "office_qh", DEMO_PASSWORD)
    assert c.get(f"/stats/unit/{district_id}/continuing-education").status_code == 200


def _spread(today, target: Decimal) -> int:
    hours = dict(db.session.execute(select(Credit.user_id, func.sum(Credit.hours))
                                    .where(Credit.earned_on >= today.replace(month=1, day=1))
                                    .group_by(Credit.user_id)).all())
    assert all(on <= today for on in db.session.scalars(select(Credit.earned_on)))  # nothing in the future
    workers = _workers()
    got = [Decimal(str(hours.get(w.id) or 0)) for w in workers]
    reached = sum(h >= target for h in got)
    none = sum(h == 0 for h in got)
    part_way = len(got) - reached - none
    assert reached >= 0.1 * len(got), (reached, part_way, none)
    assert part_way >= 0.4 * len(got), (reached, part_way, none)
    assert none >= 0.05 * len(got), (reached, part_way, none)
    # the district office's continuing-education figures: some of its workers have met the target
    from lms.stats import ce

    district = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "QH"))
    figures = ce.summary(_user("office_qh"), district, today.year, float(target))
    assert sum(f.reached for f in figures.values()) > 0
    return district.id


def _loading_again_on_a_later_day_duplicates_nothing(app, demo):
    def counts():
        return [db.session.scalar(select(func.count()).select_from(m))
                for m in (User, Enrollment, Training, TrainingSession, Attendance, Credit, MockExamDay)]

    with app.app_context():
        before = counts()
        demo.advance(days=3)
        with unit():
            assert "already" in seed_demo(if_empty=True)
            seed_demo(workers=WORKERS)
        assert counts() == before
