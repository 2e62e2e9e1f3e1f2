"""Mock exams: assembly, the server clock, autosave that never loses an answer, grading once."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.database import utcnow
from lms.exams import assembly, attempts, certification, practice
from lms.exams.models import Attempt, AttemptAnswer, Exam, ExamSubject, Mistake, MockExamDay, Question
from lms.extensions import db

from .conftest import login, post_form

TOPICS = ["伦理", "理论", "方法"]


def subject(code):
    return db.session.scalar(select(ExamSubject).where(ExamSubject.code == code))


def make_bank(code="junior-general", singles=70, multiples=25, judges=5):
    """A synthetic bank: enough for a full 60 + 20 paper, spread over topics and difficulties."""
    s = subject(code)
    rows = []
    for i in range(singles):
        rows.append(Question(external_id=f"t-{code}-s{i}", subject=s, topic=TOPICS[i % 3], type="single",
                             difficulty=1 + (i // 3) % 3, stem=f"单选题{i}：社会工作者应当（  ）。", status="active",
                             options=[{"key": k, "text": f"选项{k}{i}"} for k in "ABCD"], answer=["ABCD"[i % 4]],
                             explanation=f"解析单选{i}：理由在此。"))
    for i in range(multiples):
        rows.append(Question(external_id=f"t-{code}-m{i}", subject=s, topic=TOPICS[i % 3], type="multiple",
                             difficulty=1 + (i // 3) % 3, stem=f"多选题{i}：下列说法正确的有（  ）。", status="active",
                             options=[{"key": k, "text": f"多选项{k}{i}"} for k in "ABCDE"], answer=["A", "C", "D"],
                             explanation=f"解析多选{i}：理由在此。"))
    for i in range(judges):
        rows.append(Question(external_id=f"t-{code}-j{i}", subject=s, topic=TOPICS[i % 3], type="judge", difficulty=2,
                             stem=f"判断题{i}", status="active", answer=bool(i % 2), explanation=f"解析判断{i}"))
    db.session.add_all(rows)
    db.session.flush()
    return s


def make_case_bank():
    s = subject("mid-practice")
    for i in range(5):
        case = Question(external_id=f"t-case{i}", subject=s, topic="老年", type="case", difficulty=2,
                        stem=f"案例{i}：张大爷独居……", status="active", explanation="案例解析")
        case.parts = [
            Question(
                external_id=f"t-case{i}#1",
                subject=s,
                topic="老年",
                type="essay",
                difficulty=2,
                position=1,
                stem="分析需求",
                points=Decimal(12),
                reference="需求要点（12分）",
                status="active",
                explanation="",
            ),
            Question(
                external_id=f"t-case{i}#2",
                subject=s,
                topic="老年",
                type="single",
                difficulty=2,
                position=2,
                stem="最适合的模式是",
                points=Decimal(8),
                status="active",
                explanation="因为……",
                options=[{"key": k, "text": f"模式{k}"} for k in "ABCD"],
                answer=["B"],
            ),
        ]
        db.session.add(case)
    for i in range(2):
        db.session.add(Question(external_id=f"t-essay{i}", subject=s, topic="方案", type="essay", difficulty=2,
                                stem=f"设计方案{i}", points=Decimal(20), reference="方案要点", status="active",
                                explanation="好方案包括……"))
    db.session.flush()
    return s


def small_exam(code="junior-general", minutes=30, **mix):
    s = subject(code)
    exam = Exam(
        code=f"small-{code}-{len(mix)}",
        name="小测",
        subject=s,
        duration_minutes=minutes,
        pass_score=Decimal(6),
        sections=[
            {"type": "single", "count": 5, "points": 1},
            {"type": "multiple", "count": 3, "points": 2, "partial_points": 0.5},
        ],
        **mix,
    )
    db.session.add(exam)
    db.session.flush()
    return exam


@pytest.fixture
def exam_id(app, tx):
    """The synthetic bank and a small exam, committed inside the test's rolled-back transaction."""
    with app.app_context():
        make_bank()
        exam_id = small_exam().id
        db.session.commit()
    return exam_id


def default_exam(code):
    return db.session.scalar(select(Exam).where(Exam.code == code))


def worker(name="worker_a"):
    return db.session.scalar(select(User).where(User.username == name))


def right(item):
    return "".join(item["answer"]) if isinstance(item["answer"], list) else item["answer"]


# --- assembly -------------------------------------------------------------------------------------

def test_default_blueprints_follow_the_real_exam(ctx):
    figures = {e.code: (e.duration_minutes, e.total_points, e.pass_score) for e in db.session.scalars(select(Exam))}
    for code in ("junior-general", "junior-practice", "mid-general", "mid-law"):
        assert figures[code] == (120, Decimal(100), Decimal(60))
    assert figures["mid-practice"] == (150, Decimal(100), Decimal(60))


def test_assembly_honours_the_blueprint_over_many_seeds(ctx):
    make_bank()
    exam = default_exam("junior-general")
    candidates = assembly.candidates_for(exam)
    originals = {q["id"]: q for q in candidates}
    for seed in range(40):
        paper = assembly.assemble(assembly.blueprint_dict(exam), candidates, seed)
        items = paper["items"]
        qids = [i["qid"] for i in items.values()]
        assert len(qids) == len(set(qids)) == 80
        assert [len(s["items"]) for s in paper["sections"]] == [60, 20]
        assert sum(Decimal(str(i["points"])) for i in items.values()) == 100
        for item in items.values():
            original = originals[item["qid"]]
            assert item["type"] == original["type"]
            texts = {o["key"]: o["text"] for o in item["options"]}
            right_texts = {o["text"] for o in original["options"] if o["key"] in original["answer"]}
            assert {texts[k] for k in item["answer"]} == right_texts  # shuffled, still right
        assert paper == assembly.assemble(assembly.blueprint_dict(exam), candidates, seed)  # reproducible
    shuffles = {
        tuple(
            o["text"] for o in assembly.assemble(assembly.blueprint_dict(exam), candidates, s)["items"]["1"]["options"]
        )
        for s in range(10)
    }
    assert len(shuffles) > 1


def test_assembly_honours_topic_and_difficulty_mix(ctx):
    make_bank()
    exam = small_exam(topic_mix={"伦理": 0.6}, difficulty_mix={"1": 0.4, "2": 0.4, "3": 0.2})
    for seed in range(30):
        paper = assembly.freeze(exam, seed)
        singles = [paper["items"][k] for k in paper["sections"][0]["items"]]
        assert sum(1 for i in singles if i["topic"] == "伦理") == 3      # 60 % of 5
        assert sorted(i["difficulty"] for i in singles) == [1, 1, 2, 2, 3]


def test_assembly_says_when_the_bank_is_too_small(ctx):
    make_bank(singles=3, multiples=1)
    with pytest.raises(assembly.AssemblyError):
        assembly.freeze(small_exam(), 1)


def test_quotas_split_exactly():
    assert assembly.quotas(5, {"a": 0.6}, ["a", "b", "c"]) == {"a": 3, "b": 1, "c": 1}
    assert sum(assembly.quotas(60, {"1": 0.3, "2": 0.5, "3": 0.2}, ["1", "2", "3"]).values()) == 60
    assert assembly.quotas(7, {}, ["x"]) == {}


# --- taking an exam ---------------------------------------------------------------------------------

def start_http(app, client, exam_id):
    r = post_form(client, f"/mock/exams/{exam_id}/start", page="/mock/")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return int(r.location.rsplit("/", 1)[1])


def token_of(client):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/home").get_data(as_text=True)).group(1)


def save_http(client, attempt_id, item, response, seq):
    return client.post(f"/mock/attempts/{attempt_id}/answers", json={"item": item, "response": response, "seq": seq},
                       headers={"X-CSRFToken": token_of(client)})


def test_the_page_before_submission_holds_no_answer_or_explanation(app, client):
    with app.app_context():
        make_bank()
        make_case_bank()
        ids = [small_exam().id, default_exam("mid-practice").id]
        db.session.commit()
    login(client, "worker_a")
    for exam_id in ids:
        attempt_id = start_http(app, client, exam_id)
        page = client.get(f"/mock/attempts/{attempt_id}").get_data(as_text=True)
        state = client.get(f"/mock/attempts/{attempt_id}/state.json").get_data(as_text=True)
        with app.app_context():
            paper = db.session.get(Attempt, attempt_id).paper
        for item in paper["items"].values():
            for secret in (item.get("explanation"), item.get("reference")):
                if secret:
                    assert secret not in page and secret not in state
        assert "解析" not in page and "要点" not in page and '"answer"' not in page and '"answer"' not in state


def test_answers_survive_reload_and_late_saves_never_overwrite(app, client, exam_id):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    assert save_http(client, attempt_id, "1", "B", 100).json == {"ok": True, "item": "1", "seq": 100}
    assert save_http(client, attempt_id, "1", "C", 90).json["seq"] == 100      # a late, older save
    assert save_http(client, attempt_id, "1", "B", 100).json["seq"] == 100     # the same save again
    assert save_http(client, attempt_id, "6", "ca", 5).json["seq"] == 5        # letters normalised
    assert save_http(client, attempt_id, "2", "Z", 5).status_code == 400       # not an option
    assert save_http(client, attempt_id, "99", "A", 5).status_code == 400      # not on the paper
    assert save_http(client, attempt_id, "2", "A", "x").status_code == 400     # no sequence number
    # Another device (a new login) resumes the same attempt with every acknowledged answer.
    other = app.test_client()
    login(other, "worker_a")
    assert start_http(app, other, exam_id) == attempt_id
    state = other.get(f"/mock/attempts/{attempt_id}/state.json").json
    assert state["answers"] == {"1": {"response": "B", "seq": 100, "flagged": False},
                                "6": {"response": "AC", "seq": 5, "flagged": False}}


def test_one_request_saves_many_answers_and_rejects_only_the_bad_ones(app, client, exam_id):
    """exam.js sends every unacknowledged answer in one request: each is stored or rejected alone."""
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    assert save_http(client, attempt_id, "3", "D", 50).status_code == 200
    url, headers = f"/mock/attempts/{attempt_id}/answers", {"X-CSRFToken": token_of(client)}
    batch = [{"item": "1", "response": "B", "seq": 10},
             {"item": "1", "response": "C", "seq": 11},      # the same item twice: the newer wins
             {"item": "2", "response": "Z", "seq": 10},      # not an option
             {"item": "3", "response": "A", "seq": 40},      # older than the stored save
             {"item": "6", "response": "ca", "seq": 10},
             {"item": "99", "response": "A", "seq": 10},     # not on the paper
             {"item": "4", "response": "A", "seq": True},    # no sequence number
             "A"]                                            # not an object
    r = client.post(url, json={"answers": batch}, headers=headers)
    assert r.status_code == 200
    assert r.json["saved"] == {"1": 11, "3": 50, "6": 10}
    assert set(r.json["rejected"]) == {"2", "99", "4", ""}
    assert client.post(url, json={"answers": batch}, headers=headers).json["saved"] == {"1": 11, "3": 50, "6": 10}
    state = client.get(f"/mock/attempts/{attempt_id}/state.json").json
    assert state["answers"] == {"1": {"response": "C", "seq": 11, "flagged": False},
                                "3": {"response": "D", "seq": 50, "flagged": False},
                                "6": {"response": "AC", "seq": 10, "flagged": False}}
    for bad in ({"answers": []}, {"answers": "1"}, {"answers": [{"item": "1", "response": "A", "seq": 99}] * 501}):
        r = client.post(url, json=bad, headers=headers)
        assert r.status_code == 400 and r.json["error"]
    assert client.get(f"/mock/attempts/{attempt_id}/state.json").json["answers"]["1"]["seq"] == 11


def test_a_save_after_the_deadline_is_refused(app, client, exam_id):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    save_http(client, attempt_id, "1", "A", 1)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    r = save_http(client, attempt_id, "1", "B", 2)
    assert r.status_code == 409 and r.json["closed"]
    with app.app_context():
        answer = db.session.scalar(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.item == "1")
        )
        assert answer.response == "A"


def test_an_abandoned_attempt_is_graded_at_its_deadline(ctx, world):
    make_bank()
    exam = small_exam()
    user = worker()
    attempt = attempts.start(user, exam, now=utcnow() - timedelta(hours=2))
    items = attempt.paper["items"]
    attempts.save(attempt, "1", right(items["1"]), 1, now=attempt.started_at + timedelta(minutes=1))
    attempts.save(attempt, "6", right(items["6"]), 1, now=attempt.started_at + timedelta(minutes=2))
    assert attempts.finish_expired() == 1
    db.session.refresh(attempt)
    assert attempt.status == "graded" and attempt.score == Decimal(3) and attempt.passed is False
    assert attempt.submitted_at == attempt.deadline_at
    assert attempts.finish_expired() == 0


def test_submitting_twice_grades_once(app, client, exam_id):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    with app.app_context():
        paper = db.session.get(Attempt, attempt_id).paper
    wrong = next(k for k in "ABCD" if k not in paper["items"]["1"]["answer"])
    save_http(client, attempt_id, "1", wrong, 1)
    first = post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    assert first.location.endswith(f"/mock/attempts/{attempt_id}/result")
    with app.app_context():
        graded_at = db.session.get(Attempt, attempt_id).graded_at
    second = post_form(client, f"/mock/attempts/{attempt_id}/submit", page="/mock/")
    assert second.status_code == 302
    with app.app_context():
        a = db.session.get(Attempt, attempt_id)
        assert a.graded_at == graded_at
        assert (
            db.session.scalar(select(Mistake.wrong_count).where(Mistake.question_id == paper["items"]["1"]["qid"])) == 1
        )
    assert save_http(client, attempt_id, "2", "A", 9).status_code == 409


def test_multiple_choice_is_graded_by_the_official_rule(ctx, world):
    make_bank()
    exam = small_exam()
    attempt = attempts.start(worker(), exam)
    keys = attempt.paper["sections"][1]["items"]          # three multiple-choice items, 2 points each
    rights = [attempt.paper["items"][k]["answer"] for k in keys]
    wrong_letter = next(k for k in "ABCDE" if k not in rights[1])
    attempts.save(attempt, keys[0], "".join(rights[0]), 1)           # all right: 2
    attempts.save(attempt, keys[1], rights[1][0] + wrong_letter, 1)  # one wrong chosen: 0
    attempts.save(attempt, keys[2], "".join(rights[2][:2]), 1)       # two of three right: 2 × 0.5
    attempts.finish(attempt)
    scores = {a.item: a.score for a in attempts.saved_answers(attempt).values()}
    assert (scores[keys[0]], scores[keys[1]], scores[keys[2]]) == (Decimal(2), Decimal(0), Decimal(1))


def test_written_answers_wait_for_marking_then_the_total_updates(app, client, world):
    with app.app_context():
        make_case_bank()
        exam = default_exam("mid-practice")
        attempt = attempts.start(worker(), exam)
        essay_key = next(k for k, i in attempt.paper["items"].items() if i["type"] == "essay")
        attempts.save(attempt, essay_key, "需求分析：……", 1)
        attempts.finish(attempt)
        assert attempt.status == "submitted" and attempt.pending_marks == 1 and attempt.passed is None
        answer_id = db.session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt.id,
                                                                     AttemptAnswer.item == essay_key))
        points = attempt.paper["items"][essay_key]["points"]
        db.session.commit()
        attempt_id, exam_id = attempt.id, exam.id
    login(client, "trainer")
    # A trainer marks only what an office handed to them.
    assert f"/mock/marking/{answer_id}" not in client.get("/mock/marking").get_data(as_text=True)
    assert client.get(f"/mock/marking/{answer_id}").status_code == 404
    office = app.test_client()
    login(office, "office_c")
    r = post_form(office, "/mock/marking/assignments", {"target": f"exam:{exam_id}", "trainer_id": world["trainer"]})
    assert r.status_code == 302
    assert f"/mock/marking/{answer_id}" in client.get("/mock/marking").get_data(as_text=True)
    page = client.get(f"/mock/marking/{answer_id}").get_data(as_text=True)
    assert "需求要点" in page or "方案要点" in page
    r = post_form(client, f"/mock/marking/{answer_id}", {"score": str(points + 1)})
    assert r.status_code == 200
    r = post_form(client, f"/mock/marking/{answer_id}", {"score": str(points), "feedback": "要点齐全"})
    assert r.status_code == 302
    with app.app_context():
        a = db.session.get(Attempt, attempt_id)
        assert a.status == "graded" and a.pending_marks == 0 and a.score >= Decimal(str(points))


def test_result_page_shows_scores_answers_and_explanations(app, client, exam_id):
    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    page = client.get(f"/mock/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "解析单选" in page and 'id="by-topic"' in page and "未通过" in page
    other = app.test_client()
    login(other, "worker_b")
    assert other.get(f"/mock/attempts/{attempt_id}/result").status_code == 404
    assert other.get(f"/mock/attempts/{attempt_id}").status_code == 404


# --- mistakes book and practice --------------------------------------------------------------------------

def test_mistakes_are_practised_until_the_schedule_says_learned(ctx, world, clock):
    """Right twice in a row no longer clears a mistake: it leaves the book when its FSRS schedule says it
    is learned (tests/test_prep_review.py has the whole schedule)."""
    make_bank()
    user = worker()
    q = db.session.scalar(select(Question).where(Question.external_id == "t-junior-general-s0"))
    wrong = "B" if q.answer != ["B"] else "C"
    assert practice.answer(user, q, wrong)["correct"] is False
    assert practice.next_question(user, None, None, "mistakes").id == q.id
    clock.advance(days=1)
    assert practice.answer(user, q, q.answer[0])["cleared"] is False
    clock.advance(days=2)
    assert practice.answer(user, q, q.answer[0])["cleared"] is False
    assert practice.next_question(user, None, None, "mistakes").id == q.id
    for _ in range(2):
        clock.set(db.session.scalar(select(Mistake.due_at).where(Mistake.question_id == q.id)))
        feedback = practice.answer(user, q, q.answer[0])
    assert feedback["cleared"] is True
    assert practice.next_question(user, None, None, "mistakes") is None


def test_practice_page_gives_instant_feedback(app, client):
    with app.app_context():
        s = make_bank()
        db.session.commit()
        sid = s.id
    login(client, "worker_a")
    page = client.get(f"/mock/practice?subject={sid}").get_data(as_text=True)
    qid = int(re.search(r'name="question" value="(\d+)"', page).group(1))
    assert "解析单选" not in page and "解析多选" not in page
    r = post_form(
        client, "/mock/practice", {"question": qid, "choice": "A", "subject": sid}, page=f"/mock/practice?subject={sid}"
    )
    assert 'id="practice-feedback"' in r.get_data(as_text=True) and "解析" in r.get_data(as_text=True)


# --- mock exam days -----------------------------------------------------------------------------------------

def test_an_office_runs_a_mock_exam_day_for_its_area(app, client, world, exam_id):
    office = app.test_client()
    login(office, "office_d1")
    opens = (utcnow() + timedelta(hours=8) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")   # Beijing time
    closes = (utcnow() + timedelta(hours=8) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = post_form(office, "/mock/days/new", {"title": "东区模拟考试日", "exam_id": exam_id, "org_unit_id": world["D1"],
                                             "opens_at": opens, "closes_at": closes, "stagger_minutes": "0"})
    assert r.status_code == 302
    day_id = int(r.location.rsplit("/", 1)[1])
    login(client, "worker_a")
    assert "东区模拟考试日" in client.get("/mock/").get_data(as_text=True)
    r = post_form(client, f"/mock/days/{day_id}/start", page="/mock/")
    attempt_id = int(r.location.rsplit("/", 1)[1])
    post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    r = post_form(client, f"/mock/days/{day_id}/start", page="/mock/")  # once only
    assert "已参加过" in client.get(r.location).get_data(as_text=True)
    outsider = app.test_client()
    login(outsider, "worker_d")
    assert "东区模拟考试日" not in outsider.get("/mock/").get_data(as_text=True)
    assert post_form(outsider, f"/mock/days/{day_id}/start", page="/mock/").status_code == 404
    page = office.get(f"/mock/days/{day_id}").get_data(as_text=True)
    total = re.search(r'id="day-total".*?<div class="stat">(\d+)</div>.*?<div class="stat">(\d+)', page, re.S)
    assert (total.group(1), total.group(2)) == ("3", "1")  # three workers in D1, one took part
    assert office.get(f"/mock/days/{day_id}").status_code == 200
    other = app.test_client()
    login(other, "office_d2")
    assert other.get(f"/mock/days/{day_id}").status_code == 404


def test_staggered_starts_spread_over_the_window(ctx, world):
    day = MockExamDay(
        title="t",
        exam_id=1,
        org_unit_id=world["C"],
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(hours=3),
        stagger_minutes=30,
    )
    slots = {attempts.start_slot(type("U", (), {"id": i})(), day) for i in range(200)}
    assert min(slots) >= day.opens_at and max(slots) < day.opens_at + timedelta(minutes=30)
    assert len(slots) > 100


# --- progress toward the certificate ------------------------------------------------------------------------

def test_carry_over_rules():
    junior = ["junior-general", "junior-practice"]
    p = certification.level_progress("junior", junior, [("junior-general", 2025), ("junior-practice", 2026)], 2026, 1)
    assert p.achieved_year is None and p.valid == {"junior-practice": 2026} and p.expired == {"junior-general": 2025}
    assert p.remaining == ["junior-general"]
    p = certification.level_progress("junior", junior, [("junior-general", 2026), ("junior-practice", 2026)], 2026, 1)
    assert p.achieved_year == 2026 and p.remaining == []
    mid = ["mid-general", "mid-practice", "mid-law"]
    p = certification.level_progress("intermediate", mid, [("mid-general", 2025), ("mid-law", 2026)], 2026, 2)
    assert p.valid == {"mid-general": 2025, "mid-law": 2026} and p.remaining == ["mid-practice"]
    p = certification.level_progress(
        "intermediate", mid, [("mid-general", 2024), ("mid-law", 2025), ("mid-practice", 2025)], 2026, 2
    )
    assert p.achieved_year == 2025 and p.expired == {
        "mid-general": 2024
    }  # achieved in 2024–2025; 2024 no longer counts now
    p = certification.level_progress(
        "intermediate", mid, [("mid-general", 2024), ("mid-law", 2025), ("mid-practice", 2025)], 2025, 2
    )
    assert p.achieved_year == 2025


def test_worker_enters_a_real_result_and_sees_progress(client):
    login(client, "worker_a")
    page = client.get("/mock/progress").get_data(as_text=True)
    sid = re.search(r'<option value="(\d+)">社会工作综合能力\(初级\)', page).group(1)
    r = post_form(client, "/mock/progress", {"subject_id": sid, "exam_year": "2026", "score": "72", "passed": "1"})
    assert r.status_code == 302
    assert "2026 年通过" in client.get("/mock/progress").get_data(as_text=True).split("待核验", 1)[1]
    r = post_form(client, "/mock/progress", {"subject_id": sid, "exam_year": "1999", "passed": "1"})
    assert r.status_code == 200


def test_schedule_day_needs_half_the_exam_after_the_opening(app, world, exam_id):
    from lms.exams import mock_days
    from lms.orgs.models import OrgUnit

    with app.app_context():
        exam, unit, office = db.session.get(Exam, exam_id), db.session.get(OrgUnit, world["D1"]), worker("office_d1")
        opens = utcnow() + timedelta(days=1)
        half = timedelta(minutes=exam.duration_minutes // 2)
        with pytest.raises(mock_days.MockDayError):
            mock_days.schedule_day(title="太短", exam=exam, unit=unit, opens_at=opens, closes_at=opens + half,
                                   stagger_minutes=0, by=office)
        day = mock_days.schedule_day(title="  够长  ", exam=exam, unit=unit, opens_at=opens,
                                     closes_at=opens + half + timedelta(minutes=1), stagger_minutes=None, by=office)
        assert (day.title, day.stagger_minutes, day.created_by_id) == ("够长", 0, office.id) and day.id
