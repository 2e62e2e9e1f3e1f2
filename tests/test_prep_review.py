"""The mistakes book on an FSRS schedule (lms/prep/review.py) and the review session (/prep/review), on
hand-made histories with known answers. Every date comes from the clock fixture.

The known answers are FSRS-6's with its default parameters, retention 0.9, no same-day steps, no fuzz:
a wrong answer gives stability 0.212 days and brings the question back the next day; right answers on
the days it is due then give stabilities 1.89, 6.27, 17.38, 43.84 days and gaps of 2, 6, 17, 44 days.
"""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.exams import attempts, practice
from lms.exams.models import Mistake, Question
from lms.extensions import db
from lms.prep import review
from lms.prep.models import GradedAnswer

from .conftest import login, post_form
from .querycount import count_queries
from .test_mock_exams import default_exam, make_bank, right, small_exam, worker

T0 = datetime(2026, 3, 2, 2, 0)  # 10:00 on Monday 2 March in Shanghai


def q(n: int, kind: str = "s") -> Question:
    return db.session.scalar(select(Question).where(Question.external_id == f"t-junior-general-{kind}{n}"))


def wrong(question: Question) -> str:
    return "B" if question.answer != ["B"] else "C"


def book_row(user, question) -> Mistake | None:
    return db.session.scalar(select(Mistake).where(Mistake.user_id == user.id, Mistake.question_id == question.id))


# --- the schedule -------------------------------------------------------------------------------------------

def test_a_new_mistake_comes_back_the_next_day(ctx, world, clock):
    clock.set(T0)
    make_bank()
    user, question = worker(), q(0)
    feedback = practice.answer(user, question, wrong(question))
    assert feedback["correct"] is False and feedback["schedule"] == {"kind": "added", "due": "2026-03-03", "days": 1}
    m = book_row(user, question)
    assert m.due_at == T0 + timedelta(days=1) and m.stability == pytest.approx(0.212)
    assert (m.wrong_count, m.right_streak, m.reviews, m.lapses, m.cleared_at) == (1, 0, 0, 0, None)
    assert review.due(user.id) == []                      # not today: it was just seen
    clock.set(T0 + timedelta(hours=15, minutes=59))       # 01:59 on 3 March: due that day, but only 16 h on
    assert review.due(user.id) == [] and review.later(user.id).today == 1
    assert review.later(user.id).ready_at == T0 + timedelta(hours=20)
    clock.set(T0 + timedelta(hours=20))                   # 20 hours on: ready, due by the end of today
    assert review.due(user.id) == [m]


def test_right_answers_on_the_due_days_make_the_gaps_grow_until_it_is_learned(ctx, world, clock, app):
    clock.set(T0)
    make_bank()
    user, question = worker(), q(1)
    practice.answer(user, question, wrong(question))
    m = book_row(user, question)
    gaps, stabilities = [], []
    while m.cleared_at is None:
        assert review.is_due(m, m.due_at) and not review.is_due(m, m.due_at - timedelta(days=1))
        clock.set(m.due_at)
        feedback = practice.answer(user, question, right({"answer": question.answer}), source="review")
        stabilities.append(round(m.stability, 2))
        # Out of the book exactly when the schedule says it is learned: Review state, stability ≥ 30 days.
        assert (m.cleared_at is not None) == (m.fsrs_state == 2 and m.stability >= app.config["PREP_LEARNED_DAYS"])
        if m.cleared_at is None:
            gaps.append((m.due_at - clock()).days)
            assert feedback["schedule"]["kind"] == "review" and feedback["schedule"]["days"] == gaps[-1]
        else:
            assert feedback["cleared"] and feedback["schedule"] == {"kind": "learned", "due": None, "days": None}
    assert gaps == [2, 6, 17] and stabilities == [1.89, 6.27, 17.38, 43.84]
    assert (m.reviews, m.lapses, m.right_streak, m.wrong_count) == (4, 0, 4, 1)
    assert m.cleared_at == T0 + timedelta(days=1 + 2 + 6 + 17)
    assert practice.next_question(user, None, None, "mistakes") is None


def test_right_twice_in_a_row_is_not_enough(ctx, world, clock):
    """The old rule took a question out after two right answers in a row; the schedule keeps it."""
    clock.set(T0)
    make_bank()
    user, question = worker(), q(2)
    practice.answer(user, question, wrong(question))
    clock.set(T0 + timedelta(days=1))
    assert practice.answer(user, question, question.answer[0])["cleared"] is False
    clock.set(T0 + timedelta(days=2))                      # a day early: still a review, a smaller step
    assert practice.answer(user, question, question.answer[0])["cleared"] is False
    m = book_row(user, question)
    assert m.cleared_at is None and m.stability < 30 and m.reviews == 2 and m.right_streak == 2
    assert practice.next_question(user, None, None, "mistakes").id == question.id
    # The same question again an hour later is not a review: the schedule does not move.
    before = (m.due_at, m.stability, m.reviews)
    clock.advance(hours=1)
    assert practice.answer(user, question, question.answer[0])["schedule"]["kind"] == "repeat"
    assert (m.due_at, m.stability, m.reviews) == before


def test_a_wrong_answer_is_a_lapse_and_a_partly_right_one_a_hard_review(ctx, world, clock):
    clock.set(T0)
    make_bank()
    user, single, multiple = worker(), q(3), q(0, "m")     # multiple: A, C, D right
    practice.answer(user, single, wrong(single))
    practice.answer(user, multiple, "B")
    clock.set(T0 + timedelta(days=1))
    assert practice.answer(user, single, wrong(single))["schedule"] == {"kind": "lapse", "due": "2026-03-04",
                                                                        "days": 1}
    # Right options only, not all, in a mock exam: half its points (practice gives no partial credit).
    assert review.record(user.id, [(multiple.id, 0.5)])[multiple.id].kind == "review"
    s, m = book_row(user, single), book_row(user, multiple)
    assert (s.lapses, s.reviews, s.wrong_count) == (1, 1, 2)
    # Hard: its stability grows less than a Good review's would (1.89 days, see the test above).
    assert 0.212 < m.stability < 1.89 and m.lapses == 0


def test_a_wrong_answer_in_a_later_mock_exam_brings_a_learned_question_back(ctx, world, clock):
    make_bank()
    user = worker()
    exam = small_exam()
    later = T0 + timedelta(days=40)
    clock.set(later)
    attempt = attempts.start(user, exam)
    items = attempt.paper["items"]
    key = next(k for k, item in items.items() if item["type"] == "single")
    other = next(k for k, item in items.items() if item["type"] == "single" and k != key)
    question, kept = db.session.get(Question, items[key]["qid"]), db.session.get(Question, items[other]["qid"])
    clock.set(T0)                                           # the history before the exam
    practice.answer(user, question, wrong(question))
    practice.answer(user, kept, wrong(kept))
    m = book_row(user, question)
    for _ in range(4):
        clock.set(m.due_at)
        practice.answer(user, question, question.answer[0], source="review")
    assert m.cleared_at is not None
    clock.set(later + timedelta(minutes=5))
    attempts.save(attempt, key, "B" if items[key]["answer"] != ["B"] else "C", 1)  # the paper's own letters
    attempts.save(attempt, other, right(items[other]), 2)   # right in the exam: a review of a question in the book
    reviews_before = book_row(user, kept).reviews
    attempts.finish(attempt)
    # Forgotten 13 days before its 44-day gap was up: stability falls from 43.84 to 2.43 days, back in 2 days.
    assert m.cleared_at is None and m.lapses == 1 and m.stability == pytest.approx(2.43, abs=0.01)
    assert m.due_at == clock() + timedelta(days=2) and m in review.due(user.id, now=clock() + timedelta(days=2))
    k = book_row(user, kept)
    assert k.reviews == reviews_before + 1 and k.last_review_at == clock()
    # A question of the paper answered wrongly and not in the book before is in it now, due tomorrow.
    new = [i["qid"] for k2, i in items.items() if k2 not in (key, other)]
    added = db.session.scalars(select(Mistake).where(Mistake.user_id == user.id, Mistake.question_id.in_(new))).all()
    assert added and all(a.due_at == clock() + timedelta(days=1) and a.reviews == 0 for a in added)


def test_the_learned_line_is_a_setting(ctx, world, clock, app):
    clock.set(T0)
    make_bank()
    user, question = worker(), q(4)
    practice.answer(user, question, wrong(question))
    m = book_row(user, question)
    app.config["PREP_LEARNED_DAYS"] = 5.0
    try:
        for _ in range(2):
            clock.set(m.due_at)
            practice.answer(user, question, question.answer[0], source="review")
    finally:
        app.config["PREP_LEARNED_DAYS"] = 30.0
    assert m.cleared_at == T0 + timedelta(days=3) and m.stability == pytest.approx(6.27, abs=0.01)


def test_a_mistake_from_before_the_schedule_is_due_at_once(ctx, world, clock):
    clock.set(T0)
    make_bank()
    user, old, new = worker(), q(5), q(6)
    practice.answer(user, new, wrong(new))
    db.session.add(Mistake(user_id=user.id, question_id=old.id, wrong_count=1, right_streak=0,
                           last_wrong_at=T0 - timedelta(days=10)))
    db.session.flush()
    clock.set(T0 + timedelta(days=1))
    assert [m.question_id for m in review.due(user.id)] == [old.id, new.id]   # no date: due first
    assert practice.answer(user, old, old.answer[0], source="review")["schedule"]["kind"] == "review"
    assert book_row(user, old).stability > 0.212 and book_row(user, old).fsrs_state == 2


def test_grading_a_full_paper_moves_a_big_book_in_one_read_and_two_writes(app, ctx, world, clock):
    """record() is set-based: whatever the paper's size or the book's, grading reads the worker's book once
    (the rows of the paper's questions), writes the changed rows in one UPDATE (executemany by primary key)
    and the new mistakes in one INSERT. The per-item loop of the ORM issued an UPDATE per run of rows
    changed alike (a lapse, a review…), about one per item on a mixed paper."""
    clock.set(T0)
    make_bank(singles=150, multiples=50)
    user, exam = worker(), default_exam("junior-general")
    attempt = attempts.start(user, exam)
    items = attempt.paper["items"]
    qids = [item["qid"] for item in items.values()]
    # A book of 150 questions answered wrongly 30 days ago: 60 of the paper's 80 and 90 others.
    others = db.session.scalars(select(Question.id).where(
        Question.subject_id == exam.subject_id, Question.id.not_in(qids), Question.parent_id.is_(None))
        .order_by(Question.id).limit(90)).all()
    in_book = qids[:60]
    review.record(user.id, [(qid, 0.0) for qid in in_book + others], T0 - timedelta(days=30))
    # Every other item right: in the book a review or a lapse; out of it a new mistake or nothing.
    wrong_ones = {item["qid"] for n, item in enumerate(items.values()) if n % 2}
    attempts.save_many(attempt.id, [
        {"item": key, "seq": n + 1,
         "response": ("B" if item["answer"] != ["B"] else "C") if item["qid"] in wrong_ones else right(item)}
        for n, (key, item) in enumerate(items.items())])
    db.session.flush()

    with count_queries(app) as statements:
        attempts.finish(attempt)
    book = [s for s in statements if re.search(r"\bmistake\b", s, re.I)]
    assert [s.split()[0].upper() for s in book] == ["SELECT", "UPDATE", "INSERT"], statements.report()
    assert len(statements) <= 25, statements.report()  # a whole grade: 16 on SQLite (84 before), 19 on PostgreSQL

    rows = {m.question_id: m for m in db.session.scalars(select(Mistake).where(Mistake.user_id == user.id))}
    lapsed = wrong_ones & set(in_book)
    assert sum(rows[q].reviews for q in in_book) == 60 and sum(rows[q].lapses for q in in_book) == len(lapsed)
    assert all(rows[q].last_review_at == T0 and rows[q].due_at > T0 for q in in_book)
    added = wrong_ones - set(in_book)
    assert added and len(rows) == 150 + len(added)
    assert all((rows[q].reviews, rows[q].due_at) == (0, T0 + timedelta(days=1)) for q in added)
    assert db.session.scalar(select(func.count()).select_from(Mistake).where(
        Mistake.user_id == user.id, Mistake.question_id.in_(qids[60:]))) == len(added)


# --- the review session ----------------------------------------------------------------------------------------

def _setup_book(app, clock):
    """worker_a's book at 13:00 on 3 March: s0, s1, s2 due and ready (wrong at 10:00, 11:00, 12:00 the day
    before), s3 due at 20:00 but wrong only 17 hours ago, s4 due on 4 March; worker_b has s5."""
    with app.app_context():
        make_bank()
        user = worker()
        for n, hours in ((0, 0), (1, 1), (2, 2), (3, 10), (4, 24)):
            clock.set(T0 + timedelta(hours=hours))
            practice.answer(user, q(n), wrong(q(n)))
        practice.answer(worker("worker_b"), q(5), wrong(q(5)))
        ids = {n: q(n).id for n in range(6)}
        sid = q(0).subject_id
        db.session.commit()
    clock.set(T0 + timedelta(days=1, hours=3))
    return ids, sid


def _shown(html: str) -> int:
    return int(re.search(r'name="question" value="(\d+)"', html).group(1))


def _answer(client, qid, choice, subject=None):
    url = "/prep/review" + (f"?subject={subject}" if subject else "")
    r = post_form(client, url, {"question": qid, "choice": choice}, page=url)
    assert r.status_code == 303
    return client.get(r.location).get_data(as_text=True)


def test_the_review_session_takes_todays_due_questions_oldest_first(app, client, clock, world):
    ids, sid = _setup_book(app, clock)
    with app.app_context():
        answers = {n: q(n).answer[0] for n in range(5)}
        wrongs = {n: wrong(q(n)) for n in range(5)}
    login(client, "worker_a")
    page = client.get("/prep/review").get_data(as_text=True)
    assert _shown(page) == ids[0] and "单选题0" in page and "解析单选0" not in page   # no answer before answering
    assert 'id="review-left"' in page and "3" in re.search(r'id="review-left">([^<]*)<', page).group(1)

    feedback = _answer(client, ids[0], answers[0])
    assert 'id="practice-feedback"' in feedback and "alert-success" in feedback and "解析单选0" in feedback
    assert re.search(r'id="review-schedule" data-kind="review">\s*2 天后再复习（2026-03-05）', feedback)
    assert "还剩 2 题" in feedback

    # Another device, the same worker: the same list, where the first one left off.
    phone = app.test_client()
    login(phone, "worker_a")
    assert _shown(phone.get("/prep/review").get_data(as_text=True)) == ids[1]
    lapse = _answer(phone, ids[1], wrongs[1])
    assert "alert-danger" in lapse and re.search(r'data-kind="lapse">\s*明天再复习（2026-03-04）', lapse)

    # The first answer sent again (a double click, or the first device's old page): not a second review.
    r = post_form(client, "/prep/review", {"question": ids[0], "choice": answers[0]}, page="/prep/review")
    assert r.status_code == 303 and "现在不需要复习" in client.get(r.location).get_data(as_text=True)
    # Not in my book (another worker's), not due yet (s4: tomorrow): a message, nothing recorded.
    r = post_form(client, "/prep/review", {"question": ids[5], "choice": "A"}, page="/prep/review")
    assert "不在您的错题本里" in client.get(r.location).get_data(as_text=True)
    r = post_form(client, "/prep/review", {"question": ids[4], "choice": answers[4]}, page="/prep/review")
    assert "现在不需要复习" in client.get(r.location).get_data(as_text=True)
    with app.app_context():
        first, early = book_row(worker(), q(0)), book_row(worker(), q(4))
        assert (first.reviews, early.reviews, early.last_review_at) == (1, 0, T0 + timedelta(hours=24))
        assert db.session.scalar(select(Mistake.reviews).where(Mistake.question_id == ids[5])) == 0
        assert [g.question_id for g in db.session.scalars(select(GradedAnswer).where(
            GradedAnswer.source == "review").order_by(GradedAnswer.id))] == [ids[0], ids[1]]

    # An empty answer is asked again, not graded.
    page = client.get("/prep/review").get_data(as_text=True)
    assert _shown(page) == ids[2]
    r = post_form(client, "/prep/review", {"question": ids[2]}, page="/prep/review")
    page = client.get(r.location).get_data(as_text=True)
    assert "请先选择答案" in page and _shown(page) == ids[2]
    done = _answer(client, ids[2], answers[2])
    assert "还剩 0 题" in done
    summary = client.get("/prep/review").get_data(as_text=True)
    assert 'id="review-done"' in summary
    assert re.search(r'id="reviewed-today">3<', summary) and re.search(r'id="right-today">2<', summary)
    # s3 is due at 20:00 but was answered at 20:00 yesterday: ready from 16:00 today (20 hours on).
    assert re.search(r'id="later-today">1 · 16:00 起', summary)
    assert re.search(r'id="next-review">2026-03-04 · 2 题', summary)                 # s4 and the lapsed s1


def test_a_session_can_keep_to_one_subject_and_refuses_an_unknown_one(app, client, clock, world):
    ids, sid = _setup_book(app, clock)
    login(client, "worker_a")
    assert _shown(client.get(f"/prep/review?subject={sid}").get_data(as_text=True)) == ids[0]
    other = sid + 1000
    assert client.get(f"/prep/review?subject={other}").status_code == 404
    assert client.get("/prep/review?subject=abc").status_code == 400


def test_the_mistakes_page_shows_the_schedule_per_topic(app, client, clock, world):
    ids, sid = _setup_book(app, clock)
    login(client, "worker_a")
    page = client.get("/mock/mistakes").get_data(as_text=True)
    cells = re.findall(r'data-topic="([^"]+)">.*?class="text-end in-book">(\d+)<.*?class="text-end due-today">(\d+)<'
                       r'.*?class="next-due[^"]*">([^<]*)<.*?class="text-end learned">(\d+)<', page, re.S)
    # s0 伦理, s1 理论, s2 方法, s3 伦理, s4 理论 (make_bank's topics in turn)
    assert sorted(cells) == sorted([("伦理", "2", "2", "—", "0"), ("理论", "2", "1", "2026-03-04", "0"),
                                    ("方法", "1", "1", "—", "0")])
    assert 'id="review-all"' in page and "开始今天的复习（4）" in page and 'href="/prep/review"' in page
