"""Issue 16 point 4: a worker makes a plan to the exam date on a phone and on a laptop; the plan page, its
calendar and the stop page pass axe-core (WCAG 2.1 AA). Screenshots go to $LMS_SCREENSHOTS when it is set."""
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.exams.models import ExamSubject
from lms.extensions import db

from .axe import assert_accessible
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _shot(page, name: str) -> None:
    folder = os.environ.get("LMS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_a_worker_makes_a_plan_and_reads_its_calendar(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        sid = db.session.scalar(select(ExamSubject.id).where(ExamSubject.code == "junior-general"))
    for phone in (True, False):
        page = new_page(browser, phone=phone)
        log_in(page, base, "w0002" if phone else "w0003")
        page.goto(f"{base}/prep/plan/{sid}")
        assert page.input_value("#exam_date")          # the usual exam date, filled in
        page.fill("#minutes", "5")
        page.click("#plan-form button[type=submit]")
        assert "10 到 240 分钟" in page.inner_text("#plan-form")
        assert_accessible(page, "the plan form with an error")
        page.fill("#minutes", "30")
        page.click("#plan-form button[type=submit]")
        page.wait_for_selector("#plan-calendar")
        assert page.locator("#on-track-reason").inner_text().startswith("到今天应掌握考试权重的")
        assert page.locator("#today-tasks li").count() >= 1
        # The calendar fits the phone's width: no sideways scrolling of the page.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert_accessible(page, "the plan page")
        _shot(page, f"plan-{390 if phone else 1280}")
        page.click("#stop-link")
        page.wait_for_selector("#stop-form")
        assert_accessible(page, "the stop page")
        _shot(page, f"plan-stop-{390 if phone else 1280}")
        page.click("#stop-confirm")
        page.wait_for_selector("#plan-form")
        assert page.locator("#plan-calendar").count() == 0
        page.context.close()
