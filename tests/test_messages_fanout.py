"""Fan-out to a whole district: the request that causes it writes no message and runs no select of the
district's workers; the queue's tasks write exactly one message per worker, in chunks, and a retried chunk
writes nothing twice."""
import re
from datetime import timedelta

import pytest
from huey.storage import MemoryStorage
from sqlalchemy import func, select

from lms.database import utcnow
from lms.extensions import db
from lms.messages.models import Message
from lms.tasks import QueueState, queue

from .conftest import login, post_form
from .querycount import count_queries
from .test_mock_exams import exam_id  # noqa: F401 (a fixture)
from .test_query_budgets import add_workers

WORKERS = 2500


@pytest.fixture
def held_queue(app):
    """The app's queue holds its tasks (as with a real consumer) until the test runs them."""
    saved = app.extensions["lms_tasks"]
    app.extensions["lms_tasks"] = QueueState(False, MemoryStorage("held"))
    saved_chunk, app.config["MESSAGES_CHUNK"] = app.config["MESSAGES_CHUNK"], 1000
    yield
    app.extensions["lms_tasks"] = saved
    app.config["MESSAGES_CHUNK"] = saved_chunk


def drain(app) -> list:
    """Run the queued tasks as a consumer would, until none is left; the tasks run."""
    ran = []
    with app.app_context():
        while (task := queue.dequeue()) is not None:
            ran.append(task)
            queue.execute(task)
    return ran


def messages_per_user(app, kind: str) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(select(Message.user_id, func.count()).where(Message.kind == kind)
                                       .group_by(Message.user_id)).tuples().all())


def test_a_district_wide_send_leaves_the_request_at_once_and_writes_one_message_each(
        app, client, world, exam_id, held_queue):  # noqa: F811
    with app.app_context():
        ids = set(add_workers(world, WORKERS, units=("C211",))) | {world["worker_d"]}
        db.session.commit()
    login(client, "office_d2")
    opens = (utcnow() + timedelta(hours=8, days=2)).strftime("%Y-%m-%dT%H:%M")
    closes = (utcnow() + timedelta(hours=8, days=2, minutes=150)).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "西区模拟考试日", "exam_id": exam_id, "org_unit_id": world["D2"], "opens_at": opens,
            "closes_at": closes, "stagger_minutes": "0"}
    with count_queries(app) as statements:
        r = post_form(client, "/mock/days/new", form)
    assert r.status_code == 302
    assert not [s for s in statements if "insert into message" in s.lower()], statements.report()
    district_select = re.compile(r'select\s+"?user"?\.id\s+from\s+"?user"?\s+join\s+org_unit', re.I)
    assert not [s for s in statements if district_select.search(s)], statements.report()  # the task runs it
    assert len(statements) < 40, statements.report()  # a handful, whatever the district's size
    assert messages_per_user(app, "mock_day_scheduled") == {}  # nothing written while the office waited

    ran = drain(app)
    names = [t.name for t in ran]
    assert names.count("fan_out") == 1 and names.count("deliver_chunk") == -(-len(ids) // 1000)
    assert messages_per_user(app, "mock_day_scheduled") == {i: 1 for i in ids}

    # the chunks retried (a consumer killed after writing, before acknowledging): nothing twice
    with app.app_context():
        for task in ran:
            if task.name == "deliver_chunk":
                queue.execute(task)
    assert drain(app) == []
    assert messages_per_user(app, "mock_day_scheduled") == {i: 1 for i in ids}


def test_a_small_send_is_written_by_one_task(app, tx, world, held_queue):
    from lms.messages import send
    from lms.transaction import unit

    with app.app_context(), unit():
        send("course_published", [world["trainer"], world["trainer"]], {"course_id": 1, "title": "课程"})
    assert messages_per_user(app, "course_published") == {}
    assert [t.name for t in drain(app)] == ["fan_out"]
    assert messages_per_user(app, "course_published") == {world["trainer"]: 1}
