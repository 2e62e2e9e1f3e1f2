"""Issue 17 point 1, 请教一下: a worker asks (anonymously, on a phone), the street office routes the question to an
expert of the 专家智库, the expert answers, and the worker sees the answer and its message. Every page is looked
at (screenshots at 390 and 1280 px) and checked with axe-core (WCAG 2.1 AA)."""
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.ask.models import AskQuestion
from lms.auth.models import User, UserRole
from lms.extensions import db
from lms.library.models import Expert

from .axe import axe_violations
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOTS = Path(os.environ.get("LMS_SCREENSHOTS", "/tmp/lms-ask-shots"))
WORKER = "w0017"
TITLE = "楼道堆物屡劝不改，社区能采取哪些办法？"


def _look(page, name: str) -> None:
    assert axe_violations(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _office_of(username: str) -> str:
    """The nearest office above the worker's unit (its street's)."""
    worker = db.session.scalar(select(User).where(User.username == username))
    offices = db.session.scalars(select(User).where(User.username.like("office_%"),
                                                    User.role_rows.any(UserRole.role == "office"))).all()
    above = [o for o in offices if worker.org_unit.path.startswith(o.org_unit.path)]
    return max(above, key=lambda o: len(o.org_unit.path)).username


def test_a_worker_asks_the_office_routes_an_expert_answers(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        office_name = _office_of(WORKER)
        worker_name = db.session.scalar(select(User.name).where(User.username == WORKER))
        expert = db.session.scalar(select(Expert).where(Expert.name == "钱立群"))
        target = f"expert:{expert.id}"

    # The worker asks, on a phone, anonymously.
    phone = new_page(browser, phone=True)
    log_in(phone, base, WORKER)
    phone.goto(f"{base}/ask/")
    _look(phone, "ask-library-390")
    phone.click("#ask-new")
    phone.fill("#title", TITLE)
    phone.fill("#body", "3 栋楼道里长期堆放纸箱和旧家具，贴过通知、上门劝过，过几天又堆回来。\n\n"
                        "想知道**除了反复劝说**，社区还能联合哪些力量？")
    phone.select_option("#topic", "社区工作")
    phone.check("#anonymous")
    _look(phone, "ask-form-390")
    phone.click("#ask-form button[type=submit]")
    phone.wait_for_url(re.compile(r"/ask/\d+$"))
    qid = int(phone.url.rsplit("/", 1)[1])
    assert phone.inner_text("#question-title") == TITLE
    _look(phone, "ask-question-open-390")

    # The street office routes it to the expert.
    office = new_page(browser)
    log_in(office, base, office_name)
    office.goto(f"{base}/ask/office")
    assert TITLE in office.inner_text("#office-questions")
    _look(office, "ask-office-1280")
    office.click(f"#question-{qid} a")
    assert worker_name in office.inner_text("#asker-unit")  # the office in scope sees who asked
    office.select_option("#target", target)
    _look(office, "ask-manage-1280")
    office.click("#route-form button[type=submit]")
    office.wait_for_url(re.compile(r"/ask/office$"))

    # The expert answers, without ever seeing the asker's name.
    desk = new_page(browser)
    log_in(desk, base, "expert_qianlq")
    desk.goto(f"{base}/ask/")
    desk.click("#ask-to-answer")
    assert TITLE in desk.inner_text("#to-answer") and worker_name not in desk.content()
    _look(desk, "ask-to-answer-1280")
    desk.click(f"#question-{qid} a")
    desk.click("#answer-link")
    assert worker_name not in desk.content()
    desk.fill("#answer", "可以分三步：\n\n1. 联合物业和消防，讲清楼道堆物的**消防风险**；\n"
                         "2. 在居民议事会上商定楼道公约，由楼栋长带头；\n3. 对屡劝不改的，请街道综合执法依法处理。")
    _look(desk, "ask-answer-form-1280")
    desk.click("#answer-form button[type=submit]")
    desk.wait_for_url(re.compile(rf"/ask/{qid}$"))
    assert "消防风险" in desk.inner_text("#answer") and worker_name not in desk.content()

    # The worker sees the answer and the message.
    phone.goto(f"{base}/messages/")
    assert f"您的提问有回答了：{TITLE}" in phone.content()
    phone.goto(f"{base}/ask/{qid}")
    assert "钱立群" in phone.inner_text("#answer-meta") and "消防风险" in phone.inner_text("#answer")
    _look(phone, "ask-question-answered-390")
    phone.goto(f"{base}/ask/mine")
    _look(phone, "ask-mine-390")

    # Another worker finds it in the library, without the asker's name.
    other = new_page(browser, phone=True)
    log_in(other, base, "w0019")
    other.goto(f"{base}/ask/?q=楼道堆物")
    assert TITLE in other.inner_text("#ask-list") and worker_name not in other.content()
    other.goto(f"{base}/ask/{qid}")
    assert worker_name not in other.content()
    other.click("#vote")
    other.wait_for_selector("#vote[disabled]")
    _look(other, "ask-question-voted-390")

    # The office's statistics.
    office.goto(f"{base}/ask/office/stats")
    _look(office, "ask-stats-1280")
    with live_app.app_context():
        q = db.session.get(AskQuestion, qid)
        assert (q.status, q.anonymous, q.votes) == ("answered", True, 1)
