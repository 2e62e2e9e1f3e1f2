"""The offices' exam-preparation page in Chromium, on a laptop and on a phone: its chart and tables, how its
figures are worked out (opened), axe-core clean. Screenshots go to $LMS_SCREENSHOT_DIR when it is set."""
import os
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select

from lms.auth.models import User
from lms.database import utcnow
from lms.exams.models import ExamSubject
from lms.exams.topics import names
from lms.extensions import db
from lms.orgs.models import OrgUnit
from lms.prep.models import PrepPlan, TopicMastery

from .axe import assert_accessible
from .test_course_journey import log_in, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _seed(app) -> tuple[list[int], list[tuple]]:
    """30 workers of 青禾区 (not the first ones other journeys use) preparing for two subjects, with estimates
    on the topics the demo has not given them yet. Returns the workers and the estimates added."""
    rng = random.Random(16)
    with app.app_context():
        district = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "青禾区"))
        # workers without a plan yet: other journeys (the plan's, the preparation's) make their own
        ids = db.session.scalars(select(User.id).join(OrgUnit, User.org_unit_id == OrgUnit.id)
                                 .where(OrgUnit.path.startswith(district.path), User.username.startswith("w0"),
                                        User.id.not_in(select(PrepPlan.user_id)))
                                 .order_by(User.username.desc()).limit(30)).all()
        subjects = db.session.scalars(select(ExamSubject).where(
            ExamSubject.code.in_(("junior-general", "junior-practice")))).all()
        now = utcnow()
        held = set(db.session.execute(select(TopicMastery.user_id, TopicMastery.subject_id, TopicMastery.topic)
                                      .where(TopicMastery.user_id.in_(ids))).tuples())
        added = []
        for s in subjects:
            db.session.execute(insert(PrepPlan), [
                {"user_id": i, "subject_id": s.id, "exam_date": date(now.year + 1, 6, 14), "minutes_per_day": 30,
                 "created_at": now - timedelta(days=40), "updated_at": now} for i in ids])
            rows = []
            for n, i in enumerate(ids):
                ability = rng.gauss(0.3, 0.8)
                for t in names(s) or ():
                    if (n % 5 == 4 and rng.random() < 0.7) or (i, s.id, t) in held:
                        continue          # a few workers who have hardly started; the demo's own estimates
                    added.append((i, s.id, t))
                    evidence = rng.randint(2, 25)
                    rows.append({"user_id": i, "subject_id": s.id, "topic": t, "theta": ability + rng.gauss(0, 0.5),
                                 "evidence": evidence, "information": evidence * 0.2,
                                 "last_answer_at": now - timedelta(days=rng.choice((1, 3, 9, 20, 40)))})
            db.session.execute(insert(TopicMastery), rows)
        db.session.commit()
    return ids, added


def _clean(app, ids: list[int], added: list[tuple]) -> None:
    with app.app_context():
        for user_id, subject_id, topic in added:
            db.session.execute(delete(TopicMastery).where(TopicMastery.user_id == user_id,
                                                          TopicMastery.subject_id == subject_id,
                                                          TopicMastery.topic == topic))
        db.session.execute(delete(PrepPlan).where(PrepPlan.user_id.in_(ids)))
        db.session.commit()


def _shot(page, name: str) -> None:
    folder = os.environ.get("LMS_SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def _registrants(app, subject_code: str) -> int:
    """The plans of 青禾区's workers for one subject: the seeded 30 and any another journey made."""
    with app.app_context():
        district = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "青禾区"))
        return len(db.session.scalars(
            select(PrepPlan.id).join(User, PrepPlan.user_id == User.id).join(OrgUnit, User.org_unit_id == OrgUnit.id)
            .join(ExamSubject, PrepPlan.subject_id == ExamSubject.id)
            .where(OrgUnit.path.startswith(district.path), ExamSubject.code == subject_code)).all())


def test_a_district_office_reads_its_registrants_on_a_laptop_and_a_phone(browser, live_server, live_app):
    ids, added = _seed(live_app)
    assert len(ids) == 30
    expected = _registrants(live_app, "junior-general")
    try:
        for phone, width in ((False, 1280), (True, 390)):
            page = new_page(browser, phone=phone)
            log_in(page, live_server, "office_qh")
            page.goto(f"{live_server}/prep/office")
            assert "辖区备考情况" in page.inner_text("#prep-office-heading")
            assert page.locator("#chart-readiness g.bar").count() == 2
            rows = page.locator("#table-subjects tbody tr")
            assert rows.count() == 2
            assert rows.first.locator("td").first.inner_text().strip() == str(expected)
            assert page.locator("#table-topics tbody tr").count() > 0
            assert page.locator("#table-inactive tbody tr").count() > 0
            # How the figures are worked out: on the page, folded until asked for.
            assert not page.locator("#method-on_track").is_visible()
            page.click("#prep-office-method summary")
            assert "考前 14 天" in page.inner_text("#prep-office-method")
            assert_accessible(page, f"the offices' exam preparation page at {width} px")
            # Nothing wider than the phone: the tables scroll inside their own box.
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
            _shot(page, f"prep-office-{width}.png")
            page.context.close()
    finally:
        _clean(live_app, ids, added)
