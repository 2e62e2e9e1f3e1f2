"""Issue 17 point 5: an office assigns a course to a worker; the worker logs in on a phone, sees the unread
count in the menu, opens the inbox, and the message takes them to the course. The inbox and the message
settings at 390 and 1280 px, every page without an axe-core (WCAG 2.1 AA) violation."""
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lms.auth.models import User
from lms.auth.scope import in_subtree
from lms.extensions import db
from lms.learning.models import Course, Enrollment
from lms.messages.models import Message
from lms.orgs.models import OrgUnit
from lms.transaction import unit

from .axe import axe_violations
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SHOTS = Path(os.environ.get("LMS_SCREENSHOTS", "/tmp/lms-messages-shots"))
OFFICE = "office_qh01"


def _look(page, name: str) -> None:
    assert axe_violations(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _setup(live_app) -> tuple[str, int, int, str]:
    """A community of the street office, one of its workers with every message read, and a published course
    nobody there is enrolled in: (worker's username, community id, course id, course title)."""
    with live_app.app_context(), unit():
        office = db.session.scalar(select(User).where(User.username == OFFICE))
        community = db.session.scalars(select(OrgUnit).where(
            in_subtree(OrgUnit.path, office.org_unit), OrgUnit.level == "community").order_by(OrgUnit.code)).first()
        worker = db.session.scalars(select(User).where(User.org_unit_id == community.id, User.active.is_(True),
                                                       User.username.startswith("w")).order_by(User.username)).first()
        taken = select(Enrollment.course_id).join(User, User.id == Enrollment.user_id).where(
            User.org_unit_id == community.id)
        course = db.session.scalars(select(Course).where(Course.status == "published", Course.id.not_in(taken),
                                                         Course.revision_of_id.is_(None)).order_by(Course.id)).first()
        db.session.execute(update(Message).where(Message.user_id == worker.id, Message.read_at.is_(None))
                           .values(read_at=Message.created_at))
        return worker.username, community.id, course.id, course.title


def test_a_course_assigned_reaches_the_workers_inbox(browser, live_server, live_app):
    base = live_server
    username, community_id, course_id, title = _setup(live_app)

    office = new_page(browser)
    log_in(office, base, OFFICE)
    office.goto(f"{base}/learn/courses/{course_id}/assign")
    office.select_option("#org_unit_id", str(community_id))
    office.click("main form button[type=submit]")
    office.wait_for_url(re.compile(rf"/learn/courses/{course_id}$"))

    phone = new_page(browser, phone=True)
    log_in(phone, base, username)
    assert phone.inner_text("#unread-phone").startswith("1")  # beside the menu button on a phone
    _look(phone, "home-unread-390")
    phone.click("#unread-phone")
    phone.wait_for_url(re.compile(r"/messages/$"))
    item = phone.locator("#inbox li[data-unread='1']")
    assert item.count() == 1
    assert f"新指派课程：{title}" in item.inner_text()
    _look(phone, "inbox-390")
    phone.goto(f"{base}/messages/settings")
    _look(phone, "settings-390")
    phone.goto(f"{base}/messages/")
    phone.locator("#inbox li[data-unread='1'] button[id^=open-]").click()
    phone.wait_for_url(re.compile(rf"/learn/courses/{course_id}$"))
    assert title in phone.inner_text("h1")
    assert phone.locator("#unread-phone").count() == 0  # read now: no count

    desk = new_page(browser)
    log_in(desk, base, username)
    desk.goto(f"{base}/messages/")
    assert desk.locator("#inbox li").count() >= 1
    _look(desk, "inbox-1280")
    desk.goto(f"{base}/messages/settings")
    desk.click("#new-feed")
    desk.wait_for_selector("#feed-url")
    assert "/messages/calendar/" in desk.input_value("#feed-url")
    _look(desk, "settings-1280")
