"""Issue 16 point 3: a worker's mistakes come back the next day; from the mistakes book they start today's
review, answer each question, see the explanation and when it comes back, and end on the summary. On a
phone and on a desktop, every page without an axe-core (WCAG 2.1 AA) violation."""
import os
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from lms.auth.models import User
from lms.exams import practice
from lms.exams.models import ExamSubject, Mistake, Question
from lms.extensions import db
from lms.transaction import unit

from .axe import axe_violations
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOTS = Path(os.environ.get("LMS_SCREENSHOTS", "/tmp/lms-review-shots"))
WORKER = "w0433"


def _look(page, name: str) -> None:
    assert axe_violations(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_todays_review_from_the_mistakes_book(browser, live_server, live_app, live_clock):
    base = live_server
    with live_app.app_context(), unit():
        user = db.session.scalar(select(User).where(User.username == WORKER))
        subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
        questions = db.session.scalars(select(Question).where(
            Question.subject_id == subject.id, Question.type == "single", Question.status == "active",
            Question.parent_id.is_(None)).order_by(Question.id).limit(3)).all()
        db.session.execute(delete(Mistake).where(Mistake.user_id == user.id))  # the demo's own mistakes
        for q in questions:
            practice.answer(user, q, "B" if q.answer != ["B"] else "C")
        answers = {q.id: q.answer[0] for q in questions}
    live_clock.advance(days=1)

    page = new_page(browser, phone=True)
    log_in(page, base, WORKER)
    page.goto(f"{base}/mock/mistakes")
    assert "开始今天的复习（3）" in page.inner_text("#start-review")
    _look(page, "mistakes-390")
    page.click("#review-all")
    page.wait_for_selector("#review-form")
    _look(page, "review-question-390")
    for n in range(3):
        qid = int(page.get_attribute("#review-form input[name=question]", "value"))
        choice = answers[qid] if n < 2 else ("B" if answers[qid] != "B" else "C")
        page.check(f"#c-{choice}")
        page.click("#review-submit")
        page.wait_for_selector("#practice-feedback")
        schedule = page.inner_text("#review-schedule")
        assert ("天后再复习" in schedule) if n < 2 else ("明天再复习" in schedule)
        if n == 0:
            _look(page, "review-feedback-390")
        page.click("#review-next")
    page.wait_for_selector("#review-done")
    assert page.inner_text("#reviewed-today") == "3" and page.inner_text("#right-today") == "2"
    _look(page, "review-done-390")
    page.context.close()

    desk = new_page(browser)
    log_in(desk, base, WORKER)
    desk.goto(f"{base}/mock/mistakes")
    _look(desk, "mistakes-1280")
    desk.goto(f"{base}/prep/review")
    desk.wait_for_selector("#review-done")
    _look(desk, "review-done-1280")
    live_clock.advance(days=1)  # tomorrow: the one answered wrongly is back
    desk.goto(f"{base}/prep/review")
    desk.wait_for_selector("#review-form")
    _look(desk, "review-question-1280")
    desk.context.close()
