"""Issue 5's journey: a worker takes a 初级 mock exam on a phone, reloads mid-way and finds every
answer in place, answers a multiple-choice item partly right, submits and sees the official score."""
import re
from decimal import Decimal

import pytest

from lms.exams.models import Attempt
from lms.extensions import db

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def wait_saved(page):
    page.wait_for_selector("#save-indicator[data-pending='0']")


def test_mock_exam_with_reload_and_official_scoring(browser, live_server, live_app):
    page = new_page(browser, phone=True)
    log_in(page, live_server, "w0011")
    page.goto(f"{live_server}/mock/")
    page.click("#start-junior-general")
    page.wait_for_url(re.compile(r"/mock/attempts/\d+$"))
    page.wait_for_selector("#exam[data-ready='1']")
    attempt_id = int(page.url.rsplit("/", 1)[1])
    with live_app.app_context():
        paper = db.session.get(Attempt, attempt_id).paper
    items = paper["items"]
    single_keys = paper["sections"][0]["items"][:3]
    multi_key = paper["sections"][1]["items"][0]
    # Three single-choice answers: the first two right, the third wrong.
    chosen = {}
    for n, key in enumerate(single_keys):
        right = items[key]["answer"][0]
        letter = right if n < 2 else next(k for k in "ABCD" if k != right)
        page.check(f"#q-{key}-{letter}")
        chosen[key] = letter
    wait_saved(page)
    assert "全部答案已保存" in page.inner_text("#save-indicator")

    page.reload()
    page.wait_for_selector("#exam[data-ready='1']")
    for key, letter in chosen.items():
        assert page.is_checked(f"#q-{key}-{letter}"), key

    # Offline for a moment: answers wait on the device, marked unsaved, then go in one request.
    bodies = []
    page.on("request", lambda req: bodies.append(req.post_data_json) if req.url.endswith("/answers") else None)
    more = paper["sections"][0]["items"][3:5]
    page.context.set_offline(True)
    for key in more:
        page.check(f"#q-{key}-{items[key]['answer'][0]}")
        chosen[key] = items[key]["answer"][0]
    page.wait_for_selector("#save-indicator[data-pending='2']")
    page.context.set_offline(False)
    wait_saved(page)
    assert sorted(a["item"] for a in bodies[-1]["answers"]) == sorted(more)
    page.reload()
    page.wait_for_selector("#exam[data-ready='1']")
    for key, letter in chosen.items():
        assert page.is_checked(f"#q-{key}-{letter}"), key

    # Multiple choice, partly right: two of the right options and no wrong one = 2 × 0.5.
    right = items[multi_key]["answer"]
    assert len(right) >= 3
    for letter in right[:2]:
        page.check(f"#q-{multi_key}-{letter}")
    wait_saved(page)
    page.click("#submit-exam")
    page.click("#submit-confirm")  # the page's own dialog, which lists what is still unanswered
    page.wait_for_url(re.compile(r"/result$"))
    expected = Decimal("4") + Decimal("1.0")  # four single choices right (1 point each), the multiple 2 × 0.5
    assert Decimal(page.inner_text("#total-score")) == expected
    assert "未通过" in page.inner_text("#verdict")
    multi = page.inner_text(f"#result-{multi_key}")
    assert "1.0 / 2.0" in multi and "".join(right) in multi
    assert page.locator(f"#result-{multi_key} .explanation").count() == 1
