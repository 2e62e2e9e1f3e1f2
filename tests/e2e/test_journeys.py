"""The main user journeys in a real browser."""
import re

import pytest

from lms.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def log_in(page, base, username):
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")


def open_menu(page):
    """On a phone the menu is an off-canvas panel behind the toggler."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.wait_for_selector("#mainnav.show")


def test_worker_logs_in_sees_chinese_home_switches_to_english_and_logs_out(page, live_server):
    log_in(page, live_server, "w0001")
    page.wait_for_url(re.compile(r"/home$"))
    assert "您好" in page.inner_text("h1")
    assert "社区学堂" in page.title()
    assert page.get_attribute("html", "lang") == "zh-CN"
    open_menu(page)
    page.click("#lang-en")
    page.wait_for_url(re.compile(r"/home$"))
    assert "Welcome" in page.inner_text("h1")
    assert page.get_attribute("html", "lang") == "en"
    open_menu(page)
    page.click("#menu-user")  # 退出 is in the user's menu
    page.click("#logout")
    page.wait_for_url(re.compile(r"/auth/login"))
    assert "You have logged out." in page.inner_text("main")
    page.goto(f"{live_server}/home")
    page.wait_for_url(re.compile(r"/auth/login"))


def test_wrong_password_shows_a_message(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "w0002")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    assert "用户名或密码错误" in page.inner_text("main")


def test_district_office_browses_its_accounts_and_exports(page, live_server):
    log_in(page, live_server, "office_qh")
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(f"{live_server}/accounts/")
    rows = page.locator("#accounts tbody tr")
    assert rows.count() > 0
    with page.expect_download() as info:
        page.click("#export-xlsx")
    import io

    from openpyxl import load_workbook

    with open(info.value.path(), "rb") as f:
        ws = load_workbook(io.BytesIO(f.read())).active
    units = {row[9] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert units and all(code.startswith("QH") for code in units)
