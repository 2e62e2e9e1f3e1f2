"""Demo data and the schema's single source: the migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from lms.auth.models import User, UserRole
from lms.database import include_name
from lms.demo import DEMO_PASSWORD, seed_demo
from lms.extensions import db
from lms.orgs.models import OrgUnit
from lms.transaction import unit

from .conftest import login


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), db.metadata)
    assert diff == [], f"models differ from the migrations; run flask db migrate: {diff}"


def test_one_migration_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config(directory=app.extensions["migrate"].directory)
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _counts():
    levels = dict(db.session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all())
    workers = db.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role == "learner"))
    return levels, workers, db.session.scalar(select(func.count()).select_from(User))


def test_seed_demo_builds_a_city_and_is_idempotent(app, ctx):
    seed_demo()
    levels, learners, users = _counts()
    assert levels["district"] >= 3 + 2 and levels["street"] >= 8 and levels["community"] >= 30
    assert learners >= 500
    from lms.exams.models import Attempt
    from lms.learning.models import Enrollment
    from lms.training.models import Attendance

    activity = [db.session.scalar(select(func.count()).select_from(m)) for m in (Enrollment, Attendance, Attempt)]
    assert all(n > 50 for n in activity), activity
    _completed_lessons_were_studied()
    seed_demo()
    assert _counts() == (levels, learners, users)
    assert activity == [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Enrollment, Attendance, Attempt)
    ]
    # Records are true: a completed course with a quiz has a passed quiz attempt, and its
    # certificate says so; a course without a quiz never claims an assessment.
    from lms.exams.models import Exam
    from lms.learning.models import Certificate

    rows = db.session.execute(
        select(Certificate.achievement, Exam.id, Enrollment.user_id)
        .join(Enrollment, Certificate.enrollment_id == Enrollment.id)
        .outerjoin(Exam, (Exam.course_id == Enrollment.course_id) & Exam.active.is_(True))
    ).all()
    assert any(exam_id for _a, exam_id, _u in rows) and any(not exam_id for _a, exam_id, _u in rows)
    for achievement, exam_id, user_id in rows:
        if exam_id is None:
            assert achievement == "完成学习"
        else:
            assert achievement.startswith("完成学习并通过课后测验（成绩 ")
            assert db.session.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.exam_id == exam_id, Attempt.user_id == user_id, Attempt.passed.is_(True))) == 1
    assert db.session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.completed_at.is_not(None))) \
        == len(rows)
    # Offices at every level, an admin, trainers; profiles vary.
    roles = dict(db.session.execute(select(UserRole.role, func.count()).group_by(UserRole.role)).all())
    assert roles["office"] >= 1 + 3 + 8 and roles["admin"] >= 1 and roles["trainer"] >= 5
    for field in ("gender", "education", "political_status", "cert_level", "birth_year"):
        values = db.session.scalar(
            select(func.count(func.distinct(getattr(User, field)))).where(User.username.like("w%"))
        )
        assert values >= 2, field
    _real_results_are_waiting_for_every_district_office()


def _real_results_are_waiting_for_every_district_office():
    """Every district office finds results to verify today; verified results agree with the profiles."""
    from lms.auth.scope import verifiable_results
    from lms.exams import real_results
    from lms.exams.models import RealExamResult

    for username in ("office_qh", "office_jp", "office_gh", "office_lj", "office_qh01"):
        office = db.session.scalar(select(User).where(User.username == username))
        pending = db.session.scalars(verifiable_results(office).where(RealExamResult.status == "pending")).all()
        assert pending, username
    verified = db.session.scalars(select(RealExamResult).where(RealExamResult.status == "verified")).all()
    assert len(verified) >= 10
    for user in {r.user for r in verified}:
        assert real_results.CERT_RANK[real_results.earned_level(user.id)] <= real_results.CERT_RANK[user.cert_level]


def _completed_lessons_were_studied():
    """Every completed lesson of the demo has its minimum active time (docs/STUDY-TIME.md), and
    every completed enrolment has its required lessons completed."""
    from lms.learning import progress
    from lms.learning.models import Enrollment, Lesson, LessonProgress

    rows = db.session.execute(select(LessonProgress, Lesson).join(Lesson, Lesson.id == LessonProgress.lesson_id)
                              .where(LessonProgress.completed_at.is_not(None))).all()
    assert rows and all(p.seconds_spent >= progress.required_seconds(lesson) for p, lesson in rows)
    done = {(p.user_id, lesson.id) for p, lesson in rows}
    for e in db.session.scalars(select(Enrollment).where(Enrollment.completed_at.is_not(None))):
        assert all((e.user_id, lesson.id) in done for lesson in e.course.lessons if lesson.required), e.id


def test_seed_demo_if_empty_leaves_a_used_database_alone(app, ctx):
    assert "already" in seed_demo(if_empty=True)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "w0001")) == 0


def test_demo_logins_work(app, client):
    with app.app_context(), unit():
        seed_demo(activity=False)
    # ("admin" is the test world's own admin here, so it keeps the test password.)
    for username in ("office_city", "office_qh", "office_qh01", "trainer_wangxm", "w0001"):
        c = app.test_client()
        assert login(c, username, DEMO_PASSWORD).status_code == 302, username
        assert c.get("/home").status_code == 200
