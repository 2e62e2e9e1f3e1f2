"""Issue 17's allowance journey: a district office opens its allowance roster (from the menu on a laptop, by
address on a phone), exports it, the file downloads and its rows are the page's; the roster, the policy versions
and a worker's page are axe-core clean. Screenshots go to $LMS_SCREENSHOT_DIR when it is set."""
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .axe import assert_accessible
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
KINDS = {"月度津贴": "monthly", "一次性奖励": "reward", "补差": "adjustment"}


def _shot(page, name: str) -> None:
    folder = os.environ.get("LMS_SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def _fits(page, width: int) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1


def test_an_office_opens_and_exports_the_allowance_roster(browser, live_server):
    for phone, width in ((False, 1280), (True, 390)):
        page = new_page(browser, phone=phone)
        log_in(page, live_server, "office_jp")
        if phone:
            page.goto(f"{live_server}/allowances/")
        else:
            page.click("#menu-stats")
            page.click("#nav-allowances-index")
        assert "津贴与奖励" in page.inner_text("#allowances-heading")
        assert "锦屏区" in page.inner_text("#policy-in-force")     # the district's own version overrides the city's
        rows = page.locator("#roster-table tbody tr.roster-row")
        assert rows.count() > 0
        shown = sorted((r.get_attribute("data-kind"), r.get_attribute("data-username"),
                        int(r.get_attribute("data-amount") or 0)) for r in rows.all())
        assert {k for k, _u, _a in shown} >= {"monthly", "reward"}
        with page.expect_download() as info:
            page.click("#export-roster")
        download = info.value
        assert download.suggested_filename.endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).worksheets[0]
        lines = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[2]]
        assert sorted((KINDS[r[0]], r[2], r[5]) for r in lines) == shown
        total = next(r[5] for r in sheet.iter_rows(min_row=2, values_only=True) if r and r[0] == "合计")
        assert total == sum(a for _k, _u, a in shown) == int(page.inner_text("#total-all").replace(",", ""))
        page.click("#roster-rules summary")
        assert_accessible(page, f"the allowance roster at {width} px")
        _shot(page, f"allowances-roster-{width}.png")
        _fits(page, width)

        page.click("#policies-link")
        assert page.locator("#policy-table tbody tr").count() >= 2    # the city's and the district's
        assert_accessible(page, f"the allowance policies at {width} px")
        _shot(page, f"allowances-policies-{width}.png")
        _fits(page, width)

        page.goto(f"{live_server}/allowances/")
        page.locator("#roster-table tbody tr.roster-row th a").first.click()
        assert page.locator("#awards li").count() >= 1
        assert_accessible(page, f"a worker's allowances at {width} px")
        _shot(page, f"allowances-worker-{width}.png")
        _fits(page, width)
        page.context.close()
