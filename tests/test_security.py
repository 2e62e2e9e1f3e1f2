"""Security baseline (issue 7): login throttling and lockout kept in the database, log out
everywhere, forced password change, security headers and cookies, request logs, /healthz, and a
walk over every GET route as every role proving that no GET changes the database."""
import hashlib
import io
import json
import logging
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, event, func, inspect, select, text

from lms import create_app
from lms.auth.models import LoginThrottle, User
from lms.database import utcnow
from lms.extensions import db

from .conftest import PASSWORD, csrf_token, login, post_form
from .pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent
WRONG = "Wrong username or password."


def english(client):
    client.get("/auth/lang/en")
    return client


def attempt(client, username, password="Wrong-pass1"):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": token})


def flashed(response) -> str:
    return " ".join(re.findall(r'role="alert">([^<]*)<', response.get_data(as_text=True)))


def age(app, seconds):
    """Let `seconds` pass for the throttle: move every failure and lock back in time."""
    shift = timedelta(seconds=seconds)
    with app.app_context():
        for row in db.session.scalars(select(LoginThrottle)):
            row.window_start = row.window_start and row.window_start - shift
            row.last_failure_at = row.last_failure_at and row.last_failure_at - shift
            row.locked_until = row.locked_until and row.locked_until - shift
        db.session.commit()


def throttle_row(app, *, user=None, address=None):
    with app.app_context():
        if user is not None:
            uid = db.session.scalar(select(User.id).where(User.username == user))
            row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.user_id == uid))
        else:
            row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.address == address))
        return None if row is None else {"failures": row.failures, "locked_until": row.locked_until}


def lock_account(app, username, minutes=15):
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == username))
        now = utcnow()
        db.session.add(LoginThrottle(user_id=uid, failures=10, window_start=now, last_failure_at=now,
                                     locked_until=now + timedelta(minutes=minutes)))
        db.session.commit()
        return uid


# --- throttling and lockout ------------------------------------------------------------------------------

def test_an_account_is_slowed_then_locked_then_free_again(app, client, clock):
    english(client)
    for _i in range(5):
        r = attempt(client, "worker_a")
        assert r.status_code == 200 and flashed(r) == WRONG
    # Five failures: the next attempt must wait a second, even with the right password.
    r = attempt(client, "worker_a", PASSWORD)
    assert r.status_code == 429 and "Try again in 1 s" in flashed(r)
    assert throttle_row(app, user="worker_a")["failures"] == 5  # a refused attempt is not counted
    for n in range(6, 10):
        age(app, 60)
        r = attempt(client, "worker_a")
        assert r.status_code == 200 and flashed(r) == WRONG, n
    age(app, 60)
    r = attempt(client, "worker_a")  # the tenth failure in a row locks the account
    assert "this account is locked until" in flashed(r)
    assert throttle_row(app, user="worker_a")["locked_until"] is not None
    age(app, 60)
    r = attempt(client, "worker_a", PASSWORD)
    assert r.status_code == 429 and "locked until" in flashed(r) and "min from now" in flashed(r)
    assert client.get("/home").status_code == 302
    age(app, 15 * 60)
    r = attempt(client, "worker_a", PASSWORD)
    assert r.status_code == 302 and client.get("/home").status_code == 200
    assert throttle_row(app, user="worker_a") is None  # a success starts afresh


def test_the_lock_message_says_when_in_beijing_time(app, client):
    english(client)
    until = (utcnow() + timedelta(hours=2)).replace(second=10, microsecond=0)
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "worker_b"))
        db.session.add(LoginThrottle(user_id=uid, failures=10, last_failure_at=utcnow(), locked_until=until))
        db.session.commit()
    r = attempt(client, "worker_b", PASSWORD)
    assert r.status_code == 429
    # UTC+8, and rounded up: at hh:mm:10 the lock has not ended at hh:mm.
    beijing = until + timedelta(hours=8, seconds=50)
    assert f"locked until {beijing:%H:%M} (" in flashed(r)


def test_a_lock_holds_on_every_app_server(app, client):
    """The counters live in the database: a second app (another host) sees the same lock."""
    other_host = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                             "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]})
    lock_account(app, "worker_c")
    c = english(other_host.test_client())
    r = attempt(c, "worker_c", PASSWORD)
    assert r.status_code == 429 and "locked until" in flashed(r)


def test_unknown_usernames_count_against_the_address_only(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LOCK_AFTER", 6)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_DELAY_AFTER", 100)
    english(client)
    r = attempt(client, "worker_a")  # a real account, wrong password
    wrong_password = flashed(r)
    for _i in range(4):
        r = attempt(client, "no-such-user")
        assert r.status_code == 200 and flashed(r) == wrong_password  # the same answer
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginThrottle)
                                 .where(LoginThrottle.user_id.is_not(None))) == 1  # worker_a's only
    assert throttle_row(app, address="127.0.0.1")["failures"] == 5
    r = attempt(client, "no-such-user")  # the sixth failure from this address locks it
    assert "from your network" in flashed(r)
    r = attempt(client, "worker_b", PASSWORD)  # nobody logs in from a locked address
    assert r.status_code == 429 and "from your network" in flashed(r)
    elsewhere = english(app.test_client())
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert attempt(elsewhere, "worker_b", PASSWORD).status_code == 302
    age(app, 15 * 60)
    assert attempt(client, "worker_b", PASSWORD).status_code == 302


def test_ipv6_clients_count_by_their_64_network(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LOCK_AFTER", 2)
    english(client)
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::10"
    attempt(client, "no-such-user")
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::99"  # same /64, another address
    attempt(client, "no-such-user")
    assert throttle_row(app, address="2001:db8:1:2::/64")["locked_until"] is not None
    assert attempt(client, "worker_a", PASSWORD).status_code == 429


def test_a_success_resets_the_account_but_not_the_address(app, client):
    for _i in range(4):
        attempt(client, "worker_a")
    assert login(client, "worker_a").status_code == 302
    assert throttle_row(app, user="worker_a") is None
    assert throttle_row(app, address="127.0.0.1")["failures"] == 4


def test_a_burst_of_parallel_guesses_cannot_pass_the_lock(app, world, monkeypatch):
    """Real concurrent requests (no rolled-back test transaction): at most LOCK_AFTER are checked."""
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_DELAY_AFTER", 100)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LOCK_AFTER", 1000)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_DELAY_AFTER", 1000)
    clients = []
    for i in range(16):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"10.9.0.{i + 1}"
        clients.append((c, csrf_token(c, "/auth/login")))
    barrier = threading.Barrier(len(clients))
    codes, errors = [], []

    def guess(c, token):
        try:
            barrier.wait()
            r = c.post("/auth/login", data={"username": "worker_d", "password": "Wrong-pass1", "csrf_token": token})
            codes.append(r.status_code)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=pair) for pair in clients]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert codes.count(200) == 10 and codes.count(429) == 6, codes
    finally:
        with app.app_context():
            db.session.execute(delete(LoginThrottle))
            db.session.commit()


def test_an_administrator_sees_and_lifts_the_lock(app, client, world):
    uid = lock_account(app, "worker_a")
    english(client)
    login(client, "admin")
    page = client.get(f"/accounts/{uid}").get_data(as_text=True)
    assert 'id="login-lock"' in page and "Login locked until" in page and 'id="unlock"' in page
    r = post_form(client, f"/accounts/{uid}/unlock", page=f"/accounts/{uid}")
    assert r.status_code == 302
    assert "has been lifted" in client.get(r.location).get_data(as_text=True)
    assert throttle_row(app, user="worker_a") is None
    assert 'id="login-lock"' not in client.get(f"/accounts/{uid}").get_data(as_text=True)
    assert login(app.test_client(), "worker_a").status_code == 302


def test_only_those_who_manage_the_account_lift_its_lock(app, world):
    uid = lock_account(app, "worker_a")
    outsider, learner, street = app.test_client(), app.test_client(), app.test_client()
    login(outsider, "office_d2")  # another district
    assert post_form(outsider, f"/accounts/{uid}/unlock", page="/home").status_code == 404
    login(learner, "worker_b")
    assert post_form(learner, f"/accounts/{uid}/unlock", page="/home").status_code == 403
    assert throttle_row(app, user="worker_a") is not None
    login(street, "office_s11")  # the worker's own street office manages the account
    assert post_form(street, f"/accounts/{uid}/unlock", page=f"/accounts/{uid}").status_code == 302
    assert throttle_row(app, user="worker_a") is None


def test_a_password_reset_also_lifts_the_lock(app, client, world):
    uid = lock_account(app, "worker_a")
    login(client, "office_s11")
    post_form(client, f"/accounts/{uid}/reset-password", page=f"/accounts/{uid}")
    assert throttle_row(app, user="worker_a") is None


def test_a_wrong_current_password_counts_like_a_failed_login(app, client, clock):
    english(client)
    login(client, "worker_a")
    for _i in range(5):
        post_form(client, "/auth/password", {"current": "Wrong-pass1", "new": "Better2026", "confirm": "Better2026"})
    assert throttle_row(app, user="worker_a")["failures"] == 5
    r = post_form(client, "/auth/password", {"current": PASSWORD, "new": "Better2026", "confirm": "Better2026"})
    assert r.status_code == 200 and "Try again in" in r.get_data(as_text=True)


def test_login_still_gives_a_new_session(client):
    client.get("/auth/login")
    with client.session_transaction() as s:
        s["planted"] = "by-an-attacker"
    assert login(client, "worker_a").status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s


# --- sessions -----------------------------------------------------------------------------------------------

def test_log_out_everywhere_ends_every_session(app, client, world):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "worker_a")
    login(laptop, "worker_a")
    assert 'id="logout-everywhere"' in laptop.get("/auth/password").get_data(as_text=True)
    r = post_form(laptop, "/auth/logout-everywhere", page="/auth/password")
    assert r.status_code == 302 and r.location.endswith("/auth/login")
    assert laptop.get("/home").status_code == 302
    assert phone.get("/home").status_code == 302
    assert login(phone, "worker_a").status_code == 302 and phone.get("/home").status_code == 200


def test_log_out_everywhere_is_post_only(app, client):
    login(client, "worker_a")
    assert client.get("/auth/logout-everywhere").status_code == 405


def test_an_administrator_forces_a_password_change(app, client, world):
    worker = app.test_client()
    login(worker, "worker_a")
    login(client, "admin")
    uid = world["worker_a"]
    r = post_form(client, f"/accounts/{uid}/require-password-change", page=f"/accounts/{uid}")
    assert r.status_code == 302
    assert worker.get("/home").status_code == 302  # logged out everywhere
    with app.app_context():
        assert db.session.get(User, uid).must_change_password
    assert login(worker, "worker_a").status_code == 302  # the current password still works once…
    r = worker.get("/home")
    assert r.status_code == 302 and r.location.endswith("/auth/password")  # …to choose a new one
    learner = app.test_client()
    login(learner, "worker_b")
    assert post_form(learner, f"/accounts/{uid}/require-password-change", page="/home").status_code == 403


# --- headers, cookies, logs, health -----------------------------------------------------------------------

def assert_security_headers(response, where=""):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src") or directives.get("default-src", "")
    assert script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (where, csp)
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", (where, csp)
    objects = directives.get("object-src") or directives.get("default-src", "")
    assert objects.endswith(" 'none'"), (where, csp)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in (
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    ), where


def test_every_kind_of_response_carries_the_security_headers(app, client):
    responses = {
        "login page": client.get("/auth/login"),
        "redirect": client.get("/"),
        "not found": client.get("/no/such/page"),
        "static file": client.get("/static/css/site.css"),
        "json": client.get("/healthz"),
        "refused post": client.post("/auth/login", data={}),
        "wrong method": client.get("/auth/logout"),
    }
    login(client, "admin")
    responses["page"] = client.get("/home")
    responses["export"] = client.get("/accounts/export.csv")
    for where, r in responses.items():
        assert_security_headers(r, where)


def _env_file() -> dict:
    values = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _sep, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_the_production_config_sets_secure_cookies(app, tx, monkeypatch, tmp_path):
    env = _env_file()
    assert env["LMS_ENV"] == "production"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    from lms.config import from_env

    config = from_env()
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert config["REMEMBER_COOKIE_SECURE"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["REQUEST_LOG"] and config["TRUSTED_PROXIES"] >= 1
    prod = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True})
    c = prod.test_client()
    token = csrf_token(c, "https://localhost/auth/login")
    r = c.post("https://localhost/auth/login", data={"username": "worker_a", "password": PASSWORD, "csrf_token": token},
               headers={"Referer": "https://localhost/auth/login"})  # over HTTPS Flask-WTF checks the referrer
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    from lms.config import from_env

    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        from_env()


def test_settings_that_allow_more_than_100_failures_an_hour_are_refused(monkeypatch):
    from lms.config import from_env

    monkeypatch.setenv("LOGIN_ACCOUNT_LOCK_AFTER", "30")
    monkeypatch.setenv("LOGIN_ACCOUNT_LOCK_MINUTES", "10")
    with pytest.raises(ValueError, match="ASVS"):
        from_env()


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_request_logs_are_json_lines_without_secrets(app, tx):
    logged = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                         "REQUEST_LOG": True, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]})
    handler = _Lines()
    logger = logging.getLogger("lms.request")
    logger.addHandler(handler)
    try:
        c = logged.test_client()
        token = csrf_token(c)
        c.post("/auth/login?next=/home&token=s3cr3t-query", data={"username": "worker_a", "password": PASSWORD,
                                                                  "csrf_token": token})
        c.get("/home")
        c.get("/files/0123456789abcdef0123456789abcdef")
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(line) for line in handler.lines]
    assert len(entries) == 4
    for e in entries:
        assert set(e) >= {"time", "method", "path", "status", "duration_ms", "user_id"}
        assert e["time"].endswith("Z") and e["duration_ms"] >= 0
    post, home, files = entries[1], entries[2], entries[3]
    with logged.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "worker_a"))
    assert (post["method"], post["path"], post["status"]) == ("POST", "/auth/login", 302)
    assert home["user_id"] == uid and home["status"] == 200
    assert files["path"] == "/files/***"
    text_ = "\n".join(handler.lines)
    for secret in (PASSWORD, "s3cr3t-query", token, "0123456789abcdef0123456789abcdef"):
        assert secret not in text_


def test_healthz_answers_200_with_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["database"] == "ok"


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-folder/lms.sqlite3",
    "postgresql+psycopg://lms@127.0.0.1:{port}/lms?connect_timeout=2",
])
def test_healthz_answers_503_when_the_database_is_unreachable(url):
    down = create_app({"SQLALCHEMY_DATABASE_URI": url.format(port=free_port()), "TESTING": True})
    r = down.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json() == {"status": "error", "database": "unavailable"}
    assert_security_headers(r, "healthz 503")
    with down.app_context():
        db.engine.dispose()


# --- no GET changes the database -----------------------------------------------------------------------------

ROLES = {"admin": "admin", "office": "office_d1", "trainer": "trainer", "learner": "worker_a", "anonymous": None}
INT_ARG_TABLES = {"user_id": "user", "unit_id": "org_unit", "course_id": "course", "lesson_id": "lesson",
                  "enrollment_id": "enrollment", "question_id": "question", "attempt_id": "attempt",
                  "day_id": "mock_exam_day", "answer_id": "attempt_answer", "exam_id": "exam",
                  "training_id": "training", "session_id": "training_session", "upload_id": "upload"}
# GET routes known to write, reported and to be fixed by their owners: endpoint → why.
KNOWN_GET_WRITES: dict[str, str] = {}


def _populate(world) -> dict[str, set]:
    """The demo city, plus rows in the test world's scope, inside the test's rolled-back transaction."""
    from werkzeug.datastructures import FileStorage

    from lms.demo import seed_demo
    from lms.exams.models import Exam, MockExamDay
    from lms.uploads.storage import save_upload

    from .test_training import make_training

    seed_demo(workers=30)
    extra: dict[str, set] = {}
    training = make_training("D1")
    extra["training"] = {training.id}
    extra["training_session"] = {s.id for s in training.sessions}
    exam = db.session.scalars(select(Exam).order_by(Exam.id)).first()
    now = utcnow()
    day = MockExamDay(
        title="东区模拟考试日",
        exam_id=exam.id,
        org_unit_id=world["D1"],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        stagger_minutes=0,
    )
    db.session.add(day)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    upload = save_upload(FileStorage(io.BytesIO(png), "photo.png"), ("image",), db.session.get(User, world["trainer"]))
    db.session.commit()
    extra["mock_exam_day"] = {day.id}
    extra["upload_tokens"] = {upload.token}
    return extra


def _ids(table: str, extra: dict) -> list:
    t = db.metadata.tables.get(table)
    if t is None:
        return [1]
    lo, hi = db.session.execute(select(func.min(t.c.id), func.max(t.c.id))).one()
    return sorted({i for i in (lo, hi) if i is not None} | extra.get(table, set())) or [1]


def _string_values(name: str, extra: dict) -> list[str]:
    from lms.exams.models import TYPES
    from lms.learning.models import Certificate

    if name == "code":
        return ["en", db.session.scalars(select(Certificate.code)).first() or "NOSUCHCODE"]
    if name == "fmt":
        return ["csv", "xlsx"]
    if name == "qtype":
        return sorted(TYPES)[:2]
    if name == "direction":
        return ["up"]
    if name == "filename":
        return ["css/site.css"]
    if name == "token":
        return sorted(extra["upload_tokens"])
    return ["x"]


def _urls(app, viewer_id, extra) -> list[tuple[str, str]]:
    from lms.library.pools import POOLS

    urls = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = sorted(rule.arguments)
        choices = [{}]
        for name in args:
            if name == "item_id" and "kind" in args:
                continue  # chosen with its pool below
            if name == "kind":
                if "item_id" in args:
                    values = [{"kind": k, "item_id": i} for k, p in POOLS.items()
                              for i in _ids(p.model.__tablename__, extra)]
                else:
                    values = [{"kind": k} for k in POOLS]
            elif rule._converters.get(name).__class__.__name__ == "IntegerConverter":
                table = INT_ARG_TABLES.get(name) or name.removesuffix("_id")
                ids = _ids(table, extra)
                if name == "user_id" and viewer_id:
                    ids = sorted(set(ids) | {viewer_id})
                values = [{name: i} for i in ids]
            else:
                values = [{name: v} for v in _string_values(name, extra)]
            choices = [{**c, **v} for c in choices for v in values]
        for values in choices:
            found.append((rule.endpoint, urls.build(rule.endpoint, values)))
    return found


def _snapshot() -> dict[str, tuple[int, str]]:
    """Row count and checksum of every table."""
    out = {}
    conn = db.session.connection()
    for name in sorted(inspect(conn).get_table_names()):
        rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
        digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
        out[name] = (len(rows), digest)
    return out


def test_no_get_route_changes_the_database_for_any_role(app, client, world):
    with app.app_context():
        extra = _populate(world)
    clients = {}
    for role, username in ROLES.items():
        clients[role] = c = app.test_client()
        if username:
            assert login(c, username).status_code == 302, username
    with app.app_context():
        engine = db.engine
    writes, crashes, visited = [], [], 0
    current = {}

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb in ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE"):
            writes.append((current.get("role"), current.get("endpoint"), current.get("url"),
                           " ".join(statement.split())[:120]))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        attempt(app.test_client(), "no-such-user")  # the detector sees a write when there is one
        assert any(w[3].startswith("INSERT INTO login_throttle") for w in writes), writes
        writes.clear()
        with app.app_context():
            before = _snapshot()
        for role, username in ROLES.items():
            c = clients[role]
            with app.app_context():
                targets = _urls(app, world[username] if username else None, extra)
            for endpoint, url in targets:
                current.update(role=role, endpoint=endpoint, url=url)
                try:
                    r = c.get(url)
                except Exception as exc:  # noqa: BLE001 — every crash is reported below
                    crashes.append((role, url, repr(exc)[:300]))
                    continue
                visited += 1
                if r.status_code >= 500:
                    crashes.append((role, url, r.status_code))
                assert_security_headers(r, f"{role} {url}")
            if username:
                assert c.get("/home").status_code == 200, f"{role} was logged out by a GET"
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    with app.app_context():
        after = _snapshot()
    assert visited > 200, visited
    assert not crashes, crashes
    assert [w for w in writes if w[1] not in KNOWN_GET_WRITES] == []
    changed = {t: (before[t], after.get(t)) for t in set(before) | set(after) if before.get(t) != after.get(t)}
    if not KNOWN_GET_WRITES:
        assert changed == {}


def test_every_environment_variable_is_documented():
    """docs/CONFIGURATION.md lists every variable lms/config.py and deploy/gunicorn.conf.py read."""
    pattern = re.compile(r'(?:environ\.get|environ\[|_bool|_int)\(?\s*"([A-Z][A-Z0-9_]+)"')
    used = set()
    for source in ("lms/config.py", "deploy/gunicorn.conf.py"):
        used |= set(pattern.findall((ROOT / source).read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "LOGIN_ACCOUNT_LOCK_AFTER", "GUNICORN_WORKERS"} <= used
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "docs" / "CONFIGURATION.md").read_text(), re.M))
    assert used - documented == set(), "add these to docs/CONFIGURATION.md"
    example = set(_env_file())
    assert example - documented == set(), "deploy/env.example sets variables docs/CONFIGURATION.md does not list"
