"""The lessons that teach an exam topic (lms/prep/lessons.py): one order for the plan and the recommendations,
and the catalogue kept per process under its version, which every change of a course or lesson moves."""
from sqlalchemy import select, update

from lms.extensions import db
from lms.learning import progress
from lms.learning.models import CatalogueVersion, Course, Lesson
from lms.prep import lessons

from .querycount import count_queries
from .study import complete, make_course, user

TOPIC = "个案工作"


def row(course_id, lesson_id, course_topics=(), lesson_topics=(), featured=False, required=True, position=1):
    return (course_id, f"课程{course_id}", list(course_topics), featured, lesson_id, f"第{lesson_id}讲",
            list(lesson_topics), 20, required)


def test_the_order_names_before_courses_featured_before_others_then_course_and_place():
    index = lessons.build_index([
        row(1, 11, course_topics=[TOPIC]),                      # a course naming it: its required lessons
        row(1, 12, course_topics=[TOPIC], required=False),      # … not an optional one
        row(2, 21, lesson_topics=[TOPIC]),                      # a lesson naming it
        row(3, 31, course_topics=[TOPIC], featured=True),       # a featured course naming it
        row(4, 41, lesson_topics=[TOPIC], featured=True),       # a featured course's lesson naming it
        row(4, 42, lesson_topics=["小组工作"], featured=True, required=False),
        row(5, 51, lesson_topics=[TOPIC], required=False),      # an optional lesson naming it counts
    ])
    assert [e.lesson_id for e in index[TOPIC]] == [41, 21, 51, 31, 11]
    assert [e.lesson_id for e in index["小组工作"]] == [42]


def test_the_worker_s_courses_first_completed_lessons_out_and_the_limit(app, world, tx):
    with app.app_context():
        first = make_course(slug="teach-1", title="个案工作入门", lessons=2)
        first.lessons[0].topics = [TOPIC]
        second = make_course(slug="teach-2", title="个案工作进阶", lessons=3)
        second.topics = [TOPIC]
        db.session.flush()
        worker = user("worker_a")
        found = lessons.for_worker(worker.id, [TOPIC, "没有课程的知识点"], 3)
        assert list(found) == [TOPIC]   # a topic nothing teaches is left out
        assert [t.lesson_id for t in found[TOPIC]] == [first.lessons[0].id, second.lessons[0].id,
                                                      second.lessons[1].id]
        assert not any(t.enrolled for t in found[TOPIC])
        progress.enroll(worker, second)
        found = lessons.for_worker(worker.id, [TOPIC], 3)[TOPIC]
        assert [t.lesson_id for t in found] == [x.id for x in second.lessons] and all(t.enrolled for t in found)
        complete(worker, second.lessons[0])
        assert [t.lesson_id for t in lessons.for_worker(worker.id, [TOPIC], 2)[TOPIC]] == [
            second.lessons[1].id, second.lessons[2].id]


def test_a_change_of_the_catalogue_is_seen_at_once_and_the_rest_is_one_statement(app, world, tx):
    with app.app_context():
        course = make_course(slug="teach-3", title="个案工作入门", lessons=2)
        db.session.flush()
        worker = user("worker_a").id
        assert lessons.for_worker(worker, [TOPIC], 3) == {}
        with count_queries(app) as statements:
            assert lessons.for_worker(worker, [TOPIC], 3) == {}
        assert len(statements) == 1, statements.report()   # the version and the worker's rows: kept catalogue
        before = db.session.scalar(select(CatalogueVersion.value))
        course.lessons[1].topics = [TOPIC]                   # a trainer's edit (through the ORM, as the editors do)
        db.session.flush()
        assert db.session.scalar(select(CatalogueVersion.value)) != before
        assert [t.lesson_id for t in lessons.for_worker(worker, [TOPIC], 3)[TOPIC]] == [course.lessons[1].id]
        lesson = db.session.get(Lesson, course.lessons[1].id)
        lesson.title = "个案工作的过程"
        db.session.flush()
        assert lessons.for_worker(worker, [TOPIC], 3)[TOPIC][0].lesson_title == "个案工作的过程"
        db.session.get(Course, course.id).status = "draft"   # unpublished: it teaches nothing
        db.session.flush()
        assert lessons.for_worker(worker, [TOPIC], 3) == {}


def test_without_the_version_row_the_first_change_makes_it(app, world, tx):
    """A database whose row went (or was never made) still moves the version on a change."""
    with app.app_context():
        db.session.execute(CatalogueVersion.__table__.delete())
        worker = user("worker_a").id
        assert lessons.for_worker(worker, [TOPIC], 3) == {}
        course = make_course(slug="teach-4", title="个案工作入门", lessons=1)
        course.topics = [TOPIC]
        db.session.flush()
        assert db.session.scalar(select(CatalogueVersion.value)) is not None
        assert [t.lesson_id for t in lessons.for_worker(worker, [TOPIC], 3)[TOPIC]] == [course.lessons[0].id]


def test_a_change_behind_the_orm_is_not_seen_until_the_version_moves(app, world, tx):
    """What the version guards: a statement that bypasses the ORM (none in the app) leaves the kept catalogue;
    the test proves the cache is really used, so the version is what keeps it right."""
    with app.app_context():
        course = make_course(slug="teach-5", title="个案工作入门", lessons=1)
        db.session.flush()
        worker = user("worker_a").id
        assert lessons.for_worker(worker, [TOPIC], 3) == {}
        db.session.execute(update(Course).where(Course.id == course.id).values(topics=[TOPIC]))
        assert lessons.for_worker(worker, [TOPIC], 3) == {}
        db.session.execute(update(CatalogueVersion).values(value=CatalogueVersion.value + 1))
        assert [t.lesson_id for t in lessons.for_worker(worker, [TOPIC], 3)[TOPIC]] == [course.lessons[0].id]


def test_a_recommended_practice_set_follows_the_bank(app, world, clock, tx):
    """The questions a practice set can draw are kept per process under the subject's bank_version: a question
    added (or withdrawn) in the bank changes the recommended set at once."""
    from datetime import datetime

    from lms.exams.models import Question
    from lms.prep import recommend

    from .test_prep_pages import prepare

    clock.set(datetime(2026, 3, 10, 2, 0))
    prepare(app, world)
    with app.app_context():
        practice = [r for r in recommend.today(world["worker_a"]) if r.kind == "practice"]
        assert practice[0].standing.topic == TOPIC and practice[0].questions == 3
        subject = practice[0].subject
        db.session.add_all([Question(external_id=f"more-{i}", subject=subject, topic=TOPIC, type="single",
                                     difficulty=2, stem=f"补充题{i}", status="active", answer=["A"],
                                     options=[{"key": k, "text": k} for k in "ABCD"]) for i in range(2)])
        db.session.flush()
        assert [r for r in recommend.today(world["worker_a"]) if r.kind == "practice"][0].questions == 5
        withdrawn = db.session.scalars(select(Question).where(Question.topic == TOPIC,
                                                             Question.status == "active")).first()
        withdrawn.status = "retired"
        db.session.flush()
        assert [r for r in recommend.today(world["worker_a"]) if r.kind == "practice"][0].questions == 4
