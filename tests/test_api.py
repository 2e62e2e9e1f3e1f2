"""The read-only JSON API (issue 6 §5): tokens, scope, figures, pagination, the OpenAPI document.

Decision (docs/API.md): only office and admin users can make tokens (the tokens page refuses
everyone else), and a token whose owner is not, or no longer, an office or admin user is
refused with 403 — a learner's token never reads anything, not even its owner's records.
"""
import re

import pytest
from sqlalchemy import select

from lms.api.models import ApiToken, hash_token, new_token_value
from lms.auth.models import User
from lms.extensions import db
from lms.stats import rollups

from . import test_stats
from .conftest import csrf_token, login

data = test_stats.data  # the fixed data set of the statistics tests (a fixture)


def make_token(app, username: str) -> str:
    """A token for `username` straight in the database (what the tokens page does)."""
    value = new_token_value()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.add(ApiToken(user_id=user.id, name="test", token_hash=hash_token(value), hint=value[:8]))
        db.session.commit()
    return value


def get(client, url, token):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


# --- tokens ----------------------------------------------------------------------------------------

def test_office_creates_a_token_shown_once_and_stored_as_a_hash(app, client):
    login(client, "office_d1")
    r = client.post("/api/tokens/", data={"name": "区大数据中心", "csrf_token": csrf_token(client, "/api/tokens/")})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', r.get_data(as_text=True)).group(1)
    assert token.startswith("lms_") and len(token) > 40
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "区大数据中心"))
        assert row.token_hash == hash_token(token) and token not in (row.token_hash, row.hint)
    assert token not in client.get("/api/tokens/").get_data(as_text=True)  # never shown again
    assert get(app.test_client(), "/api/v1/me", token).json["username"] == "office_d1"


def test_creating_a_token_needs_the_csrf_token(client):
    login(client, "office_d1")
    assert client.post("/api/tokens/", data={"name": "x"}).status_code == 400


def test_revoked_token_is_refused(app, client):
    login(client, "office_d1")
    token = make_token(app, "office_d1")
    api = app.test_client()
    assert get(api, "/api/v1/me", token).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))
    r = client.post(f"/api/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/api/tokens/")})
    assert r.status_code == 302
    r = get(api, "/api/v1/me", token)
    assert r.status_code == 401 and r.json["error"]["status"] == 401


def test_an_office_cannot_revoke_someone_elses_token(app, client):
    token = make_token(app, "office_d2")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))
    login(client, "office_d1")
    r = client.post(f"/api/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/api/tokens/")})
    assert r.status_code == 404
    assert get(app.test_client(), "/api/v1/me", token).status_code == 200


def test_missing_and_wrong_tokens_get_401(app, client):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic b2ZmaWNlOnB3"},
                    {"Authorization": "Bearer lms_not-a-real-token"}):
        r = client.get("/api/v1/stats/dashboard", headers=headers)
        assert r.status_code == 401 and r.is_json, headers
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_alone_never_authenticates(app, client):
    login(client, "office_c")
    assert client.get("/stats/").status_code == 302  # logged in on the site…
    r = client.get("/api/v1/me")
    assert r.status_code == 401  # …but the API looks at bearer tokens only
    token = make_token(app, "office_d1")
    assert get(client, "/api/v1/me", token).json["username"] == "office_d1"  # the token, not the cookie, decides


def test_learners_cannot_make_tokens_and_their_tokens_are_refused(app, client):
    login(client, "worker_a")
    assert client.get("/api/tokens/").status_code == 403
    token = make_token(app, "worker_a")  # e.g. made while the account was an office
    r = get(app.test_client(), "/api/v1/stats/dashboard", token)
    assert r.status_code == 403 and r.is_json
    assert get(app.test_client(), "/api/v1/me", token).status_code == 403


def test_a_deactivated_owners_token_is_refused(app, tx):
    token = make_token(app, "office_d2")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "office_d2")).active = False
        db.session.commit()
    assert get(app.test_client(), "/api/v1/me", token).status_code == 401


def test_api_responses_set_no_cookie(app, client):
    token = make_token(app, "office_d1")
    r = get(client, "/api/v1/me", token)
    assert "Set-Cookie" not in r.headers and r.headers["Cache-Control"] == "no-store"


# --- figures and scope -------------------------------------------------------------------------------

def test_dashboard_api_matches_the_hand_computed_figures(app, client, data, world):
    token = make_token(app, "office_c")
    r = get(client, "/api/v1/stats/dashboard?year=2025", token)
    assert r.status_code == 200
    body = r.json
    assert body["unit"]["id"] == world["C"] and body["period"]["from"] == "2025-01-01"
    t = body["total"]
    assert (t["workers"], t["courses_enrolled"], t["courses_completed"], t["completion_rate"]) == (6, 5, 4, 0.8)
    assert (t["credit_hours"], t["credit_hours_courses"], t["credit_hours_training"], t["credit_hours_per_worker"]) == \
        (25.5, 9.5, 16.0, 4.3)
    assert t["person_times"] == {"city": 3, "district": 5, "street": 2, "total": 10}
    assert (t["attendance_records"], t["attendance_rate"]) == (15, 0.6667)
    assert (t["exam_attempts"], t["exam_takers"], t["exam_participation"], t["exam_average_score"],
            t["exam_pass_rate"]) == (4, 3, 0.5, 60.0, 0.5)
    assert t["cert_levels"]["assistant"] == {"workers": 1, "share": 0.1667}
    rows = {r["unit"]["code"]: r for r in body["rows"]}
    assert set(rows) == {"D1", "D2", "C"} and rows["C"]["direct"] is True
    assert rows["D1"]["figures"]["credit_hours"] == 18.0 and rows["D2"]["figures"]["exam_pass_rate"] == 0.0
    r = get(client, "/api/v1/stats/trends?year=2025", token)
    march = [m for m in r.json["months"] if m["month"] == "2025-03"][0]
    assert march == {"month": "2025-03", "credit_hours": 8.0, "person_times": 3, "courses_enrolled": 1,
                     "courses_completed": 1, "exam_attempts": 1, "exam_pass_rate": 1.0}


def test_district_token_never_reaches_another_district(app, client, data, world):
    token = make_token(app, "office_d1")
    for url in (f"/api/v1/stats/dashboard?unit={world['D2']}", f"/api/v1/stats/trends?unit={world['C']}",
                f"/api/v1/stats/continuing-education?unit={world['D2']}",
                f"/api/v1/stats/continuing-education/workers?unit={world['S21']}",
                f"/api/v1/stats/profile?unit={world['D2']}", f"/api/v1/workers?unit={world['C211']}",
                f"/api/v1/workers/{data['d']}", f"/api/v1/trainings/{data['t4']}", f"/api/v1/trainings/{data['t1']}",
                f"/api/v1/attendance?unit={world['D2']}", "/api/v1/stats/dashboard?unit=2147483647"):
        r = get(client, url, token)
        assert r.status_code == 404 and r.is_json, url
    texts = [get(client, url, token).get_data(as_text=True) for url in (
        "/api/v1/stats/dashboard?year=all", "/api/v1/workers?all=1&per_page=500", "/api/v1/attendance?per_page=500",
        "/api/v1/stats/continuing-education/workers?show=all&year=2025", "/api/v1/units?per_page=500",
        "/api/v1/trainings", f"/api/v1/stats/dashboard?year=all&training={data['t4']}")]
    for text in texts:
        assert "worker_d" not in text and "西区" not in text and "西一一丁" not in text
    dash = get(client, "/api/v1/stats/dashboard?year=2025", token).json
    assert dash["unit"]["code"] == "D1" and dash["total"]["workers"] == 4
    ids = {w["username"] for w in get(client, "/api/v1/workers", token).json["items"]}
    assert ids == {"worker_a", "worker_b", "worker_c", "worker_e"}
    attendance_users = {a["user_id"] for a in get(client, "/api/v1/attendance?per_page=500", token).json["items"]}
    assert attendance_users == {data["a"], data["b"], data["c"], data["e"]}
    trainings = {t["id"] for t in get(client, "/api/v1/trainings", token).json["items"]}
    assert trainings == {data["t2"], data["t3"]}  # organised in D1's area
    r = get(client, f"/api/v1/stats/dashboard?year=2025&training={data['t4']}", token)
    assert r.status_code == 400 and r.json["error"]["details"]


@pytest.mark.parametrize("listed", [False, True], ids=["joined", "listed"])
def test_worker_record_and_continuing_education(app, client, data, world, listed):
    if listed:  # the list read from stats_worker_year in its index order (the periodic work makes a year so)
        with app.app_context():
            assert rollups.extend_list_years(db.session.connection(), 2026, first=2024)
            db.session.commit()
    token = make_token(app, "office_d1")
    body = get(client, f"/api/v1/workers/{data['a']}?year=2025", token).json
    assert body["worker"]["username"] == "worker_a" and "phone" not in body["worker"]
    assert body["figures"]["credit_hours"] == 8.0 and body["figures"]["person_times"]["total"] == 4
    assert sum(c["hours"] for c in body["credits"]) == 8.0 and len(body["exams"]) == 2
    app.config["ANNUAL_CREDIT_HOURS_TARGET"] = 5.0
    try:
        ce = get(client, "/api/v1/stats/continuing-education?year=2025", token).json
        assert ce["total"] == {"workers": 4, "reached": 2, "behind": 2, "reached_rate": 0.5, "average_hours": 4.5}
        behind = get(client, "/api/v1/stats/continuing-education/workers?year=2025", token).json
        assert [(i["worker"]["username"], i["hours"], i["behind"]) for i in behind["items"]] == \
            [("worker_e", 1.5, 3.5), ("worker_c", 3.5, 1.5)]
    finally:
        app.config["ANNUAL_CREDIT_HOURS_TARGET"] = 50.0
    prof = get(client, "/api/v1/stats/profile", token).json
    assert prof["workers"] == 4 and prof["compared_with_snapshot_of"] is None


def test_pagination(app, client, data, world):
    token = make_token(app, "office_c")
    first = get(client, "/api/v1/attendance?per_page=4", token).json
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 4, 16, 4)
    assert first["prev"] is None and "page=2" in first["next"]
    seen = [a["id"] for a in first["items"]]
    url = first["next"]
    while url:
        page = get(client, url.split("localhost", 1)[1], token).json
        seen += [a["id"] for a in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 16 and seen == sorted(seen)
    for bad in ("per_page=0", "per_page=501", "page=0", "page=x"):
        r = get(client, f"/api/v1/workers?{bad}", token)
        assert r.status_code == 400 and r.is_json, bad


def test_courses_list_counts_enrolments_in_the_area(app, client, data):
    token = make_token(app, "office_d1")
    items = get(client, "/api/v1/courses?per_page=500", token).json["items"]
    c1 = [c for c in items if c["id"] == data["c1"]][0]
    assert (c1["enrolled_in_area"], c1["completed_in_area"], c1["credit_hours"]) == (3, 3, 2.0)  # a, b, c (not d)


def test_unknown_endpoint_is_a_json_404(app, client):
    token = make_token(app, "office_c")
    r = get(client, "/api/v1/no/such/thing", token)
    assert r.status_code == 404 and r.json["error"]["status"] == 404


# --- the OpenAPI document ------------------------------------------------------------------------------

def test_openapi_document_validates_and_covers_every_endpoint(app, client):
    from openapi_spec_validator import validate

    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    routes = {re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              and rule.endpoint not in ("api.index", "api.openapi", "api.not_found")}
    assert routes == set(doc["paths"])


@pytest.mark.parametrize("path", ["/me", "/units", "/stats/dashboard", "/stats/trends", "/stats/continuing-education",
                                  "/stats/continuing-education/workers", "/stats/profile", "/workers", "/courses",
                                  "/trainings", "/attendance"])
def test_every_listed_endpoint_answers_an_admin(app, client, path):
    token = make_token(app, "admin")
    r = get(client, "/api/v1" + path, token)
    assert r.status_code == 200 and r.is_json, path
