"""Issue 17's white paper in a browser: a district office opens the White paper tab of its statistics, reads
the year-on-year change the demo's snapshot of last year gives it, on a desktop and a phone (axe clean), and
downloads the PDF."""
import re

import pytest

from .axe import assert_accessible
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.mark.parametrize("phone", [False, True])
def test_district_office_reads_and_downloads_its_white_paper(browser, live_server, phone):
    page = new_page(browser, phone=phone)
    log_in(page, live_server, "office_qh")
    page.goto(f"{live_server}/stats/")
    page.wait_for_url(re.compile(r"/stats/unit/\d+"))
    page.click("#tab-whitepaper")
    page.wait_for_url(re.compile(r"/stats/unit/\d+/whitepaper(\?year=\d{4})?$"))
    assert "青禾区社区工作者白皮书" in page.inner_text("#wp-title")
    workforce = page.inner_text("#wp-workforce")
    assert re.search(r"持证比例(提高|下降) \d+\.\d 个百分点", workforce), workforce[:400]
    assert "人次" in page.inner_text("#wp-training")
    assert page.locator("#table-whitepaper_units tbody tr").count() >= 2  # the total and the streets
    assert_accessible(page, "white paper")
    with page.expect_download() as info:
        page.click("#wp-pdf")
    assert re.fullmatch(r"whitepaper-\w+-\d{4}\.pdf", info.value.suggested_filename)
    with open(info.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
