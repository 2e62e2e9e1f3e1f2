"""Statistics for training offices (issue 6): figures computed by hand on a small fixed data set,
scope by page, drill-down and export, continuing education, the workforce profile, seed-scale.

The data set (year 2025, on the test world of tests/world.py):

    workers (active, learner role): a, e (C111), b (C112), c (C121), d (C211), trainer (on C itself)
    plus x (C111), inactive: never counted. Certificates: b assistant, c intermediate, others none.

    courses  c1 (2 h), c2 (1.5 h)
      a: c1 enrolled 2025-03-01, completed 2025-03-10      a: c2 enrolled 2025-04-01, not completed
      b: c1 enrolled 2025-05-01, completed 2025-05-02      c: c1 enrolled 2024-12-01, completed 2025-01-15
      d: c1 enrolled 2025-06-01, completed 2025-06-05      trainer: c2 enrolled 2025-07-01, completed 2025-08-01
    classes and sessions (P present, L late, E excused, A absent)
      T1 city     s1 2025-03-15 2 h: a P, b L, c A, d P, trainer E      s6 2024-12-20 2 h: a P
      T2 D1       s2 2025-04-10 1.5 h: a P, b A, c P                  s3 2025-11-20 1.5 h: a L, c E, e P
      T3 S11      s4 2025-09-01 1 h: a P, b P, e A
      T4 D2       s5 2025-05-05 2 h: d P
    graded attempts: a E1 70 pass, a E1 50 fail, b E2 80 pass, d E1 40 fail (2025);
                     c E1 submitted only; e E1 65 pass graded 2024-12-01

City, 2025, by hand:
    workers 6 (D1 4, D2 1, C itself 1); certificates none 4, assistant 1, intermediate 1
    enrolled 5, completed 4 (80.0 %) — c's enrolment is 2024's
    学时: courses 9.5 + training 16.0 = 25.5; per worker 4.25 → 4.3
      (D1 6.0 + 12.0 = 18.0, 4.5 each; D2 2.0 + 4.0 = 6.0; trainer 1.5 + 0)
    人次: city 3, district 5, street 2 = 10 of 15 records (66.7 %)
      (D1 2/4/2 = 8 of 12; D2 1/1/0 = 2 of 2; trainer 0 of 1)
    exams: 4 graded attempts by 3 takers (participation 50.0 %), average 60.0, 2 passed (50.0 %)
      (D1 3 by 2, average 66.7, 2 passed; D2 1 by 1, 40.0, 0 passed)
"""
import csv
import io
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.auth.models import User, UserRole
from lms.exams.models import Attempt, Exam
from lms.extensions import db
from lms.learning.models import Course, Credit, Enrollment
from lms.orgs.models import OrgUnit
from lms.stats import rollups
from lms.training.models import Attendance, Training, TrainingSession

from .conftest import login

Y = "year=2025"


def _unit(code):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def build_data() -> dict:
    """The data set of the module docstring. Returns ids by name."""
    ids = {}
    a, b, c, d, trainer = (_user(n) for n in ("worker_a", "worker_b", "worker_c", "worker_d", "trainer"))
    b.cert_level, c.cert_level = "assistant", "intermediate"
    e = User(username="worker_e", name="东一一戊", org_unit=_unit("C111"), password_hash="x", cert_level="none",
             gender="male", birth_year=1990, years_in_work=5, education="bachelor", political_status="masses")
    x = User(username="worker_x", name="离职者", org_unit=_unit("C111"), password_hash="x", cert_level="none",
             active=False)
    for u in (e, x):
        u.role_rows = [UserRole(role="learner")]
    db.session.add_all([e, x])
    db.session.flush()
    ids.update(a=a.id, b=b.id, c=c.id, d=d.id, e=e.id, x=x.id, trainer=trainer.id)

    c1 = Course(
        slug="stats-c1", title="统计测试课程一", category="methods", credit_hours=Decimal("2"), status="published"
    )
    c2 = Course(slug="stats-c2", title="统计测试课程二", category="methods", credit_hours=Decimal("1.5"),
                status="published")
    db.session.add_all([c1, c2])
    db.session.flush()
    ids.update(c1=c1.id, c2=c2.id)

    def enrol(user, course, enrolled, completed=None):
        db.session.add(Enrollment(user_id=user.id, course_id=course.id, enrolled_at=enrolled, completed_at=completed))
        if completed:
            db.session.add(Credit(user_id=user.id, source="course", source_id=course.id, hours=course.credit_hours,
                                  earned_on=completed.date()))

    enrol(a, c1, datetime(2025, 3, 1, 2), datetime(2025, 3, 10, 2))
    enrol(a, c2, datetime(2025, 4, 1, 2))
    enrol(b, c1, datetime(2025, 5, 1, 2), datetime(2025, 5, 2, 2))
    enrol(c, c1, datetime(2024, 12, 1, 2), datetime(2025, 1, 15, 2))
    enrol(d, c1, datetime(2025, 6, 1, 2), datetime(2025, 6, 5, 2))
    enrol(trainer, c2, datetime(2025, 7, 1, 2), datetime(2025, 8, 1, 2))

    def training(title, level, code):
        t = Training(title=title, level=level, org_unit=_unit(code), audience_unit=_unit(code), capacity=50,
                     registration_deadline=datetime(2024, 12, 1), status="closed", lock_version=0)
        db.session.add(t)
        db.session.flush()
        return t

    def session(t, start, hours, marks):
        s = TrainingSession(training_id=t.id, starts_at=start, ends_at=start.replace(hour=start.hour + 2),
                            credit_hours=Decimal(hours), place_kind="text", place_text="党群服务中心",
                            checkin_secret="0" * 64)
        db.session.add(s)
        db.session.flush()
        for user, status in marks:
            db.session.add(Attendance(session_id=s.id, user_id=user.id, status=status, method="roster"))
            if status in ("present", "late"):
                db.session.add(Credit(user_id=user.id, source="session", source_id=s.id, hours=Decimal(hours),
                                      earned_on=start.date()))
        return s

    t1, t2 = training("市级示范培训", "city", "C"), training("东区业务培训", "district", "D1")
    t3, t4 = training("东一街道议事培训", "street", "S11"), training("西区业务培训", "district", "D2")
    ids.update(t1=t1.id, t2=t2.id, t3=t3.id, t4=t4.id)
    session(t1, datetime(2025, 3, 15, 2), "2", [(a, "present"), (b, "late"), (c, "absent"), (d, "present"),
                                               (trainer, "excused")])
    session(t1, datetime(2024, 12, 20, 2), "2", [(a, "present")])
    session(t2, datetime(2025, 4, 10, 2), "1.5", [(a, "present"), (b, "absent"), (c, "present")])
    session(t2, datetime(2025, 11, 20, 2), "1.5", [(a, "late"), (c, "excused"), (e, "present")])
    session(t3, datetime(2025, 9, 1, 2), "1", [(a, "present"), (b, "present"), (e, "absent")])
    session(t4, datetime(2025, 5, 5, 2), "2", [(d, "present")])

    e1, e2 = db.session.scalars(select(Exam).order_by(Exam.id).limit(2)).all()
    ids.update(e1=e1.id, e2=e2.id)

    def attempt(user, exam, score, when, status="graded"):
        db.session.add(Attempt(user_id=user.id, exam_id=exam.id, seed=1, paper={}, started_at=when, deadline_at=when,
                               submitted_at=when, status=status, max_score=Decimal(100),
                               score=Decimal(score) if status == "graded" else None,
                               passed=(score >= 60) if status == "graded" else None,
                               graded_at=when if status == "graded" else None))

    attempt(a, e1, 70, datetime(2025, 3, 20, 2))
    attempt(a, e1, 50, datetime(2025, 4, 20, 2))
    attempt(b, e2, 80, datetime(2025, 5, 20, 2))
    attempt(d, e1, 40, datetime(2025, 6, 20, 2))
    attempt(c, e1, 0, datetime(2025, 7, 20, 2), status="submitted")
    attempt(e, e1, 65, datetime(2024, 12, 1, 2))
    db.session.flush()
    return ids


@pytest.fixture
def data(app, tx, world):
    with app.app_context():
        ids = build_data()
        db.session.commit()
    return ids


class _Tables(HTMLParser):
    """{table id: [{data-col: text}]} of the statistics tables of a page."""

    def __init__(self):
        super().__init__()
        self.tables, self.table, self.row, self.col, self.text, self.head = {}, None, None, None, "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "stats-table" in (attrs.get("class") or ""):
            self.table = self.tables.setdefault(attrs["id"], [])
        elif tag == "thead":
            self.head = True
        elif tag == "tr" and self.table is not None and not self.head:
            self.row = {}
        elif tag in ("td", "th") and self.row is not None and attrs.get("data-col"):
            self.col, self.text = attrs["data-col"], ""

    def handle_data(self, data):
        if self.col:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "thead":
            self.head = False
        elif tag in ("td", "th") and self.col:
            self.row[self.col] = self.text.strip()
            self.col = None
        elif tag == "tr" and self.row:
            self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None


def tables(html: str) -> dict:
    p = _Tables()
    p.feed(html)
    return p.tables


def page(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


def by_unit(rows):
    return {row["unit"]: row for row in rows}


# --- the dashboard's figures, by hand ----------------------------------------------------------------

CITY_TOTAL = {"workers": "6", "enrolled": "5", "completed": "4", "completion_rate": "80.0%", "hours_course": "9.5",
              "hours_training": "16.0", "hours": "25.5", "hours_per_worker": "4.3", "pt_city": "3",
              "pt_district": "5", "pt_street": "2", "person_times": "10", "attendance_rate": "66.7%",
              "exam_takers": "3", "participation": "50.0%", "attempts": "4", "average_score": "60.0",
              "pass_rate": "50.0%", "cert_none": "66.7%", "cert_assistant": "16.7%", "cert_intermediate": "16.7%",
              "cert_senior": "0.0%"}
CITY_D1 = {"workers": "4", "enrolled": "3", "completed": "2", "completion_rate": "66.7%", "hours_course": "6.0",
           "hours_training": "12.0", "hours": "18.0", "hours_per_worker": "4.5", "pt_city": "2", "pt_district": "4",
           "pt_street": "2", "person_times": "8", "attendance_rate": "66.7%", "exam_takers": "2",
           "participation": "50.0%", "attempts": "3", "average_score": "66.7", "pass_rate": "66.7%",
           "cert_none": "50.0%", "cert_assistant": "25.0%", "cert_intermediate": "25.0%", "cert_senior": "0.0%"}
CITY_D2 = {"workers": "1", "enrolled": "1", "completed": "1", "completion_rate": "100.0%", "hours": "6.0",
           "hours_per_worker": "6.0", "pt_city": "1", "pt_district": "1", "pt_street": "0", "person_times": "2",
           "attendance_rate": "100.0%", "exam_takers": "1", "attempts": "1", "average_score": "40.0",
           "pass_rate": "0.0%", "cert_none": "100.0%"}
CITY_DIRECT = {"workers": "1", "enrolled": "1", "completed": "1", "hours": "1.5", "person_times": "0",
               "attendance_rate": "0.0%", "attempts": "0", "average_score": "—", "pass_rate": "—"}


def _check(row, expected):
    assert {k: row[k] for k in expected} == expected


def test_city_dashboard_matches_the_hand_computed_figures(client, data, world):
    client.get("/auth/lang/en")
    login(client, "office_c")
    assert client.get(f"/stats/?{Y}").location.endswith(f"/stats/unit/{world['C']}?year=2025")
    rows = by_unit(tables(page(client, f"/stats/unit/{world['C']}?{Y}"))["table-units"])
    assert set(rows) == {"Total: 测试市", "东区", "西区", "Attached directly to 测试市"}
    _check(rows["Total: 测试市"], CITY_TOTAL)
    _check(rows["东区"], CITY_D1)
    _check(rows["西区"], CITY_D2)
    _check(rows["Attached directly to 测试市"], CITY_DIRECT)


def test_district_dashboard_by_street(client, data, world):
    login(client, "office_d1")
    rows = tables(page(client, f"/stats/unit/{world['D1']}?{Y}"))["table-units"]
    assert [r["unit"] for r in rows][1:] == ["东一街道", "东二街道"]
    total, s11, s12 = rows
    _check(total, {k: CITY_D1[k] for k in ("workers", "hours", "person_times", "attendance_rate", "attempts")})
    _check(s11, {"workers": "3", "enrolled": "3", "completed": "2", "hours_course": "4.0", "hours_training": "10.5",
                 "hours": "14.5", "pt_city": "2", "pt_district": "3", "pt_street": "2", "person_times": "7",
                 "attendance_rate": "77.8%", "attempts": "3", "exam_takers": "2", "average_score": "66.7"})
    _check(s12, {"workers": "1", "enrolled": "0", "completed": "0", "completion_rate": "—", "hours": "3.5",
                 "pt_district": "1", "person_times": "1", "attendance_rate": "33.3%", "attempts": "0",
                 "cert_intermediate": "100.0%"})


def test_filters_narrow_their_own_figures(app, client, data, world):
    login(client, "office_d1")
    d1 = world["D1"]
    total = tables(page(client, f"/stats/unit/{d1}?{Y}&level=district"))["table-units"][0]
    # district classes only: 4 person-times of 6 records, training 学时 6.0; course 学时 unchanged
    _check(total, {"pt_city": "0", "pt_district": "4", "pt_street": "0", "attendance_rate": "66.7%",
                   "hours_training": "6.0", "hours_course": "6.0", "enrolled": "3"})
    total = tables(page(client, f"/stats/unit/{d1}?{Y}&training={data['t3']}"))["table-units"][0]
    _check(total, {"person_times": "2", "attendance_rate": "66.7%", "hours_training": "2.0"})
    client = app.test_client()
    login(client, "office_c")
    total = tables(page(client, f"/stats/unit/{world['C']}?{Y}&course={data['c1']}"))["table-units"][0]
    _check(total, {"enrolled": "3", "completed": "3", "hours_course": "8.0", "hours_training": "16.0"})
    total = tables(page(client, f"/stats/unit/{world['C']}?{Y}&exam={data['e2']}"))["table-units"][0]
    _check(total, {"attempts": "1", "exam_takers": "1", "average_score": "80.0", "pass_rate": "100.0%"})
    total = tables(page(client, f"/stats/unit/{world['C']}?from=2025-04-01&to=2025-06-30"))["table-units"][0]
    _check(total, {"person_times": "3", "pt_district": "3", "enrolled": "3", "completed": "2", "attempts": "3"})
    total = tables(page(client, f"/stats/unit/{world['C']}?year=all"))["table-units"][0]
    _check(total, {"person_times": "11", "enrolled": "6", "completed": "5", "attempts": "5"})


def test_bad_filters_are_reported_and_ignored(client, data, world):
    client.get("/auth/lang/en")
    login(client, "office_d1")
    r = client.get(f"/stats/unit/{world['D1']}?year=20x5&from=2025-13-01&level=galaxy&training={data['t4']}")
    html = r.get_data(as_text=True)
    assert r.status_code == 400  # the page, saying what it did not understand (tests/test_bad_input.py)
    assert "is not a year" in html and "is not a date" in html and "is not a level" in html
    assert "no such choice is available to you" in html  # D2's class is not D1's to filter by


def test_the_same_figures_on_every_database_via_the_domain(app, data, world):
    from lms.stats import queries

    with app.app_context():
        viewer = _user("office_c")
        dash = queries.dashboard(viewer, _unit("C"), queries.Filters.for_year(2025))
        t = dash.total
        assert (t.workers, t.enrolled, t.completed, t.hours, t.person_times, t.attendance_records) == \
            (6, 5, 4, Decimal("25.5"), 10, 15)
        assert t.attended == {"city": 3, "district": 5, "street": 2}
        assert (t.attempts, t.exam_takers, t.average_score, t.passed) == (4, 3, Decimal("60.0"), 2)
        assert t.cert == {"none": 4, "assistant": 1, "intermediate": 1, "senior": 0}
        trend = queries.trend(viewer, _unit("C"), queries.Filters.for_year(2025))
        assert trend.months[0] == "2025-01" and trend.months[-1] == "2025-12" and len(trend.months) == 12
        assert {m: n for m, n in trend.person_times.items() if n} == {"2025-03": 3, "2025-04": 2, "2025-05": 1,
                                                                    "2025-09": 2, "2025-11": 2}
        assert trend.hours["2025-03"] == Decimal("8.0")  # a's course c1 (2) + session s1 (a, b, d: 6)
        assert trend.completed == {"2025-01": 1, "2025-03": 1, "2025-05": 1, "2025-06": 1, "2025-08": 1}


# --- drill-down and the worker's record --------------------------------------------------------------

def test_drill_down_from_district_to_worker(client, data, world):
    login(client, "office_d1")
    html = page(client, f"/stats/unit/{world['D1']}?{Y}")
    assert f"/stats/unit/{world['S11']}?year=2025" in html
    html = page(client, f"/stats/unit/{world['S11']}?{Y}")
    assert f"/stats/unit/{world['C111']}/workers?year=2025" in html  # a community opens its list of workers
    rows = {r["username"]: r for r in tables(page(client, f"/stats/unit/{world['C111']}/workers?{Y}"))["table-workers"]}
    assert set(rows) == {"worker_a", "worker_e"}  # the inactive worker_x is not listed
    _check(rows["worker_a"], {"enrolled": "2", "completed": "1", "hours": "8.0", "person_times": "4",
                              "attendance_rate": "100.0%", "attempts": "2", "average_score": "60.0", "passed": "1"})
    html = page(client, f"/stats/worker/{data['a']}?{Y}")
    assert f"/learn/progress/{data['a']}" in html
    t = tables(html)
    assert [r["title"] for r in t["table-courses"]] == ["统计测试课程二", "统计测试课程一"]
    assert {r["title"]: r["attended"] for r in t["table-classes"]} == {"东区业务培训": "2", "东一街道议事培训": "1",
                                                                      "市级示范培训": "1"}
    assert sum(Decimal(r["hours"]) for r in t["table-credits"]) == Decimal("8.0")
    assert [r["score"] for r in t["table-exams"]] == ["50.0", "70.0"]


def test_worker_list_of_a_street_pages_and_exports(client, data, world):
    login(client, "office_d1")
    r = client.get(f"/stats/unit/{world['S11']}/export/workers.csv?{Y}")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == ["worker_a", "worker_b", "worker_e"]


# --- exports hold the page's figures -----------------------------------------------------------------

def test_xlsx_and_csv_exports_hold_the_dashboard_figures(client, data, world):
    client.get("/auth/lang/en")
    login(client, "office_c")
    r = client.get(f"/stats/unit/{world['C']}/export/units.xlsx?{Y}")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Org unit", "Workers", "Courses enrolled", "Courses completed"]
    rows = {row[0]: dict(zip(header, row, strict=False)) for row in ws.iter_rows(min_row=2, values_only=True)}
    total = rows["Total: 测试市"]
    assert total["Workers"] == 6 and total["Credit hours"] == 25.5 and total["Credit hours per worker"] == 4.3
    assert total["Completion rate"] == 0.8 and total["Attendance rate"] == 0.6667 and total["Average score"] == 60.0
    assert rows["东区"]["Person-times"] == 8 and rows["西区"]["Pass rate"] == 0
    assert ws.cell(row=2, column=header.index("Completion rate") + 1).number_format == "0.0%"
    assert ws.cell(row=2, column=header.index("Credit hours") + 1).number_format == "0.0"
    assert ws.cell(row=2, column=2).number_format == "#,##0"
    assert "About" in wb.sheetnames
    r = client.get(f"/stats/unit/{world['C']}/export/units.csv?{Y}")
    lines = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert lines[0][0] == "Org unit" and lines[1][:5] == ["Total: 测试市", "6", "5", "4", "80.0%"]
    for report in ("trend", "ce_units", "ce_workers", "profile"):
        for fmt in ("xlsx", "csv"):
            assert client.get(f"/stats/unit/{world['C']}/export/{report}.{fmt}?{Y}").status_code == 200, report
    for name in ("courses", "classes", "credits", "exams"):
        assert client.get(f"/stats/worker/{data['a']}/export/{name}.xlsx?{Y}").status_code == 200
    assert client.get(f"/stats/unit/{world['C']}/export/nothing.xlsx").status_code == 404
    assert client.get(f"/stats/unit/{world['C']}/export/units.pdf").status_code == 404


# --- scope ------------------------------------------------------------------------------------------

def test_district_office_never_sees_another_district(client, data, world):
    login(client, "office_d1")
    for url in (f"/stats/unit/{world['D2']}", f"/stats/unit/{world['C211']}/workers", f"/stats/unit/{world['C']}",
                f"/stats/unit/{world['D2']}/trends", f"/stats/unit/{world['D2']}/continuing-education",
                f"/stats/unit/{world['D2']}/profile", f"/stats/unit/{world['D2']}/export/units.xlsx",
                f"/stats/unit/{world['S21']}/export/workers.csv", f"/stats/worker/{data['d']}",
                f"/stats/worker/{data['d']}/export/courses.xlsx", "/stats/unit/99999999"):
        assert client.get(url).status_code == 404, url
    # nothing of D2 in D1's pages and exports, whatever the filters
    for url in (f"/stats/unit/{world['D1']}?year=all", f"/stats/unit/{world['D1']}/workers?year=all",
                f"/stats/unit/{world['D1']}/continuing-education?show=all&year=2025",
                f"/stats/unit/{world['D1']}/export/workers.csv?year=all",
                f"/stats/unit/{world['D1']}/export/ce_workers.csv?year=2025&show=all",
                f"/stats/unit/{world['D1']}/export/units.csv?year=all&training={data['t4']}"):
        text = client.get(url).get_data(as_text=True)
        assert "worker_d" not in text and "西区" not in text and "西一一丁" not in text, url
    r = client.get(f"/stats/unit/{world['D1']}?year=all&training={data['t4']}")
    assert r.status_code == 400  # the other district's class filter was refused (and said so), not applied
    rows = tables(r.get_data(as_text=True))["table-units"]
    assert rows[0]["person_times"] == "9"


def test_street_office_starts_at_its_street_and_learners_are_refused(app, client, data, world):
    login(client, "office_s11")
    assert client.get("/stats/").location.endswith(f"/stats/unit/{world['S11']}")
    assert client.get(f"/stats/unit/{world['S12']}").status_code == 404
    assert client.get(f"/stats/unit/{world['D1']}").status_code == 404
    rows = tables(page(client, f"/stats/unit/{world['S11']}?{Y}"))["table-units"]
    assert rows[0]["workers"] == "3"
    client = app.test_client()
    login(client, "worker_a")
    assert client.get(f"/stats/unit/{world['C111']}").status_code == 403
    assert client.get(f"/stats/worker/{data['a']}").status_code == 403


def test_statistics_link_in_the_menu_for_offices_only(app, client, world):
    login(client, "office_d1")
    assert 'id="nav-stats"' in client.get("/home").get_data(as_text=True)
    client = app.test_client()
    login(client, "worker_a")
    assert 'id="nav-stats"' not in client.get("/home").get_data(as_text=True)


# --- charts -----------------------------------------------------------------------------------------

def test_charts_come_from_json_islands_with_no_inline_script(client, data, world):
    import json
    import re

    login(client, "office_c")
    html = page(client, f"/stats/unit/{world['C']}?{Y}")
    islands = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S)
    assert {i for i, _ in islands} >= {"chart-hours-data", "chart-person-times-data", "chart-rates-data"}
    spec = json.loads(dict(islands)["chart-hours-data"])
    assert spec["labels"] == ["东区", "西区"] and spec["datasets"][0]["data"] == [4.5, 6.0]
    assert not re.search(r"<script(?![^>]*(src=|application/json))", html)  # every other script is a file
    assert "vendor/chartjs/chart.umd.js" in html and "js/stats_charts.js" in html
    html = page(client, f"/stats/unit/{world['C']}/trends?{Y}")
    months = tables(html)["table-trend"]
    assert len(months) == 12 and months[2] == {"month": "2025-03", "credit_hours": "8.0", "person_times": "3",
                                               "courses_enrolled": "1", "courses_completed": "1",
                                               "exam_attempts": "1", "exam_pass_rate": "100.0%"}


# --- continuing education ---------------------------------------------------------------------------

@pytest.mark.parametrize("listed", [False, True], ids=["joined", "listed"])
def test_continuing_education_lists_who_is_behind(app, client, data, world, listed):
    if listed:  # the list read from stats_worker_year in its index order (the periodic work makes a year so)
        with app.app_context():
            assert rollups.extend_list_years(db.session.connection(), 2026, first=2024)
            db.session.commit()
    app.config["ANNUAL_CREDIT_HOURS_TARGET"] = 5.0
    try:
        login(client, "office_c")
        t = tables(page(client, f"/stats/unit/{world['C']}/continuing-education?{Y}"))
        total = t["table-ce_units"][0]
        assert (total["workers"], total["reached"], total["behind"], total["reached_rate"]) == ("6", "3", "3", "50.0%")
        behind = [(r["username"], r["hours"], r["shortfall"]) for r in t["table-ce_workers"]]
        assert behind == [("trainer", "1.5", "3.5"), ("worker_e", "1.5", "3.5"), ("worker_c", "3.5", "1.5")]
        every = tables(page(client, f"/stats/unit/{world['C']}/continuing-education?{Y}&show=all"))["table-ce_workers"]
        assert [r["username"] for r in every][-1] == "worker_a" and len(every) == 6
        certified = tables(page(client, f"/stats/unit/{world['C']}/continuing-education?{Y}&cert=certified"))
        assert certified["table-ce_units"][0]["workers"] == "2"  # b and c
        client = app.test_client()
        login(client, "office_d1")
        t = tables(page(client, f"/stats/unit/{world['D1']}/continuing-education?{Y}&show=all"))
        assert sorted(r["username"] for r in t["table-ce_workers"]) == ["worker_a", "worker_b", "worker_c", "worker_e"]
    finally:
        app.config["ANNUAL_CREDIT_HOURS_TARGET"] = 50.0


# --- the workforce profile ---------------------------------------------------------------------------

def test_profile_without_history_says_so(client, data, world):
    client.get("/auth/lang/en")
    login(client, "office_c")
    html = page(client, f"/stats/unit/{world['C']}/profile")
    assert "No year-on-year change yet" in html and "records this year’s profile by itself every day" in html
    assert "flask" not in html  # an office never sees command-line instructions
    t = tables(html)
    assert {r["bucket"]: r["count"] for r in t["table-profile_gender"]} == {"Female": "5", "Male": "1"}
    assert {r["bucket"]: r["count"] for r in t["table-profile_cert_level"]} == {
        "None": "4", "Assistant social worker": "1", "Social worker": "1", "Senior social worker": "0"}
    assert {r["bucket"]: r["share"] for r in t["table-profile_years_in_work"]}["3–5 years"] == "100.0%"


def test_profile_compares_with_an_earlier_snapshot(app, client, data, world):
    from lms.stats.filters import this_year
    from lms.stats.profile import record_snapshot

    last = this_year() - 1
    with app.app_context():
        assert record_snapshot(last) > 0
        _user("worker_b").cert_level = "intermediate"  # b is certified further after the snapshot
        db.session.commit()
    client.get("/auth/lang/en")
    login(client, "office_d1")
    html = page(client, f"/stats/unit/{world['D1']}/profile")
    assert f"compared with the snapshot recorded for {last}" in html
    rows = {r["bucket"]: r for r in tables(html)["table-profile_cert_level"]}
    assert (rows["Social worker"]["before"], rows["Social worker"]["count"], rows["Social worker"]["change"]) == \
        ("1", "2", "1")
    assert rows["Assistant social worker"]["change"] == "-1"
    assert rows["Social worker"]["share_change"] == "25.0"


def test_the_sweeper_records_this_years_profile_daily_and_next_year_compares_with_it(app, client, data, world, clock):
    """No one runs a command on 31 December: the sweeper records this year's profile once a day."""
    from lms.stats.models import WorkforceSnapshot
    from lms.sweeper import sweep_once

    def taken(year):
        return db.session.scalar(select(func.max(WorkforceSnapshot.taken_at)).where(WorkforceSnapshot.year == year))

    clock.set(datetime(2026, 12, 31, 2, 0))  # 10:00 on 31 December in Shanghai
    with app.app_context():
        sweep_once()
        first = taken(2026)
        assert first == datetime(2026, 12, 31, 2, 0)
        _user("worker_b").cert_level = "intermediate"  # certified further later that day
        db.session.commit()
        clock.set(datetime(2026, 12, 31, 15, 30))  # 23:30, still the same Shanghai day: nothing new
        sweep_once()
        assert taken(2026) == first and taken(2027) is None
        clock.set(datetime(2026, 12, 31, 16, 30))  # 00:30 on 1 January 2027 in Shanghai
        sweep_once()
        assert taken(2027) == datetime(2026, 12, 31, 16, 30) and taken(2026) == first
    login(client, "office_d1")
    html = page(client, f"/stats/unit/{world['D1']}/profile")
    assert "同比：与2026年记录的快照比较。" in html
    rows = {r["bucket"]: r for r in tables(html)["table-profile_cert_level"]}
    assert (rows["社会工作师"]["before"], rows["社会工作师"]["count"], rows["社会工作师"]["change"]) == ("1", "2", "1")


# --- seed-scale -------------------------------------------------------------------------------------

def test_seed_scale_makes_a_small_city_with_every_kind_of_record(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LMS_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'scale.sqlite3'}"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = lambda *a: subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=300, cwd=root)
    assert run("db", "upgrade").returncode == 0
    r = run("seed-scale", "--scale", "0.005")
    assert r.returncode == 0, r.stderr
    assert "attendance 5000" in r.stdout and "enrollment 1500" in r.stdout and "attempt 1000" in r.stdout
    # 学时 are dated by the local (Asia/Shanghai) day of the session or completion, as the app dates them
    import sqlite3
    from datetime import datetime, timedelta

    with sqlite3.connect(tmp_path / "scale.sqlite3") as conn:
        rows = conn.execute("""SELECT c.earned_on, s.starts_at FROM credit c
                               JOIN training_session s ON s.id = c.source_id
                               WHERE c.source = 'session' UNION ALL
                               SELECT c.earned_on, e.completed_at FROM credit c JOIN enrollment e
                               ON e.user_id = c.user_id AND e.course_id = c.source_id
                               WHERE c.source = 'course'""").fetchall()
    assert rows and all(on == str((datetime.fromisoformat(at) + timedelta(hours=8)).date()) for on, at in rows)
    # Every completed course has its lessons completed, each studied for at least 80 % of its minutes
    # (docs/STUDY-TIME.md: synthetic courses get lessons too).
    with sqlite3.connect(tmp_path / "scale.sqlite3") as conn:
        short = conn.execute("""SELECT COUNT(*) FROM lesson_progress p JOIN lesson l ON l.id = p.lesson_id
                                WHERE p.completed_at IS NOT NULL
                                AND p.seconds_spent < l.minutes * 60 * 0.8""").fetchone()[0]
        missing = conn.execute("""SELECT COUNT(*) FROM enrollment e JOIN lesson l ON l.course_id = e.course_id
                                  LEFT JOIN lesson_progress p ON p.user_id = e.user_id AND p.lesson_id = l.id
                                  WHERE e.completed_at IS NOT NULL AND p.completed_at IS NULL""").fetchone()[0]
        completed = conn.execute("SELECT COUNT(*) FROM lesson_progress WHERE completed_at IS NOT NULL").fetchone()[0]
    assert (short, missing) == (0, 0) and completed > 0
    r = run("seed-scale", "--scale", "0.005")
    assert r.returncode != 0 and "empty database" in r.stderr  # never mixed with existing data
    r = run("stats-snapshot", "--year", "2025")
    assert r.returncode == 0 and "rows" in r.stdout


def test_enrolments_in_area_counts_only_the_viewers_workers(ctx, world):
    """The public query the API's course list calls (was the API's own SQL on queries._count_if)."""
    from lms import clock
    from lms.extensions import db
    from lms.learning.models import Course, Enrollment
    from lms.stats import queries

    course = Course(slug="area-counts", title="Area counts", category="policy")
    db.session.add(course)
    db.session.flush()
    for name, done in (("worker_a", True), ("worker_b", False), ("worker_d", True)):
        db.session.add(Enrollment(user_id=world[name], course_id=course.id,
                                  completed_at=clock.now() if done else None))
    db.session.flush()
    office_d1, admin = db.session.get(User, world["office_d1"]), db.session.get(User, world["admin"])
    assert queries.enrolments_in_area(office_d1, [course.id]) == {course.id: (2, 1)}
    assert queries.enrolments_in_area(admin, [course.id]) == {course.id: (3, 2)}
    assert queries.enrolments_in_area(office_d1, []) == {}
