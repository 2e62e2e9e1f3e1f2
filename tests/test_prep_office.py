"""The offices' page of exam preparation (/prep/office): scope, numbers equal to hand-computed ones from
seeded rows, the export equal to the page, the list of registrants who have not practised."""
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from lms.exams.models import ExamSubject
from lms.extensions import db
from lms.prep import readiness
from lms.prep.models import PrepPlan, TopicMastery

from .conftest import login

NOW = datetime(2027, 3, 1, 2, 0)           # 10:00 in Shanghai
STRONG = (1.5, 12, 2.0)                     # 82 %, settled
WEAK = (-0.5, 30, 6.0)                      # 38 %, settled
UNSURE = (1.0, 3, 0.6)                      # 3 answers: not settled


def _subject(code="junior-general") -> ExamSubject:
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == code))


TOPICS = ["伦理", "理论", "方法"]           # the synthetic bank's (tests/test_mock_exams.make_bank)


def seed(world, subject: ExamSubject) -> None:
    """The synthetic bank, plans (created 2027-01-01, exam 2027-06-14) and estimates on its three topics."""
    from .test_mock_exams import make_bank

    make_bank(subject.code)
    t = TOPICS
    rows = {
        "worker_a": ({t[0]: STRONG, t[1]: WEAK, t[2]: UNSURE}, datetime(2027, 2, 28)),    # practised yesterday
        "worker_b": ({t[0]: WEAK, t[1]: WEAK}, datetime(2027, 2, 1)),                     # 28 days ago
        "worker_c": ({}, None),                                                            # never
        "worker_d": ({t[0]: STRONG}, datetime(2027, 2, 27)),                               # the other district
    }
    for username, (estimates, at) in rows.items():
        db.session.add(PrepPlan(user_id=world[username], subject_id=subject.id, exam_date=date(2027, 6, 14),
                                minutes_per_day=30, created_at=datetime(2027, 1, 1), updated_at=datetime(2027, 1, 1)))
        if estimates:
            db.session.execute(insert(TopicMastery), [
                {"user_id": world[username], "subject_id": subject.id, "topic": topic, "theta": th, "evidence": n,
                 "information": i, "last_answer_at": at} for topic, (th, n, i) in estimates.items()])
    db.session.flush()


@pytest.fixture
def seeded(app, world, client, clock):
    clock.set(NOW)
    with app.app_context():
        subject = _subject()
        seed(world, subject)
        db.session.commit()
        readiness.forget_calibrations()
        return subject.id, app.config["PREP_INACTIVE_DAYS"]


def as_user(client, username: str):
    """A browser of its own for each account (a logged-in client does not log in again)."""
    fresh = client.application.test_client()
    login(fresh, username)
    return fresh


def _rows(html: str, table: str) -> list[list[str]]:
    import re

    body = html.split(f'data-report="{table}"', 1)[1].split("</table>", 1)[0]
    out = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        if len(cells) > 1:     # not the "no records" row
            out.append(cells)
    return out


def test_a_district_sees_its_registrants_with_hand_computed_numbers(client, world, seeded):
    subject_id, days = seeded
    client = as_user(client, "office_d1")
    html = client.get("/prep/office").get_data(as_text=True)
    assert 'id="chart-readiness"' in html
    [summary] = _rows(html, "subjects")
    # D1 holds worker_a, worker_b, worker_c (worker_d is D2's). On 2027-03-01, 59 of the 150 study days
    # (2027-01-01 … 2027-05-31) are gone: 39 % of the weight should be mastered, 29 % at least with the
    # tolerance; the bank has 3 topics (1/3 each): worker_a masters one (33 %, on track), worker_b none.
    # Readiness needs settled topics carrying 80 % of the points: worker_a and worker_b have 2 of 3 (67 %).
    assert summary[0] == "社会工作综合能力(初级)"
    assert summary[1:5] == ["3", "1", "33.3%", "0"]             # registrants, on track, share, with readiness
    assert summary[-1] == "2"                                    # worker_b (28 days) and worker_c (never)
    inactive = _rows(html, "inactive")
    assert [r[1] for r in inactive] == ["worker_b", "worker_c"]
    assert inactive[0][3] == "2027-02-01" and inactive[1][3] == "从未"
    # Weakest topics: the second topic — worker_a's 38 % (30 answers) and worker_b's 38 % (30): 38 %, 2 workers;
    # the first topic — worker_a 82 % (12 answers), worker_b 38 % (30): (12 × 0.8176 + 30 × 0.3775) / 42.
    topics = _rows(html, "topics")
    from lms.prep import mastery

    t = TOPICS
    strong, weak = mastery.expected(1.5, 0), mastery.expected(-0.5, 0)
    assert [r[0] for r in topics] == [t[1], t[0]]                 # the unsettled third topic is left out
    assert topics[0][1:] == [f"{weak * 100:.1f}%", "2", "60"]
    assert topics[1][1:] == [f"{(12 * strong + 30 * weak) / 42 * 100:.1f}%", "2", "42"]


def test_on_track_and_readiness_counted_by_the_one_rule(app, client, world, seeded):
    subject_id, _days = seeded
    client = as_user(client, "office_s11")      # the street of worker_a and worker_b only
    html = client.get("/prep/office").get_data(as_text=True)
    assert _rows(html, "subjects")[0][1:5] == ["2", "1", "50.0%", "0"]
    # worker_c masters the three topics with settled estimates: on track, and enough evidence for a chance,
    # counted in the band it falls in.
    with app.app_context():
        db.session.execute(insert(TopicMastery), [
            {"user_id": world["worker_c"], "subject_id": subject_id, "topic": t, "theta": 1.5, "evidence": 12,
             "information": 2.0, "last_answer_at": datetime(2027, 2, 28)} for t in TOPICS])
        db.session.commit()
        readiness.forget_calibrations()
        got = readiness.assess(world["worker_c"], _subject()).readiness
    assert got is not None and got.percent >= 70 and not got.calibrated
    client = as_user(client, "office_d1")
    summary = _rows(client.get("/prep/office").get_data(as_text=True), "subjects")[0]
    assert summary[1:9] == ["3", "2", "66.7%", "1", "0", "0", "0", "1"]


def test_scope_a_street_cannot_open_another_street_and_workers_are_refused(client, world, seeded):
    client = as_user(client, "office_s11")
    assert client.get(f"/prep/office?unit={world['S12']}").status_code == 404     # a sibling street
    assert client.get(f"/prep/office?unit={world['D1']}").status_code == 404      # the district above
    assert client.get(f"/prep/office/export/registrants.xlsx?unit={world['S21']}").status_code == 404
    assert client.get("/prep/office?unit=abc").status_code == 404
    ok = client.get(f"/prep/office?unit={world['C111']}").get_data(as_text=True)
    assert [r[1] for r in _rows(ok, "inactive")] == []             # worker_a practised yesterday
    client = as_user(client, "office_d2")
    html = client.get("/prep/office").get_data(as_text=True)
    assert "worker_b" not in html and _rows(html, "subjects")[0][1] == "1"
    assert client.get(f"/prep/office?unit={world['D1']}").status_code == 404
    client = as_user(client, "worker_a")
    assert client.get("/prep/office").status_code == 403
    assert client.get("/prep/office/export/subjects.xlsx").status_code == 403


def test_the_city_filters_by_unit(client, world, seeded):
    client = as_user(client, "office_c")
    whole = _rows(client.get("/prep/office").get_data(as_text=True), "subjects")[0]
    assert whole[1] == "4"
    d2 = _rows(client.get(f"/prep/office?unit={world['D2']}").get_data(as_text=True), "subjects")[0]
    assert d2[1] == "1"


def _sheet(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    ws = load_workbook(io.BytesIO(response.data)).worksheets[0]
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def test_the_exports_hold_the_pages_rows(client, world, seeded):
    client = as_user(client, "office_d1")
    html = client.get("/prep/office").get_data(as_text=True)
    inactive = _sheet(client.get("/prep/office/export/inactive.xlsx"))
    assert [r[1] for r in inactive[1:]] == [r[1] for r in _rows(html, "inactive")]
    subjects = _sheet(client.get("/prep/office/export/subjects.xlsx"))
    assert subjects[1][:5] == ["社会工作综合能力(初级)", 3, 1, pytest.approx(1 / 3), 0]
    topics = _sheet(client.get("/prep/office/export/topics.xlsx"))
    assert [r[0] for r in topics[1:]] == [r[0] for r in _rows(html, "topics")]
    everyone = _sheet(client.get("/prep/office/export/registrants.xlsx"))
    header, rows = everyone[0], everyone[1:]
    assert sorted(r[1] for r in rows) == ["worker_a", "worker_b", "worker_c"]
    # The page's figures counted again from the registrants' rows.
    assert len(header) == 13
    assert sum(1 for r in rows if r[5] == "是") == int(_rows(html, "subjects")[0][2])
    assert sum(1 for r in rows if r[8] is not None) == int(_rows(html, "subjects")[0][4])


def test_a_big_export_goes_to_the_queue(app, client, world, seeded):
    client = as_user(client, "office_d1")
    app.config["EXPORT_BACKGROUND_ROWS"] = 2
    try:
        response = client.get("/prep/office/export/registrants.xlsx")
    finally:
        app.config["EXPORT_BACKGROUND_ROWS"] = 5000
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]


def test_the_inactive_list_follows_the_clock(app, client, world, seeded, clock):
    client = as_user(client, "office_d1")
    clock.set(datetime(2027, 3, 13, 23, 0))         # worker_a's last answer (02-28 00:00 UTC) is 13 days 23 hours old
    html = client.get("/prep/office").get_data(as_text=True)
    assert [r[1] for r in _rows(html, "inactive")] == ["worker_b", "worker_c"]
    clock.set(datetime(2027, 3, 14, 1, 0))          # 14 days and an hour: no graded answer in 14 days
    html = client.get("/prep/office").get_data(as_text=True)
    assert [r[1] for r in _rows(html, "inactive")] == ["worker_a", "worker_b", "worker_c"]



def _text(html: str) -> str:
    """What a reader sees of a piece of the page: no tags, entities read, blanks folded."""
    import html as html_module
    import re

    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_the_page_explains_its_methods_with_the_settings_values(app, client, world, seeded):
    """An office cannot open a repository file: the page says how its figures are worked out, with the values
    the settings have now, and each export's "About" sheet says the same."""
    import re

    client = as_user(client, "office_d1")
    saved = {k: app.config[k] for k in ("PREP_TARGET_MASTERY", "PREP_INACTIVE_DAYS", "PREP_READINESS_COVERAGE",
                                        "PREP_CALIBRATION_MIN")}
    app.config.update(PREP_TARGET_MASTERY=75, PREP_INACTIVE_DAYS=10, PREP_READINESS_COVERAGE=85,
                      PREP_CALIBRATION_MIN=33)
    try:
        html = client.get("/prep/office").get_data(as_text=True)
        exported = client.get("/prep/office/export/inactive.xlsx")
    finally:
        app.config.update(saved)
    assert "docs/EXAM_PREP.md" not in html
    method = html.split('id="prep-office-method"', 1)[1].split("</details>", 1)[0]
    text = _text(method)
    assert "这些数字是怎么算出来的" in text
    # On track: the target mastery, and the rule's two weeks and tolerance (lms/prep/track.py).
    assert "掌握度不低于 75%" in text and "考前 14 天" in text and "不超过 10 个百分点" in text
    # The chance of passing: the share of the points it needs settled, the results its calibration needs.
    assert "至少占考试分值的 85%" in text and "33 次" in text
    # Weakest topics and those not practising: the answers a settled estimate needs, the days.
    assert "不足 5 道" in text and "最近 10 天" in text
    # The export's "About" sheet holds the same explanations, word for word.
    assert exported.status_code == 200
    notes = {row[0]: row[1] for row in load_workbook(io.BytesIO(exported.data)).worksheets[1].iter_rows(
        values_only=True) if row and row[0]}
    titles = [_text(t) for t in re.findall(r"<dt[^>]*>(.*?)</dt>", method, re.S)]
    texts = [_text(t) for t in re.findall(r"<dd[^>]*>(.*?)</dd>", method, re.S)]
    assert len(titles) == 5 and [notes[t] for t in titles] == texts
    assert notes["备考学员"] == _text(html.split('id="prep-office-about">', 1)[1].split("</p>", 1)[0])


def test_on_track_weighs_the_topics_by_the_blueprint_as_the_plan_does(app, client, world, seeded):
    """The office and the worker's plan read the subject's topics and their weights in one place
    (track.subject_weights): with a blueprint that puts 80 % on the second topic, worker_a's one mastered
    topic (the first) is a tenth of the exam, behind the 29 % the day asks, on the office's page as on the plan."""
    from lms.prep import mastery, plan, track

    subject_id, _days = seeded
    with app.app_context():
        subject = _subject()
        blueprint = track.blueprint_of(subject)
        assert blueprint is not None
        blueprint.topic_mix = {TOPICS[1]: 0.8}
        db.session.commit()
        readiness.forget_calibrations()
        names, weights = track.subject_weights(subject, blueprint)
        assert sorted(names) == sorted(TOPICS)
        assert weights == pytest.approx({TOPICS[0]: 0.1, TOPICS[1]: 0.8, TOPICS[2]: 0.1})
        pp = db.session.scalar(select(PrepPlan).where(PrepPlan.user_id == world["worker_a"]))
        data = plan.inputs(world["worker_a"], subject, date(2027, 3, 1))
        assert data.weights == pytest.approx(weights)
        mine = plan.progress(pp, data, date(2027, 3, 1), mastery.Params.from_config())
    assert mine.mastered == pytest.approx(0.1) and not mine.on_track
    client = as_user(client, "office_d1")
    assert _rows(client.get("/prep/office").get_data(as_text=True), "subjects")[0][1:4] == ["3", "0", "0.0%"]
    rows = {r[1]: r for r in _sheet(client.get("/prep/office/export/registrants.xlsx"))[1:]}
    assert rows["worker_a"][5] == "否" and rows["worker_a"][6] == pytest.approx(mine.mastered)
    assert rows["worker_a"][7] == pytest.approx(mine.expected)
