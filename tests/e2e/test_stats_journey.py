"""Issue 6's journey: a district office opens its statistics, drills from the district to a street,
a community and a worker, and downloads the Excel file, which holds the same figures as the page."""
import io
import re

import pytest
from openpyxl import load_workbook

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def page_table(page, table_id):
    """Header and rows of a statistics table as the page shows them."""
    return page.evaluate("""(id) => {
        const t = document.getElementById(id);
        const head = Array.from(t.querySelectorAll('thead th')).map(c => c.textContent.trim());
        const rows = Array.from(t.querySelectorAll('tbody tr')).map(
            r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim()));
        return [head, rows];
    }""", table_id)


def shown(cell) -> str:
    """An Excel cell as the page writes it (the cell's number format says what kind of figure it is)."""
    v = cell.value
    if v is None:
        return "—"
    if cell.number_format == "0.0%":
        return f"{v * 100:.1f}%"
    if cell.number_format == "0.0":
        return f"{v:,.1f}"
    if cell.number_format == "#,##0":
        return f"{int(v):,}"
    return str(v)


def test_district_office_drills_down_and_exports(browser, live_server):
    base = live_server
    page = new_page(browser)
    log_in(page, base, "office_qh")
    page.click("#menu-stats")   # 统计 holds the statistics and the exam preparation of the area
    page.click("#nav-stats")
    page.wait_for_url(re.compile(r"/stats/unit/\d+$"))
    assert "青禾区" in page.inner_text("#stats-heading")
    district_url = page.url
    head, rows = page_table(page, "table-units")
    assert [r[0] for r in rows[1:]] == ["云锦街道", "柳岸街道", "望川街道"]
    assert int(rows[0][1].replace(",", "")) > 0  # the district has workers
    assert page.locator("canvas.stats-chart").count() == 3

    # district → street → community → worker
    page.click("#table-units >> text=云锦街道")
    page.wait_for_url(re.compile(r"/stats/unit/\d+\?year=\d{4}$"))
    assert "云锦街道" in page.inner_text("#stats-heading")
    assert "青禾区" in page.inner_text("#stats-crumbs")
    _h, street_rows = page_table(page, "table-units")
    assert [r[0] for r in street_rows[1:]] == ["桂香社区", "枫林社区", "和平社区", "芙蓉社区"]
    page.click("#table-units >> text=桂香社区")
    page.wait_for_url(re.compile(r"/stats/unit/\d+/workers\?year=\d{4}$"))
    _h, workers = page_table(page, "table-workers")
    assert workers and all(w[1].startswith("w") for w in workers)
    assert len(workers) == int(street_rows[1][1])  # the community's row counted exactly these workers
    name = workers[0][0]
    page.click(f"#table-workers >> text={name}")
    page.wait_for_url(re.compile(r"/stats/worker/\d+\?year=\d{4}$"))
    assert name in page.inner_text("#stats-heading")
    assert page.locator("#learning-record").get_attribute("href").startswith("/learn/progress/")
    for table in ("table-courses", "table-classes", "table-credits", "table-exams"):
        assert page.locator(f"#{table}").count() == 1

    # back to the district, and its Excel file holds the page's figures
    page.click("#stats-crumbs >> text=青禾区")
    page.wait_for_url(re.compile(r"/stats/unit/\d+\?year=\d{4}$"))
    assert page.url.split("?")[0] == district_url
    head, rows = page_table(page, "table-units")
    with page.expect_download() as info:
        page.click("#export-units-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    with open(info.value.path(), "rb") as f:
        wb = load_workbook(io.BytesIO(f.read()))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == head
    sheet_rows = [[shown(c) for c in row] for row in ws.iter_rows(min_row=2)]
    assert sheet_rows == rows
    assert len(wb.sheetnames) == 2  # and a sheet saying what the figures cover

    # the community's list of workers exports too, with the same figures
    page.goto(f"{base}/stats/unit/{district_url.rsplit('/', 1)[1]}")
    page.click("#table-units >> text=云锦街道")
    page.click("#table-units >> text=桂香社区")
    head, rows = page_table(page, "table-workers")
    with page.expect_download() as info:
        page.click("#export-workers-xlsx")
    with open(info.value.path(), "rb") as f:
        ws = load_workbook(io.BytesIO(f.read())).worksheets[0]
    assert [c.value for c in ws[1]] == head
    assert [[shown(c) for c in row] for row in ws.iter_rows(min_row=2)] == rows
