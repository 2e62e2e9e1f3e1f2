"""Issue 14 point 2's journey: a worker on a phone finds her way round a mock exam paper with the
answer sheet (答题卡): she flags a question (标记) and finds the flag again after a reload and on a
laptop, jumps to a question, reads one question per screen, is told "还有 N 题未作答" with links to
them before she submits, and on the result page sees the option she chose marked beside the right
one and filters to her wrong answers and to one topic without a reload."""
import os
import re

import pytest

from lms.exams.models import Attempt
from lms.extensions import db

from .axe import assert_accessible
from .test_course_journey import log_in, new_page
from .test_exam_journey import wait_saved
from .test_study_time_journey import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def shot(page, name):
    """What the screen shows (a whole paper would be a picture metres long)."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name))


def cell(page, key):
    return page.locator(f"[id='sheet-{key}']")


def item(page, key):
    return page.locator(f"[id='item-{key}']")


def in_view(page, key) -> bool:
    """The question's top is on the screen, below the sticky bar."""
    box = item(page, key).bounding_box()
    bar = page.locator(".exam-bar").bounding_box()
    return box is not None and bar["y"] + bar["height"] - 2 <= box["y"] < page.viewport_size["height"] / 2


def open_sheet(page):
    page.click("#open-sheet")
    page.wait_for_selector("#answer-sheet.show")
    page.wait_for_function("!document.querySelector('#answer-sheet').classList.contains('showing')")


def close_sheet(page):
    page.click("#answer-sheet .btn-close")
    page.wait_for_selector("#answer-sheet:not(.show)", state="attached")
    page.wait_for_function("!document.querySelector('#answer-sheet').classList.contains('hiding')")


def test_answer_sheet_flag_jump_one_per_screen_and_the_unanswered_warning(browser, live_server, live_app):
    page = new_page(browser, phone=True)
    log_in(page, live_server, "w0012")
    page.goto(f"{live_server}/mock/")
    page.click("#start-junior-practice")
    page.wait_for_url(re.compile(r"/mock/attempts/\d+$"))
    page.wait_for_selector("#exam[data-ready='1']")
    attempt_id = int(page.url.rsplit("/", 1)[1])
    with live_app.app_context():
        paper = db.session.get(Attempt, attempt_id).paper
    items = paper["items"]
    keys = [k for s in paper["sections"] for k in s["items"]]
    total = len(keys)
    assert page.locator("h1").inner_text() == page.title().split(" · ")[0]

    # On a phone the answer sheet is behind a button in the sticky bar: nothing answered yet.
    assert not page.locator("#answer-sheet").is_visible()
    open_sheet(page)
    assert page.inner_text("#sheet-summary") == f"已答 0 / {total} 题"
    assert page.locator("#answer-sheet .sheet-cell").count() == total
    close_sheet(page)

    # Question 1 answered wrong; question 3 flagged without an answer: the sheet follows at once.
    first_wrong = next(o["key"] for o in items["1"]["options"] if o["key"] not in items["1"]["answer"])
    page.check(f"#q-1-{first_wrong}")
    page.click("#flag-3")
    assert page.get_attribute("#flag-3", "aria-pressed") == "true"
    wait_saved(page)
    assert "is-answered" in cell(page, "1").get_attribute("class")
    assert "is-flagged" in cell(page, "3").get_attribute("class")
    assert "is-answered" not in cell(page, "3").get_attribute("class")
    assert cell(page, "3").text_content() == "3 未作答，已标记"  # what a screen reader says
    open_sheet(page)
    assert page.inner_text("#sheet-summary") == f"已答 1 / {total} 题"
    assert_accessible(page, "the answer sheet open on a phone")
    shot(page, "exam-answer-sheet-390.png")

    # A number on the sheet closes it and brings its question up, with the focus on it.
    far = keys[total - 5]
    cell(page, far).click()
    page.wait_for_selector("#answer-sheet:not(.show)", state="attached")
    page.wait_for_function(f"document.activeElement && document.activeElement.id === 'item-{far}'")
    assert in_view(page, far)

    # The flag and the answer are the server's: after a reload, and on a laptop.
    page.reload()
    page.wait_for_selector("#exam[data-ready='1']")
    assert page.get_attribute("#flag-3", "aria-pressed") == "true"
    assert "is-flagged" in cell(page, "3").get_attribute("class") and page.is_checked(f"#q-1-{first_wrong}")
    laptop = new_page(browser)
    log_in(laptop, live_server, "w0012")
    laptop.goto(f"{live_server}/mock/attempts/{attempt_id}")
    laptop.wait_for_selector("#exam[data-ready='1']")
    assert laptop.locator("#answer-sheet").is_visible() and not laptop.locator("#open-sheet").is_visible()
    assert laptop.get_attribute("#flag-3", "aria-pressed") == "true"
    assert "is-flagged" in cell(laptop, "3").get_attribute("class")
    shot(laptop, "exam-answer-sheet-1280.png")
    laptop.context.close()

    # One question per screen, with previous and next; the choice is remembered on this phone.
    open_sheet(page)
    page.check("#one-by-one")
    close_sheet(page)
    cell_count = page.locator(".exam-item:visible").count()
    assert cell_count == 1 and item(page, far).is_visible()
    assert page.inner_text("#pager-position") == f"第 {total - 4} 题 / 共 {total} 题"
    page.click("#next-item")
    assert item(page, keys[total - 4]).is_visible() and not item(page, far).is_visible()
    page.click("#prev-item")
    assert item(page, far).is_visible()
    page.reload()
    page.wait_for_selector("#exam[data-ready='1']")
    assert page.locator(".exam-item:visible").count() == 1 and item(page, far).is_visible()
    shot(page, "exam-one-per-screen-390.png")
    open_sheet(page)
    page.uncheck("#one-by-one")
    close_sheet(page)
    assert page.locator(".exam-item:visible").count() == total and page.locator("#exam-pager").is_hidden()

    # Submitting first says what is still unanswered, each a link to its question.
    page.click("#submit-exam")
    dialog = page.locator("#submit-dialog")
    assert dialog.is_visible()
    assert page.inner_text("#unanswered-text") == f"还有 {total - 1} 题未作答"
    assert page.locator("#unanswered-links a").count() == total - 1
    assert page.inner_text("#flagged-text") == "已标记待检查 1 题"
    assert page.locator("#flagged-links a").all_inner_texts() == ["3"]
    assert_accessible(page, "the submit dialog")
    shot(page, "exam-submit-dialog-390.png")
    page.click("#unanswered-links a[data-sheet='2']")
    assert not dialog.is_visible()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'item-2'")
    assert in_view(page, "2")
    page.check(f"#q-2-{items['2']['answer'][0]}")
    wait_saved(page)
    page.click("#submit-exam")
    assert page.inner_text("#unanswered-text") == f"还有 {total - 2} 题未作答"
    page.click("#submit-cancel")  # back to the paper: nothing submitted
    assert not dialog.is_visible() and re.search(r"/mock/attempts/\d+$", page.url)
    page.click("#submit-exam")
    page.click("#submit-confirm")
    page.wait_for_url(re.compile(r"/result$"))

    # The result marks the option she chose (wrong) beside the right one.
    result_1 = page.locator("[id='result-1']")
    assert "你的选择 ✗" in result_1.locator(f"li[data-option='{first_wrong}']").inner_text()
    for letter in items["1"]["answer"]:
        assert "正确答案" in result_1.locator(f"li[data-option='{letter}']").inner_text()

    # "只看错题" and one topic filter at once, without a reload; the address keeps them.
    page.evaluate("window.notReloaded = true")
    shown = page.locator(".result-item:visible")
    assert shown.count() == total
    page.check("#filter-wrong")
    wrong = {k for k in keys if page.get_attribute(f"[id='result-{k}']", "data-wrong") == "1"}
    assert "1" in wrong and "2" not in wrong and len(wrong) == total - 1
    assert shown.count() == len(wrong) and page.locator("[id='result-2']").is_hidden()
    assert page.url.endswith("?wrong=1") and page.evaluate("window.notReloaded")
    topic = items["1"]["topic"]
    page.select_option("#filter-topic", topic)
    expected = {k for k in wrong if items[k]["topic"] == topic}
    assert {el.get_attribute("id")[len("result-"):] for el in shown.element_handles()} == expected
    assert page.inner_text("#filter-count") == f"显示 {len(expected)} 题，共 {total} 题"
    assert page.evaluate("window.notReloaded")
    shot(page, "exam-result-wrong-only-390.png")
    page.reload()  # the address holds the filters: the server shows the same
    assert {el.get_attribute("id")[len("result-"):] for el in shown.element_handles()} == expected
    assert page.is_checked("#filter-wrong")
