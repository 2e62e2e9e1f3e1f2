"""Revisions (修订): a trainer improves a published course while it stays live. The revision goes
through the same review; approval replaces the live content in place, keeping learners' progress."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.exams.bank_io import import_shipped_bank
from lms.exams.models import Exam, ExamSubject
from lms.extensions import db
from lms.learning import courses, progress, quiz
from lms.learning.models import Certificate, Course, Credit, Enrollment, Lesson, LessonProgress

from .conftest import login, post_form
from .study import complete, make_course, user


def _published(app, world, lessons=3, hours="1") -> tuple[int, list[int]]:
    """A published course of `lessons` 20-minute lessons authored by the world's trainer."""
    with app.app_context():
        course = make_course(slug="rev-course", title="社区协商议事", lessons=lessons, hours=hours)
        course.created_by_id = world["trainer"]
        db.session.commit()
        return course.id, [lesson.id for lesson in course.lessons]


def _studied(app, username: str, lesson_ids: list[int]) -> None:
    with app.app_context():
        learner = user(username)
        lessons = [db.session.get(Lesson, i) for i in lesson_ids]
        progress.enroll(learner, lessons[0].course)
        for lesson in lessons:
            complete(learner, lesson)
        db.session.commit()


def _start(client, course_id: int) -> int:
    r = post_form(client, f"/learn/courses/{course_id}/revise", page=f"/learn/courses/{course_id}")
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(re.search(r"/courses/(\d+)/edit", r.location).group(1))


def _copies(app, draft_id: int) -> dict[int, int]:
    """live lesson id → its copy's id in the revision."""
    with app.app_context():
        return {lesson.live_lesson_id: lesson.id
                for lesson in db.session.get(Course, draft_id).lessons if lesson.live_lesson_id}


def _flash(client, response) -> str:
    return client.get(response.location).get_data(as_text=True)


def test_revision_cycle_through_http_keeps_progress_and_credit(app, client, world):
    live_id, (l1, l2, l3) = _published(app, world)
    _studied(app, "worker_a", [l1, l2])           # mid-course: lesson 3 left
    _studied(app, "worker_b", [l1, l2, l3])       # completed: 学时 and certificate
    _studied(app, "worker_c", [l1, l3])           # everything but lesson 2, which the revision removes
    with app.app_context():
        a_progress = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == world["worker_a"],
                                                                   LessonProgress.lesson_id == l1))
        a_progress_id, a_seconds = a_progress.id, a_progress.seconds_spent
        b_credit = db.session.scalar(select(Credit).where(Credit.user_id == world["worker_b"],
                                                          Credit.source_id == live_id))
        assert b_credit.hours == Decimal("1")

    login(client, "trainer")
    # Editing a published course explains what to do instead of a bare refusal.
    r = client.get(f"/learn/courses/{live_id}/edit")
    assert r.status_code == 302
    assert "发起修订" in _flash(client, r)
    draft_id = _start(client, live_id)
    assert draft_id != live_id
    page = client.get(f"/learn/courses/{draft_id}/edit").get_data(as_text=True)
    assert "修订版" in page and "社区协商议事" in page
    copies = _copies(app, draft_id)
    assert set(copies) == {l1, l2, l3}

    # The trainer improves the revision: the summary, lesson 1, lesson 2 removed, a new lesson 4.
    r = post_form(client, f"/learn/courses/{draft_id}/edit",
                  {"title": "社区协商议事", "summary": "议事会从筹备到复盘", "description": "新版简介",
                   "category": "governance", "level": "beginner", "credit_hours": "1", "tags": "议事"})
    assert r.status_code == 302
    r = post_form(client, f"/learn/lessons/{copies[l1]}/edit",
                  {"title": "第1讲 协商的准备", "body": "先摸清居民诉求。", "minutes": "20", "required": "y"})
    assert r.status_code == 302
    post_form(client, f"/learn/lessons/{copies[l2]}/delete", page=f"/learn/courses/{draft_id}/edit")
    post_form(client, f"/learn/courses/{draft_id}/lessons/new",
              {"title": "第4讲 案例复盘", "body": "复盘一次真实的议事会。", "minutes": "20", "required": "y"})

    # Learners still see, and study, the published version; the revision does not exist for them.
    worker = app.test_client()
    login(worker, "worker_a")
    live_page = worker.get(f"/learn/courses/{live_id}").get_data(as_text=True)
    assert "第2讲" in live_page and "协商的准备" not in live_page and "案例复盘" not in live_page
    assert worker.get(f"/learn/courses/{draft_id}").status_code == 404
    assert worker.get(f"/learn/lessons/{copies[l1]}").status_code == 404
    assert post_form(worker, f"/learn/courses/{draft_id}/enroll", page="/learn/").status_code == 404
    assert f"/learn/courses/{draft_id}\"" not in worker.get("/learn/?q=议事").get_data(as_text=True)

    r = post_form(client, f"/learn/courses/{draft_id}/submit", page=f"/learn/courses/{draft_id}/edit")
    assert "已提交审核" in _flash(client, r)

    # The same review queue: the office returns it once, then approves it.
    office = app.test_client()
    login(office, "office_d1")
    queue = office.get("/learn/review").get_data(as_text=True)
    assert f"/learn/courses/{draft_id}" in queue and "修订" in queue
    post_form(office, f"/learn/courses/{draft_id}/review", {"action": "return", "comment": "请补充复盘要点"},
              page=f"/learn/courses/{draft_id}")
    assert "请补充复盘要点" in client.get(f"/learn/courses/{draft_id}/edit").get_data(as_text=True)
    post_form(client, f"/learn/courses/{draft_id}/submit", page=f"/learn/courses/{draft_id}/edit")
    assert "审核通过后替换已发布版本" in office.get(f"/learn/courses/{draft_id}").get_data(as_text=True)
    r = post_form(office, f"/learn/courses/{draft_id}/review", {"action": "publish", "comment": "修订得好"},
                  page=f"/learn/courses/{draft_id}")
    assert r.location.endswith(f"/learn/courses/{live_id}")
    assert "修订版已通过" in _flash(office, r)
    assert office.get(f"/learn/courses/{draft_id}").status_code == 404  # the draft is gone

    with app.app_context():
        live = db.session.get(Course, live_id)
        assert live.status == "published" and live.summary == "议事会从筹备到复盘" and live.review_comment == "修订得好"
        assert [lesson.title for lesson in live.lessons] == ["第1讲 协商的准备", "第3讲", "第4讲 案例复盘"]
        assert [lesson.id for lesson in live.lessons][:2] == [l1, l3]        # kept lessons keep their ids
        assert [lesson.position for lesson in live.lessons] == [1, 2, 3]
        assert db.session.get(Lesson, l2) is None
        assert db.session.scalar(select(Course).where(Course.revision_of_id == live_id)) is None
        # worker_a keeps the lesson they completed, same row, same time; the removed lesson's row went with it
        kept = db.session.get(LessonProgress, a_progress_id)
        assert kept.lesson_id == l1 and kept.completed_at is not None and kept.seconds_spent == a_seconds
        assert db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == l2)) is None
        a_enrol = db.session.scalar(select(Enrollment).where(Enrollment.user_id == world["worker_a"]))
        assert a_enrol.completed_at is None   # lesson 3 and the new lesson 4 remain
        # worker_b's completion, 学时 and certificate are never revoked
        b_enrol = db.session.scalar(select(Enrollment).where(Enrollment.user_id == world["worker_b"]))
        assert b_enrol.completed_at is not None
        assert db.session.scalar(select(Credit.hours).where(Credit.user_id == world["worker_b"])) == Decimal("1")
        assert db.session.scalar(select(Certificate).where(Certificate.enrollment_id == b_enrol.id)) is not None
        # worker_c had done lessons 1 and 3, but lesson 4 is new and required: not complete yet
        c_enrol = db.session.scalar(select(Enrollment).where(Enrollment.user_id == world["worker_c"]))
        assert c_enrol.completed_at is None
        # the approval is in the audit trail: the live course changed, the draft was deleted
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "course")).all()
        assert any(e.entity_id == str(live_id) and e.action == "update" and "summary" in e.changes
                   and e.actor_name == "东区培训办" for e in entries)
        assert any(e.entity_id == str(draft_id) and e.action == "delete" for e in entries)

    # worker_a sees the new version with their completed lesson still ticked.
    page = worker.get(f"/learn/courses/{live_id}").get_data(as_text=True)
    assert "协商的准备" in page and "案例复盘" in page and "第2讲" not in page
    assert worker.get(f"/learn/lessons/{l1}").status_code == 200


def test_a_learner_whose_remaining_lesson_was_removed_completes_on_approval(app, client, world):
    live_id, (l1, l2, l3) = _published(app, world, hours="0.5")  # two 20-minute lessons still cover it
    _studied(app, "worker_c", [l1, l3])
    login(client, "trainer")
    draft_id = _start(client, live_id)
    copies = _copies(app, draft_id)
    post_form(client, f"/learn/lessons/{copies[l2]}/delete", page=f"/learn/courses/{draft_id}/edit")
    post_form(client, f"/learn/courses/{draft_id}/submit", page=f"/learn/courses/{draft_id}/edit")
    office = app.test_client()
    login(office, "office_c")
    post_form(office, f"/learn/courses/{draft_id}/review", {"action": "publish", "comment": ""},
              page=f"/learn/courses/{draft_id}")
    with app.app_context():
        enrol = db.session.scalar(select(Enrollment).where(Enrollment.user_id == world["worker_c"]))
        assert enrol.completed_at is not None   # every lesson the course now has was studied
        assert db.session.scalar(select(Credit.hours).where(Credit.user_id == world["worker_c"])) == Decimal("0.5")


def test_refusals_explain_themselves_in_chinese(app, client, world):
    live_id, (l1, _l2, _l3) = _published(app, world)
    worker = app.test_client()
    login(worker, "worker_a")
    assert post_form(worker, f"/learn/courses/{live_id}/revise", page=f"/learn/courses/{live_id}").status_code == 403

    login(client, "trainer")
    draft_id = _start(client, live_id)
    # One revision at a time: a second start leads to the one in progress.
    r = post_form(client, f"/learn/courses/{live_id}/revise", page=f"/learn/courses/{live_id}")
    assert r.location.endswith(f"/learn/courses/{draft_id}/edit")
    assert "该课程已有一个正在进行的修订" in _flash(client, r)
    r = client.get(f"/learn/courses/{live_id}/edit")
    assert r.location.endswith(f"/learn/courses/{draft_id}/edit")
    with app.app_context():
        live = db.session.get(Course, live_id)
        with pytest.raises(courses.CourseError, match="正在进行的修订"):
            courses.start_revision(live, user("trainer"))
        db.session.rollback()

    post_form(client, f"/learn/courses/{draft_id}/edit",
              {"title": "社区协商议事", "summary": "简介", "category": "governance", "level": "beginner",
               "credit_hours": "1"})
    post_form(client, f"/learn/courses/{draft_id}/submit", page=f"/learn/courses/{draft_id}/edit")

    office = app.test_client()
    login(office, "office_c")
    # In review, the revision is not discarded behind the reviewer's back.
    r = post_form(office, f"/learn/courses/{draft_id}/discard-revision", page=f"/learn/courses/{draft_id}/edit")
    assert "修订版正在审核中" in _flash(office, r)
    # A withdrawn course is no longer replaced by its revision.
    post_form(office, f"/learn/courses/{live_id}/review", {"action": "unpublish"}, page=f"/learn/courses/{live_id}")
    r = post_form(office, f"/learn/courses/{draft_id}/review", {"action": "publish", "comment": ""},
                  page=f"/learn/courses/{draft_id}")
    assert "已不再发布" in _flash(office, r)
    with app.app_context():
        assert db.session.get(Course, draft_id) is not None
        assert db.session.get(Lesson, l1).title == "第1讲"


def test_credit_rule_refusal_is_in_chinese(app, client, world):
    live_id, _lessons = _published(app, world)
    login(client, "trainer")
    draft_id = _start(client, live_id)
    post_form(client, f"/learn/courses/{draft_id}/edit",
              {"title": "社区协商议事", "summary": "简介", "category": "governance", "level": "beginner",
               "credit_hours": "2"})
    r = post_form(client, f"/learn/courses/{draft_id}/submit", page=f"/learn/courses/{draft_id}/edit")
    text = _flash(client, r)
    assert "60 分钟" in text and "学时" in text
    with app.app_context():
        assert db.session.get(Course, draft_id).status == "draft"
        assert db.session.get(Course, live_id).credit_hours == Decimal("1")


def test_trainer_discards_a_revision_and_the_live_course_is_unchanged(app, client, world):
    live_id, (l1, _l2, _l3) = _published(app, world)
    login(client, "trainer")
    draft_id = _start(client, live_id)
    copies = _copies(app, draft_id)
    post_form(client, f"/learn/lessons/{copies[l1]}/edit", {"title": "改坏了", "body": "", "minutes": "20"})
    r = post_form(client, f"/learn/courses/{draft_id}/discard-revision", page=f"/learn/courses/{draft_id}/edit")
    assert r.location.endswith(f"/learn/courses/{live_id}")
    assert "修订已放弃" in _flash(client, r)
    with app.app_context():
        assert db.session.get(Course, draft_id) is None
        assert db.session.get(Lesson, l1).title == "第1讲"
    assert _start(client, live_id) != live_id   # a new revision can start


def test_the_quiz_is_revised_on_the_live_exam(app, ctx, world):
    import_shipped_bank()
    subject = db.session.scalar(select(ExamSubject).order_by(ExamSubject.position))
    (sid, topic), _counts = max(quiz.topic_counts(subject.id).items(), key=lambda kv: sum(kv[1].values()))
    course = make_course(slug="rev-quiz", lessons=2, hours="0.5")
    live_quiz = quiz.set_quiz(course, quiz.QuizSettings(subject=db.session.get(ExamSubject, sid), topics=[topic],
                                                        questions=2, pass_percent=60, retries=1))
    office = user("office_c")
    draft = courses.start_revision(course, office)
    assert draft.quiz is not None and draft.quiz.id != live_quiz.id and draft.quiz.max_attempts == 2
    draft_quiz_id = draft.quiz.id
    quiz.set_quiz(draft, quiz.QuizSettings(subject=draft.quiz.subject, topics=[topic], questions=2,
                                           pass_percent=80, retries=None))
    courses.submit_for_review(draft)
    courses.approve_revision(draft, office)
    assert course.quiz.id == live_quiz.id and course.quiz.pass_percent == 80 and course.quiz.max_attempts is None
    assert db.session.get(Exam, draft_quiz_id) is None
