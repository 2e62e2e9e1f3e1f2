"""The cross-district walk: as one district's office, every URL that names a record of ANOTHER
district answers 404 (GET, and POST with a valid CSRF token where the route takes POST); the same
URLs for the office's own district answer 200/302.

The list of routes is taken from the app's url_map: every rule with an integer id is either
walked here or listed in NOT_DISTRICT_RECORDS with the reason, so a new route cannot escape.
"""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from werkzeug.security import generate_password_hash

from lms.allowances.models import AllowancePolicy
from lms.api.models import ApiToken, hash_token, new_token_value
from lms.ask import rules as ask_rules
from lms.auth.models import User, UserRole
from lms.database import utcnow
from lms.exams import attempts
from lms.exams.models import AttemptAnswer, Exam, ExamSubject, MarkingAssignment, MockExamDay, RealExamResult
from lms.extensions import db
from lms.learning import certificates
from lms.learning.models import Enrollment
from lms.library.models import Trainer, TrainingBase
from lms.orgs.models import OrgUnit
from lms.surveys.models import Survey, SurveyQuestion
from lms.training.models import Attendance, Registration

from .conftest import csrf_token, login
from .test_learning import make_course
from .test_mock_exams import make_bank, make_case_bank, small_exam
from .test_training import make_training
from .world import PASSWORD

# Routes with an id that do not name a record of a district, and why.
NOT_DISTRICT_RECORDS = {
    # The question bank and the blueprints are one city-wide bank (DESIGN §2): no district owns a question.
    "exams.detail": "city-wide question bank",
    "exams.edit": "city-wide question bank",
    "exams.change_status": "city-wide question bank",
    "mock.start": "an exam blueprint is city-wide; a worker starts it for themself",
    # A subject is city-wide; the plan is always the signed-in worker's own (tests/test_prep_plan.py).
    # A message is its recipient's alone (scope.can_see_message; another user's is a 404: tests/test_messages.py).
    "messages.read": "a user's own message",
    "prep.plan": "a subject is city-wide; a worker's own plan for it",
    "prep.stop_plan": "a subject is city-wide; a worker's own plan for it",
    # The subject page shows only the signed-in worker's own estimates (tests/test_prep_pages.py).
    "prep.subject": "a subject is city-wide; a worker's own mastery of it",
    # The course library is one city-wide library (scope.can_view_course / can_edit_course).
    "learning.course": "city-wide course library",
    "learning.enroll": "city-wide course library; a worker enrols themself",
    "learning.rate": "city-wide course library; a worker rates for themself",
    "learning.lesson": "city-wide course library",
    "learning.beat": "a worker's own study time on a city-wide lesson",
    "learning.complete": "a worker's own study time on a city-wide lesson",
    "learning.edit_course": "city-wide course library",
    "learning.submit": "city-wide course library",
    "learning.review": "city-wide course library",
    "learning.toggle_featured": "city-wide course library",
    "learning.new_lesson": "city-wide course library",
    "learning.edit_lesson": "city-wide course library",
    "learning.delete_lesson": "city-wide course library",
    "learning.move_lesson": "city-wide course library",
    "learning.assign": "city-wide course; the workers it is assigned to are chosen within scope",
    "learning.edit_quiz": "city-wide course library",
    "learning.revise": "city-wide course library; its authors revise it",
    "learning.discard_revision": "city-wide course library; its authors discard their revision",
    # A background job is its requester's own, whatever their district (scope.can_see_job): another
    # office's request answers 404 (tests/test_tasks.py); retrying one is for admins only.
    "jobs.show": "a job is its requester's own",
    "jobs.status": "a job is its requester's own",
    "jobs.download": "a job's file is its requester's own",
    "jobs.retry": "admins only (the list of jobs)",
    "learning.start_quiz": "city-wide course; a worker starts its quiz for themself",
    # The org tree is managed by admins only: every office gets 403 whatever the id (checked below).
    "orgs.edit": "admin only",
    "orgs.delete": "admin only",
}

# endpoint → (values for url_for from one district's ids, who acts on their own district's record).
# "office": the district's office; "worker": the worker who owns the record (the office itself is
# refused too). Destructive routes come last so that the reverse walk still finds its records.
WALK = {
    "accounts.detail": (lambda d: {"user_id": d["worker"]}, "office"),
    "accounts.edit": (lambda d: {"user_id": d["worker"]}, "office"),
    "accounts.reset_password": (lambda d: {"user_id": d["worker"]}, "office"),
    "accounts.unlock": (lambda d: {"user_id": d["worker"]}, "office"),
    "accounts.require_password_change": (lambda d: {"user_id": d["worker"]}, "office"),
    "orgs.detail": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.dashboard": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.trends": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.workers": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.continuing_education": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.profile": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.whitepaper_page": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.whitepaper_pdf": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.whitepaper_generate": (lambda d: {"unit_id": d["unit"]}, "office"),
    "stats.export": (lambda d: {"unit_id": d["unit"], "report": "workers", "fmt": "xlsx"}, "office"),
    "stats.worker": (lambda d: {"user_id": d["worker"]}, "office"),
    "stats.worker_export": (lambda d: {"user_id": d["worker"], "report": "courses", "fmt": "csv"}, "office"),
    "learning.learner_progress": (lambda d: {"user_id": d["worker"]}, "office"),
    "learning.certificate": (lambda d: {"enrollment_id": d["enrollment"]}, "office"),
    "learning.certificate_page": (lambda d: {"enrollment_id": d["enrollment"]}, "office"),
    "learning.grant_quiz_attempt": (lambda d: {"enrollment_id": d["enrollment"]}, "office"),
    "mock.learner_progress": (lambda d: {"user_id": d["worker"]}, "office"),
    "mock.result": (lambda d: {"attempt_id": d["submitted"]}, "office"),
    "mock.mark": (lambda d: {"answer_id": d["answer"]}, "office"),
    "mock.day": (lambda d: {"day_id": d["day"]}, "office"),
    "mock.reject_result": (lambda d: {"result_id": d["real_result"]}, "office"),
    "mock.verify_result": (lambda d: {"result_id": d["real_result"]}, "office"),
    "mock.start_day": (lambda d: {"day_id": d["day"]}, "worker"),
    "mock.attempt": (lambda d: {"attempt_id": d["open"]}, "worker"),
    "mock.state": (lambda d: {"attempt_id": d["open"]}, "worker"),
    "mock.save_answer": (lambda d: {"attempt_id": d["open"]}, "worker"),
    "mock.submit": (lambda d: {"attempt_id": d["open"]}, "worker"),
    "library.detail": None,  # reading the pools stays allowed city-wide: checked below
    "library.edit": (lambda d: {"kind": "trainers", "item_id": d["trainer_record"]}, "office"),
    "training.detail": (lambda d: {"training_id": d["training"]}, "office"),
    "training.edit": (lambda d: {"training_id": d["training"]}, "office"),
    "training.export": (lambda d: {"training_id": d["training"]}, "office"),
    "training.new_session": (lambda d: {"training_id": d["training"]}, "office"),
    "training.import_sessions": (lambda d: {"training_id": d["training"]}, "office"),
    "training.assign": (lambda d: {"training_id": d["training"]}, "office"),
    "training.screen": (lambda d: {"session_id": d["session"]}, "office"),
    "training.code_json": (lambda d: {"session_id": d["session"]}, "office"),
    "training.roster": (lambda d: {"session_id": d["session"]}, "office"),
    "training.history": (lambda d: {"session_id": d["session"]}, "office"),
    "training.register": (lambda d: {"training_id": d["training"]}, "worker"),
    "training.cancel": (lambda d: {"training_id": d["training"]}, "worker"),
    "api.worker": (lambda d: {"user_id": d["worker"]}, "office"),
    "api.training": (lambda d: {"training_id": d["training"]}, "office"),
    "api_tokens.revoke": (lambda d: {"token_id": d["token"]}, "office"),
    "mock.withdraw_marking": (lambda d: {"assignment_id": d["assignment"]}, "office"),
    "training.delete_session": (lambda d: {"session_id": d["session"]}, "office"),
    "allowances.worker": (lambda d: {"user_id": d["worker"]}, "office"),
    "allowances.confirm_level": (lambda d: {"user_id": d["worker"]}, "office"),
    "allowances.departure": (lambda d: {"user_id": d["worker"]}, "office"),
    "allowances.policy_edit": (lambda d: {"policy_id": d["allowance_policy"]}, "office"),
    # 请教一下: a new question of the district's worker (public only once routed).
    "ask.question": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.manage": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.answer": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.vote": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.route": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.lesson": (lambda d: {"question_id": d["question"]}, "office"),
    "ask.reject": (lambda d: {"question_id": d["question"]}, "office"),
    # issue 17: class evaluations (the worker attended the district's class) and a needs survey of the district
    "surveys.evaluate": (lambda d: {"training_id": d["training"]}, "worker"),
    "surveys.change_evaluation": (lambda d: {"training_id": d["training"]}, "worker"),
    "surveys.respond": (lambda d: {"survey_id": d["survey"]}, "worker"),
    "surveys.class_results": (lambda d: {"training_id": d["training"]}, "office"),
    "surveys.class_export": (lambda d: {"training_id": d["training"]}, "office"),
    "surveys.results": (lambda d: {"survey_id": d["survey"]}, "office"),
    "surveys.export": (lambda d: {"survey_id": d["survey"]}, "office"),
}
BEARER = {"api.worker", "api.training"}  # the API authenticates by token, not by the session


def _id_rules(app):
    return [r for r in app.url_map.iter_rules() if any(isinstance(c, IntegerConverter) for c in r._converters.values())]


def test_every_route_with_an_id_is_walked_or_explained(app):
    endpoints = {r.endpoint for r in _id_rules(app)}
    missing = endpoints - set(WALK) - set(NOT_DISTRICT_RECORDS)
    assert not missing, f"routes with an id that the cross-district walk does not cover: {sorted(missing)}"
    assert not (set(WALK) | set(NOT_DISTRICT_RECORDS)) - endpoints, "the walk names routes that no longer exist"


def _unit(code):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _district(code, street, worker_name, office_name, exam, small, course):
    """One district's records of every kind; returns their ids."""
    unit, worker, office = _unit(code), _user(worker_name), _user(office_name)
    now = utcnow()
    training = make_training(organiser=code, sessions=((-30, 120),))
    db.session.add(Registration(training_id=training.id, user_id=worker.id, status="registered"))
    db.session.add(Attendance(session_id=training.sessions[0].id, user_id=worker.id, status="present", method="roster"))
    survey = Survey(title=f"{code} 培训需求调研", org_unit=unit, deadline=now + timedelta(days=7),
                    created_by_id=office.id,
                    questions=[SurveyQuestion(position=1, kind="text", text="您的建议？", required=False)])
    db.session.add(survey)
    day = MockExamDay(title=f"{code} 模拟考", exam=small, org_unit=unit, opens_at=now - timedelta(hours=1),
                      closes_at=now + timedelta(hours=3), created_by_id=office.id)
    db.session.add(day)
    submitted = attempts.start(worker, exam)
    essay = next(k for k, i in submitted.paper["items"].items() if i["type"] == "essay")
    attempts.save(submitted, essay, "需求分析：独居老人的照护与社会支持……", 1)
    attempts.finish(submitted)
    answer = db.session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == submitted.id,
                                                              AttemptAnswer.item == essay))
    open_attempt = attempts.start(worker, small)
    marker = User(
        username=f"marker_{code.lower()}",
        name=f"{code}阅卷人",
        org_unit=unit,
        password_hash=generate_password_hash(PASSWORD),
        cert_level="none",
    )
    marker.role_rows = [UserRole(role="trainer")]
    db.session.add(marker)
    db.session.flush()
    assignment = MarkingAssignment(exam_id=exam.id, org_unit_id=unit.id, trainer_id=marker.id, assigned_by_id=office.id)
    trainer_record = Trainer(
        name=f"{code}讲师", kind="practitioner", affiliation=f"{code}社工站", org_unit=_unit(street), active=True
    )
    base = TrainingBase(name=f"{code}基地", kind="other", org_unit=_unit(street), active=True)
    enrollment = Enrollment(user_id=worker.id, course_id=course.id, completed_at=now - timedelta(days=1))
    token = ApiToken(user_id=office.id, name="walk", token_hash=hash_token(new_token_value()), hint="walk")
    real_result = RealExamResult(user_id=worker.id, subject_id=db.session.scalar(select(ExamSubject.id).limit(1)),
                                 exam_year=2025, score=Decimal("65"), passed=True, entered_by_id=worker.id,
                                 status="pending")
    allowance_policy = AllowancePolicy(org_unit_id=unit.id, effective_from=date(2026, 1, 1))
    db.session.add_all([assignment, trainer_record, base, enrollment, token, real_result, allowance_policy])
    db.session.flush()
    certificates.issue(enrollment)
    question = ask_rules.ask(worker, title=f"{code} 的提问", body="入户走访遇到的问题", topic="", anonymous=False)
    return {"unit": unit.id, "worker": worker.id, "training": training.id, "session": training.sessions[0].id,
            "day": day.id, "submitted": submitted.id, "answer": answer, "open": open_attempt.id,
            "assignment": assignment.id, "trainer_record": trainer_record.id, "base": base.id,
            "enrollment": enrollment.id, "token": token.id, "real_result": real_result.id, "survey": survey.id,
            "worker_name": worker.name, "allowance_policy": allowance_policy.id,
            "question": question.id}


@pytest.fixture
def districts(app, tx, clock):
    with app.app_context():
        make_bank()
        make_case_bank()
        exam = db.session.scalar(select(Exam).where(Exam.code == "mid-practice"))
        small = small_exam()
        course = make_course(lessons=1)
        out = {"own": _district("D1", "S12", "worker_c", "office_d1", exam, small, course),
               "other": _district("D2", "S21", "worker_d", "office_d2", exam, small, course)}
        db.session.commit()
    return out


def _api_token(app, username):
    value = new_token_value()
    with app.app_context():
        db.session.add(ApiToken(user_id=_user(username).id, name="walker", token_hash=hash_token(value),
                                hint=value[:8]))
        db.session.commit()
    return value


def _client(app, username):
    c = app.test_client()
    login(c, username, PASSWORD)
    return c


def _request(client, method, url, token, bearer=None):
    if bearer:
        return client.get(url, headers={"Authorization": f"Bearer {bearer}"})
    if method == "GET":
        return client.get(url)
    headers = {"X-CSRFToken": token}
    if url.endswith("/answers"):
        return client.post(url, json={"answers": [{"item": "1", "response": "A", "seq": 1}]}, headers=headers)
    return client.post(url, data={"csrf_token": token}, headers=headers)


def _walk(app, ids, username, who, bearer):
    """(endpoint, method, url, status) for every walked route, acting as `username`."""
    client = _client(app, username)
    token = csrf_token(client, "/auth/password")
    out = []
    for endpoint, entry in WALK.items():
        if entry is None:
            continue
        values, owner = entry
        if who is not None and owner != who:
            continue
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        with app.test_request_context():
            url = url_for(endpoint, **values(ids))
        for method in ("GET", "POST"):
            if method in rule.methods:
                r = _request(client, method, url, token, bearer if endpoint in BEARER else None)
                out.append((endpoint, method, url, r.status_code))
    return out


def test_another_districts_records_answer_404_to_an_office(app, districts):
    bearer = _api_token(app, "office_d1")
    results = _walk(app, districts["other"], "office_d1", None, bearer)
    wrong = [r for r in results if r[3] != 404]
    assert not wrong, f"answered other than 404: {wrong}"
    assert len(results) >= 50
    # The same id walk as a street office of the other district's sibling: still nothing of D2.
    results = _walk(app, districts["other"], "office_s11", None, _api_token(app, "office_s11"))
    assert all(r[3] == 404 for r in results), [r for r in results if r[3] != 404]


def test_the_same_urls_of_its_own_district_answer(app, districts):
    own = districts["own"]
    results = _walk(app, own, "worker_c", "worker", None)  # first: the office resets the worker's password
    results += _walk(app, own, "office_d1", "office", _api_token(app, "office_d1"))
    wrong = [r for r in results if r[3] not in (200, 302)]
    assert not wrong, f"its own district's records refused: {wrong}"
    # The destructive POSTs really acted: nothing of the other district was touched by the 404 walk.
    with app.app_context():
        assert db.session.get(MarkingAssignment, own["assignment"]) is None
        assert db.session.get(MarkingAssignment, districts["other"]["assignment"]) is not None
        assert db.session.get(RealExamResult, own["real_result"]).status == "verified"
        assert db.session.get(RealExamResult, districts["other"]["real_result"]).status == "pending"


def test_pool_records_are_read_city_wide_but_changed_only_at_home(app, districts):
    client = _client(app, "office_d1")
    other, own = districts["other"], districts["own"]
    for kind, key in (("trainers", "trainer_record"), ("bases", "base")):
        assert client.get(f"/library/{kind}/{other[key]}").status_code == 200
        page = client.get(f"/library/{kind}/{other[key]}").get_data(as_text=True)
        assert f"/library/{kind}/{other[key]}/edit" not in page
        assert client.get(f"/library/{kind}/{other[key]}/edit").status_code == 404
        assert client.get(f"/library/{kind}/{own[key]}/edit").status_code == 200


def test_admin_only_routes_refuse_every_office(app, districts):
    client = _client(app, "office_d1")
    token = csrf_token(client, "/auth/password")
    for ids in (districts["own"], districts["other"]):
        assert client.get(f"/orgs/{ids['unit']}/edit").status_code == 403
        assert client.post(f"/orgs/{ids['unit']}/delete", data={"csrf_token": token}).status_code == 403


def test_exports_without_an_id_hold_nothing_of_another_district(app, districts):
    d2 = _client(app, "office_d2")  # an audited change in D2
    r = d2.post(f"/accounts/{districts['other']['worker']}/require-password-change",
                data={"csrf_token": csrf_token(d2, "/auth/password")})
    assert r.status_code == 302
    assert "西区培训办" in _client(app, "office_c").get("/audit/export.csv").get_data(as_text=True)
    client = _client(app, "office_d1")
    assert "西区培训办" not in client.get("/audit/export.csv").get_data(as_text=True)
    other_name = districts["other"]["worker_name"]
    for url in ("/accounts/export.csv", f"/stats/unit/{districts['own']['unit']}/export/workers.csv",
                "/library/trainers/export.xlsx", "/audit/export.csv"):
        r = client.get(url)
        assert r.status_code == 200, url
        if url.endswith(".csv"):
            assert other_name not in r.get_data(as_text=True), url
