"""Scope without gaps: marking (offices within their area, trainers blind and only what they are
assigned) and the pools (read city-wide, changed only at home; imports refuse rows of other areas)."""
import io
import re

from sqlalchemy import func, select

from lms.auth.models import User
from lms.exams import attempts
from lms.exams.models import AttemptAnswer, MarkingAssignment, MockExamDay
from lms.extensions import db
from lms.library.models import Expert, Trainer

from .conftest import login, post_form
from .test_library import xlsx
from .test_scope_walk import _client, districts  # noqa: F401 (the fixture)


def _queue(client) -> set[int]:
    html = client.get("/mock/marking").get_data(as_text=True)
    return {int(i) for i in re.findall(r'href="/mock/marking/(\d+)"', html)}


# --- marking ---------------------------------------------------------------------------------------

def test_an_office_marks_only_its_own_areas_answers_and_sees_names(app, districts):
    own, other = districts["own"], districts["other"]
    client = _client(app, "office_d1")
    assert _queue(client) == {own["answer"]}
    page = client.get(f"/mock/marking/{own['answer']}").get_data(as_text=True)
    assert own["worker_name"] in page  # offices run the class: they see who wrote it
    r = post_form(client, f"/mock/marking/{other['answer']}", {"score": "5"}, page="/auth/password")
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(AttemptAnswer, other["answer"]).score is None
    r = post_form(client, f"/mock/marking/{own['answer']}", {"score": "5", "feedback": "好"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(AttemptAnswer, own["answer"]).score == 5
    # The city office sees both districts' answers (one is marked now).
    assert _queue(_client(app, "office_c")) == {other["answer"]}


def test_a_trainer_marks_blind_and_only_what_is_assigned(app, districts):
    own, other = districts["own"], districts["other"]
    client = _client(app, "marker_d1")  # assigned the exam for D1's workers
    assert _queue(client) == {own["answer"]}
    for url in ("/mock/marking", f"/mock/marking/{own['answer']}"):
        html = client.get(url).get_data(as_text=True)
        for secret in (own["worker_name"], "worker_c", "东二一社区", "东二街道"):
            assert secret not in html, (url, secret)
    assert client.get(f"/mock/marking/{other['answer']}").status_code == 404
    assert client.get(f"/mock/attempts/{own['submitted']}/result").status_code == 404
    r = post_form(client, f"/mock/marking/{own['answer']}", {"score": "6"})
    assert r.status_code == 302
    # The city's trainer has nothing assigned: an empty queue, and every answer is a 404.
    city = _client(app, "trainer")
    assert _queue(city) == set()
    assert city.get(f"/mock/marking/{other['answer']}").status_code == 404
    # Withdrawn, the assignment no longer opens anything.
    office = _client(app, "office_d1")
    r = post_form(office, f"/mock/marking/assignments/{own['assignment']}/delete", page="/mock/marking/assignments")
    assert r.status_code == 302
    assert _queue(client) == set()


def test_offices_assign_marking_to_trainers_in_their_area_by_exam_or_day(app, districts):
    own, other = districts["own"], districts["other"]
    office = _client(app, "office_d1")
    with app.app_context():
        marker_d2 = db.session.scalar(select(User.id).where(User.username == "marker_d2"))
        marker_d1 = db.session.scalar(select(User.id).where(User.username == "marker_d1"))
        exam_id = db.session.get(MockExamDay, own["day"]).exam_id
        city_trainer = db.session.scalar(select(User.id).where(User.username == "trainer"))
    html = office.get("/mock/marking/assignments").get_data(as_text=True)
    # Its own trainers and the city's (they teach everywhere), never another district's.
    assert f'value="{marker_d1}"' in html and f'value="{city_trainer}"' in html
    assert f'value="{marker_d2}"' not in html
    assert f'value="day:{own["day"]}"' in html and f'value="day:{other["day"]}"' not in html
    assert "D2阅卷人" not in html  # another district's assignments are not listed
    # Another district's trainer or exam day: refused, nothing stored.
    before = _count(app)
    r = post_form(office, "/mock/marking/assignments", {"target": f"exam:{exam_id}", "trainer_id": marker_d2})
    assert r.status_code == 200 and _count(app) == before
    r = post_form(office, "/mock/marking/assignments", {"target": f"day:{other['day']}", "trainer_id": marker_d1})
    assert r.status_code == 200 and _count(app) == before
    # The exam day of its own district (linked from the day's page): marker_d1 then sees that day's sittings only.
    day_page = office.get(f"/mock/days/{own['day']}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="assign-day-marking"', day_page).group(1).replace("&amp;", "&")
    assert re.search(rf'<option selected value="day:{own["day"]}"|<option value="day:{own["day"]}" selected',
                     office.get(link).get_data(as_text=True))
    r = post_form(office, "/mock/marking/assignments", {"target": f"day:{own['day']}", "trainer_id": marker_d1})
    assert r.status_code == 302 and _count(app) == before + 1
    with app.app_context():
        day = db.session.get(MockExamDay, own["day"])
        worker = db.session.scalar(select(User).where(User.username == "worker_a"))
        in_day = attempts.start(worker, day.exam, mock_day=day)
        attempts.finish(in_day)
        db.session.commit()
        in_day_id = in_day.id
    # (The small exam has no written items: the point is which attempts the rule admits.)
    from lms.auth.scope import can_mark_attempt
    from lms.exams.models import Attempt
    with app.app_context():
        marker = db.session.get(User, marker_d1)
        assert can_mark_attempt(marker, db.session.get(Attempt, in_day_id))
        assert not can_mark_attempt(marker, db.session.get(Attempt, own["open"]))  # same exam, not that day
        assert not can_mark_attempt(marker, db.session.get(Attempt, other["submitted"]))
    # A city trainer assigned by D1 marks D1's answers only.
    with app.app_context():
        written_exam = db.session.get(Attempt, own["submitted"]).exam_id
    r = post_form(office, "/mock/marking/assignments", {"target": f"exam:{written_exam}", "trainer_id": city_trainer})
    assert r.status_code == 302
    with app.app_context():
        trainer = db.session.get(User, city_trainer)
        assert can_mark_attempt(trainer, db.session.get(Attempt, own["submitted"]))
        assert not can_mark_attempt(trainer, db.session.get(Attempt, other["submitted"]))
    # An office cannot withdraw another district's assignment.
    r = post_form(office, f"/mock/marking/assignments/{other['assignment']}/delete", page="/mock/marking/assignments")
    assert r.status_code == 404


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MarkingAssignment))


# --- the pools -------------------------------------------------------------------------------------

TRAINER_HEADER = ["姓名", "类型", "职称", "工作单位", "擅长领域", "手机号", "所属单位编码", "账号", "简介", "是否在库"]


def test_pool_imports_refuse_rows_of_other_areas_with_their_line(app, districts):
    client = app.test_client()
    client.get("/auth/lang/en")
    login(client, "office_d1")
    rows = [
        ["新讲师", "实务讲师", "", "东二社工站", "", "", "C121", "", "", ""],   # 2: fine, in D1
        ["越界", "实务讲师", "", "西区社工站", "", "", "C211", "", "", ""],     # 3: a D2 unit
        ["D2讲师", "实务讲师", "改名", "D2社工站", "", "", "", "", "", ""],      # 4: updates D2's trainer
        ["无单位", "实务讲师", "", "某单位", "", "", "", "", "", ""],            # 5: no unit: the city's
    ]
    r = post_form(client, "/library/trainers/import", {"file": (io.BytesIO(xlsx(TRAINER_HEADER, rows)), "t.xlsx")},
                  page="/library/trainers/import", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nothing was imported" in html
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    assert {int(n) for n in re.findall(r"<tr><td>(\d+)</td>", table)} == {3, 4, 5}
    assert "outside your area" in table and "belongs to another area" in table
    with app.app_context():
        assert db.session.get(Trainer, districts["other"]["trainer_record"]).title == ""
        assert db.session.scalar(select(func.count()).select_from(Trainer).where(Trainer.name == "新讲师")) == 0


def test_unit_selector_and_city_records(app, districts):
    office = _client(app, "office_d1")
    with app.app_context():
        from lms.orgs.models import OrgUnit
        units = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id)).all())
    for url in ("/library/trainers/new", f"/library/trainers/{districts['own']['trainer_record']}/edit",
                "/library/bases/new"):
        html = office.get(url).get_data(as_text=True)
        select_html = html.split('name="org_unit_id"', 1)[1].split("</select>", 1)[0]
        offered = {int(v) for v in re.findall(r'value="(\d+)"', select_html)}
        assert offered == {units[c] for c in ("D1", "S11", "S12", "C111", "C112", "C121")}, url
        assert 'value=""' not in select_html  # "no unit" is the city office's
    # Pools without an org unit: read by every office, changed by the city office only.
    with app.app_context():
        expert = Expert(name="城市专家", active=True)
        db.session.add(expert)
        db.session.commit()
        expert_id = expert.id
    assert office.get(f"/library/experts/{expert_id}").status_code == 200
    assert office.get(f"/library/experts/{expert_id}/edit").status_code == 404
    assert office.get("/library/experts/new").status_code == 403
    assert 'id="new-record"' not in office.get("/library/experts/").get_data(as_text=True)
    assert 'id="new-record"' in office.get("/library/trainers/").get_data(as_text=True)
    city = _client(app, "office_c")
    assert city.get(f"/library/experts/{expert_id}/edit").status_code == 200
    r = post_form(city, "/library/experts/new", {"name": "新专家", "active": "y"})
    assert r.status_code == 302
