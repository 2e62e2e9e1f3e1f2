"""Issue 15's journey: a district office exports more accounts than a request makes; the export link
opens a page with a progress bar, a real worker (`flask --app wsgi worker` on Huey's SQLite storage)
makes the file, the page's script sees it end and shows the download link, and the file downloads."""
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from huey.storage import SqliteStorage
from openpyxl import load_workbook

from lms import tasks

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parent.parent.parent


def test_a_large_export_is_made_in_the_background_then_downloaded(browser, live_server, live_app, tmp_path):
    queue_file = tmp_path / "tasks.sqlite3"
    saved = live_app.extensions["lms_tasks"], live_app.config["EXPORT_BACKGROUND_ROWS"]
    live_app.extensions["lms_tasks"] = tasks.QueueState(False, SqliteStorage(tasks.NAME, filename=str(queue_file)))
    live_app.config["EXPORT_BACKGROUND_ROWS"] = 10
    worker = None
    try:
        page = new_page(browser)
        log_in(page, live_server, "office_qh")
        page.goto(f"{live_server}/accounts/")
        page.click("#export-xlsx")
        page.wait_for_url(re.compile(r"/jobs/\d+$"))
        # No worker yet: the job waits in the queue, the page shows its progress bar and no link.
        assert page.locator("[role=progressbar]").is_visible()
        assert page.locator("#job-bar").get_attribute("style") == "width: 0%"
        assert page.locator("#job-download").count() == 0
        assert "后台生成" in page.inner_text("#job-state")

        env = {**os.environ, "DATABASE_URL": live_app.config["SQLALCHEMY_DATABASE_URI"],
               "LMS_INSTANCE_PATH": live_app.config["INSTANCE_PATH"], "TASK_QUEUE": f"sqlite:{queue_file}",
               "JOBS_FOLDER": live_app.config["JOBS_FOLDER"], "SWEEP_MINUTES": "0"}
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic",
                                   "--max-delay", "0.5"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        page.wait_for_selector("#job-download", timeout=90_000)  # the page polled its status and reloaded
        with page.expect_download() as info:
            page.click("#job-download")
        assert re.fullmatch(r"accounts-\d{4}-\d{2}-\d{2}\.xlsx", info.value.suggested_filename)
        with open(info.value.path(), "rb") as f:
            ws = load_workbook(io.BytesIO(f.read()), read_only=True).worksheets[0]
            rows = list(ws.iter_rows(values_only=True))
        assert rows[0][0] == "用户名" and len(rows) > 11  # more rows than a request would make
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        live_app.extensions["lms_tasks"], live_app.config["EXPORT_BACKGROUND_ROWS"] = saved
