"""请教一下 (lms/ask): asking, 我也想问, routing, answering, the library, anonymity, scope, statistics, lessons."""
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.ask import queries
from lms.ask.models import AskQuestion, AskVote
from lms.auth.models import User, UserRole
from lms.extensions import db
from lms.learning.models import Course, Lesson
from lms.library.models import Expert, Trainer
from lms.messages.models import Message
from lms.orgs.models import OrgUnit

from .conftest import login, post_form

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ASKER = "东一一甲"  # worker_a's name (tests/world.py)


def as_user(app, username: str):
    c = app.test_client()
    login(c, username)
    return c


@pytest.fixture
def people(app, client, world):
    """An expert with an account (expert_q, at the city), one without, and the trainer account's 师资库 record."""
    with app.app_context():
        city = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "C"))
        account = User(username="expert_q", name="钱专家账号", org_unit=city, password_hash=db.session.get(
            User, world["worker_a"]).password_hash)
        account.role_rows = [UserRole(role="learner")]
        expert = Expert(name="钱教授", title="教授", affiliation="东方大学", fields="社区治理", user=account,
                        active=True)
        no_account = Expert(name="孙研究员", title="研究员", fields="养老服务", active=True)
        trainer = Trainer(name="讲师甲", kind="practitioner", title="社工站站长",
                          user=db.session.get(User, world["trainer"]), active=True)
        db.session.add_all([account, expert, no_account, trainer])
        db.session.commit()
        return {"expert": expert.id, "no_account": no_account.id, "trainer": trainer.id, "expert_user": account.id}


def ask(client, title="入户走访时居民拒绝开门怎么办", body="我们社区有几户独居老人总是不开门，**怎么建立信任**？",
        topic="", anonymous=False, files=()):
    data = {"title": title, "body": body, "topic": topic}
    if anonymous:
        data["anonymous"] = "y"
    if files:
        data["attachments"] = list(files)
    r = post_form(client, "/ask/new", data, content_type="multipart/form-data")
    return r


def last_question(app) -> AskQuestion:
    with app.app_context():
        return db.session.scalar(select(AskQuestion).order_by(AskQuestion.id.desc()))


def question(app, qid: int) -> AskQuestion:
    with app.app_context():
        return db.session.get(AskQuestion, qid)


def route(client, qid: int, target: str):
    return post_form(client, f"/ask/office/{qid}/route", {"target": target}, page=f"/ask/office/{qid}")


def answer(client, qid: int, text="先请楼栋长陪同上门，说明来意，**留下联系卡**，再约时间。"):
    return post_form(client, f"/ask/{qid}/answer", {"answer": text})


def asked_and_routed(app, client, people, **kw) -> int:
    """A question asked by the client's user (worker_a when the client is not logged in), routed to the expert."""
    if client.get("/ask/mine").status_code != 200:
        login(client, "worker_a")
    assert ask(client, **kw).status_code == 302
    qid = last_question(app).id
    office = as_user(app, "office_d1")
    assert route(office, qid, f"expert:{people['expert']}").status_code == 302
    return qid


# --- the journey over HTTP -------------------------------------------------------------------------

def test_a_worker_asks_the_office_routes_the_expert_answers_and_the_library_shows_it(app, client, people):
    login(client, "worker_a")
    r = ask(client, topic="社区工作", files=[(io.BytesIO(PNG), "门口.png")])
    assert r.status_code == 302
    q = last_question(app)
    assert (q.status, q.topic, q.org_unit_id is not None) == ("open", "社区工作", True)
    page = client.get(f"/ask/{q.id}").get_data(as_text=True)
    assert "门口.png" in page and "<strong>怎么建立信任</strong>" in page

    other = as_user(app, "worker_b")
    assert other.get(f"/ask/{q.id}").status_code == 404  # not public before the office accepts it

    office = as_user(app, "office_d1")
    assert q.title in office.get("/ask/office").get_data(as_text=True)
    assert route(office, q.id, f"expert:{people['expert']}").status_code == 302
    q = question(app, q.id)
    assert (q.status, q.answerer_id, q.expert_id) == ("routed", people["expert_user"], people["expert"])

    expert = as_user(app, "expert_q")
    assert q.title in expert.get("/ask/to-answer").get_data(as_text=True)
    assert answer(expert, q.id).status_code == 302
    q = question(app, q.id)
    assert q.status == "answered" and q.answered_by_id == people["expert_user"] and q.answered_at is not None

    inbox = client.get("/messages/").get_data(as_text=True)  # the asker's message (lms/messages)
    assert f"您的提问有回答了：{q.title}" in inbox
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert (message.user_id, message.kind, message.url) == (q.asker_id, "ask_answered", f"/ask/{q.id}")
    assert q.title not in other.get("/messages/").get_data(as_text=True)

    library = other.get("/ask/").get_data(as_text=True)
    assert q.title in library and "钱教授" in library
    shown = client.get(f"/ask/{q.id}").get_data(as_text=True)
    assert "<strong>留下联系卡</strong>" in shown and "钱教授 · 教授 · 东方大学" in shown


def test_an_anonymous_asker_is_never_named_to_other_workers_or_the_answerer(app, client, people):
    qid = asked_and_routed(app, client, people, anonymous=True)
    expert = as_user(app, "expert_q")
    for url in (f"/ask/{qid}", "/ask/to-answer", f"/ask/{qid}/answer", "/ask/?show=waiting"):
        html = expert.get(url).get_data(as_text=True)
        assert "入户走访" in html and ASKER not in html and "worker_a" not in html, url
    answer(expert, qid)
    other = as_user(app, "worker_b")
    for url in (f"/ask/{qid}", "/ask/", "/ask/?q=入户"):
        html = other.get(url).get_data(as_text=True)
        assert "入户走访" in html and ASKER not in html, url
    # the asker and the office in scope do see who asked
    assert ASKER in client.get(f"/ask/{qid}").get_data(as_text=True)
    assert ASKER in as_user(app, "office_d1").get(f"/ask/office/{qid}").get_data(as_text=True)


def test_a_named_asker_is_shown(app, client, people):
    qid = asked_and_routed(app, client, people)
    assert ASKER in as_user(app, "worker_b").get(f"/ask/{qid}").get_data(as_text=True)


# --- 我也想问 --------------------------------------------------------------------------------------

def votes(app, qid):
    with app.app_context():
        return (db.session.get(AskQuestion, qid).votes,
                db.session.scalar(select(func.count(AskVote.id)).where(AskVote.question_id == qid)))


def test_a_worker_votes_once_and_never_on_their_own_question(app, client, people):
    qid = asked_and_routed(app, client, people)
    other = as_user(app, "worker_b")
    for _ in range(2):  # the second is a no-op
        assert post_form(other, f"/ask/{qid}/vote", page=f"/ask/{qid}").status_code == 302
    assert votes(app, qid) == (1, 1)
    post_form(client, f"/ask/{qid}/vote", page=f"/ask/{qid}")  # the asker
    assert votes(app, qid) == (1, 1)
    post_form(as_user(app, "worker_d"), f"/ask/{qid}/vote", page=f"/ask/{qid}")  # another district: public
    assert votes(app, qid) == (2, 2)
    assert client.get(f"/ask/{qid}/vote").status_code == 405  # a POST only


def test_lists_rank_by_votes_or_newest(app, client, people, clock):
    first = asked_and_routed(app, client, people, title="台账太多怎么减负")
    clock.advance(hours=1)
    second = asked_and_routed(app, client, people, title="矛盾调解中双方都不让步")
    post_form(as_user(app, "worker_b"), f"/ask/{first}/vote", page=f"/ask/{first}")
    html = client.get("/ask/?show=waiting").get_data(as_text=True)
    assert html.index("台账太多") < html.index("矛盾调解")
    html = client.get("/ask/?show=waiting&sort=newest").get_data(as_text=True)
    assert html.index("矛盾调解") < html.index("台账太多")
    assert second


# --- routing and answering -------------------------------------------------------------------------

def test_routing_goes_only_to_experts_and_trainers_with_an_active_account(app, client, people, world):
    login(client, "worker_a")
    ask(client)
    qid = last_question(app).id
    office = as_user(app, "office_d1")
    form = office.get(f"/ask/office/{qid}").get_data(as_text=True)
    assert f"expert:{people['expert']}" in form and f"trainer:{people['trainer']}" in form
    assert f"expert:{people['no_account']}" not in form
    route(office, qid, f"expert:{people['no_account']}")
    assert question(app, qid).status == "open"
    route(office, qid, "expert:999999")
    assert question(app, qid).status == "open"
    with app.app_context():
        db.session.get(User, people["expert_user"]).active = False
        db.session.commit()
    route(office, qid, f"expert:{people['expert']}")
    assert question(app, qid).status == "open"
    route(office, qid, f"trainer:{people['trainer']}")
    assert (question(app, qid).status, question(app, qid).answerer_id) == ("routed", world["trainer"])


def test_only_the_routed_answerer_or_the_office_answers_and_only_its_author_edits(app, client, people, world):
    qid = asked_and_routed(app, client, people)
    trainer = as_user(app, "trainer")  # has an answerer's record, but the question went to the expert
    assert trainer.get(f"/ask/{qid}/answer").status_code == 403
    assert answer(trainer, qid).status_code == 403
    assert client.get(f"/ask/{qid}/answer").status_code == 403  # the asker
    assert question(app, qid).status == "routed"
    expert = as_user(app, "expert_q")
    answer(expert, qid, "第一版回答")
    answered_at = question(app, qid).answered_at
    assert answer(as_user(app, "office_d1"), qid, "改写").status_code == 403  # not the answer's author
    answer(expert, qid, "第二版回答：补充了**做法**")
    q = question(app, qid)
    assert q.answer.startswith("第二版") and q.answered_at == answered_at and q.answer_edited_at is not None


def test_an_office_in_scope_may_answer_itself(app, client, people, world):
    login(client, "worker_a")
    ask(client)
    qid = last_question(app).id
    answer(as_user(app, "office_s11"), qid, "街道培训办直接答复。")
    q = question(app, qid)
    assert (q.status, q.answered_by_id) == ("answered", world["office_s11"])


def test_the_office_rejects_with_a_reason_the_asker_sees(app, client, people):
    login(client, "worker_a")
    ask(client, body="张大爷身份证号 110101195001011234 的低保怎么办")
    qid = last_question(app).id
    office = as_user(app, "office_d1")
    r = post_form(office, f"/ask/office/{qid}/reject", {"reason": "personal_data", "note": "请删去身份证号后重新提问"},
                  page=f"/ask/office/{qid}")
    assert r.status_code == 302 and question(app, qid).status == "rejected"
    r = post_form(office, f"/ask/office/{qid}/reject", {"reason": "bogus"}, page=f"/ask/office/{qid}")
    assert r.status_code == 302
    mine = client.get("/ask/mine").get_data(as_text=True)
    assert "含有个人信息" in mine or "Contains personal data" in mine
    assert "请删去身份证号后重新提问" in client.get(f"/ask/{qid}").get_data(as_text=True)
    assert as_user(app, "worker_b").get(f"/ask/{qid}").status_code == 404
    assert question(app, qid).reject_reason == "personal_data"


# --- scope ---------------------------------------------------------------------------------------

def test_another_districts_office_gets_404_on_question_route_and_statistics(app, client, people, world):
    login(client, "worker_a")
    ask(client)
    qid = last_question(app).id
    west = as_user(app, "office_d2")
    assert west.get(f"/ask/{qid}").status_code == 404
    assert west.get(f"/ask/office/{qid}").status_code == 404
    assert route(as_user(app, "office_d2"), qid, f"expert:{people['expert']}").status_code in (400, 404)
    r = west.post(f"/ask/office/{qid}/route", data={"target": f"expert:{people['expert']}"})
    assert r.status_code in (400, 404)
    assert question(app, qid).status == "open"
    assert west.get(f"/ask/office/stats?unit={world['D1']}").status_code == 404
    assert west.get(f"/ask/office/stats.xlsx?unit={world['C111']}").status_code == 404
    assert "入户走访" not in west.get("/ask/office?status=all").get_data(as_text=True)
    assert west.get(f"/ask/{qid}/answer").status_code == 404
    # the east's street office does see and manage it
    assert as_user(app, "office_s11").get(f"/ask/office/{qid}").status_code == 200
    # workers never reach the office pages
    assert client.get("/ask/office").status_code == 403


def test_the_route_post_of_another_district_is_404(app, client, people):
    """The route action, with a valid CSRF token from the office's own page, is a 404 out of scope."""
    login(client, "worker_a")
    ask(client)
    qid = last_question(app).id
    west = as_user(app, "office_d2")
    r = post_form(west, f"/ask/office/{qid}/route", {"target": f"expert:{people['expert']}"}, page="/ask/office")
    assert r.status_code == 404
    r = post_form(west, f"/ask/office/{qid}/reject", {"reason": "duplicate"}, page="/ask/office")
    assert r.status_code == 404
    assert question(app, qid).status == "open"


# --- search --------------------------------------------------------------------------------------

def test_the_library_searches_title_body_and_answer_and_filters_by_topic(app, client, people):
    qid = asked_and_routed(app, client, people, topic="社区工作")
    answer(as_user(app, "expert_q"), qid, "可以联合物业和志愿者开展敲门行动。")
    other = as_user(app, "worker_b")
    for words in ("入户走访", "独居老人", "物业 志愿者"):
        assert "入户走访时居民" in other.get(f"/ask/?q={words}").get_data(as_text=True), words
    assert "入户走访时居民" not in other.get("/ask/?q=养老院").get_data(as_text=True)
    assert "入户走访时居民" in other.get("/ask/?topic=社区工作").get_data(as_text=True)
    assert "入户走访时居民" not in other.get("/ask/?topic=other").get_data(as_text=True)


def test_a_bad_topic_or_attachment_is_refused_with_a_message(app, client, people):
    login(client, "worker_a")
    r = ask(client, topic="不存在的知识点")
    assert r.status_code == 200 and "不存在的知识点" in r.get_data(as_text=True)
    r = ask(client, files=[(io.BytesIO(b"just text"), "note.txt")])
    assert r.status_code == 200 and "note.txt" in r.get_data(as_text=True)
    r = ask(client, files=[(io.BytesIO(PNG), f"{i}.png") for i in range(4)])
    assert r.status_code == 200
    r = ask(client, title="", body="")
    assert r.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(AskQuestion.id))) == 0


# --- statistics ----------------------------------------------------------------------------------

def test_the_median_time_to_answer_on_hand_made_times(app, client, people, clock, world):
    start = datetime(2026, 6, 15, 1, 0)
    expert = as_user(app, "expert_q")
    ids = []
    for worker in ("worker_a", "worker_b", "worker_c", "worker_a"):  # C111, C112, C121, C111
        clock.set(start)
        ids.append(asked_and_routed(app, as_user(app, worker), people))
    for qid, hours in zip(ids[:3], (2, 10, 4), strict=True):
        clock.set(start + timedelta(hours=hours))
        answer(expert, qid)
    office = as_user(app, "office_d1")
    html = office.get("/ask/office/stats").get_data(as_text=True)
    assert 'id="stats-median">4.0<' in html
    with app.app_context():
        s = queries.stats(db.session.get(OrgUnit, world["D1"]), "itself")
        assert (s.total.asked, s.total.answered, s.total.open, s.total.median_hours) == (4, 3, 1, 4.0)
        by_unit = {t.label: (t.asked, t.answered, t.median_hours) for t in s.units}
        assert by_unit == {"东一街道": (3, 2, 6.0), "东二街道": (1, 1, 4.0)}
        assert [(t.label, t.answered, t.open, t.median_hours) for t in s.answerers] == [("钱专家账号", 3, 1, 4.0)]
        assert queries.median_hours([]) is None and queries.median_hours([1.0, 3.0]) == 2.0
    book = load_workbook(io.BytesIO(office.get(f"/ask/office/stats.xlsx?unit={world['D1']}").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][1:] == ("东区", 4, 3, 1, 0, 4.0)
    assert any(r[1] == "钱专家账号" and r[3] == 3 for r in rows[1:])
    # the city office's figures include the east; the west office's do not
    assert 'id="stats-median">—<' in as_user(app, "office_d2").get("/ask/office/stats").get_data(as_text=True)


# --- a lesson from an answer ---------------------------------------------------------------------

def test_an_office_turns_an_answer_into_a_lesson_draft_that_cites_the_question(app, client, people, world):
    qid = asked_and_routed(app, client, people, anonymous=True)
    answer(as_user(app, "expert_q"), qid)
    office = as_user(app, "office_d1")
    r = post_form(office, f"/ask/office/{qid}/lesson", {"course_id": "0"}, page=f"/ask/office/{qid}")
    assert r.status_code == 302
    with app.app_context():
        q = db.session.get(AskQuestion, qid)
        lesson = db.session.get(Lesson, q.lesson_id)
        assert lesson.course.status == "draft" and lesson.course.created_by_id == world["office_d1"]
        assert f"第 {qid} 号问题《{q.title}》" in lesson.body
        assert "留下联系卡" in lesson.body and "钱教授" in lesson.body
        assert ASKER not in lesson.body
        made_course = lesson.course_id
        draft = Course(slug="ask-draft", title="社区工作答疑集", category="service", status="draft",
                       created_by_id=world["office_d1"])
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    # not twice
    post_form(office, f"/ask/office/{qid}/lesson", {"course_id": "0"}, page=f"/ask/office/{qid}")
    with app.app_context():
        assert db.session.scalar(select(func.count(Lesson.id)).where(Lesson.title == "入户走访时居民拒绝开门怎么办")) \
            == 1
    # another answer into the chosen draft course; the course then enters the normal review
    second = asked_and_routed(app, client, people, title="养老服务驿站如何对接志愿者")
    answer(as_user(app, "expert_q"), second)
    post_form(office, f"/ask/office/{second}/lesson", {"course_id": str(draft_id)}, page=f"/ask/office/{second}")
    with app.app_context():
        course = db.session.get(Course, draft_id)
        assert [lesson.title for lesson in course.lessons] == ["养老服务驿站如何对接志愿者"]
    # the new draft course enters the normal course review
    assert post_form(office, f"/learn/courses/{made_course}/submit", page="/learn/studio").status_code == 302
    with app.app_context():
        assert db.session.get(Course, made_course).status == "review"
