"""Bad input never reaches a 500 (issue 12 §6): dates, years, ids, page numbers, blanks, non-digits and
NUL characters, on the statistics pages and exports, the list pages and the API.

Accepted: dates and years from 2000 (inputs.FIRST_YEAR) to next year (the clock fixture's "now" is
2026-06-15 in Shanghai, so to 2027), ids from 1 to 2**31 - 1, page numbers from 1 to 100,000. Anything
else is a 400 that says what and where: in Chinese on the pages, in the API's JSON error format in the API.
"""
import re
from datetime import date

import pytest

from lms.stats import queries

from . import test_stats
from .conftest import login, post_form
from .test_api import get, make_token

data = test_stats.data
YEARS = "2000 年至 2027 年"


# --- the statistics: the one date parser, on the API, the pages and the exports -----------------------

BAD_FILTERS = ["from=0579-01-30", "from=0001-01-01", "to=9999-12-31", "from=1999-12-31", "to=2028-01-01",
               "from=2025-02-30", "from=20250101", "from=2025-1-5", "year=1999", "year=2028", "year=２０２５",
               "year=20_25", "course=99999999999", "training=-1", "exam=x"]


def test_api_statistics_refuse_what_they_cannot_read(app, client, clock, data, world):
    token = make_token(app, "office_c")
    for query in BAD_FILTERS:
        for path in ("/stats/trends", "/stats/dashboard", f"/workers/{world['worker_a']}"):
            r = get(client, f"/api/v1{path}?{query}", token)
            assert r.status_code == 400 and r.is_json, (path, query, r.status_code)
            error = r.json["error"]
            assert error["status"] == 400 and error["details"], error


def test_api_trends_accept_every_date_of_the_accepted_years(app, client, clock, data):
    token = make_token(app, "office_c")
    r = get(client, "/api/v1/stats/trends?from=2000-01-01&to=2027-12-31", token)
    assert r.status_code == 200
    months = [m["month"] for m in r.json["months"]]
    assert len(months) == queries.MAX_TREND_MONTHS and months[-1] == "2027-12"
    r = get(client, "/api/v1/stats/trends?from=0579-01-30", token)
    assert r.status_code == 400
    assert "2000" in r.json["error"]["details"][0] and "2027" in r.json["error"]["details"][0]


def test_trend_months_of_an_early_start_are_whole_months(app, ctx, data):
    """The 500 of /api/v1/stats/trends?from=0579-01-30: "%Y" writes year 579 as "579", not "0579"."""
    from sqlalchemy import select

    from lms.auth.models import User
    from lms.extensions import db
    from lms.orgs.models import OrgUnit

    viewer = db.session.scalar(select(User).where(User.username == "office_c"))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "C"))
    months = queries.trend(viewer, unit, queries.Filters(start=date(579, 1, 30), end=date(2025, 12, 31))).months
    assert len(months) == queries.MAX_TREND_MONTHS and months[0] == "2023-01" and months[-1] == "2025-12"


@pytest.mark.parametrize("tab", ["", "/trends", "/workers", "/continuing-education"])
def test_statistics_pages_say_which_filter_was_not_understood(client, clock, data, world, tab):
    login(client, "office_c")
    r = client.get(f"/stats/unit/{world['C']}{tab}?from=0579-01-30")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "以下筛选条件无法识别，已忽略" in html and "0579-01-30" in html and YEARS in html
    assert 'id="stats-filters"' in html  # the page is still there, with its form
    if tab != "/continuing-education":  # (a year's page: no date pickers)
        assert 'min="2000-01-01" max="2027-12-31"' in html  # the date pickers offer only what is accepted
    r = client.get(f"/stats/unit/{world['C']}{tab}?year=1")
    assert r.status_code == 400 and "年份应在 2000 年至 2027 年之间" in r.get_data(as_text=True)
    assert client.get(f"/stats/unit/{world['C']}{tab}?from=2000-01-01&to=2027-12-31").status_code == 200


def test_statistics_exports_refuse_bad_filters_instead_of_exporting_other_figures(client, clock, data, world):
    login(client, "office_c")
    for url in (f"/stats/unit/{world['C']}/export/trend.csv", f"/stats/unit/{world['C']}/export/units.xlsx",
                f"/stats/worker/{world['worker_a']}/export/classes.csv"):
        r = client.get(url + "?from=0579-01-30")
        assert r.status_code == 400 and r.mimetype == "text/html", url
        assert "0579-01-30" in r.get_data(as_text=True) and YEARS in r.get_data(as_text=True)
        ok = client.get(url + "?from=2000-01-01")
        assert ok.status_code == 200 and ok.mimetype != "text/html", url
    r = client.get(f"/stats/worker/{world['worker_a']}?to=9999-12-31")
    assert r.status_code == 400 and YEARS in r.get_data(as_text=True)


# --- list pages: ids, page numbers, dates, blanks -------------------------------------------------------

LIST_PAGES = [
    ("/exams/?subject=99999999999", "应为 1 至 2147483647 之间的整数"),
    ("/exams/?subject=x", "“x”无效"),
    ("/exams/?difficulty=9", "应为 1 至 3 之间的整数"),
    ("/learn/?trainer=99999999999999999999", "应为 1 至 2147483647 之间的整数"),
    ("/learn/?trainer=-3", "“-3”无效"),
    ("/accounts/?page=x", "页码"),
    ("/accounts/?page=0", "页码"),
    ("/accounts/?page=100001", "页码"),
    ("/training/?page=1e3", "页码"),
    ("/audit/?from=0001-01-01", "2000 年至"),
    ("/audit/?to=2025-13-01", "不是有效日期"),
]


def test_list_pages_answer_bad_values_with_a_400_saying_what(client, clock):
    login(client, "admin")
    for url, message in LIST_PAGES:
        r = client.get(url)
        assert r.status_code == 400, url
        assert message in r.get_data(as_text=True), url


def test_blank_values_are_no_filter(client, clock):
    login(client, "admin")
    for url in ("/exams/?subject=&difficulty=%20", "/learn/?trainer=%20", "/accounts/?page=", "/accounts/?page=2",
                "/audit/?from=2025-01-01&to=", "/training/?page=%201%20"):
        assert client.get(url).status_code == 200, url


# --- NUL characters: refused at the door (PostgreSQL cannot store them: it was a 500 there) ----------

def test_nul_characters_are_refused_with_a_message(app, client):
    login(client, "admin")
    for url in ("/accounts/?q=a%00b", "/exams/?topic=%00", "/audit/?entity=%00", "/mock/practice?topic=%00"):
        r = client.get(url)
        assert r.status_code == 400 and "空字符" in r.get_data(as_text=True), url
    r = post_form(client, "/accounts/new", {"username": "new\x00", "name": "新"})
    assert r.status_code == 400 and "空字符" in r.get_data(as_text=True)
    token = make_token(app, "admin")
    for url in ("/api/v1/trainings?level=%00", "/api/v1/courses?status=%00", "/api/v1/attendance?status=%00"):
        r = get(client, url, token)
        assert r.status_code == 400 and r.is_json and r.json["error"]["status"] == 400, url


# --- the API's other parameters: what the document declares is what the server enforces ----------------

API_BAD = ["trainings?level=galaxy", "courses?status=gone", "attendance?status=here", "workers?all=yes",
           "stats/continuing-education?cert=x", "stats/continuing-education/workers?show=some",
           "attendance?from=0001-01-01", "attendance?updated_since=0001-01-01T00:00:00",
           "attendance?updated_since=yesterday", "units?parent=2147483648", "units?page=100001",
           "stats/continuing-education?year=2101", "stats/dashboard?year=all&level=galaxy"]


def test_api_refuses_values_outside_what_its_document_declares(app, client, clock):
    token = make_token(app, "admin")
    for query in API_BAD:
        r = get(client, f"/api/v1/{query}", token)
        assert r.status_code == 400 and r.is_json and r.json["error"]["message"], query


def test_api_document_declares_the_limits_the_server_enforces(app, client, clock, data):
    """Each declared integer and date bound: the bound itself is accepted, one beyond it refused."""
    token = make_token(app, "admin")
    doc = client.get("/api/v1/openapi.json").json
    checked = 0
    for path, item in doc["paths"].items():
        if "{" in path:
            continue
        for param in item["get"]["parameters"]:
            schema = param["schema"]
            schemas = schema.get("anyOf", [schema])
            for s in schemas:
                if s.get("type") == "integer" and "maximum" in s and param["name"] != "unit":
                    ok, bad = [s["minimum"], s["maximum"]], [s["minimum"] - 1, s["maximum"] + 1]
                elif s.get("format") == "date":
                    ok, bad = ["2000-01-01", "2027-12-31"], ["1999-12-31", "2028-01-01"]
                elif "enum" in s:
                    ok, bad = s["enum"], ["no-such-value"]
                else:
                    continue
                for value in ok:
                    r = get(client, f"/api/v1{path}?{param['name']}={value}", token)
                    assert r.status_code in (200, 400 if param["name"] in ("course", "training", "exam") else 200), \
                        (path, param["name"], value, r.json)
                for value in bad:
                    r = get(client, f"/api/v1{path}?{param['name']}={value}", token)
                    assert r.status_code == 400, (path, param["name"], value)
                checked += 1
    assert checked > 40


def test_training_detail_declares_its_sessions_as_a_list(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    detail = client.get("/api/v1/openapi.json").json["paths"]["/trainings/{training_id}"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TrainingDetail"}
    assert schemas["TrainingDetail"]["allOf"][1]["properties"]["sessions"]["type"] == "array"
    assert "sessions" not in schemas["TrainingBase"]["properties"]
    assert schemas["Training"]["allOf"][1]["properties"]["sessions"]["type"] == "integer"


def test_a_real_exam_result_with_a_bad_subject_year_or_score_is_a_form_message(client, clock):
    login(client, "worker_a")
    page = client.get("/mock/progress").get_data(as_text=True)
    sid = re.search(r'<option value="(\d+)">社会工作综合能力\(初级\)', page).group(1)
    for fields, message in (
        ({"subject_id": "99999999999", "exam_year": "2025", "score": "70"}, "请从列表中选择考试科目"),
        ({"subject_id": sid, "exam_year": "2025", "score": "NaN"}, "成绩须是 0 到 100 之间的数字"),
        ({"subject_id": sid, "exam_year": "99999999999999", "score": "70"}, "考试年度须在"),
    ):
        r = post_form(client, "/mock/progress", {**fields, "passed": "1"})
        assert r.status_code in (200, 400) and message in r.get_data(as_text=True), fields
