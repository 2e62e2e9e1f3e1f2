"""Issue 12's quiz journey: on a course that carries an end-of-course quiz, a worker studies every
lesson and still has no certificate; fails the quiz, retries with a new paper, passes, and only
then gets the certificate, which says the quiz was passed and with what score."""
import re

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.exams import qtypes
from lms.exams.models import Attempt
from lms.extensions import db
from lms.learning.models import Course, Enrollment

from .conftest import study
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOTS = "/tmp"


def study_every_lesson(page, base, course_id, live_clock):
    """Enrol, then study each lesson for its minimum active time and complete it (the page's
    clock must have been installed before it opened: see conftest.study())."""
    page.goto(f"{base}/learn/courses/{course_id}")
    page.click("#enroll")
    page.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    while True:
        need = int(page.get_attribute("#lesson", "data-required-seconds"))
        study(page, live_clock, need)
        page.click("#complete")
        page.wait_for_load_state()
        if "/learn/courses/" in page.url:
            return


def sit_quiz(page, live_app, right: bool):
    """Answer every question on the quiz page (right, or wrong) and submit."""
    page.wait_for_url(re.compile(r"/mock/attempts/\d+$"))
    page.wait_for_selector("#exam[data-ready='1']")
    with live_app.app_context():
        paper = db.session.get(Attempt, int(page.url.rsplit("/", 1)[1])).paper
    for key, item in paper["items"].items():
        response = qtypes.get(item["type"]).sample_response(item, right)
        if isinstance(response, bool):  # true or false: its two radios
            page.check(f"#q-{key}-{'t' if response else 'f'}")
            continue
        for letter in response:
            page.check(f"#q-{key}-{letter}")
    page.wait_for_selector("#save-indicator[data-pending='0']")
    page.click("#submit-exam")
    page.click("#submit-confirm")  # the page's own dialog, which lists what is still unanswered
    page.wait_for_url(re.compile(r"/result$"))


def test_the_certificate_appears_only_after_the_quiz_is_passed(browser, live_server, live_app, live_clock):
    base = live_server
    with live_app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "casework-basics"))
        course_id, title = course.id, course.title
        assert course.quiz is not None and course.quiz.max_attempts == 3
        enrolled = select(Enrollment.user_id).where(Enrollment.course_id == course_id)
        username = db.session.scalar(select(User.username).where(User.username.like("w0%"), User.active.is_(True),
                                                                 User.id.not_in(enrolled)).order_by(User.username))
    page = new_page(browser, phone=True)
    page.clock.install(time=live_clock.at)  # study time passes without waiting (see conftest.study())
    log_in(page, base, username)
    page.goto(f"{base}/learn/courses/{course_id}")
    assert "课后测验" in page.inner_text("#quiz") and "及格线 60%" in page.inner_text("#quiz-rules")

    study_every_lesson(page, base, course_id, live_clock)
    assert page.inner_text("#progress-pct") == "100%"
    assert page.locator("#certificate").count() == 0 and page.locator("#completed").count() == 0
    assert "通过课后测验即可完成课程" in page.inner_text(".alert-info")
    page.screenshot(path=f"{SHOTS}/quiz-course-390.png", full_page=True)

    page.click("#start-quiz")
    page.wait_for_selector("#exam[data-ready='1']")
    page.screenshot(path=f"{SHOTS}/quiz-take-390.png", full_page=False)
    sit_quiz(page, live_app, right=False)
    assert "未通过" in page.inner_text("#quiz-outcome")
    page.screenshot(path=f"{SHOTS}/quiz-result-failed-390.png", full_page=False)
    page.click("#back-to-course")
    failed = page.inner_text("#quiz-failed")
    assert "0 分" in failed and "还可重考 2 次" in failed
    assert page.locator("#certificate").count() == 0
    page.screenshot(path=f"{SHOTS}/quiz-course-failed-390.png", full_page=True)

    page.click("#start-quiz")  # a new paper
    sit_quiz(page, live_app, right=True)
    assert "课程已完成" in page.inner_text("#quiz-outcome")
    passed_result = page.url
    page.click("#back-to-course")
    assert "已通过，成绩 100 分" in page.inner_text("#quiz-passed")
    assert page.locator("#quiz-attempts tbody tr").count() == 2
    page.click("#certificate")
    page.wait_for_url(re.compile(r"/learn/certificates/\d+$"))
    assert page.inner_text("#certificate-achievement") == "完成学习并通过课后测验（成绩 100 分）"
    statement = page.inner_text("#certificate-statement")
    assert title in statement and "通过课后测验（成绩 100 分）" in statement and "经考核合格" not in statement
    page.screenshot(path=f"{SHOTS}/quiz-certificate-390.png", full_page=True)
    with page.expect_download() as info:
        page.click("#certificate-pdf")
    with open(info.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    cert_url = page.url

    wide = new_page(browser)
    log_in(wide, base, username)
    wide.goto(f"{base}/learn/courses/{course_id}")
    wide.screenshot(path=f"{SHOTS}/quiz-course-1280.png", full_page=True)
    wide.goto(passed_result)
    wide.screenshot(path=f"{SHOTS}/quiz-result-passed-1280.png", full_page=False)
    wide.goto(cert_url)
    wide.screenshot(path=f"{SHOTS}/quiz-certificate-1280.png", full_page=True)
    wide.click("#certificate-card a")  # the verification code opens the public page
    assert "完成学习并通过课后测验（成绩 100 分）" in wide.inner_text("#verified")
    wide.screenshot(path=f"{SHOTS}/quiz-verify-1280.png", full_page=True)
