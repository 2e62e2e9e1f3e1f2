"""Issue 4's journey: a street office runs a class at a base; workers register and check in
from their phones with the rotating code, or scan the QR code while logged out and log in
(issue 12); 我的培训 shows the sessions attended; the roster exports to Excel."""
import io
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from lms.demo import DEMO_PASSWORD
from lms.util import utc_to_local

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def add_session(page, base, training_url, start, minutes, hours):
    end = start + timedelta(minutes=minutes)
    if end.date() != start.date():
        end = start.replace(hour=23, minute=59)
    page.goto(training_url)
    page.click("#add-sessions")
    page.fill("#date", start.strftime("%Y-%m-%d"))
    page.fill("#start", start.strftime("%H:%M"))
    page.fill("#end", end.strftime("%H:%M"))
    page.fill("#credit_hours", hours)
    page.select_option("#place_kind", "base")
    page.select_option("#base_id", index=1)
    page.fill("#weeks", "1")
    page.click("#save-session")
    page.wait_for_url(re.compile(r"/training/\d+$"))


def check_in(page, base, code, session_label):
    page.goto(f"{base}/training/checkin")
    page.select_option("#session_id", label=session_label)
    page.fill("#code", code)
    page.click("#checkin-submit")
    return page.inner_text("main")


def qr_link(office, base, training_url, n):
    """The link in the QR code on session n's projector screen, as a phone's camera reads it."""
    office.goto(training_url)
    office.click(f"#screen-{n}")
    office.wait_for_selector("#checkin-qr[src^='data:image/svg+xml']")
    return office.request.get(base + office.get_attribute("#checkin-screen", "data-url")).json()["link"]


def scan_logged_out_then_log_in(browser, base, link, username):
    """A phone that is not logged in scans the QR code, lands on the login page and logs in."""
    phone = new_page(browser, phone=True)
    phone.goto(link)
    phone.wait_for_url(re.compile(r"/auth/login\?next="))
    assert "请登录完成签到" in phone.inner_text("main")
    phone.fill("#username", username)
    phone.fill("#password", DEMO_PASSWORD)
    phone.click("#login-submit")
    phone.wait_for_url(re.compile(r"/training/checkin$"))
    return phone


def screenshot(page, name):
    folder = os.environ.get("LMS_SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_street_office_class_with_checkin_and_export(browser, live_server, live_clock):
    # The server's clock held still for the journey, at the moment the demo city was seeded around (the
    # wall clock, read once), moved past 00:20 Shanghai time when it is earlier: the session that started
    # 15 minutes ago must be on the same day (run between 00:00 and 00:15, the journey failed).
    moment = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    local = utc_to_local(moment)
    if local.hour == 0 and local.minute < 20:
        moment += timedelta(minutes=20 - local.minute)
    live_clock.set(moment)
    base = live_server
    office = new_page(browser)
    log_in(office, base, "office_qh01")
    office.goto(f"{base}/training/new")
    office.fill("#title", "楼栋长议事能力提升班")
    office.fill("#capacity", "30")
    office.click("#save-training")
    office.wait_for_url(re.compile(r"/training/\d+$"))
    training_url = office.url
    now = utc_to_local(live_clock()).replace(second=0, microsecond=0)
    add_session(office, base, training_url, now + timedelta(minutes=2), 90, "2")    # check-in: present
    add_session(office, base, training_url, now - timedelta(minutes=15), 60, "1.5")  # grace over: late
    assert office.locator("#sessions tbody tr").count() == 2

    workers = {}
    for username in ("w0025", "w0026"):
        worker = new_page(browser, phone=True)
        log_in(worker, base, username)
        worker.goto(f"{base}/training/open")
        worker.click("#open-classes >> text=楼栋长议事能力提升班")
        worker.click("#register")
        assert "您已报名" in worker.inner_text("#reg-status")
        workers[username] = worker

    office.goto(training_url)
    labels = {}
    for n in (1, 2):
        office.goto(training_url)
        time_text = office.inner_text(f"#sessions tbody tr >> nth={n - 1} >> td >> nth=0")
        labels[n] = f"楼栋长议事能力提升班 {time_text.split(' ')[1][:5]}"
    # sessions are listed by start: row 1 is the one that started 15 minutes ago
    late_label, present_label = labels[1], labels[2]

    office.goto(training_url)
    office.click("#screen-2")
    office.wait_for_selector("#checkin-qr[src^='data:image/svg+xml']")
    code = office.inner_text("#checkin-code").strip()
    assert re.fullmatch(r"\d{6}", code)
    text = check_in(workers["w0025"], base, code, present_label)
    assert "签到成功" in text and "迟到" not in text
    screenshot(workers["w0025"], "checkin-present-390.png")

    office.goto(training_url)
    office.click("#screen-1")
    office.wait_for_selector("#checkin-qr[src^='data:image/svg+xml']")
    code = office.inner_text("#checkin-code").strip()
    text = check_in(workers["w0026"], base, code, late_label)
    assert "已签到（迟到）" in text
    screenshot(workers["w0026"], "checkin-late-390.png")

    # Another phone, not logged in, scans the QR code; the worker logs in and is checked in.
    phone = scan_logged_out_then_log_in(browser, base, qr_link(office, base, training_url, 2), "w0026")
    assert "签到成功" in phone.inner_text("#checkin-result")
    screenshot(phone, "checkin-after-login-390.png")
    phone = scan_logged_out_then_log_in(browser, base, qr_link(office, base, training_url, 1), "w0025")
    assert "已签到（迟到）" in phone.inner_text("#checkin-result")
    phone.click("#to-my-classes")  # 我的培训: both sessions attended, the one under way too
    assert phone.locator("#upcoming [data-state='present']").count() == 1
    assert phone.locator("#upcoming [data-state='late']").count() == 1
    screenshot(phone, "my-classes-390.png")

    office.goto(training_url)
    with office.expect_download() as info:
        office.click("#export-roster")
    with open(info.value.path(), "rb") as f:
        ws = load_workbook(io.BytesIO(f.read())).active
    header = [c.value for c in ws[1]]
    rows = {row[1]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"w0025", "w0026"}
    assert header[:4] == ["姓名", "用户名", "社区", "报名状态"]
    assert rows["w0025"][3] == "已报名" and rows["w0026"][3] == "已报名"
    assert rows["w0025"][4] == "迟到" and rows["w0025"][5] == "出勤"   # column 5: the later session
    assert rows["w0026"][4] == "迟到" and rows["w0026"][5] == "出勤"
