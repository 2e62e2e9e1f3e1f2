"""Issue 14 point 7: the main pages of every role pass axe-core's WCAG 2.1 A/AA rules with no critical
or serious violation, in the sizes they are used at (a worker's phone, an office's laptop, a hall's
projector), with the site menu open on a laptop and on a phone. The worker's and the office's journeys
also take the README's screenshots when $LMS_SCREENSHOT_DIR is set (docs/screenshots/ holds them)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.exams.models import Attempt, Question
from lms.extensions import db
from lms.learning.models import Course, Enrollment, Lesson
from lms.orgs.models import OrgUnit
from lms.training.models import Attendance, Training, TrainingSession

from .axe import assert_accessible, axe_violations, format_violations
from .test_course_journey import log_in
from .test_nav_journey import shot as shot_png

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]



class Audit:
    """Runs axe on each page visited and collects what blocks, so one run lists every page's problems."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, what: str, shot: str | None = None, height: int | None = None) -> None:
        """axe on the page as it is now; with `shot`, also a screenshot of its top `height` px."""
        self.page.wait_for_load_state("load")
        blocking = [v for v in axe_violations(self.page) if v["impact"] in ("critical", "serious")]
        self.checked.append(what)
        if blocking:
            self.problems.append(f"== {what} ({self.page.url})\n{format_violations(blocking)}")
        if shot:  # one screen of `height` px, the README's way (see test_nav_journey.shot)
            size = self.page.viewport_size
            self.page.set_viewport_size({"width": size["width"], "height": height or size["height"]})
            self.page.evaluate("window.scrollTo(0, 0)")
            shot_png(self.page, shot)
            self.page.set_viewport_size(size)

    def visit(self, url: str, what: str, **shot) -> None:
        self.page.goto(url)
        self.check(what, **shot)

    def assert_clean(self) -> None:
        assert not self.problems, "axe-core found critical/serious violations:\n" + "\n".join(self.problems)


def open_page(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def test_worker_pages_on_a_phone(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        # A demo worker no other journey uses, who has finished a course (its page shows the rating form).
        worker, completed_id = db.session.execute(
            select(User.username, Enrollment.course_id).join(Enrollment, Enrollment.user_id == User.id)
            .where(User.username.between("w0040", "w0099"), Enrollment.completed_at.is_not(None))
            .order_by(User.username)).first()
        enrolled = db.session.scalars(select(Enrollment.course_id).join(User, Enrollment.user_id == User.id)
                                      .where(User.username == worker, Enrollment.completed_at.is_(None))).all()
        course_id = db.session.scalar(select(Course.id).where(Course.status == "published", Course.id.in_(enrolled))
                                      .order_by(Course.id)) or db.session.scalar(
            select(Course.id).where(Course.status == "published").order_by(Course.id))
    page = open_page(browser, 390, 844)
    audit = Audit(page)
    log_in(page, base, worker)
    audit.check("worker home", shot="worker-1-home-390.png", height=844)
    audit.visit(f"{base}/learn/", "catalog")
    audit.visit(f"{base}/learn/courses/{completed_id}", "completed course with the rating form")
    assert page.locator("#rating-form").count() == 1
    audit.visit(f"{base}/learn/courses/{course_id}", "course")
    if page.locator("#enroll").count():
        page.click("#enroll")
        page.wait_for_url(re.compile(r"/learn/(courses|lessons)/\d+"))
        page.goto(f"{base}/learn/courses/{course_id}")
    audit.check("course, enrolled", shot="worker-2-course-390.png", height=1000)
    with live_app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.course_id == course_id)
                                      .order_by(Lesson.position))
    audit.visit(f"{base}/learn/lessons/{lesson_id}", "lesson", shot="worker-3-lesson-390.png", height=844)
    audit.visit(f"{base}/learn/mine", "我的学习", shot="worker-4-mine-390.png", height=844)
    audit.visit(f"{base}/mock/practice", "practice")
    audit.visit(f"{base}/mock/", "mock exams")
    page.click("#start-junior-general")
    page.wait_for_url(re.compile(r"/mock/attempts/\d+$"))
    page.wait_for_selector("#exam[data-ready='1']")
    with live_app.app_context():
        paper = db.session.get(Attempt, int(page.url.rsplit("/", 1)[1])).paper
    # A fair candidate: five answers in six right, the sixth wrong (the result shows both kinds).
    for n, key in enumerate(k for section in paper["sections"] for k in section["items"]):
        item = paper["items"][key]
        letters = item["answer"] if n % 6 != 5 else [next(o["key"] for o in item["options"]
                                                          if o["key"] not in item["answer"])]
        for letter in letters:
            page.check(f"#q-{key}-{letter}")
    page.wait_for_selector("#save-indicator[data-pending='0']")
    page.evaluate("window.scrollTo(0, 0)")
    audit.check("mock exam take", shot="worker-5-exam-390.png", height=844)
    page.click("#submit-exam")
    page.click("#submit-confirm")
    page.wait_for_url(re.compile(r"/result$"))
    audit.check("mock exam result", shot="worker-6-result-390.png", height=844)
    audit.visit(f"{base}/mock/mistakes", "mistakes")
    page.click(".navbar-toggler")  # the off-canvas menu, open
    page.wait_for_selector("#mainnav.show")
    page.wait_for_function("!document.querySelector('#mainnav').classList.contains('showing')")
    audit.check("mistakes with the phone menu open")
    audit.visit(f"{base}/training/open", "open trainings")
    audit.visit(f"{base}/training/mine", "我的培训")
    audit.visit(f"{base}/training/checkin", "check-in")
    page.context.close()
    audit.assert_clean()


def test_trainer_pages_on_a_laptop(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        trainer = db.session.scalar(select(User).where(User.username == "trainer_wangxm"))
        course_id = db.session.scalar(select(Course.id).where(Course.status == "published").order_by(Course.id))
        question_id = db.session.scalar(select(Question.id).order_by(Question.id))
        assert trainer is not None
    page = open_page(browser, 1280, 900)
    audit = Audit(page)
    log_in(page, base, "trainer_wangxm")
    audit.check("trainer home")
    audit.visit(f"{base}/learn/studio", "studio")
    audit.visit(f"{base}/learn/studio/new", "course form")
    audit.visit(f"{base}/learn/courses/{course_id}", "course (trainer)")
    audit.visit(f"{base}/exams/", "question bank")
    audit.visit(f"{base}/exams/questions/{question_id}", "question")
    audit.visit(f"{base}/exams/questions/new/single", "question form")
    page.context.close()
    audit.assert_clean()


def test_office_pages_on_a_laptop(browser, live_server, live_app):
    base = live_server
    with live_app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office_city"))
        unit_id = office.org_unit_id
        district_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == unit_id).order_by(OrgUnit.id))
        # The latest session already marked: its roster shows statuses and how each was recorded.
        session = db.session.scalars(
            select(TrainingSession).join(Attendance, Attendance.session_id == TrainingSession.id)
            .order_by(TrainingSession.starts_at.desc())).first()
        training_id, session_id = session.training_id, session.id
        worker_id = db.session.scalar(select(User.id).where(User.username == "w0040"))
        assert db.session.get(Training, training_id)
    page = open_page(browser, 1280, 800)
    audit = Audit(page)
    log_in(page, base, "office_city")
    audit.check("office home")
    audit.visit(f"{base}/stats/", "stats dashboard", shot="office-1-stats-1280.png", height=800)
    audit.visit(f"{base}/stats/unit/{district_id}", "stats unit")
    audit.visit(f"{base}/stats/unit/{unit_id}/workers", "stats workers")
    audit.visit(f"{base}/stats/unit/{unit_id}/continuing-education", "continuing education",
                shot="office-2-continuing-education-1280.png", height=800)
    audit.visit(f"{base}/stats/unit/{unit_id}/profile", "workforce profile")
    audit.visit(f"{base}/stats/unit/{unit_id}/trends", "trends")
    audit.visit(f"{base}/stats/worker/{worker_id}", "worker record")
    audit.visit(f"{base}/training/", "trainings")
    audit.visit(f"{base}/training/{training_id}", "training", shot="office-3-training-1280.png", height=800)
    audit.visit(f"{base}/training/sessions/{session_id}/roster", "roster", shot="office-4-roster-1280.png",
                height=700)
    audit.visit(f"{base}/accounts/", "accounts")
    audit.visit(f"{base}/orgs/", "org tree", shot="office-5-orgs-1280.png", height=800)
    audit.visit(f"{base}/library/", "resource pools")
    for kind in ("bases", "experts", "institutions", "textbooks", "trainers"):
        audit.visit(f"{base}/library/{kind}/", f"pool {kind}")
    audit.visit(f"{base}/learn/review", "course review")
    page.click("#menu-exams")  # a dropdown of the menu bar, open
    page.wait_for_selector("#menu-exams[aria-expanded='true']")
    audit.check("course review with the 考试 menu open")
    page.context.close()
    audit.assert_clean()


def test_admin_pages_and_the_kiosk_check_in_screen(browser, live_server, live_app, live_clock):
    base = live_server
    page = open_page(browser, 1280, 800)
    audit = Audit(page)
    log_in(page, base, "admin")
    audit.check("admin home")
    audit.visit(f"{base}/audit/", "audit log")
    audit.visit(f"{base}/accounts/", "accounts (admin)")
    audit.visit(f"{base}/orgs/", "org tree (admin)")
    page.context.close()
    # The projector in the hall, during a session: the code and the QR code are up.
    with live_app.app_context():
        session = db.session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at.desc())).first()
        session_id, starts_at = session.id, session.starts_at
    live_clock.set(starts_at + timedelta(minutes=5))
    hall = open_page(browser, 1920, 1080)
    kiosk = Audit(hall)
    log_in(hall, base, "office_city")
    kiosk.visit(f"{base}/training/sessions/{session_id}/screen", "kiosk check-in screen")
    assert hall.locator("#checkin-qr[src^='data:image/svg+xml']").is_visible()
    hall.context.close()
    audit.problems += kiosk.problems
    audit.assert_clean()


def test_the_axe_helper_names_the_rule_the_element_and_the_help(page):
    """The check fails readably: an unnamed select and grey-on-white text are reported, a named one is not."""
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>Filters</h1>'
                     '<select id="bad"><option>all</option></select>'
                     '<select id="good" aria-label="Level"><option>all</option></select>'
                     '<p id="faint" style="color:#aaa;background:#fff">faint text</p></main></body></html>')
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "a test page")
    message = str(failure.value)
    assert "[critical] select-name: Select element must have an accessible name" in message
    assert "at #bad" in message and "#good" not in message
    assert "[serious] color-contrast" in message and "at #faint" in message
