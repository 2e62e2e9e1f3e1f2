"""Mock exam days (模拟考试日): an office opens a mock exam to its area for a window of time.
Plain functions: they flush, never commit (DESIGN.md §4)."""
from datetime import datetime, timedelta

from flask_babel import gettext as _

from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from ..orgs.models import OrgUnit
from .models import Exam, MockExamDay


class MockDayError(DomainError):
    pass


def schedule_day(*, title: str, exam: Exam, unit: OrgUnit, opens_at: datetime, closes_at: datetime,
                 stagger_minutes: int, by: User) -> MockExamDay:
    """A new mock exam day (times naive UTC). The window must leave at least half the exam's
    duration after the opening, or candidates who start at once could not finish."""
    if closes_at <= opens_at + timedelta(minutes=exam.duration_minutes // 2):
        raise MockDayError(_("Leave enough time after the opening for the exam itself."))
    day = MockExamDay(title=title.strip(), exam_id=exam.id, org_unit_id=unit.id, opens_at=opens_at,
                      closes_at=closes_at, stagger_minutes=stagger_minutes or 0, created_by_id=by.id)
    db.session.add(day)
    db.session.flush()
    from ..messages import events as message_events

    message_events.mock_day_scheduled(day)
    return day
