"""Issue 14 point 4: a trainer improves a published course (修订). The published version stays live
while the revision is written and reviewed; on approval it replaces the live version and a worker
who is halfway through keeps the lessons she completed."""
import re

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.extensions import db
from lms.learning.models import Course, Enrollment, LessonProgress

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SLUG = "volunteers-and-community-organisations"  # authored by 刘静 (trainer_liuj); no other journey uses it


def _mid_course_worker(app) -> tuple[int, str, int, int]:
    """The course, a demo worker who completed its first lesson but not the course, and her progress row."""
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == SLUG))
        first = course.lessons[0]
        row = db.session.execute(
            select(Enrollment.user_id, LessonProgress.id)
            .join(LessonProgress, LessonProgress.user_id == Enrollment.user_id)
            .where(Enrollment.course_id == course.id, Enrollment.completed_at.is_(None),
                   LessonProgress.lesson_id == first.id, LessonProgress.completed_at.is_not(None),
                   Enrollment.user.has(active=True))
            .order_by(Enrollment.user_id)).first()
        assert row is not None, "the demo city has a worker halfway through the course"
        return course.id, db.session.get(User, row[0]).username, first.id, row[1]


def test_trainer_revises_a_published_course(browser, live_server, live_app):
    base = live_server
    course_id, worker_name, first_lesson_id, progress_id = _mid_course_worker(live_app)
    course_url = f"{base}/learn/courses/{course_id}"

    trainer = new_page(browser)
    log_in(trainer, base, "trainer_liuj")
    trainer.goto(course_url + "/edit")  # a published course: told to start a revision, not refused
    trainer.wait_for_url(re.compile(rf"/learn/courses/{course_id}(#revise)?$"))
    assert trainer.locator(".alert", has_text="发起修订").count() == 1
    trainer.click("#start-revision")
    trainer.wait_for_url(re.compile(r"/learn/courses/\d+/edit$"))
    draft_url = trainer.url.removesuffix("/edit")
    assert draft_url != course_url
    assert "修订版" in trainer.inner_text("#revision-note")

    trainer.click("#lesson-list li >> nth=0 >> a")
    trainer.fill("#title", "志愿者的招募与管理（修订）")
    trainer.click("#save-lesson")
    trainer.wait_for_url(re.compile(r"/edit$"))
    trainer.click("#add-lesson")
    trainer.fill("#title", "案例复盘：一支楼栋志愿队的成长")
    trainer.fill("#minutes", "20")
    trainer.fill("#body", "复盘桂香社区楼栋志愿队从三人到三十人的两年。")
    trainer.click("#save-lesson")
    trainer.wait_for_url(re.compile(r"/edit$"))
    assert trainer.locator("#lesson-list li").count() == 4
    trainer.click("#submit-review")
    trainer.wait_for_url(re.compile(r"/learn/courses/\d+$"))
    assert "审核中" in trainer.inner_text("#course-status")

    # Meanwhile the worker studies the published version; the revision does not exist for her.
    worker = new_page(browser, phone=True)
    log_in(worker, base, worker_name)
    worker.goto(course_url)
    assert "案例复盘" not in worker.inner_text("#lessons") and "（修订）" not in worker.inner_text("#lessons")
    assert worker.goto(draft_url).status == 404

    office = new_page(browser)
    log_in(office, base, "office_city")
    office.goto(f"{base}/learn/review")
    entry = office.locator("#review-queue a", has_text="志愿服务与社区社会组织培育")
    assert "修订版" in entry.inner_text()
    entry.click()
    assert "审核通过，替换已发布版本" in office.inner_text("#publish")
    office.fill("#review-comment-input", "案例补充得好。")
    office.click("#publish")
    office.wait_for_url(re.compile(rf"/learn/courses/{course_id}$"))
    assert "修订版已通过审核" in office.inner_text(".alert-success")
    assert office.goto(draft_url).status == 404

    worker.goto(course_url)
    lessons = worker.inner_text("#lessons")
    assert "志愿者的招募与管理（修订）" in lessons and "案例复盘：一支楼栋志愿队的成长" in lessons
    worker.goto(f"{base}/learn/lessons/{first_lesson_id}")  # the same lesson, under its new title
    assert "（修订）" in worker.inner_text("h1")
    with live_app.app_context():
        row = db.session.get(LessonProgress, progress_id)
        assert row is not None and row.lesson_id == first_lesson_id and row.completed_at is not None
