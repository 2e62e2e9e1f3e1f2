"""Issue 17's journey: a worker fills in the evaluation of a class that ended yesterday (待评价 on 我的培训),
and the trainer's 师资库 profile shows the new rating and count; the office reads the class's evaluations
and the needs survey's results by unit. Every new page passes axe-core at a phone's and a desktop's width."""
import re

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.surveys import evaluations
from lms.surveys.demo import DUE_CLASS, SURVEY_TITLE
from lms.surveys.models import Survey
from lms.training.models import Training

from .axe import assert_accessible
from .test_course_journey import log_in, new_page
from .test_training_journey import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _profile(page, base, trainer_id):
    page.goto(f"{base}/library/trainers/{trainer_id}")
    shown = page.locator("#trainer-rating")
    average = shown.locator(".average")
    return int(shown.get_attribute("data-count")), (average.inner_text() if average.count() else None)


def _look(page, name, what):
    """axe-core and a screenshot at a phone's width and a desktop's (LMS_SCREENSHOT_DIR), then back."""
    size = page.viewport_size
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"{what} at {width} px")
        screenshot(page, f"{name}-{width}.png")
    page.set_viewport_size(size)


def test_a_worker_evaluates_a_class_and_the_trainers_rating_changes(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        training = db.session.scalars(select(Training).where(Training.title.like(DUE_CLASS.format(unit="%")))).first()
        tid, trainer = training.id, training.trainers[0]
        trainer_id, username = trainer.id, trainer.user.username
        survey_id = db.session.scalar(select(Survey.id).where(Survey.title == SURVEY_TITLE))

        before = evaluations.trainer_rating(trainer_id)

    reader = new_page(browser)
    log_in(reader, base, "w0002")
    count_before, average_before = _profile(reader, base, trainer_id)
    assert (count_before, average_before) == (before.count, f"{before.average:.1f}") and before.count >= 3
    _look(reader, "trainer-profile", "a trainer's profile with the rating")

    phone = new_page(browser, phone=True)
    log_in(phone, base, "w0001")
    phone.goto(f"{base}/training/mine")
    due = phone.locator(f"#evaluations-due [data-training='{tid}']")
    assert "待评价" in phone.inner_text("#evaluations-due")
    _look(phone, "evaluations-due", "my classes with 待评价")
    due.get_by_role("link").click()
    phone.wait_for_url(re.compile(rf"/surveys/classes/{tid}/evaluate$"))
    _look(phone, "evaluate", "the evaluation form")
    phone.click("#submit-evaluation")  # nothing chosen: the form says what is missing
    assert "请为本期培训选择 1 到 5 星" in phone.inner_text("main")
    phone.check("#overall-4")
    phone.check(f"#trainer-{trainer_id}-1")
    phone.fill("#comment", "案例贴近社区实际，希望多留讨论时间。")
    phone.click("#submit-evaluation")
    assert "感谢评价" in phone.inner_text("main")
    assert phone.locator("#submit-evaluation").inner_text() == "保存修改"
    phone.goto(f"{base}/training/mine")
    assert phone.locator(f"#evaluations-due [data-training='{tid}']").count() == 0

    count_after, average_after = _profile(reader, base, trainer_id)
    with live_app.app_context():
        figure = evaluations.trainer_rating(trainer_id)
    assert count_after == count_before + 1 == figure.count
    assert average_after == f"{figure.average:.1f}" and figure.average < before.average  # a 1 among 4s and 5s

    office = new_page(browser)
    log_in(office, base, "office_city")
    office.goto(f"{base}/training/{tid}")
    assert office.locator("#evaluation-summary [data-question='overall'] .count").inner_text() == "3"
    office.click("#evaluation-details")
    assert "案例贴近社区实际" in office.inner_text("#class-comments")
    assert "已评价" in office.inner_text("#completion")
    _look(office, "class-evaluations", "a class's evaluations (office)")
    office.goto(f"{base}/surveys/")
    _look(office, "surveys", "the needs surveys")
    office.goto(f"{base}/surveys/{survey_id}/results")
    assert office.locator(".choice-counts").count() == 3
    _look(office, "survey-results", "a survey's results by unit")
    office.goto(f"{base}/surveys/new")
    _look(office, "survey-new", "a new survey")

    phone.goto(f"{base}/surveys/mine")
    _look(phone, "surveys-mine", "a worker's surveys")
    phone.goto(f"{base}/surveys/{survey_id}")
    _look(phone, "survey-answer", "answering a survey")

    teacher = new_page(browser, phone=True)
    log_in(teacher, base, username)
    teacher.goto(f"{base}/surveys/teaching")
    _look(teacher, "teaching", "a trainer's evaluations")
    teacher.goto(f"{base}/surveys/classes/{tid}/evaluations")
    assert "案例贴近社区实际" in teacher.inner_text("main")  # three evaluations now: shown to the trainer
    assert "w0001" not in teacher.content()
    _look(teacher, "teaching-class", "a class's evaluations (trainer)")
