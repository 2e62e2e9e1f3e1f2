"""Class evaluations (评价) and training-needs surveys (需求调研): lms/surveys."""
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms import transaction
from lms.extensions import db
from lms.library.models import Trainer
from lms.surveys import evaluations, needs
from lms.surveys.models import Evaluation, EvaluationCall, Survey, SurveyResponse, TrainerRating
from lms.training import rules

from .conftest import login as _login
from .conftest import post_form
from .test_training import make_training, user

ATTENDEES = ("worker_a", "worker_b", "worker_c")


def login(client, username):
    """Log in as `username`, logging out whoever is logged in first."""
    if client.get("/home").status_code == 200:
        post_form(client, "/auth/logout", page="/home")
    return _login(client, username)


def _class(app, *, ended_minutes_ago=60, attendees=ATTENDEES, absent=("worker_b",), second_trainer=True, audience=None):
    """A D1 class of two sessions, the last ended `ended_minutes_ago`; `attendees` registered, present at the
    first session except those `absent` (absent at both); taught by the world's trainer (讲师甲) and 周讲师."""
    with app.app_context():
        t = make_training(audience=audience, sessions=((-3 * 24 * 60, 120), (-ended_minutes_ago - 120, 120)))
        mine = Trainer(name="讲师甲", kind="practitioner", user_id=user("trainer").id)
        t.trainers = [mine] + ([Trainer(name="周讲师", kind="expert")] if second_trainer else [])
        first = min(t.sessions, key=lambda s: s.starts_at)
        for name in attendees:
            rules.register(t, user(name))
            rules.set_status(first, user(name), "absent" if name in absent else "present", method="roster", by=None)
        db.session.commit()
        return t.id, [tr.id for tr in t.trainers]


def _form(trainers, overall=4, rating=5, comment="", trainer_comment=""):
    data = {"overall": str(overall), "comment": comment}
    for tid in trainers:
        data[f"trainer-{tid}"] = str(rating)
        data[f"trainer-comment-{tid}"] = trainer_comment
    return data


def _evaluate(client, tid, trainers, **kw):
    return post_form(client, f"/surveys/classes/{tid}/evaluate", _form(trainers, **kw))


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.session.scalar(stmt)


# --- who may evaluate, and when ---------------------------------------------------------------------

def test_refused_before_the_class_ends(app, client, world, clock):
    with app.app_context():
        t = make_training(sessions=((-3 * 24 * 60, 120), (24 * 60, 120)))  # one held, one tomorrow
        rules.register(t, user("worker_a"))
        rules.set_status(t.sessions[0], user("worker_a"), "present", method="roster", by=None)
        db.session.commit()
        tid = t.id
    login(client, "worker_a")
    html = client.get(f"/surveys/classes/{tid}/evaluate").get_data(as_text=True)
    assert "培训班最后一次课结束后才能评价" in html and 'id="evaluation-form"' not in html
    r = _evaluate(client, tid, [], overall=5)
    assert r.status_code == 302
    assert "培训班最后一次课结束后才能评价" in client.get(r.location).get_data(as_text=True)
    assert _count(app, Evaluation, training_id=tid) == 0
    clock.advance(days=1, hours=3)  # the last session has ended
    assert _evaluate(client, tid, [], overall=5).status_code == 302
    assert _count(app, Evaluation, training_id=tid) == 1


def test_only_attendees_evaluate_and_others_get_404(app, client, world, clock):
    tid, trainers = _class(app)
    for name in ("worker_b", "worker_d", "office_d2"):  # absent; another district; an office of another district
        login(client, name)
        assert client.get(f"/surveys/classes/{tid}/evaluate").status_code == 404, name
        assert _evaluate(client, tid, trainers).status_code == 404, name
    assert _count(app, Evaluation, training_id=tid) == 0
    login(client, "worker_a")
    assert client.get(f"/surveys/classes/{tid}/evaluate").status_code == 200


def test_one_evaluation_per_attendee(app, client, world, clock):
    tid, trainers = _class(app)
    login(client, "worker_a")
    assert "去评价" in client.get("/training/mine").get_data(as_text=True)  # 待评价
    r = _evaluate(client, tid, trainers, overall=4, comment="案例很实用")
    assert r.status_code == 302 and "感谢评价" in client.get(r.location).get_data(as_text=True)
    assert 'id="evaluations-due"' not in client.get("/training/mine").get_data(as_text=True)
    r = _evaluate(client, tid, trainers, overall=1, comment="第二份")
    assert "您已经评价过本期培训" in client.get(r.location).get_data(as_text=True)
    assert _count(app, Evaluation, training_id=tid) == 1
    with app.app_context():
        assert db.session.scalar(select(Evaluation.overall).where(Evaluation.training_id == tid)) == 4
        # the database holds the rule too
        db.session.add(Evaluation(training_id=tid, user_id=user("worker_a").id, overall=3))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_every_trainer_rated_and_bad_input_explained(app, client, world, clock):
    tid, trainers = _class(app)
    login(client, "worker_a")
    data = _form(trainers)
    del data[f"trainer-{trainers[1]}"]
    data["overall"] = "9"
    r = post_form(client, f"/surveys/classes/{tid}/evaluate", data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "请为本期培训选择 1 到 5 星" in html and "请为周讲师选择 1 到 5 星" in html
    assert _count(app, Evaluation, training_id=tid) == 0


def test_changed_until_the_deadline_then_closed(app, client, world, clock):
    tid, trainers = _class(app)
    login(client, "worker_a")
    _evaluate(client, tid, trainers, overall=2, rating=2)
    clock.advance(days=13)
    html = client.get(f"/surveys/classes/{tid}/evaluate").get_data(as_text=True)
    assert "保存修改" in html and 'value="2" checked' in html
    r = post_form(client, f"/surveys/classes/{tid}/evaluate/change", _form(trainers, overall=5, rating=4),
                  page=f"/surveys/classes/{tid}/evaluate")
    assert r.status_code == 302
    with app.app_context():
        assert evaluations.trainer_rating(trainers[0]).average == 4
        assert db.session.scalar(select(Evaluation.overall).where(Evaluation.training_id == tid)) == 5
    clock.advance(days=1, minutes=1)  # 14 days after the end
    page = f"/surveys/classes/{tid}/evaluate"
    assert "本期培训的评价已于" in client.get(page).get_data(as_text=True)
    r = client.post(f"/surveys/classes/{tid}/evaluate/change",
                    data={**_form(trainers, overall=1, rating=1), "csrf_token": _token(client)})
    assert "本期培训的评价已于" in client.get(r.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Evaluation.overall).where(Evaluation.training_id == tid)) == 5
    login(client, "worker_c")  # never evaluated: too late now
    _evaluate(client, tid, trainers)
    assert _count(app, Evaluation, training_id=tid) == 1


def _token(client):
    from .conftest import csrf_token

    return csrf_token(client, "/training/mine")


# --- anonymity and the small-number rule ----------------------------------------------------------------

NAMES = {"worker_a": "东一一甲", "worker_b": "东一二乙", "worker_c": "东二一丙", "worker_d": "西一一丁"}


def _three_evaluations(app, client):
    tid, trainers = _class(app, attendees=tuple(NAMES), absent=(), audience="C")
    for i, name in enumerate(("worker_a", "worker_b", "worker_c")):
        login(client, name)
        _evaluate(client, tid, trainers, overall=3 + i, rating=2 + i, comment=f"评语{i}",
                  trainer_comment=f"讲师评语{i}")
    return tid, trainers


def test_the_trainer_reads_ratings_and_comments_without_names(app, client, world, clock):
    tid, trainers = _class(app, attendees=tuple(NAMES), absent=(), audience="C")
    for name in ("worker_a", "worker_b"):
        login(client, name)
        _evaluate(client, tid, trainers, overall=5, rating=5, comment=f"评语{name}")
    login(client, "trainer")
    html = client.get(f"/surveys/classes/{tid}/evaluations").get_data(as_text=True)
    # two evaluations: below the small-number rule, the trainer sees the count and nothing else
    assert 'id="too-few"' in html and "目前有 2 条评价" in html
    assert "评语worker_a" not in html and 'class="average"' not in html
    login(client, "office_d1")  # the office sees the figures at any count
    assert 'class="average">5.0<' in client.get(f"/surveys/classes/{tid}/evaluations").get_data(as_text=True)
    login(client, "worker_c")
    _evaluate(client, tid, trainers, overall=2, rating=2, comment="评语worker_c")
    login(client, "trainer")
    html = client.get(f"/surveys/classes/{tid}/evaluations").get_data(as_text=True)
    assert 'id="too-few"' not in html
    assert re.search(rf'data-question="trainer-{trainers[0]}">.*?class="average">4.0<.*?class="count">3<', html, re.S)
    assert f'data-question="trainer-{trainers[1]}"' not in html  # another trainer's rows are theirs
    assert all(f"评语{n}" in html for n in ("worker_a", "worker_b", "worker_c"))
    for name, real in NAMES.items():
        assert name + '"' not in html and real not in html
    assert 'id="completion"' not in html
    assert client.get(f"/surveys/classes/{tid}/evaluations.xlsx").status_code == 403  # offices export
    assert "我的授课评价" in client.get("/surveys/teaching").get_data(as_text=True)


def test_the_office_sees_completion_but_not_who_wrote_what(app, client, world, clock):
    tid, trainers = _three_evaluations(app, client)
    login(client, "office_d1")
    html = client.get(f"/surveys/classes/{tid}/evaluations").get_data(as_text=True)
    completion = re.search(r'id="completion">(.*?)</table>', html, re.S).group(1)
    for name in ("worker_a", "worker_b", "worker_c", "worker_d"):
        assert NAMES[name] in completion and "评语" not in completion
    assert completion.count("已评价") == 3 and completion.count("未评价") == 1
    comments = re.findall(r'<li class="list-group-item">(评语\w+)</li>', html)
    assert comments == sorted(comments)  # ordered by text, never by when or by whom
    ws = load_workbook(io.BytesIO(client.get(f"/surveys/classes/{tid}/evaluations.xlsx").data)).active
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert not any(n in c for c in cells for n in list(NAMES) + list(NAMES.values()))
    login(client, "office_d2")
    assert client.get(f"/surveys/classes/{tid}/evaluations").status_code == 404
    assert client.get(f"/surveys/classes/{tid}/evaluations.xlsx").status_code == 404


def test_evaluation_export_rows_equal_the_page(app, client, world, clock):
    tid, trainers = _three_evaluations(app, client)
    login(client, "office_d1")
    html = client.get(f"/training/{tid}").get_data(as_text=True)  # the class page
    page = {q: (float(a), int(c)) for q, a, c in re.findall(
        r'data-question="([\w-]+)">.*?class="average">([\d.]+)<.*?class="count">(\d+)<', html, re.S)}
    ws = load_workbook(io.BytesIO(client.get(f"/surveys/classes/{tid}/evaluations.xlsx").data)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3
    overall = [r[0] for r in rows]
    assert page["overall"] == (round(sum(overall) / 3, 1), 3)
    for i, trainer_id in enumerate(trainers):
        ratings = [r[2 + 2 * i] for r in rows]
        assert page[f"trainer-{trainer_id}"] == (round(sum(ratings) / 3, 1), 3)


# --- the trainer's running rating ------------------------------------------------------------------------

def _recomputed(trainer_id):
    ratings = db.session.scalars(select(TrainerRating.rating).where(TrainerRating.trainer_id == trainer_id)).all()
    return len(ratings), (sum(ratings) / len(ratings) if ratings else None)


def test_running_rating_equals_a_recomputation_after_edits(app, client, world, clock):
    tid, trainers = _three_evaluations(app, client)
    with app.app_context():  # a second class of the same trainer
        other = make_training(sessions=((-2 * 24 * 60, 120),))
        other.trainers = [db.session.get(Trainer, trainers[0])]
        rules.register(other, user("worker_a"))
        rules.set_status(other.sessions[0], user("worker_a"), "present", method="roster", by=None)
        db.session.commit()
        other_id = other.id
    login(client, "worker_a")
    post_form(client, f"/surveys/classes/{other_id}/evaluate", {"overall": "5", f"trainer-{trainers[0]}": "1"})
    post_form(client, f"/surveys/classes/{tid}/evaluate/change", _form(trainers, overall=5, rating=5),
              page=f"/surveys/classes/{tid}/evaluate")
    with app.app_context():
        count, average = _recomputed(trainers[0])
        figure = evaluations.trainer_rating(trainers[0])
        assert (figure.count, figure.average) == (count, round(average, 2)) == (4, round((5 + 3 + 4 + 1) / 4, 2))
    html = client.get(f"/library/trainers/{trainers[0]}").get_data(as_text=True)
    assert re.search(r'id="trainer-rating" data-count="4">\s*<strong class="average">3.2</strong>', html)
    assert "4 条评分" in html


def test_the_profile_shows_no_average_below_the_minimum(app, client, world, clock):
    tid, trainers = _class(app)
    login(client, "worker_a")
    _evaluate(client, tid, trainers, rating=1)
    html = client.get(f"/library/trainers/{trainers[0]}").get_data(as_text=True)
    assert 'data-count="1"' in html and 'class="average"' not in html and "满 3 条评分后显示平均分" in html


# --- the call for evaluations --------------------------------------------------------------------------

def test_attendees_are_called_once_per_class(app, world, clock, tx):
    tid, _trainers = _class(app, ended_minutes_ago=-60)  # ends in an hour
    with app.app_context():
        assert evaluations.call_for_evaluations() == 0
        clock.advance(hours=2)
        assert evaluations.call_for_evaluations() == 1
        assert evaluations.call_for_evaluations() == 0
        call = db.session.get(EvaluationCall, tid)
        assert call.recipients == 2  # worker_a and worker_c attended; worker_b did not
        clock.advance(days=15)  # a class ended longer ago than the window is never called
        t = make_training(sessions=((-20 * 24 * 60, 120),))
        db.session.flush()
        assert evaluations.call_for_evaluations() == 0 and db.session.get(EvaluationCall, t.id) is None


# --- needs surveys ------------------------------------------------------------------------------------------

def _survey_form(unit_id, deadline, **extra):
    data = {"title": "2027 年培训需求调研", "description": "请花两分钟填写。", "org_unit_id": str(unit_id),
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
            "questions-0-kind": "single", "questions-0-text": "最希望的培训形式？",
            "questions-0-options": "集中面授\n线上学习\n现场教学", "questions-0-required": "y",
            "questions-1-kind": "multiple", "questions-1-text": "最想提升的能力？",
            "questions-1-options": "议事协商\n矛盾调解\n数字工具", "questions-1-required": "y",
            "questions-2-kind": "text", "questions-2-text": "其他建议？"}
    data.update(extra)
    return data


def _new_survey(client, unit_id, now, days=7, **extra):
    from lms.util import utc_to_local

    deadline = utc_to_local(now + timedelta(days=days))
    return post_form(client, "/surveys/new", _survey_form(unit_id, deadline, **extra))


def test_an_office_sends_a_survey_to_its_subtree(app, client, world, clock):
    login(client, "office_d1")
    r = _new_survey(client, world["D1"], clock.at)
    assert r.status_code == 302
    sid = int(re.search(r"/surveys/(\d+)/results", r.location).group(1))
    with app.app_context():
        survey = db.session.get(Survey, sid)
        assert [q.kind for q in survey.questions] == ["single", "multiple", "text"]
        assert survey.questions[2].required is False
        assert survey.questions[0].choices == ["集中面授", "线上学习", "现场教学"]
    # audience: the workers of D1's subtree; anyone else: 404
    for name, seen in (("worker_a", True), ("worker_c", True), ("worker_d", False)):
        login(client, name)
        assert (f"/surveys/{sid}\"" in client.get("/surveys/mine").get_data(as_text=True)) is seen, name
        assert client.get(f"/surveys/{sid}").status_code == (200 if seen else 404), name
    # scope: offices whose area holds D1 (and admins); a street office below it or another district: 404
    for name, status in (("office_d1", 200), ("office_c", 200), ("admin", 200), ("office_d2", 404),
                         ("office_s11", 404)):
        login(client, name)
        assert client.get(f"/surveys/{sid}/results").status_code == status, name
        assert client.get(f"/surveys/{sid}/results.xlsx").status_code == status, name
        assert (f"/surveys/{sid}/results" in client.get("/surveys/").get_data(as_text=True)) is (status == 200)
    login(client, "worker_a")
    assert client.get(f"/surveys/{sid}/results").status_code == 403


def test_a_survey_is_checked_before_it_is_sent(app, client, world, clock):
    login(client, "office_d1")
    r = _new_survey(client, world["D1"], clock.at, **{"questions-0-options": "只有一个选项"})
    assert r.status_code == 200 and "第 1 题：选择题至少需要两个选项" in r.get_data(as_text=True)
    r = _new_survey(client, world["D1"], clock.at, days=-1)
    assert "截止时间必须晚于现在" in r.get_data(as_text=True)
    assert _new_survey(client, world["D2"], clock.at).status_code == 200  # D2: no choice for D1's office
    assert _count(app, Survey) == 0


def _sent(app, client, world, clock, unit="D1"):
    login(client, f"office_{unit.lower()}")
    r = _new_survey(client, world[unit], clock.at)
    with app.app_context():
        sid = int(re.search(r"/surveys/(\d+)/results", r.location).group(1))
        return sid, [q.id for q in db.session.get(Survey, sid).questions]


def _answer(client, sid, q, single=0, multiple=(0,), text=""):
    return post_form(client, f"/surveys/{sid}", {f"q-{q[0]}": str(single), f"q-{q[1]}": [str(i) for i in multiple],
                                                 f"q-{q[2]}": text})


def test_workers_answer_once_before_the_deadline(app, client, world, clock):
    sid, q = _sent(app, client, world, clock)
    login(client, "worker_a")
    r = post_form(client, f"/surveys/{sid}", {f"q-{q[1]}": "9"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "请选择一个答案" in html and "请从给出的选项中选择" in html
    r = _answer(client, sid, q, single=1, multiple=(0, 2), text="希望周末上课")
    assert r.status_code == 302 and "感谢填写" in client.get(r.location).get_data(as_text=True)
    r = _answer(client, sid, q, single=0)
    assert "填写本问卷，感谢参与" in client.get(f"/surveys/{sid}").get_data(as_text=True)
    assert _count(app, SurveyResponse, survey_id=sid) == 1
    clock.advance(days=7, minutes=1)
    login(client, "worker_b")
    assert "本问卷已过截止时间" in client.get(f"/surveys/{sid}").get_data(as_text=True)
    r = _answer(client, sid, q)
    assert "本问卷已过截止时间" in client.get(r.location).get_data(as_text=True)
    assert _count(app, SurveyResponse, survey_id=sid) == 1
    assert f"/surveys/{sid}\"" not in client.get("/surveys/mine").get_data(as_text=True)


def test_results_by_unit_and_the_export_equal_the_page(app, client, world, clock):
    sid, q = _sent(app, client, world, clock)
    for name, single, multiple, text in (("worker_a", 0, (0, 1), "多安排案例"), ("worker_b", 0, (1,), ""),
                                         ("worker_c", 2, (1, 2), "希望线上")):
        login(client, name)
        assert _answer(client, sid, q, single=single, multiple=multiple, text=text).status_code == 302
    login(client, "office_d1")
    html = client.get(f"/surveys/{sid}/results").get_data(as_text=True)
    with app.app_context():
        survey = db.session.get(Survey, sid)
        res = needs.results(survey)
        assert [b.unit.code for b in res.buckets] == ["D1", "S11", "S12"]
        assert res.respondents == 3 and res.respondents_by_bucket == [0, 2, 1] and res.audience_by_bucket == [0, 2, 1]
        single, multiple, text = res.questions
        assert [(r.label, r.total, r.by_bucket) for r in single.rows] == [
            ("集中面授", 2, [0, 2, 0]), ("线上学习", 0, [0, 0, 0]), ("现场教学", 1, [0, 0, 1])]
        assert [(r.total, r.by_bucket) for r in multiple.rows] == [(1, [0, 1, 0]), (3, [0, 2, 1]), (1, [0, 0, 1])]
        assert text.texts == [("东一街道", "多安排案例"), ("东二街道", "希望线上")]
    # the page shows the same table as the export
    page_rows = [[c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                 for table in re.findall(r'<table class="table table-sm choice-counts">(.*?)</table>', html, re.S)
                 for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
    wb = load_workbook(io.BytesIO(client.get(f"/surveys/{sid}/results.xlsx").data))
    sheet = wb.worksheets[0]
    export_rows = [[str(c) for c in row[1:]] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert export_rows == page_rows and len(export_rows) == 6
    texts = [row[2] for row in wb.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert texts == ["多安排案例", "希望线上"] and all(t in html for t in texts)


def test_the_attendees_inbox_shows_the_evaluation_due(app, client, world, clock):
    tid, _trainers = _class(app, ended_minutes_ago=5)
    with app.app_context(), transaction.unit():  # the messages are sent once it commits
        evaluations.call_for_evaluations()
    login(client, "worker_a")
    inbox = client.get("/messages/").get_data(as_text=True)
    assert "请评价：社区议事协商专题培训" in inbox
    message_id = int(re.search(r'id="open-(\d+)"', inbox).group(1))
    r = post_form(client, f"/messages/{message_id}/read", {"open": "1"}, page="/messages/")
    assert r.location.endswith(f"/surveys/classes/{tid}/evaluate")  # the message opens the form
    login(client, "worker_b")  # absent: not an attendee, no message
    assert "社区议事协商专题培训" not in client.get("/messages/").get_data(as_text=True)
