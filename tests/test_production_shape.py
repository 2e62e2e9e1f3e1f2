"""The production shape for real (issue 15, point 5): nginx configured from deploy/nginx, two app instances
(gunicorn, production settings), one PostgreSQL, Redis; bench/shape.py starts them on free ports.

- a session made on one instance is valid on the other (one SECRET_KEY, signed cookies);
- failed logins are counted across both instances (the counters are rows in the database);
- one instance killed with SIGKILL (master and workers at once): requests through nginx still succeed;
- a short exam through nginx, one instance killed while candidates save: every acknowledged answer is
  stored, every attempt graded once, and no client saw an error (nginx passed the requests that failed on
  the killed instance on to the other: saves and submits are idempotent, see deploy/nginx);
- two queue workers (one per host) on the shape's Redis, each sweeping every PERIODIC_SECONDS: an attempt
  past its deadline is graded once (their logged passes add up to one, its mistake counted once), and the
  nightly backup both find due is one job (its unique key).

PostgreSQL only (the shape's database); skipped like the suite's PostgreSQL runs when the binaries, nginx or
redis-server are missing, and failed instead under LMS_REQUIRE_POSTGRES=1 (CI).
"""
import json
import os
import re
import shutil
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from lms import create_app
from lms.auth.models import User
from lms.exams import attempts
from lms.exams.models import Attempt, AttemptAnswer, Exam, Mistake
from lms.extensions import db
from lms.tasks.models import Job

from . import world as world_module
from .test_mock_exams import make_bank, small_exam

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from common import Session  # noqa: E402
from shape import NGINX, REDIS, Shape, render_site  # noqa: E402

PASSWORD = world_module.PASSWORD
CANDIDATES = ["worker_a", "worker_b", "worker_c", "worker_d", "trainer"]
CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="module")
def shape(pg_server, tmp_path_factory):
    missing = [p for p in (NGINX, REDIS) if not (os.path.exists(p) or shutil.which(p))]
    if missing:
        if os.environ.get("LMS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"missing {missing} (apt-get install nginx redis-server)")
        pytest.skip(f"missing {missing}")
    url = pg_server.create_database("lms_shape")
    # The schema and the test world, written by an app of this process (the instances only serve).
    setup = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    from flask_migrate import upgrade

    ids = dict(world_module.IDS)   # build() records its ids there: keep the suite's
    with setup.app_context():
        upgrade()
        world_module.build()
        make_bank()
        exam_id = small_exam(minutes=30).id
        db.session.commit()
    world_module.IDS.clear()
    world_module.IDS.update(ids)
    backups = tmp_path_factory.mktemp("backups")
    env = {"LOGIN_ACCOUNT_DELAY_AFTER": "4", "LOGIN_ACCOUNT_LOCK_AFTER": "4",   # lock at the 4th failure
           # the queue workers sweep every 2 s; the backup is due from midnight on: both find it due at once
           "SWEEP_MINUTES": "1", "PERIODIC_SECONDS": "2", "BACKUP_FOLDER": str(backups), "BACKUP_AT": "00:00"}
    # one gunicorn worker (4 threads) per instance: two instances are the point, and each worker's start
    # (importing the app) is most of the test's time on a busy 2-core machine
    s = Shape(tmp_path_factory.mktemp("shape"), url=url, workers=1, threads=4, env=env, queue_workers=2)
    s.start(migrate=False)
    s.exam_id = exam_id
    s.backups = backups
    s.setup = setup
    yield s
    s.stop()
    with setup.app_context():
        db.engine.dispose()


def ensure_running(shape) -> None:
    for app in shape.apps:
        if not app.alive:
            app.start()


def test_the_rendered_site_is_the_shipped_one_with_two_upstreams(shape):
    site = render_site([1, 2], 3, Path("/r"), Path("/l"))
    assert "server 127.0.0.1:1 max_fails=2 fail_timeout=10s;" in site
    assert "server 127.0.0.1:2 max_fails=2 fail_timeout=10s;" in site
    assert "listen 127.0.0.1:3;" in site and "ssl_certificate" not in site and "return 301" not in site
    assert "proxy_next_upstream error timeout non_idempotent;" in site
    assert "location ~ ^/mock/((exams|days)/[0-9]+/start|attempts/[0-9]+/(answers|submit))$ {" in site
    # the static files come from nginx, not from the app
    s = Session(shape.port)
    status, body = s.request("GET", "/static/manifest.webmanifest")
    assert status == 200 and s.headers["Content-Type"] == "application/manifest+json"
    assert s.headers.get("Server") == "nginx"


def test_a_session_made_on_one_instance_is_valid_on_the_other(shape):
    ensure_running(shape)
    a, b = shape.apps
    s = Session(a.port)
    s.login("worker_a", PASSWORD)
    status, home = s.request("GET", "/home")
    assert status == 200 and "东一一甲".encode() in home
    s2 = Session(b.port)    # the same cookies, sent to the other instance directly
    s2.cookies = dict(s.cookies)
    status, page = s2.request("GET", "/home")
    assert status == 200 and "东一一甲".encode() in page
    # and a form (its CSRF token from instance B's page) posted to instance A logs out there
    token = CSRF_META.search(page).group(1).decode()
    s3 = Session(a.port)
    s3.cookies = dict(s.cookies)
    status, _ = s3.request("POST", "/auth/logout", {"csrf_token": token})
    assert status == 302
    status, _ = s3.request("GET", "/home")
    assert status == 302 and "/auth/login" in s3.headers["Location"]


def test_failed_logins_are_counted_across_both_instances(shape):
    ensure_running(shape)
    a, b = shape.apps
    who = {"X-Forwarded-For": "198.51.100.77"}   # nginx's header (TRUSTED_PROXIES=1): one client address
    for port in (a.port, b.port, a.port):
        Session(port).login("office_s11", "wrong password", headers=who, expect=200)
    # the fourth failure, on B, locks the account: 2 + 2 across the instances, never 2 on either alone
    Session(b.port).login("office_s11", "wrong password", headers=who, expect=200)
    for port in (a.port, b.port, shape.port):
        assert Session(port).login("office_s11", PASSWORD, headers=who, expect=429) == 429


def test_one_instance_killed_requests_through_nginx_still_succeed(shape):
    ensure_running(shape)
    s = Session(shape.port)
    s.login("worker_b", PASSWORD)
    shape.apps[1].kill()
    statuses = [s.request("GET", "/home")[0] for _i in range(10)]
    statuses += [Session(shape.port).request("GET", "/healthz")[0] for _i in range(10)]
    assert statuses == [200] * 20


def test_a_short_exam_through_nginx_with_an_instance_killed_loses_nothing(shape):
    ensure_running(shape)
    with shape.setup.app_context():
        db.session.execute(delete(Mistake))
        db.session.commit()
    errors: list[str] = []
    acked: dict[int, dict[str, tuple[int, str | bool]]] = {}
    sent: dict[int, dict[tuple[str, int], str | bool]] = {}
    scores: dict[int, list[str]] = {}
    progress, logged_in = threading.Semaphore(0), threading.Semaphore(0)
    lock = threading.Lock()

    def candidate(username: str, go: threading.Event) -> None:
        try:
            take_exam(username, go)
        except Exception as exc:  # a failed step is an error of the run, never a silent thread
            with lock:
                errors.append(f"{username}: {type(exc).__name__}: {exc}")

    def take_exam(username: str, go: threading.Event) -> None:
        s = Session(shape.port)
        s.login(username, PASSWORD)
        logged_in.release()
        go.wait(30)
        _status, page = s.request("GET", "/mock/")
        token = CSRF_META.search(page).group(1).decode()
        status, _ = s.request("POST", f"/mock/exams/{shape.exam_id}/start", {"csrf_token": token})
        assert status == 302, status
        aid = int(s.headers["Location"].rsplit("/", 1)[1])
        with shape.setup.app_context():
            items = db.session.get(Attempt, aid).paper["items"]
        acked[aid], sent[aid] = {}, {}
        headers = {"X-CSRFToken": token, "Accept": "application/json"}
        seq = 0
        for n, (key, item) in enumerate(sorted(items.items(), key=lambda kv: int(kv[0]))):
            for _change in range(2):    # an answer, then a changed one: two saves of each item
                seq += 1
                letters = [o["key"] for o in item["options"]]
                response = letters[(n + seq) % len(letters)] if item["type"] == "single" else "".join(letters[:2])
                sent[aid][(key, seq)] = response
                for _try in range(20):   # exam.js: resend until acknowledged
                    try:
                        status, body = s.request("POST", f"/mock/attempts/{aid}/answers", headers=headers,
                                                 json_body={"answers": [{"item": key, "response": response,
                                                                         "seq": seq}]})
                    except OSError as exc:
                        status, body = 0, str(exc).encode()
                        s.conn.close()
                    if status == 200 and json.loads(body)["saved"].get(key) == seq:
                        acked[aid][key] = (seq, response)
                        break
                    with lock:
                        errors.append(f"{username} save {key}: {status} {body[:100]!r}")
                    time.sleep(0.2)
                progress.release()
        for _twice in range(2):       # a double click: the second submit grades nothing
            status, body = s.request("POST", f"/mock/attempts/{aid}/submit", {"csrf_token": token}, headers=headers)
            if status != 200:
                with lock:
                    errors.append(f"{username} submit: {status}")
                continue
            scores.setdefault(aid, []).append(json.loads(body)["score"])

    go = threading.Event()
    threads = [threading.Thread(target=candidate, args=(u, go)) for u in CANDIDATES]
    for t in threads:
        t.start()
    for _i in CANDIDATES:             # logins are not passed on to another server: killed later
        assert logged_in.acquire(timeout=60)
    go.set()
    saves = len(CANDIDATES) * 8 * 2
    for _i in range(saves // 3):      # a third of the saves acknowledged (some starts may still be on their
        assert progress.acquire(timeout=60)   # way): instance B goes
        assert progress.acquire(timeout=60)
    shape.apps[1].kill()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    assert errors == []                # nginx passed every failed request on to instance A
    assert len(acked) == len(CANDIDATES)
    with shape.setup.app_context():
        for aid, answers in acked.items():
            attempt = db.session.get(Attempt, aid)
            assert attempt.status == "graded"
            assert scores[aid] == [str(attempt.score)] * 2
            stored = {a.item: a for a in db.session.scalars(select(AttemptAnswer).where(
                AttemptAnswer.attempt_id == aid))}
            assert len(answers) == 8
            for item, (seq, response) in answers.items():
                assert stored[item].seq == seq and stored[item].response == response, (aid, item)
        # graded once: no question counted twice in a mistakes book
        assert all(m.wrong_count == 1 for m in db.session.scalars(select(Mistake)))
        db.session.remove()
    assert "upstream" in shape.nginx.errors()    # nginx saw instance B fail (and routed around it)


def wait_for(what: str, condition, seconds: float = 60):
    """Poll the shape (real processes on the real clock) until `condition()` is true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.2)


def test_two_queue_workers_grade_an_expired_attempt_once_and_make_one_nightly_backup(shape):
    assert [w.alive for w in shape.consumers] == [True, True]
    with shape.setup.app_context():
        db.session.execute(delete(Mistake))
        user = db.session.scalar(select(User).where(User.username == "worker_c"))
        exam = db.session.get(Exam, shape.exam_id)
        # an attempt started and left on New Year's morning 2026: long past its deadline for the workers
        attempt = attempts.start(user, exam, now=datetime(2026, 1, 1, 0, 0))
        key, item = next(iter(attempt.paper["items"].items()))
        wrong = next(o["key"] for o in item["options"] if o["key"] not in item["answer"])
        attempts.save(attempt, key, wrong, 1, now=datetime(2026, 1, 1, 0, 5))
        aid, uid = attempt.id, user.id
        db.session.commit()

    def status() -> str:
        with shape.setup.app_context():
            try:
                return db.session.scalar(select(Attempt.status).where(Attempt.id == aid))
            finally:
                db.session.remove()

    wait_for("the expired attempt graded", lambda: status() == "graded")
    done = {w.name: len(w.passes()) for w in shape.consumers}
    # both consumers swept again after it was graded: had either graded it too, its log would say so by now
    wait_for("two more passes of each worker", lambda: all(len(w.passes()) >= done[w.name] + 2
                                                            for w in shape.consumers))
    graded = {w.name: sum(g for _t, g, _a in w.passes()) for w in shape.consumers}
    assert sum(graded.values()) == 1, graded
    with shape.setup.app_context():
        counts = [m.wrong_count for m in db.session.scalars(select(Mistake).where(Mistake.user_id == uid))]
        assert counts and set(counts) == {1}   # each wrong (or unanswered) question counted once: graded once

        # the nightly backup: due at every look of both consumers since they started; one job, one file
        def backup_done() -> bool:
            job = db.session.scalar(select(Job).where(Job.kind == "backup"))
            db.session.rollback()
            return job is not None and job.status == "done"

        wait_for("the backup job done", backup_done)
        jobs = db.session.scalars(select(Job).where(Job.kind == "backup")).all()
        assert len(jobs) == 1 and jobs[0].key.startswith("backup:") and jobs[0].attempts == 1
        assert [p.name for p in shape.backups.iterdir()] == [Path(jobs[0].result_path).name]
        db.session.remove()
    for w in shape.consumers:   # each consumer ran the backup's periodic task (and found the job made, or made it)
        assert "nightly_backup" in w.text(), w.name
