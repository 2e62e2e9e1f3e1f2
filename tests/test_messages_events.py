"""Each event of the message centre, through the real request that causes it: the recipient's inbox shows it,
and no one else's does. The reminder of tomorrow's sessions is sent once per session and worker."""
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from lms.database import utcnow
from lms.extensions import db
from lms.messages.models import Message, ReminderSent
from lms.tasks import periodic

from .conftest import login, post_form
from .test_cert_progress import as_user, enter, now2026, result_id  # noqa: F401 (now2026: a fixture)
from .test_learning import make_course
from .test_mock_exams import exam_id  # noqa: F401 (a fixture)
from .test_training import make_training


def inbox_of(app, user_id: int) -> list[tuple[str, dict, str | None]]:
    with app.app_context():
        return [(m.kind, m.params, m.url) for m in db.session.scalars(
            select(Message).where(Message.user_id == user_id).order_by(Message.id))]


def inbox_page(app, username: str) -> str:
    return as_user(app, username).get("/messages/").get_data(as_text=True)


def test_an_office_assigns_a_course_and_the_workers_are_told(app, client, world):
    with app.app_context():
        cid = make_course(title="社区养老服务入门").id
        db.session.commit()
    login(client, "office_d1")
    r = post_form(client, f"/learn/courses/{cid}/assign", {"org_unit_id": world["S11"], "cert_level": ""})
    assert r.status_code == 302
    assert inbox_of(app, world["worker_a"]) == [
        ("course_assigned", {"course_id": cid, "title": "社区养老服务入门"}, f"/learn/courses/{cid}")]
    assert [k for k, _p, _u in inbox_of(app, world["worker_b"])] == ["course_assigned"]
    assert inbox_of(app, world["worker_c"]) == []  # S12: not assigned
    page = inbox_page(app, "worker_a")
    assert "新指派课程：社区养老服务入门" in page and 'id="unread-count">1<' in page
    # assigned again: those enrolled already are not told twice
    post_form(client, f"/learn/courses/{cid}/assign", {"org_unit_id": world["S11"], "cert_level": ""})
    assert len(inbox_of(app, world["worker_a"])) == 1


def test_the_review_tells_the_author_returned_then_published(app, client, world):
    login(client, "trainer")
    r = post_form(client, "/learn/studio/new", {"title": "居民议事会的组织", "summary": "如何开好议事会",
                                                "description": "目标", "category": "governance",
                                                "level": "beginner", "credit_hours": "1", "tags": ""})
    cid = int(re.search(r"/courses/(\d+)/edit", r.location).group(1))
    post_form(client, f"/learn/courses/{cid}/lessons/new",
              {"title": "第1讲", "body": "议事会第一步。", "minutes": "45", "required": "y"})
    post_form(client, f"/learn/courses/{cid}/submit", page=f"/learn/courses/{cid}/edit")
    office = as_user(app, "office_d1")
    post_form(office, f"/learn/courses/{cid}/review", {"action": "return", "comment": "请补充案例"},
              page=f"/learn/courses/{cid}")
    assert inbox_of(app, world["trainer"]) == [
        ("course_returned", {"course_id": cid, "title": "居民议事会的组织", "note": "请补充案例"},
         f"/learn/courses/{cid}/edit")]
    post_form(client, f"/learn/courses/{cid}/submit", page=f"/learn/courses/{cid}/edit")
    post_form(office, f"/learn/courses/{cid}/review", {"action": "publish", "comment": ""},
              page=f"/learn/courses/{cid}")
    assert [k for k, _p, _u in inbox_of(app, world["trainer"])] == ["course_returned", "course_published"]
    assert inbox_of(app, world["office_d1"]) == []  # the reviewer is not told of their own decision
    page = inbox_page(app, "trainer")
    assert "请补充案例" in page and "课程已发布：居民议事会的组织" in page


def test_registration_confirmed_and_promoted_from_the_waiting_list(app, client, world):
    with app.app_context():
        tid = make_training(organiser="D1", capacity=1, sessions=((60 * 24 * 2, 120),)).id
        db.session.commit()
    login(client, "worker_a")
    post_form(client, f"/training/{tid}/register", page=f"/training/{tid}")
    b = as_user(app, "worker_b")
    post_form(b, f"/training/{tid}/register", page=f"/training/{tid}")  # the class is full: waiting list
    assert [k for k, _p, _u in inbox_of(app, world["worker_a"])] == ["registration_confirmed"]
    assert inbox_of(app, world["worker_b"]) == []
    post_form(client, f"/training/{tid}/cancel", page=f"/training/{tid}")  # a seat frees: b moves up
    assert inbox_of(app, world["worker_b"]) == [
        ("registration_promoted", {"training_id": tid, "title": "社区议事协商专题培训"}, f"/training/{tid}")]
    assert "候补成功：社区议事协商专题培训" in inbox_page(app, "worker_b")


def test_an_office_registering_workers_tells_each_seated_one_once(app, client, world):
    with app.app_context():
        tid = make_training(organiser="D1", capacity=2, sessions=((60 * 24 * 2, 120),)).id
        db.session.commit()
    login(client, "office_d1")
    r = post_form(client, f"/training/{tid}/assign", {"unit_id": world["S11"], "usernames": ""})
    assert r.status_code == 302
    for name in ("worker_a", "worker_b"):
        assert [k for k, _p, _u in inbox_of(app, world[name])] == ["registration_confirmed"], name
    # assigned again (the whole district: the class is full now, so worker_c waits): nobody is told twice
    post_form(client, f"/training/{tid}/assign", {"unit_id": world["D1"], "usernames": ""})
    for name in ("worker_a", "worker_b"):
        assert len(inbox_of(app, world[name])) == 1, name
    assert inbox_of(app, world["worker_c"]) == []


def test_a_mock_exam_day_tells_every_worker_of_its_area(app, client, world, exam_id):  # noqa: F811
    office = as_user(app, "office_d1")
    opens = (utcnow() + timedelta(hours=8, days=3)).strftime("%Y-%m-%dT%H:%M")   # Beijing time
    closes = (utcnow() + timedelta(hours=8, days=3, minutes=120)).strftime("%Y-%m-%dT%H:%M")
    r = post_form(office, "/mock/days/new", {"title": "东区模拟考试日", "exam_id": exam_id, "org_unit_id": world["D1"],
                                             "opens_at": opens, "closes_at": closes, "stagger_minutes": "0"})
    assert r.status_code == 302
    day_id = int(r.location.rsplit("/", 1)[1])
    for name in ("worker_a", "worker_b", "worker_c", "trainer"):
        kinds = [(k, p.get("day_id")) for k, p, _u in inbox_of(app, world[name])]
        assert kinds == ([("mock_day_scheduled", day_id)] if name != "trainer" else []), name
    assert inbox_of(app, world["worker_d"]) == []  # D2
    kind, params, url = inbox_of(app, world["worker_a"])[0]
    assert params["starts_at"].startswith(opens) and params["starts_at"].endswith("+08:00")
    assert f"{opens.replace('T', ' ')}" in inbox_page(app, "worker_a")


def test_a_verified_result_tells_the_worker(app, client, world, now2026):  # noqa: F811
    login(client, "worker_a")
    enter(client, app, "junior-general", 2026)
    assert inbox_of(app, world["worker_a"]) == []  # pending: nothing yet
    rid = result_id(app, world["worker_a"], "junior-general", 2026)
    office = as_user(app, "office_d1")
    post_form(office, f"/mock/results/{rid}/verify", page="/mock/results")
    [(kind, params, url)] = inbox_of(app, world["worker_a"])
    assert kind == "result_verified" and params["result_id"] == rid and params["passed"] is True
    assert params["year"] == 2026 and url == "/mock/progress"
    assert "成绩已核实" in client.get("/messages/").get_data(as_text=True)


def test_tomorrows_session_is_reminded_once_however_often_the_periodic_work_runs(app, tx, clock, world):
    clock.set(datetime(2026, 6, 15, 2, 0))
    with app.app_context():
        # sessions in 20 hours (reminded now) and in 30 hours (not yet)
        training = make_training(organiser="D1", sessions=((20 * 60, 120), (30 * 60, 120)))
        from lms.training import rules

        rules.register(training, _user("worker_a"))
        rules.register(training, _user("worker_b"))
        rules.cancel(training, _user("worker_b"))
        soon, later = (s.id for s in training.sessions)
        db.session.commit()
        tid = training.id
    with app.app_context():  # three looks of the periodic work: one reminder, at the first
        assert [periodic.send_reminders() for _ in range(3)] == [1, 0, 0]
    reminders = [(k, p) for k, p, _u in inbox_of(app, world["worker_a"]) if k == "session_tomorrow"]
    assert reminders == [("session_tomorrow", {"training_id": tid, "title": "社区议事协商专题培训",
                                               "starts_at": "2026-06-16T06:00+08:00", "place": "桂香社区党群服务中心"})]
    assert [k for k, _p, _u in inbox_of(app, world["worker_b"]) if k == "session_tomorrow"] == []  # cancelled
    clock.advance(hours=12)  # the second session is now within the day: reminded, once
    with app.app_context():
        assert [periodic.send_reminders() for _ in range(2)] == [1, 0]
    with app.app_context():
        told = db.session.execute(select(ReminderSent.subject_id, ReminderSent.user_id)
                                  .order_by(ReminderSent.subject_id)).all()
    assert [tuple(r) for r in told] == [(soon, world["worker_a"]), (later, world["worker_a"])]
    assert len([k for k, _p, _u in inbox_of(app, world["worker_a"]) if k == "session_tomorrow"]) == 2
    assert "明天开课：社区议事协商专题培训" in inbox_page(app, "worker_a")


def _user(username):
    from lms.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))
