"""Issue 3's journey: trainer writes → office returns → trainer fixes → office publishes →
worker finds it by a Chinese word, studies it, earns 学时 and a verifiable certificate."""
import re
from decimal import Decimal

import pytest

from lms.demo import DEMO_PASSWORD

from .conftest import study

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def new_page(browser, phone=False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def log_in(page, base, username):
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/home$"))


def test_course_from_writing_to_certificate(browser, live_server, live_clock):
    base = live_server
    trainer = new_page(browser)
    log_in(trainer, base, "trainer_liuj")
    trainer.goto(f"{base}/learn/studio/new")
    trainer.fill("#title", "楼栋垃圾分类督导实务")
    trainer.fill("#summary", "如何组织楼栋志愿者开展垃圾分类督导")
    trainer.select_option("#category", "governance")
    trainer.fill("#credit_hours", "1.5")
    trainer.fill("#description", "## 学习目标\n掌握**垃圾分类**督导的组织方法。")
    trainer.wait_for_selector("#description-preview strong")  # the live preview renders on the server
    trainer.click("#save-course")
    trainer.wait_for_url(re.compile(r"/edit$"))
    for n, text in ((1, "第一讲：动员楼栋志愿者，排好督导班次。"), (2, "第二讲：定时定点投放，做好桶边督导记录。")):
        trainer.click("#add-lesson")
        trainer.fill("#title", f"第{n}讲")
        trainer.fill("#minutes", "35")  # 2 × 35 minutes cover the 1.5 学时 (45 minutes each)
        if n == 1:
            trainer.fill("#min_minutes", "2")  # a short text: two minutes of study complete it
        trainer.fill("#body", text)
        trainer.click("#save-lesson")
        trainer.wait_for_url(re.compile(r"/edit$"))
    assert trainer.locator("#lesson-list li").count() == 2
    trainer.click("#submit-review")
    trainer.wait_for_url(re.compile(r"/learn/courses/\d+$"))
    assert "审核中" in trainer.inner_text("#course-status")
    course_url = trainer.url

    office = new_page(browser)
    log_in(office, base, "office_city")
    office.goto(f"{base}/learn/review")
    office.click("text=楼栋垃圾分类督导实务")
    office.fill("#review-comment-input", "请在第一讲补充一个真实的社区案例。")
    office.click("#return")
    assert "已退回" in office.inner_text("#course-status")

    trainer.goto(course_url + "/edit")
    assert "请在第一讲补充一个真实的社区案例" in trainer.inner_text("#review-comment")
    trainer.click("#lesson-list li >> nth=0 >> a")
    trainer.fill("#body", "第一讲：动员楼栋志愿者。案例：桂香社区3栋的督导小组每天早晚各值守一小时。")
    trainer.click("#save-lesson")
    trainer.wait_for_url(re.compile(r"/edit$"))
    trainer.click("#submit-review")

    office.goto(course_url)
    office.click("#publish")
    office.wait_for_selector(".alert-success")
    assert office.locator("#course-status").count() == 0  # published: no status badge

    worker = new_page(browser, phone=True)
    worker.clock.install(time=live_clock.at)  # study time passes without waiting (see study())
    log_in(worker, base, "w0007")
    worker.goto(f"{base}/learn/mine")
    hours_before = Decimal(worker.inner_text("#hours-total"))  # the demo city has a year of history
    worker.goto(f"{base}/learn/")
    worker.fill("#q", "垃圾分类")
    worker.click("#search-submit")
    worker.click("#course-list >> text=楼栋垃圾分类督导实务")
    worker.click("#enroll")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    assert "第1讲" in worker.inner_text("h1")
    study(worker, live_clock, 2 * 60)
    worker.click("#complete")
    worker.wait_for_url(re.compile(r"/learn/lessons/\d+$"))
    assert "第2讲" in worker.inner_text("h1")
    study(worker, live_clock, 28 * 60)  # 80 % of its 35 minutes
    worker.click("#complete")
    worker.wait_for_selector("#completed")
    assert worker.inner_text("#progress-pct") == "100%"
    assert "1.5 学时" in worker.inner_text("#completed")
    worker.goto(f"{base}/learn/mine")
    assert Decimal(worker.inner_text("#hours-total")) == hours_before + Decimal("1.5")
    worker.goto(course_url)
    worker.click("#certificate")  # the certificate page, then its PDF
    assert worker.inner_text("#certificate-achievement") == "完成学习"  # no quiz: nothing was assessed
    with worker.expect_download() as info:
        worker.click("#certificate-pdf")
    download = info.value
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    code = re.search(r"certificate-(\w+)\.pdf", download.suggested_filename).group(1)

    public = new_page(browser, phone=True)
    public.goto(f"{base}/learn/verify/{code}")
    verified = public.inner_text("#verified")
    assert "该证书真实有效" in verified and "楼栋垃圾分类督导实务" in verified and "1.5" in verified
    assert "完成学习" in verified and "考核" not in verified and "测验" not in verified
