"""Issue 14 point 3 in Chromium, on a phone: the course page says where to continue and what
remains; completing a lesson (by the button or by reading to the end) says what was done and what
is next; completing the course names its 学时 and links to the certificate, also from 我的学习."""
import re
from decimal import Decimal

import pytest

from lms.database import utcnow
from lms.extensions import db
from lms.learning.models import Course, Lesson
from lms.learning.search import reindex

from .conftest import study
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BODY = "\n\n".join(f"第{i}段：入户走访前先了解家庭情况，走访后及时记录服务需求。" for i in range(1, 41))


def _course(app) -> int:
    with app.app_context():
        course = Course(slug="e2e-continue", title="入户走访实务", summary="走访的准备、沟通与记录",
                        category="methods", level="beginner", credit_hours=Decimal("0.5"), status="published",
                        published_at=utcnow())
        for n in (1, 2, 3):
            course.lessons.append(Lesson(slug=f"l{n}", position=n, title=f"走访第{n}步", body=BODY, minutes=10,
                                         min_minutes=1))
        reindex(course)
        db.session.add(course)
        db.session.commit()
        return course.id


def test_continue_feedback_and_certificate_on_a_phone(browser, live_server, live_app, live_clock):
    base, course_id = live_server, _course(live_app)
    worker = new_page(browser, phone=True)
    worker.clock.install(time=live_clock.at)
    log_in(worker, base, "w0013")  # a worker no other journey studies with
    worker.goto(f"{base}/learn/courses/{course_id}")
    worker.click("#enroll")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    # One way forward: the complete button; the next lesson is a plain link named by its title.
    assert worker.inner_text("#complete") == "完成本节，学习下一节"
    assert worker.locator("#lesson-nav .btn").count() == 1
    assert "下一节：走访第2步" in worker.inner_text("#next-lesson")

    study(worker, live_clock, 60)
    worker.click("#complete")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    assert "已学完“走访第1步”。接下来学习“走访第2步”。" in worker.inner_text(".alert-success")
    study(worker, live_clock, 30)  # a little of lesson 2, then away

    worker.goto(f"{base}/learn/courses/{course_id}")
    assert worker.inner_text("#continue").strip() == "继续学习：走访第2步"
    assert worker.inner_text("#remaining") == "还有 2 节未完成，约需学习 20 分钟。"  # 9½ + 10 minutes, rounded up
    worker.click("#continue")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    study(worker, live_clock, 60)
    # Reading to the end completes the lesson: a sentence and a link, not a bare tick.
    worker.mouse.wheel(0, 20000)
    worker.wait_for_selector("#lesson-done-auto")
    assert "已学完“走访第2步”。接下来学习“走访第3步”。" in worker.inner_text("#lesson-done-auto")
    worker.click("#lesson-done-auto a")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    assert "走访第3步" in worker.inner_text("h1")

    study(worker, live_clock, 60)
    worker.click("#complete")
    worker.wait_for_url(re.compile(rf"/learn/courses/{course_id}$"))
    message = worker.inner_text(".alert-success")
    assert "课程已完成" in message and "0.5 学时已计入您" in message  # by the button or by reaching the end
    worker.click(".alert-success >> text=查看结业证书")
    worker.wait_for_url(re.compile(r"/learn/certificates/\d+$"))
    assert "入户走访实务" in worker.inner_text("main")
    worker.goto(f"{base}/learn/mine")
    links = worker.locator(".certificate-links a", has_text="查看结业证书")
    assert links.count() >= 1
    worker.goto(f"{base}/learn/courses/{course_id}")
    assert worker.locator("#continue").count() == 0 and worker.locator("#certificate").count() == 1
