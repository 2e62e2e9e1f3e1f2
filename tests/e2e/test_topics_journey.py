"""Issue 14: practice shows the chosen subject's topics as soon as the subject is chosen (static/js/
topic_picker.js), and the bank's filter does the same; no topic of another subject is offered."""
import pytest
from sqlalchemy import select

from lms.exams import practice
from lms.exams.models import ExamSubject
from lms.extensions import db

from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _topic_labels(page, select_id):
    return page.eval_on_selector_all(f"#{select_id} option", "options => options.map(o => o.textContent)")[1:]


def test_practice_and_the_bank_filter_follow_the_chosen_subject(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        subjects = db.session.scalars(select(ExamSubject).order_by(ExamSubject.position)).all()
        practised = practice.topics_by_subject(subjects)
        names = {s.code: (s.id, s.name) for s in subjects}
    junior, mid = names["junior-general"], names["mid-general"]
    assert practised[junior[0]] and practised[mid[0]]

    page = new_page(browser, phone=True)
    log_in(page, base, "w0001")
    page.goto(f"{base}/mock/practice")
    assert _topic_labels(page, "topic") == []
    page.select_option("#subject", label=junior[1])  # no click on the button: the list follows at once
    assert _topic_labels(page, "topic") == practised[junior[0]]
    assert "个案工作方法" not in _topic_labels(page, "topic")
    page.select_option("#topic", label="个案工作")
    page.select_option("#subject", label=mid[1])
    assert _topic_labels(page, "topic") == practised[mid[0]]
    assert page.input_value("#topic") == "个案工作"  # 中级 has the same chapter: the choice stays
    page.select_option("#topic", label=practised[mid[0]][0])
    page.select_option("#subject", label=junior[1])
    assert page.input_value("#topic") == ""  # junior has no such topic: back to all topics
    page.select_option("#topic", label="个案工作")
    page.click("form:has(#subject) button")  # and the form asks for that subject and topic
    page.wait_for_selector("#practice-question")
    assert "个案工作" in page.inner_text("#practice-question .small")
    page.context.close()

    office = new_page(browser)
    log_in(office, base, "office_city")
    office.goto(f"{base}/exams/")
    assert _topic_labels(office, "filter-topic") == []
    office.select_option("#filter-subject", label=mid[1])
    labels = _topic_labels(office, "filter-topic")
    assert "社会工作研究" in labels and "社会工作研究方法" not in labels and "儿童社会工作" not in labels
    office.context.close()
