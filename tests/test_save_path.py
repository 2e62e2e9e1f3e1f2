"""The exam save's short path: three statements, the account checked on every save without loading
it whole, and no acknowledged answer lost when saves of one attempt race (both databases)."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from lms.auth.models import User
from lms.database import utcnow
from lms.exams.models import Attempt, AttemptAnswer
from lms.extensions import db

from .conftest import login
from .querycount import count_queries
from .test_mock_exams import default_exam, make_bank, small_exam, start_http, token_of

ITEMS = ["1", "2", "3", "4"]


@pytest.fixture
def exam_id(app, tx):
    with app.app_context():
        make_bank()
        exam_id = small_exam().id
        db.session.commit()
    return exam_id


def save(client, attempt_id, answers, token=None):
    return client.post(f"/mock/attempts/{attempt_id}/answers", json={"answers": answers},
                       headers={"X-CSRFToken": token or token_of(client)})


def stored_answers(app, attempt_id):
    with app.app_context():
        return {a.item: (a.seq, a.response, a.flagged) for a in db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))}


def test_a_save_asks_the_database_three_things(app, client, exam_id):
    """The account (active, the session's nonce), the attempt's row, one upsert: not the account
    with its unit and roles, nor a read of the stored seqs before writing (four before)."""
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    token = token_of(client)
    for batch in ([{"item": "1", "response": "A", "seq": 5}],                        # an insert
                  [{"item": "1", "response": "B", "seq": 6, "flagged": True},        # an update
                   {"item": "2", "response": "C", "seq": 6, "flagged": False}]):     # and an insert (as exam.js)
        with count_queries(app) as statements:
            r = save(client, attempt_id, batch, token)
        assert r.status_code == 200, r.data
        assert len(statements) == 3, statements.report()
        assert "user" in statements[0] and "role" not in statements[0] and "org_unit" not in statements[0]
    # A late save is answered with the newer seq already stored: one more read, only then; a save
    # without "flagged" (an older page) beside one with it: one more upsert, which keeps the stored flag.
    with count_queries(app) as statements:
        r = save(client, attempt_id, [{"item": "1", "response": "D", "seq": 4, "flagged": False},
                                      {"item": "3", "response": "A", "seq": 9}], token)
    assert r.json["saved"] == {"1": 6, "3": 9} and len(statements) == 5, statements.report()
    assert stored_answers(app, attempt_id) == {"1": (6, "B", True), "2": (6, "C", False), "3": (9, "A", False)}


def test_a_save_is_refused_once_the_account_is_deactivated_or_logged_out_everywhere(app, client, exam_id, world):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    token = token_of(client)
    assert save(client, attempt_id, [{"item": "1", "response": "A", "seq": 1}], token).status_code == 200
    for change in ("active", "session_nonce", "must_change_password"):
        with app.app_context():
            user = db.session.get(User, world["worker_a"])
            before = getattr(user, change)
            setattr(user, change, {"active": False, "session_nonce": "elsewhere",
                                   "must_change_password": True}[change])
            db.session.commit()
        r = save(client, attempt_id, [{"item": "1", "response": "B", "seq": 2}], token)
        assert r.status_code == 302, (change, r.status_code)
        where = "/auth/password" if change == "must_change_password" else "/auth/login"
        assert where in r.headers["Location"], (change, r.headers["Location"])
        assert stored_answers(app, attempt_id)["1"][:2] == (1, "A"), change
        with app.app_context():
            setattr(db.session.get(User, world["worker_a"]), change, before)
            db.session.commit()
    assert save(client, attempt_id, [{"item": "1", "response": "B", "seq": 2}], token).status_code == 200


def test_a_refused_save_renders_its_page_with_the_whole_account(app, client, exam_id):
    """A save loads only the account's id; a page shown for it (404: someone else's attempt) still
    has the account's name and menu."""
    other = app.test_client()
    login(other, "worker_b")
    theirs = start_http(app, other, exam_id)
    login(client, "worker_a")
    r = save(client, theirs, [{"item": "1", "response": "A", "seq": 1}])
    assert r.status_code == 404
    assert "东一一甲" in r.get_data(as_text=True)
    assert stored_answers(app, theirs) == {}


def test_racing_saves_of_one_attempt_lose_no_acknowledged_answer(app, world):
    """Real concurrent requests (no rolled-back test transaction), as a candidate's two devices and
    retries do: whatever order they land in, each item keeps its newest acknowledged save."""
    threads_n, rounds = 6, 8
    with app.app_context():
        exam = default_exam("junior-general")
        attempt = Attempt(user_id=world["worker_a"], exam_id=exam.id, seed=1, paper={"sections": [], "items": {}},
                          answer_keys={k: "single:ABCD" for k in ITEMS}, started_at=utcnow(),
                          deadline_at=utcnow() + timedelta(hours=1), status="in_progress", max_score=Decimal(4))
        db.session.add(attempt)
        db.session.commit()
        attempt_id = attempt.id
    clients = []
    for _i in range(threads_n):
        c = app.test_client()
        assert login(c, "worker_a").status_code == 302
        clients.append((c, token_of(c)))
    barrier = threading.Barrier(threads_n)
    acked: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def letter(seq: int) -> str:
        return "ABCD"[seq % 4]

    def device(t: int, c, token) -> None:
        try:
            barrier.wait()
            for r in range(rounds):
                # Each device sends every item, newest seqs interleaved with the others' (and some older).
                seqs = {k: (r * threads_n + (t + n) % threads_n) * 10 + n + 1 for n, k in enumerate(ITEMS)}
                batch = [{"item": k, "response": letter(s), "seq": s, "flagged": s % 3 == 0} for k, s in seqs.items()]
                resp = save(c, attempt_id, batch, token)
                if resp.status_code != 200:
                    errors.append(f"{t}/{r}: {resp.status_code} {resp.data[:200]!r}")
                    continue
                with lock:
                    for k, s in resp.json["saved"].items():
                        if s < seqs[k]:
                            errors.append(f"{t}/{r}: {k} answered with {s}, older than its {seqs[k]}")
                        acked[k] = max(acked.get(k, 0), seqs[k])
        except Exception as exc:  # surfaced below
            errors.append(repr(exc))

    threads = [threading.Thread(target=device, args=(t, c, token)) for t, (c, token) in enumerate(clients)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not errors, errors
        stored = stored_answers(app, attempt_id)
        assert set(stored) == set(ITEMS) == set(acked)
        for k in ITEMS:
            seq, response, flagged = stored[k]
            assert seq == acked[k] and response == letter(seq) and flagged == (seq % 3 == 0), (k, stored[k])
    finally:
        with app.app_context():
            db.session.execute(delete(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
            db.session.execute(delete(Attempt).where(Attempt.id == attempt_id))
            db.session.commit()


def test_the_request_log_names_a_saves_account_without_loading_it(app, ctx, world):
    """Production logs every request's user id (lms/requestlog.py): for a save, from its SessionAccount."""
    from flask import g

    from lms import requestlog
    from lms.auth.models import session_account

    with app.test_request_context("/"):
        nonce = db.session.get(User, world["worker_a"]).session_nonce
        g._login_user = session_account(world["worker_a"], nonce)
        with count_queries(app) as statements:
            assert requestlog._user_id() == world["worker_a"]
            assert g._login_user.is_authenticated and not g._login_user.must_change_password
        assert len(statements) == 0, statements.report()
        assert g._login_user.name == "东一一甲"  # anything else loads the whole account
        assert session_account(world["worker_a"], "another") is None
