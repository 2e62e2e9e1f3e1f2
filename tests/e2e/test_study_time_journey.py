"""Issue 12's study-time journey: a worker presses "complete" too early and is told how long
remains; idle time pauses behind a "继续学习?" prompt and does not count; after studying long
enough the lesson completes, and the course with it. Time is injected on both sides (the live
server's clock and the page's timers), so nothing waits."""
import os
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.database import utcnow
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.learning.models import Course, Lesson, LessonProgress
from lms.learning.search import reindex

from .conftest import shown, study

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder outside the repo, e.g. /tmp/shots


def shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def make_course(app) -> int:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "study-time-journey"))
        if course is None:
            course = Course(slug="study-time-journey", title="入户走访记录要点", summary="走访前准备、记录与回访",
                            category="methods", level="beginner", credit_hours=Decimal("0.5"), status="published",
                            published_at=utcnow())
            course.lessons = [
                Lesson(
                    slug="l1",
                    position=1,
                    title="第一讲 走访前的准备",
                    minutes=10,
                    body="## 走访前\n\n" + "\n\n".join(f"{i}. 核对居民基本信息，准备走访提纲。" for i in range(1, 40)),
                ),
                Lesson(
                    slug="l2",
                    position=2,
                    title="第二讲 记录与回访",
                    minutes=10,
                    min_minutes=2,
                    body="记录要写清时间、地点、诉求和承诺的回访日期。",
                ),
            ]
            reindex(course)
            db.session.add(course)
            db.session.commit()
        return course.id


def test_a_lesson_completes_only_after_its_minimum_study(browser, live_server, live_app, live_clock, monkeypatch):
    monkeypatch.setitem(live_app.config, "STUDY_IDLE_MINUTES", 1)  # the prompt after one idle minute
    course_id = make_course(live_app)
    base = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.clock.install(time=live_clock.at)
    beats = []
    page.on("request", lambda r: beats.append(r.url) if r.url.endswith("/beat") else None)

    page.goto(f"{base}/auth/login")
    page.fill("#username", "w0011")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(f"{base}/learn/courses/{course_id}")
    page.click("#enroll")
    page.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    lesson_url = page.url
    assert "第一讲" in page.inner_text("h1")
    status = page.inner_text("#study-status")
    assert "完成本节至少需有效学习 8 分钟" in status and "还需学习 8 分钟" in status

    # Pressing "complete" at once is refused, saying how long remains. The page opens again; its opening
    # beat (a start, which credits nothing) is awaited here as below, so that the four minutes of study
    # are credited beat by beat.
    with page.expect_response(lambda r: r.url.endswith("/beat")):
        page.click("#complete")
        page.wait_for_url(lesson_url)
        page.clock.run_for(1000)  # the page's first tick, if it has not come yet
    assert "本节至少需要有效学习 8 分钟，您已学习 0 秒，还需 8 分钟。" in page.inner_text(".alert")
    assert "第一讲" in page.inner_text("h1")

    study(page, live_clock, 4 * 60)
    # Every beat credited its 30 s (the reopened page's start beat, awaited above, credits nothing).
    studied = page.inner_text("#study-seconds")
    assert studied == "4 分钟", studied
    assert page.inner_text("#study-remaining") == "还需学习 4 分钟"
    shot(page, "lesson-390.png")

    # Away from the keyboard: after the idle minute the prompt pauses counting; nothing is sent.
    page.clock.run_for(31_000)  # a minute and a tick after the last pointer move
    dialog = page.locator("#idle-dialog")
    assert dialog.is_visible() and "继续学习？" in dialog.inner_text()
    sent = len(beats)
    live_clock.advance(minutes=20)
    page.clock.run_for(20 * 60_000)
    assert len(beats) == sent and not page.locator("#study-paused").is_hidden()
    shot(page, "lesson-idle-390.png")
    with page.expect_response(lambda r: r.url.endswith("/beat")) as beat:
        page.click("#idle-continue")
    assert not dialog.is_visible()
    assert shown(page, beat.value)["seconds_text"] == studied  # the time away did not count

    # still four minutes short: refused, and the page opens again; its opening beat (a start, which
    # credits nothing) is awaited here, so that the study below is credited beat by beat
    with page.expect_response(lambda r: r.url.endswith("/beat")):
        page.click("#complete")
        page.wait_for_url(lesson_url)
        page.clock.run_for(1000)  # the page's first tick, if it has not come yet
    assert "还需 4 分钟" in page.inner_text(".alert")

    # Half a minute more than needed.
    study(page, live_clock, 4 * 60 + 30)
    assert "已达到最低学习时长" in page.inner_text("#study-remaining")
    with live_app.app_context():
        spent = db.session.scalar(select(LessonProgress.seconds_spent).join(Lesson).where(
            Lesson.course_id == course_id, Lesson.position == 1))
    assert spent == 8 * 60 + 30  # what was studied, and nothing for the idle 20 minutes

    page.click("#complete")
    page.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    assert "第二讲" in page.inner_text("h1")
    assert "还需学习 2 分钟" in page.inner_text("#study-status")  # this short text sets its own minimum
    study(page, live_clock, 2 * 60)
    page.click("#complete")
    page.wait_for_selector("#completed")
    assert "0.5 学时" in page.inner_text("#completed")

    # The same lesson on a desktop screen, for the record.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    desk.goto(f"{base}/auth/login")
    desk.fill("#username", "w0011")
    desk.fill("#password", DEMO_PASSWORD)
    desk.click("#login-submit")
    desk.wait_for_url(re.compile(r"/home$"))
    desk.goto(lesson_url)
    assert "本课节已学完" in desk.inner_text("#study-remaining")
    shot(desk, "lesson-1280.png")
    desk.context.close()

    # The city office sees the worker's active time, lesson by lesson.
    with live_app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "w0011"))
    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    office.goto(f"{base}/auth/login")
    office.fill("#username", "office_city")
    office.fill("#password", DEMO_PASSWORD)
    office.click("#login-submit")
    office.wait_for_url(re.compile(r"/home$"))
    office.goto(f"{base}/learn/progress/{uid}")
    office.click(f"#lesson-times-{course_id} summary")
    rows = office.locator(f"#lesson-times-{course_id} tbody tr")
    assert "8 分钟" in rows.nth(0).inner_text() and "已完成" in rows.nth(0).inner_text()
    assert "2 分钟" in rows.nth(1).inner_text()
    shot(office, "office-progress-1280.png")
    office.context.close()
    context.close()
