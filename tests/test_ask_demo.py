"""The demo's 请教一下: a dozen questions dated back from the day seed-demo runs, answered, waiting, new and one
declined, with votes; the demo experts log in and find their questions to answer."""
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from lms.ask.models import AskQuestion
from lms.demo import DEMO_PASSWORD, seed_demo
from lms.extensions import db
from lms.library.models import Expert
from lms.transaction import unit

from .conftest import login


@pytest.mark.parametrize("day", [datetime(2026, 6, 15, 2, 0), datetime(2027, 3, 3, 12, 30)])
def test_the_demo_questions_are_dated_from_the_day_it_is_loaded(app, client, clock, day):
    clock.set(day)
    with app.app_context(), unit():
        seed_demo(workers=24, activity=False)
    with app.app_context():
        questions = db.session.scalars(select(AskQuestion)).all()
        assert len(questions) == 12
        assert Counter(q.status for q in questions) == {"answered": 5, "routed": 3, "open": 3, "rejected": 1}
        assert all(day - timedelta(days=60) <= q.created_at <= day for q in questions)
        assert all(q.created_at < q.answered_at <= day for q in questions if q.status == "answered")
        assert any(q.anonymous for q in questions) and sum(q.votes for q in questions) > 20
        assert db.session.scalar(select(Expert.user_id).where(Expert.name == "钱立群")) is not None
    login(client, "expert_qianlq", DEMO_PASSWORD)
    assert "老旧小区加装电梯" in client.get("/ask/to-answer").get_data(as_text=True)
    library = client.get("/ask/").get_data(as_text=True)
    assert "入户走访时独居老人不愿开门" in library and "低保" not in library
