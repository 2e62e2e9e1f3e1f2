"""Query budgets: a list page runs as many SQL statements with 200 rows as with 5 (no N+1 loads).

Each test builds 5 rows of the page's subject, counts the statements of one GET, grows the subject
to 200 rows, counts again, and asserts the same count and a small fixed ceiling. The rows are
bulk-inserted inside the test's rolled-back transaction.
"""
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from lms.auth.models import User, UserRole
from lms.database import utcnow
from lms.exams.models import ExamSubject, Question
from lms.extensions import db
from lms.learning.models import Course, Enrollment, Lesson
from lms.library.models import Trainer
from lms.orgs.models import OrgUnit
from lms.orgs.tree import create_unit
from lms.training import rules
from lms.training.models import Attendance, ProxyCheckinFlag, Registration, Training, TrainingSession, training_trainer
from lms.uploads.models import Upload

from .conftest import login
from .querycount import page_statements

COMMUNITIES = ("C111", "C112", "C121", "C211")
_serial = itertools.count(1)


def _tag() -> str:
    return f"qb{next(_serial):05d}"


def add_workers(world, n: int, units=COMMUNITIES) -> list[int]:
    """n learner accounts spread over `units`, inserted in bulk; returns their ids."""
    tag, now = _tag(), utcnow()
    db.session.execute(insert(User), [
        {"username": f"{tag}-{i:03d}", "name": f"工作者{tag[-3:]}{i:03d}", "password_hash": "x", "cert_level": "none",
         "org_unit_id": world[units[i % len(units)]], "active": True, "must_change_password": False,
         "session_nonce": f"{tag}{i:03d}", "created_at": now, "gender": "female", "birth_year": 1990}
        for i in range(n)])
    ids = db.session.scalars(select(User.id).where(User.username.startswith(f"{tag}-")).order_by(User.id)).all()
    db.session.execute(insert(UserRole), [{"user_id": i, "role": "learner"} for i in ids])
    return ids


def budget(app, client, url: str, grow, ceiling: int) -> int:
    """The statements of GET `url` with 5 rows and with 200 (grow(n) adds n rows): equal and under the ceiling."""
    with app.app_context():
        grow(5)
        db.session.commit()
    client.get(url)  # a first visit (caches, the session's first use) is not what the budget measures
    small = page_statements(app, client, url)

    with app.app_context():
        grow(195)
        db.session.commit()
    large = page_statements(app, client, url)
    assert len(large) == len(small), f"5 rows:\n{small.report()}\n\n200 rows:\n{large.report()}"
    assert len(large) <= ceiling, large.report()
    return len(large)


# --- training ---------------------------------------------------------------------------------------

def _training(world, sessions=((-180, 120), (-60, 120), (60, 120)), organiser=None) -> tuple[int, list[int]]:
    """A class for D1's workers (organised by D1 unless another unit id is given) with sessions as
    (minutes from now to the start, length): by default two ended, one to come."""
    now = utcnow()
    training = Training(title="社区议事协商专题培训", level="district", org_unit_id=organiser or world["D1"],
                        audience_unit_id=world["D1"],
                        capacity=1000, registration_deadline=now + timedelta(days=3), status="open", lock_version=0)
    db.session.add(training)
    db.session.flush()
    made = [rules.new_session(training, starts_at=now + timedelta(minutes=start),
                              ends_at=now + timedelta(minutes=start + length), credit_hours=Decimal("2"),
                              place_kind="text", place_text="桂香社区党群服务中心") for start, length in sessions]
    return training.id, [s.id for s in made]


def _seat(world, training_id: int, session_ids: list[int], n: int, flags: bool = False) -> None:
    """n workers registered (one in ten on the waiting list), checked in to the first session, and
    (with flags) one 代签到 flag each against the first session."""
    users = add_workers(world, n, units=("C111", "C112", "C121"))
    now = utcnow()
    db.session.execute(insert(Registration), [
        {"training_id": training_id, "user_id": u, "status": "waitlisted" if i % 10 == 9 else "registered",
         "source": "assigned", "created_at": now, "updated_at": now} for i, u in enumerate(users)])
    first = db.session.get(TrainingSession, session_ids[0])
    db.session.execute(insert(Attendance), [
        {"session_id": first.id, "user_id": u, "status": "present" if i % 3 else "late", "method": "code",
         "device_id": f"dev-{u}", "checked_in_at": first.starts_at, "updated_at": now,
         "session_starts_at": first.starts_at, "training_level": "district"} for i, u in enumerate(users)])
    if flags:
        db.session.execute(insert(ProxyCheckinFlag), [
            {"session_id": first.id, "device_id": f"dev-{u}", "first_user_id": u, "attempted_user_id": v,
             "created_at": now, "reviewed": False} for u, v in zip(users, users[1:] + users[:1], strict=False)])


def test_the_roster_has_a_fixed_budget(app, client, world):
    with app.app_context():
        tid, sids = _training(world)
        db.session.commit()
    login(client, "office_d1")
    budget(app, client, f"/training/sessions/{sids[0]}/roster", lambda n: _seat(world, tid, sids, n), ceiling=15)


def test_the_office_view_of_a_class_has_a_fixed_budget(app, client, world):
    with app.app_context():
        tid, sids = _training(world)
        db.session.commit()
    login(client, "office_d1")
    budget(app, client, f"/training/{tid}", lambda n: _seat(world, tid, sids, n, flags=True), ceiling=20)


def _classes(world, n: int, trainer_id: int | None = None) -> list[int]:
    """n open classes for D1's workers, each organised by a street of its own, with one session to come."""
    tag = _tag()
    district = db.session.get(OrgUnit, world["D1"])
    organisers = [create_unit(f"{tag}s{i}", f"新街道{i}", "street", district) for i in range(n)]
    db.session.flush()
    ids = []
    for organiser in organisers:
        tid, _sids = _training(world, organiser=organiser.id, sessions=((60 * 24, 120),))
        ids.append(tid)
    if trainer_id is not None:
        db.session.execute(insert(training_trainer), [{"training_id": t, "trainer_id": trainer_id} for t in ids])
    return ids


def test_the_list_of_classes_has_a_fixed_budget(app, client, world):
    def grow(n):
        for tid in _classes(world, n):
            db.session.execute(insert(Registration), [{"training_id": tid, "user_id": world["worker_a"],
                                                       "status": "registered", "source": "self"}])

    login(client, "office_c")
    budget(app, client, "/training/", grow, ceiling=8)


def test_a_workers_class_pages_have_a_fixed_budget(app, client, world):
    def grow(n):
        now = utcnow()
        for tid in _classes(world, n):
            db.session.execute(insert(Registration), [{"training_id": tid, "user_id": world["worker_a"],
                                                       "status": "registered", "source": "self",
                                                       "created_at": now, "updated_at": now}])

    login(client, "worker_a")
    budget(app, client, "/training/open", grow, ceiling=8)
    budget(app, client, "/training/mine", grow, ceiling=8)


def test_a_trainers_page_lists_their_classes_with_a_fixed_budget(app, client, world):
    with app.app_context():
        trainer = Trainer(name="周讲师", kind="practitioner")
        db.session.add(trainer)
        db.session.commit()
        trainer_id = trainer.id
    login(client, "office_d1")
    budget(app, client, f"/library/trainers/{trainer_id}",
           lambda n: _classes(world, n, trainer_id), ceiling=12)


def test_the_proxy_checkin_flags_have_a_fixed_budget(app, client, world):
    def grow(n):
        tid, sids = _training(world)
        _seat(world, tid, sids, n, flags=True)

    login(client, "office_d1")
    budget(app, client, "/training/flags", grow, ceiling=10)


# --- accounts, courses, the bank ------------------------------------------------------------------------

def test_the_accounts_list_has_a_fixed_budget(app, client, world):
    login(client, "office_d1")
    budget(app, client, "/accounts/", lambda n: add_workers(world, n), ceiling=5)


def test_the_course_catalogue_has_a_fixed_budget(app, client, world):
    def grow(n):
        tag, now = _tag(), utcnow()
        trainers = [Trainer(name=f"讲师{tag}{i}", kind="practitioner") for i in range(3)]
        db.session.add_all(trainers)
        for i in range(n):
            cover = Upload(stored_name=f"{tag}-{i}.png", original_name="cover.png", kind="image",
                           mimetype="image/png", size=1, sha256="0" * 64)
            course = Course(slug=f"{tag}-{i}", title=f"社区治理第{i}课", category="governance", level="beginner",
                            status="published", published_at=now, cover=cover, authors=trainers[: 1 + i % 3])
            db.session.add(course)
        db.session.flush()
        learner = world["worker_a"]
        courses = db.session.scalars(select(Course.id).where(Course.slug.startswith(f"{tag}-"))).all()
        db.session.execute(insert(Enrollment), [{"user_id": learner, "course_id": c, "source": "self",
                                                 "enrolled_at": now, "extra_quiz_attempts": 0} for c in courses[::2]])

    login(client, "worker_a")
    budget(app, client, "/learn/", grow, ceiling=7)


def test_the_trainer_pool_list_has_a_fixed_budget(app, client, world):
    """Names, types and expertise, no org units (the trainers' list does not show them): none are loaded."""
    def grow(n):
        tag = _tag()
        db.session.add_all(Trainer(name=f"讲师{tag}{i:03d}", kind="practitioner", org_unit_id=world[COMMUNITIES[i % 4]],
                                   expertise="社区治理、议事协商") for i in range(n))
        db.session.flush()

    login(client, "office_c")
    budget(app, client, "/library/trainers/", grow, ceiling=5)


def _courses(n: int, status: str) -> None:
    """n courses of `status`, each with three lessons and one to three authors."""
    tag, now = _tag(), utcnow()
    trainers = [Trainer(name=f"讲师{tag}{i}", kind="practitioner") for i in range(3)]
    db.session.add_all(trainers)
    db.session.add_all(Course(slug=f"{tag}-{i}", title=f"社区服务第{i}课", category="service", level="beginner",
                              status=status, submitted_at=now, authors=trainers[: 1 + i % 3],
                              lessons=[Lesson(slug=f"l{k}", position=k, title=f"第{k}节", body="正文", minutes=30)
                                       for k in range(1, 4)])
                       for i in range(n))
    db.session.flush()


def test_the_studio_and_the_review_queue_have_a_fixed_budget(app, client, world):
    login(client, "office_c")
    budget(app, client, "/learn/studio", lambda n: _courses(n, "draft"), ceiling=8)
    budget(app, client, "/learn/review", lambda n: _courses(n, "review"), ceiling=8)


def test_the_question_bank_list_has_a_fixed_budget(app, client, world):
    def grow(n):
        tag = _tag()
        subject = db.session.scalar(select(ExamSubject).order_by(ExamSubject.position, ExamSubject.id))
        db.session.add_all(Question(external_id=f"{tag}-{i}", subject=subject, topic=f"专题{i % 7}", type="single",
                                    difficulty=1 + i % 3, stem=f"关于社区议事的第{i}题（  ）。",
                                    options=[{"key": k, "text": k} for k in "ABCD"], answer=["A"], status="active")
                           for i in range(n))
        db.session.flush()

    login(client, "office_c")
    budget(app, client, "/exams/?status=active", grow, ceiling=12)
    budget(app, client, "/exams/", grow, ceiling=16)


# --- statistics ---------------------------------------------------------------------------------------------

def test_the_city_dashboard_has_a_fixed_budget(app, client, world):
    def grow(n):
        tag = _tag()
        city = db.session.get(OrgUnit, world["C"])
        for i in range(n):  # a district per row, each with a street, a community and a worker of its own
            district = create_unit(f"{tag}d{i}", f"新区{i}", "district", city)
            street = create_unit(f"{tag}s{i}", f"新街道{i}", "street", district)
            create_unit(f"{tag}c{i}", f"新社区{i}", "community", street)
        db.session.flush()
        codes = db.session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.startswith(f"{tag}c"))).all()
        units = {code: uid for code, uid in codes}
        add_workers(units, n, units=tuple(units))

    login(client, "office_c")
    budget(app, client, f"/stats/unit/{world['C']}", grow, ceiling=20)


@pytest.mark.parametrize("page", ["workers", "continuing-education", "profile"])
def test_the_statistics_lists_have_a_fixed_budget(app, client, world, page):
    login(client, "office_c")
    budget(app, client, f"/stats/unit/{world['C']}/{page}", lambda n: add_workers(world, n), ceiling=20)


# --- a worker's home, course and lesson pages (issue 15 point 4: pages as fast as a page can be) -----------

def test_a_workers_home_course_and_lesson_pages_have_small_fixed_budgets(app, client, world):
    """The session's account with its unit and roles is one statement; the home page adds three (学时,
    courses under way with their progress, next sessions) and one for the unit's ancestors; the course and
    lesson pages load the course with its lessons, authors and quiz in one, however many lessons it has."""
    with app.app_context():
        _courses(1, "published")
        course = db.session.scalar(select(Course).order_by(Course.id.desc()))
        course.published_at = utcnow()
        db.session.add(Enrollment(user_id=world["worker_a"], course_id=course.id, source="self",
                                  enrolled_at=utcnow(), extra_quiz_attempts=0))
        db.session.commit()
        course_id, lesson_id = course.id, course.lessons[0].id

    def more_lessons(n):
        last = db.session.scalar(select(func.max(Lesson.position)).where(Lesson.course_id == course_id))
        db.session.add_all(Lesson(course_id=course_id, slug=f"x{last + k}", position=last + k, title=f"第{last + k}节",
                                  body="正文", minutes=30) for k in range(1, n + 1))
        db.session.flush()

    def more_courses(n):
        _courses(n, "published")
        db.session.flush()
        ids = db.session.scalars(select(Course.id).order_by(Course.id.desc()).limit(n)).all()
        db.session.execute(insert(Enrollment), [{"user_id": world["worker_a"], "course_id": c, "source": "self",
                                                 "enrolled_at": utcnow(), "extra_quiz_attempts": 0} for c in ids])

    login(client, "worker_a")
    budget(app, client, "/home", more_courses, ceiling=5)
    budget(app, client, f"/learn/courses/{course_id}", more_lessons, ceiling=6)
    budget(app, client, f"/learn/lessons/{lesson_id}", more_lessons, ceiling=4)


# --- exam preparation ----------------------------------------------------------------------------------

def test_the_offices_exam_preparation_page_has_a_fixed_budget(app, client, world):
    from datetime import date

    from lms.prep.models import PrepPlan, TopicMastery

    def grow(n):
        ids = add_workers(world, n)
        subject_id = db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == "junior-general"))
        now = utcnow()
        db.session.execute(insert(PrepPlan), [
            {"user_id": i, "subject_id": subject_id, "exam_date": date(2027, 6, 14), "minutes_per_day": 30,
             "created_at": now, "updated_at": now} for i in ids])
        db.session.execute(insert(TopicMastery), [
            {"user_id": i, "subject_id": subject_id, "topic": "社会工作理论", "theta": 0.2, "evidence": 6,
             "information": 1.4, "last_answer_at": now - timedelta(days=i % 30)} for i in ids])

    login(client, "office_c")
    budget(app, client, "/prep/office", grow, ceiling=9)
