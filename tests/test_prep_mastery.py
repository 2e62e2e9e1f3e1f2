"""Topic mastery (lms/prep/mastery.py): the Elo-style model on hand-made histories with known answers,
and the estimates kept from every graded answer through the real exam and practice code."""
import math
from datetime import datetime

import pytest
from sqlalchemy import func, select

from lms import config
from lms.exams import attempts, practice
from lms.exams.models import Question
from lms.extensions import db
from lms.prep import mastery
from lms.prep.models import GradedAnswer, TopicMastery

from .test_mock_exams import make_bank, right, small_exam, worker

P = mastery.Params()  # k 0.8, decay 0.15, floor 0.25, logits −1 / 0 / +1


def history(answers, params=P):
    """(difficulty, credit) pairs on one topic → the estimate after them."""
    return mastery.replay(((1, "t", d, c) for d, c in answers), params)[(1, "t")]


def test_a_hand_made_history_gives_the_numbers_worked_out_by_hand():
    # 1st answer, medium, right: p = 0.5, K = 0.8 → theta 0.4
    first = history([(2, 1)])
    assert first.theta == pytest.approx(0.4) and first.evidence == 1 and first.information == pytest.approx(0.25)
    # 2nd, medium, wrong: p = σ(0.4) = 0.598688, K = 0.8 / 1.15 = 0.695652 → 0.4 − 0.416479 = −0.016479
    second = history([(2, 1), (2, 0)])
    assert second.theta == pytest.approx(0.4 - 0.8 / 1.15 / (1 + math.exp(-0.4)), abs=1e-12)
    assert second.theta == pytest.approx(-0.016479, abs=1e-6)
    # 3rd, hard, half credit (a multiple choice partly right): p = σ(−0.016479 − 1) = 0.265714,
    # K = 0.8 / 1.3 = 0.615385 → −0.016479 + 0.615385 × 0.234286 = 0.127698
    third = history([(2, 1), (2, 0), (3, 0.5)])
    assert third.theta == pytest.approx(0.127698, abs=1e-6)
    assert third.evidence == 3
    assert mastery.percent(third.theta, P) == 53  # σ(0.1276) = 0.532


def test_the_step_never_falls_below_its_floor_so_recent_answers_weigh_more():
    assert mastery.k_factor(0, P) == pytest.approx(0.8)
    assert mastery.k_factor(100, P) == pytest.approx(0.25)
    # The same ten answers, five right and five wrong, in two orders: the worker who got the last five
    # right is estimated higher than the one who got the first five right.
    improving = history([(2, 0)] * 5 + [(2, 1)] * 5)
    declining = history([(2, 1)] * 5 + [(2, 0)] * 5)
    assert improving.theta > 0 > declining.theta and improving.theta - declining.theta > 0.15
    # After 200 wrong answers, 20 right ones still lift the estimate by more than one logit.
    low = history([(2, 0)] * 200)
    assert history([(2, 0)] * 200 + [(2, 1)] * 20).theta > low.theta + 1


def test_difficulty_counts():
    hard_right, easy_right = history([(3, 1)]), history([(1, 1)])
    easy_wrong, hard_wrong = history([(1, 0)]), history([(3, 0)])
    assert hard_right.theta > easy_right.theta > 0 > hard_wrong.theta > easy_wrong.theta
    # A strong worker (theta 2) answering an easy question right learns little about them.
    strong = mastery.Estimate(theta=2.0, evidence=50, information=5.0)
    assert mastery.step(strong, 1, 1, P).theta - 2.0 < 0.02


def test_the_standard_error_shrinks_with_evidence():
    assert mastery.standard_error(0) == 1.0
    assert mastery.standard_error(history([(2, 1), (2, 0)] * 20).information) < 0.35
    assert not mastery.settled(4, P) and mastery.settled(5, P)


def test_settings_are_checked(monkeypatch):
    monkeypatch.setenv("PREP_DIFFICULTY_LOGITS", "1,0,-1")
    with pytest.raises(ValueError, match="PREP_DIFFICULTY_LOGITS"):
        config.from_env()
    monkeypatch.setenv("PREP_DIFFICULTY_LOGITS", "-2,0,2")
    monkeypatch.setenv("PREP_EXAM_DATE", "02-30")
    with pytest.raises(ValueError, match="PREP_EXAM_DATE"):
        config.from_env()
    monkeypatch.setenv("PREP_EXAM_DATE", "6-9")
    settings = config.from_env()
    assert settings["PREP_EXAM_DATE"] == "06-09" and settings["PREP_DIFFICULTY_LOGITS"] == [-2.0, 0.0, 2.0]


# --- kept from the real grading -------------------------------------------------------------------------

def rows(user_id):
    return {(m.subject_id, m.topic): (m.theta, m.evidence, m.information)
            for m in db.session.scalars(select(TopicMastery).where(TopicMastery.user_id == user_id))}


def test_every_graded_answer_moves_the_estimates_and_a_rebuild_agrees(ctx, world, clock):
    clock.set(datetime(2026, 3, 2, 1, 0))
    make_bank()
    user = worker()
    exam = small_exam()
    attempt = attempts.start(user, exam)
    items = attempt.paper["items"]
    for key in list(items)[:4]:
        attempts.save(attempt, key, right(items[key]), 1)
    attempts.finish(attempt)
    logged = db.session.scalars(select(GradedAnswer).where(GradedAnswer.attempt_id == attempt.id)).all()
    assert len(logged) == 8 and {g.source for g in logged} == {"mock"}   # 5 single + 3 multiple, all objective
    assert sum(g.credit for g in logged) == pytest.approx(sum(
        float(a.score) / items[a.item]["points"] for a in attempts.saved_answers(attempt).values()))
    # Practice: one answer is evidence once; the same question again at once is not (its answer was shown),
    # nor one the paper just had (its explanation is on the result page).
    on_paper = {i["qid"] for i in items.values()}
    q = db.session.scalar(select(Question).where(Question.external_id.like("t-junior-general-s%"),
                                                 Question.id.not_in(on_paper)).limit(1))
    seen = db.session.get(Question, logged[0].question_id)
    before = rows(user.id)
    practice.answer(user, seen, "Z")
    assert rows(user.id) == before
    practice.answer(user, q, "Z")
    before = rows(user.id)
    practice.answer(user, q, q.answer[0])
    assert rows(user.id) == before
    clock.advance(hours=21)
    practice.answer(user, q, q.answer[0], source="review")
    after = rows(user.id)
    key = (q.subject_id, q.topic)
    assert after[key][1] == before[key][1] + 1 and after[key][0] > before[key][0]
    assert db.session.scalar(select(func.count()).select_from(GradedAnswer).where(
        GradedAnswer.user_id == user.id)) == 10
    # The log replayed gives exactly what the updates kept.
    kept = rows(user.id)
    assert mastery.rebuild(user.id) == len(kept)
    rebuilt = rows(user.id)
    assert rebuilt.keys() == kept.keys()
    for k in kept:
        assert rebuilt[k] == pytest.approx(kept[k], abs=1e-9)


def test_a_written_answer_is_not_evidence(ctx, world):
    from .test_mock_exams import default_exam, make_case_bank
    make_case_bank()
    attempt = attempts.start(worker(), default_exam("mid-practice"))
    attempts.finish(attempt)
    types = {attempt.paper["items"][k]["type"] for k in attempts.answerable(attempt)}
    assert "essay" in types
    logged = db.session.scalars(select(GradedAnswer).where(GradedAnswer.attempt_id == attempt.id)).all()
    objective = [k for k in attempts.answerable(attempt) if attempt.paper["items"][k]["type"] != "essay"]
    assert len(logged) == len(objective) > 0
