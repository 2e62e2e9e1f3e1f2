"""Issue 16: a worker preparing for the exam answers practice questions badly on one topic (through the
practice page); that topic becomes the top recommendation on the home page, which leads to a lesson
that teaches it; its mistakes are due for review today. axe-core on the pages; screenshots at 390 and
1280 px go to $LMS_SCREENSHOTS when it is set."""
import os
import re
from datetime import date

import pytest
from sqlalchemy import delete, select

from lms.auth.models import User
from lms.exams.models import ExamSubject, Mistake, Question
from lms.extensions import db
from lms.learning.models import Lesson
from lms.prep.models import GradedAnswer, PrepPlan, TopicMastery

from .axe import assert_accessible
from .test_course_journey import log_in, new_page
from .test_study_time_journey import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WORKER = "w0457"   # not one of the README's logins other journeys use
TOPIC = "个案工作"


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def wrong_choice(question: Question) -> list[str]:
    """The value(s) of a wrong answer to tick on the practice page."""
    if question.type == "judge":
        return ["false" if question.answer else "true"]
    return [next(o["key"] for o in question.options if o["key"] not in (question.answer or []))]


def test_a_weak_topic_becomes_the_top_recommendation_and_leads_to_its_lesson(browser, live_server, live_app,
                                                                             live_clock):
    base = live_server
    with live_app.app_context():
        subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
        worker = db.session.scalar(select(User).where(User.username == WORKER))
        subject_id, worker_id = subject.id, worker.id
        # a worker who starts preparing today: a plan (the plan page is part P's), no evidence yet
        db.session.execute(delete(GradedAnswer).where(GradedAnswer.user_id == worker_id))
        db.session.execute(delete(TopicMastery).where(TopicMastery.user_id == worker_id))
        db.session.execute(delete(Mistake).where(Mistake.user_id == worker_id))
        if db.session.scalar(select(PrepPlan.id).where(PrepPlan.user_id == worker_id)) is None:
            db.session.add(PrepPlan(user_id=worker_id, subject_id=subject_id, exam_date=date(2027, 6, 14)))
        db.session.commit()

    page = new_page(browser, phone=True)
    log_in(page, base, WORKER)
    home = page.inner_text("#recommendations")
    assert "暂时没有推荐" in home
    assert_accessible(page, "home without recommendations")

    # practise the topic and answer every question wrongly until six answers count as evidence
    page.goto(f"{base}/mock/practice?subject={subject_id}&topic={TOPIC}")
    for _ in range(30):
        page.wait_for_selector("#practice-form")
        qid = int(page.get_attribute("#practice-form input[name=question]", "value"))
        with live_app.app_context():
            question = db.session.get(Question, qid)
            assert question.topic == TOPIC
            wrong = wrong_choice(question)
        for value in wrong:
            page.check(f"#practice-form input[name=choice][value='{value}']")
        page.click("#practice-submit")
        page.wait_for_selector("#next-question")
        with live_app.app_context():
            evidence = db.session.scalar(select(TopicMastery.evidence).where(
                TopicMastery.user_id == worker_id, TopicMastery.topic == TOPIC)) or 0
        if evidence >= 6:
            break
        page.click("#next-question")
    assert evidence >= 6

    # the home page: the weak topic first, with its reason, leading to a lesson that teaches it
    page.goto(f"{base}/home")
    first = page.locator("#rec-1")
    assert first.get_attribute("data-kind") == "lesson" and first.get_attribute("data-topic") == TOPIC
    reason = first.locator(".rec-reason").inner_text()
    assert re.fullmatch(rf"{TOPIC} 掌握度 \d+%（依据 \d+ 题）", reason.strip()), reason
    assert page.locator("#rec-2").get_attribute("data-topic") == TOPIC   # a practice set on it
    assert_accessible(page, "home with recommendations")
    shot(page, "prep-home-390.png")
    first.locator("a.rec-link").click()
    page.wait_for_url(re.compile(r"/learn/(lessons/\d+|courses/\d+\?lesson=\d+#lesson-\d+)$"))
    lesson_id = int(re.search(r"(\d+)$", page.url).group(1))
    with live_app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        assert TOPIC in lesson.topics or TOPIC in lesson.course.topics
        title = lesson.title
    if "/courses/" in page.url:   # a course the worker is not enrolled in: its page, the lesson in its list
        assert page.locator(f"#lesson-{lesson_id}").is_visible()
        assert TOPIC in page.inner_text("#course-topics")
        assert title in page.inner_text("#enroll-landing")      # the enrol form carries the lesson
        assert_accessible(page, "course page to enrol, with the recommended lesson")
        shot(page, "prep-enrol-landing-390.png")
        page.click("#enroll")
        page.wait_for_url(f"{base}/learn/lessons/{lesson_id}")   # enrolled, on the recommended lesson itself
    assert page.locator("h1").first.inner_text().strip() == title

    # the next day, the mistakes of that topic are due: today's review (the schedule brings a new one back a day on)
    live_clock.advance(days=1)
    page.goto(f"{base}/home")
    review = page.locator("#recommendations [data-kind=review]")
    assert re.search(r"复习今天到期的 \d+ 道错题", review.inner_text())
    page.locator("#recommendations [data-kind=review] a.rec-link").click()
    with live_app.app_context():
        due = {m.question.topic for m in db.session.scalars(select(Mistake).where(Mistake.user_id == worker_id))}
    assert due == {TOPIC}
    if "prep.review" in live_app.view_functions:   # part R's review session
        assert TOPIC in page.inner_text("main")
    else:                                          # until then: practice from the mistakes book
        page.wait_for_selector("#practice-question")
        assert TOPIC in page.inner_text("#practice-question .small")

    # the subject page: the weak topic in the chart and the table
    page.goto(f"{base}/prep/subjects/{subject_id}")
    assert page.locator("#mastery-table tbody tr").first.get_attribute("data-topic") == TOPIC
    assert page.locator("#mastery-chart g.bar").first.get_attribute("data-label") == TOPIC
    assert_accessible(page, "subject page")
    shot(page, "prep-subject-390.png")
    page.goto(f"{base}/prep/")
    assert_accessible(page, "prep index")
    page.context.close()

    wide = new_page(browser)
    log_in(wide, base, WORKER)
    assert wide.locator("#rec-1").get_attribute("data-topic") == TOPIC
    shot(wide, "prep-home-1280.png")
    wide.goto(f"{base}/prep/subjects/{subject_id}")
    assert_accessible(wide, "subject page, wide")
    shot(wide, "prep-subject-1280.png")
    wide.context.close()
