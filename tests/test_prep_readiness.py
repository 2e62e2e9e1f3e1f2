"""Readiness (lms/prep/readiness.py): the score distribution on hand-made cases with known answers, the
calibration on simulated candidates (tests/sim_candidates.py), and the worker's figure from the database."""
import math
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lms.exams.models import Attempt, Exam, ExamSubject, Question
from lms.extensions import db
from lms.prep import mastery, readiness
from lms.prep.models import GradedAnswer, TopicMastery

from . import sim_candidates as sim

P = mastery.Params()
MEDIUM = (0.0, 1.0, 0.0)


def paper(*blocks, pass_score=5.0, step=1.0):
    total = sum(b.count * b.points for b in blocks)
    return readiness.Paper(tuple(blocks), pass_score, total, step)


# --- the score distribution on hand-made cases ----------------------------------------------------------

def test_ten_medium_questions_at_even_odds():
    one = paper(readiness.Block("甲", 10, 1.0, MEDIUM))
    est = {"甲": mastery.Estimate(theta=0.0, evidence=12, information=3.0)}   # standard error 1/sqrt(4) = 0.5
    s = readiness.score(one, est, P)
    assert s.mean == pytest.approx(5.0)                  # 10 × ½
    assert s.var_paper == pytest.approx(2.5)             # 10 × ½ × ½
    assert s.var_estimate == pytest.approx((10 * 0.25 * 0.5) ** 2)   # slope 2.5 points per logit × 0.5 logit
    p, low, high = readiness.chance(s, one)
    # P(score ≥ 5) with the half-step correction: Φ((5 − 4.5) / sqrt(2.5 + 1.5625))
    assert p == pytest.approx(0.5 * (1 + math.erf(0.5 / math.sqrt(4.0625) / math.sqrt(2))))
    shift = 1.2815515655446004 * 1.25
    assert low == pytest.approx(0.5 * (1 + math.erf((0.5 - shift) / math.sqrt(2.5) / math.sqrt(2))))
    assert high == pytest.approx(0.5 * (1 + math.erf((0.5 + shift) / math.sqrt(2.5) / math.sqrt(2))))
    assert low < p < high


def test_the_standard_error_never_falls_below_the_ratings_own_noise():
    # K_MIN 0.25: the rating keeps moving by about sqrt(0.25 / 1.9375) = 0.359 logits around the truth.
    assert readiness.rating_noise(P) == pytest.approx(math.sqrt(0.25 / 1.9375))
    many = mastery.Estimate(theta=0.0, evidence=400, information=100.0)
    assert readiness.theta_error(many, P) == pytest.approx(0.359, abs=1e-3)
    assert readiness.theta_error(mastery.Estimate(), P) == pytest.approx(1.0)   # no answers: the prior's 1 logit


def test_difficulty_mix_points_and_unknown_topics():
    # Two topics: 甲 two-point items, all hard; 乙 one-point items half easy half hard, never answered.
    two = paper(readiness.Block("甲", 4, 2.0, (0, 0, 1)), readiness.Block("乙", 6, 1.0, (0.5, 0, 0.5)))
    est = {"甲": mastery.Estimate(theta=1.0, evidence=20, information=4.0)}
    s = readiness.score(two, est, P)
    p_easy, p_hard = 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))   # 乙 at theta 0: σ(1), σ(−1)
    right_yi = 0.5 * p_easy + 0.5 * p_hard                           # = 0.5
    assert s.mean == pytest.approx(4 * 2 * 0.5 + 6 * right_yi)       # 甲: theta 1 against b 1 → ½
    assert s.var_paper == pytest.approx(4 * 4 * 0.25 + 6 * right_yi * (1 - right_yi))
    slope_jia = 4 * 2 * 0.25
    slope_yi = 6 * (0.5 * p_easy * (1 - p_easy) + 0.5 * p_hard * (1 - p_hard))
    se_jia = max(1 / math.sqrt(5), readiness.rating_noise(P))
    assert s.var_estimate == pytest.approx((slope_jia * se_jia) ** 2 + (slope_yi * 1.0) ** 2)
    assert two.weights == pytest.approx({"甲": 8 / 14, "乙": 6 / 14})


def test_the_paper_follows_the_blueprint_and_the_bank():
    def q(i, qtype, topic, difficulty, options):
        return {"id": i, "type": qtype, "topic": topic, "difficulty": difficulty, "options": [{}] * options}

    bank = ([q(i, "single", "甲", 1 + i % 2, 4) for i in range(4)] + [q(10 + i, "single", "乙", 3, 4) for i in range(2)]
            + [q(20, "single", "丙", 2, 3)]                  # 3 options: never drawn for this section
            + [q(30 + i, "multiple", "丙", 2, 5) for i in range(3)])
    sections = [{"type": "single", "count": 10, "points": 1, "options": 4},
                {"type": "multiple", "count": 5, "points": 2, "partial_points": 0.5, "options": 5}]
    got = readiness.paper_model(sections, {"甲": 0.6}, {}, 12, bank)
    blocks = {(b.topic, b.points): b for b in got.blocks}
    assert blocks[("甲", 1.0)].count == pytest.approx(6) and blocks[("甲", 1.0)].mix == (0.5, 0.5, 0.0)
    assert blocks[("乙", 1.0)].count == pytest.approx(4) and blocks[("乙", 1.0)].mix == (0.0, 0.0, 1.0)
    assert blocks[("丙", 2.0)].count == pytest.approx(5)
    assert ("丙", 1.0) not in blocks
    assert got.total == 20 and got.pass_score == 12 and got.step == 0.5
    fixed = readiness.paper_model(sections, {}, {"1": 0.2, "3": 0.2}, 12, bank)
    assert all(b.mix == pytest.approx((0.2, 0.6, 0.2)) for b in fixed.blocks)   # unnamed 2 takes the rest
    # Cases and essays are marked by hand: no readiness for such a paper.
    assert readiness.paper_model([{"type": "case", "count": 4, "points": 20}], {}, {}, 60, bank) is None


def test_enough_evidence_means_settled_topics_carrying_the_share():
    three = paper(readiness.Block("甲", 5, 1.0, MEDIUM), readiness.Block("乙", 3, 1.0, MEDIUM),
                  readiness.Block("丙", 2, 1.0, MEDIUM))
    est = {"甲": mastery.Estimate(0.3, 5, 1.2), "乙": mastery.Estimate(0.1, 9, 2.0),
           "丙": mastery.Estimate(0.0, 2, 0.5)}
    covered, missing = readiness.coverage(three, est, P)
    assert covered == pytest.approx(0.8) and readiness.enough(covered, 80)
    assert [(m.topic, m.needed) for m in missing] == [("丙", 3)]
    est["甲"] = mastery.Estimate(0.3, 4, 1.0)
    covered, missing = readiness.coverage(three, est, P)
    assert covered == pytest.approx(0.3) and not readiness.enough(covered, 80)
    assert [m.topic for m in missing] == ["甲", "丙"]                      # heaviest first
    got = readiness.judge(three, est, readiness.Calibration(), P, 80)
    assert got.readiness is None and "30%" in got.reason and "80%" in got.reason


def test_platt_scaling_recovers_a_known_map():
    import random

    rng = random.Random(3)
    pairs = []
    for _ in range(20000):
        p = rng.random() * 0.98 + 0.01
        true = 1 / (1 + math.exp(-(0.6 * math.log(p / (1 - p)) + 0.8)))
        pairs.append((p, rng.random() < true))
    a, b = readiness.platt(pairs)
    assert a == pytest.approx(0.6, abs=0.05) and b == pytest.approx(0.8, abs=0.05)
    # Too few pairs: the model's own chance, said to be uncalibrated.
    few = readiness.fit(pairs[:10], minimum=40)
    assert not few.fitted and few.apply(0.3) == 0.3 and few.pairs == 10
    # All passed: the prior keeps the map finite.
    a, b = readiness.platt([(0.6, True)] * 50)
    assert math.isfinite(a) and math.isfinite(b) and b > 0


# --- calibration on simulated candidates ----------------------------------------------------------------
# 2,000 candidates fit the calibration, 2,000 others (another seed) test it: two mock exams each, the
# readiness just before each against its simulated outcome. Stated tolerance: ECE ≤ 0.05 over 10 bins.

ECE_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def simulated():
    train, test = sim.simulate(2000, seed=20261207), sim.simulate(2000, seed=7)
    return readiness.fit(sim.pairs(train), minimum=40), test


def test_the_readiness_is_calibrated_on_simulated_candidates(simulated):
    calibration, test = simulated
    pairs = sim.pairs(test)
    assert len(pairs) > 3000                                     # most sittings have enough evidence
    assert 0.3 < sum(y for _p, y in pairs) / len(pairs) < 0.7     # candidates on both sides of the line
    table = readiness.reliability([(calibration.apply(p), y) for p, y in pairs], bins=10)
    error = readiness.calibration_error(table)
    report = "\n".join(f"{b.low:.1f}–{b.high:.1f}: n={b.count:4d} given {b.predicted:.3f} passed {b.observed:.3f}"
                       for b in table)
    assert error <= ECE_TOLERANCE, report
    # Where it says "very likely" and "very unlikely", it is: the outer bins hold many and match closely.
    assert table[0].count > 300 and abs(table[0].predicted - table[0].observed) < 0.03, report
    assert table[-1].count > 300 and abs(table[-1].predicted - table[-1].observed) < 0.03, report


def test_the_check_fails_on_a_model_miscalibrated_on_purpose(simulated):
    calibration, test = simulated
    for shift in (0.5, -0.5):   # every estimate half a logit too high, then too low
        pairs = sim.pairs(test, shift=shift)
        error = readiness.calibration_error(readiness.reliability([(calibration.apply(p), y) for p, y in pairs], 10))
        assert error > ECE_TOLERANCE


# --- the worker's figure from the database ------------------------------------------------------------

def _bank(subject: ExamSubject) -> Exam:
    from .test_mock_exams import make_bank

    make_bank(subject.code)
    return db.session.scalar(select(Exam).where(Exam.code == subject.code))


def _estimates(user_id: int, subject_id: int, rows: dict) -> None:
    db.session.execute(insert(TopicMastery), [
        {"user_id": user_id, "subject_id": subject_id, "topic": t, "theta": th, "evidence": n, "information": i,
         "last_answer_at": datetime(2026, 6, 1)} for t, (th, n, i) in rows.items()])


def test_a_worker_with_enough_evidence_sees_the_figure_computed_by_hand(ctx, world):
    subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
    exam = _bank(subject)
    readiness.forget_calibrations()
    worker = world["worker_a"]
    # make_bank: 伦理 / 理论 / 方法 spread evenly over both sections, difficulties 1, 2, 3 evenly.
    _estimates(worker, subject.id, {"伦理": (0.8, 20, 4.0), "理论": (0.5, 12, 2.5), "方法": (0.2, 6, 1.2)})
    db.session.flush()
    got = readiness.assess(worker, subject)
    assert got.readiness is not None and got.reason is None
    paper = readiness.paper_of(exam)
    assert paper.total == 100 and paper.pass_score == 60
    est = {t: mastery.Estimate(*v) for t, v in {"伦理": (0.8, 20, 4.0), "理论": (0.5, 12, 2.5),
                                                "方法": (0.2, 6, 1.2)}.items()}
    p, low, high = readiness.chance(readiness.score(paper, est, P), paper)
    r = got.readiness
    assert (r.probability, r.low, r.high) == pytest.approx((p, low, high))    # no mock results yet: uncalibrated
    assert not r.calibrated and r.pairs == 0 and r.answers == 38 and r.settled_topics == 3
    assert readiness.for_worker(worker, subject) == r
    # Another worker's rows are not this worker's evidence.
    assert readiness.assess(world["worker_b"], subject).readiness is None


def test_without_enough_evidence_the_page_says_what_is_missing(app, client, world):
    from lms.extensions import db as _db

    with app.app_context():
        subject = _db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
        _bank(subject)
        _estimates(world["worker_a"], subject.id, {"伦理": (0.8, 20, 4.0), "理论": (0.5, 3, 0.7)})
        _db.session.commit()
        readiness.forget_calibrations()
        got = readiness.assess(world["worker_a"], subject)
        assert got.readiness is None and {m.topic for m in got.missing} == {"方法", "理论"}
        from flask import render_template

        with app.test_request_context():
            html = render_template("prep/_readiness.html", assessment=got)
    assert "理论" in html and "方法" in html and "readiness-figure" not in html


def test_the_calibration_replays_each_workers_log_up_to_the_attempts_start(ctx, world, app):
    subject = db.session.scalar(select(ExamSubject).where(ExamSubject.code == "junior-general"))
    exam = _bank(subject)
    paper = readiness.paper_of(exam)
    start = datetime(2026, 5, 1, 2, 0)
    users = [world[n] for n in ("worker_a", "worker_b", "worker_c", "worker_d")]
    qid = db.session.scalar(select(Question.id).where(Question.subject_id == subject.id).limit(1))
    expected = []
    for i, user_id in enumerate(users):
        # 8 answers per topic before the mock, then the mock's own answers (after its start: not evidence for it).
        log = [(subject.id, t, 1 + k % 3, 1.0 if (k + i) % 4 else 0.0)
               for t in ("伦理", "理论", "方法") for k in range(8)]
        db.session.execute(insert(GradedAnswer), [
            {"user_id": user_id, "question_id": qid, "subject_id": s, "topic": t, "difficulty": d, "source": "practice",
             "credit": c, "answered_at": start - timedelta(days=3, minutes=-k)} for k, (s, t, d, c) in enumerate(log)])
        passed = i % 2 == 0
        attempt = Attempt(user_id=user_id, exam_id=exam.id, seed=1, paper={}, started_at=start,
                          deadline_at=start + timedelta(hours=2), status="graded", max_score=Decimal(100),
                          score=Decimal(70 if passed else 40), passed=passed)
        db.session.add(attempt)
        db.session.flush()
        db.session.execute(insert(GradedAnswer), [
            {"user_id": user_id, "question_id": qid, "subject_id": subject.id, "topic": "伦理", "difficulty": 2,
             "source": "mock", "attempt_id": attempt.id, "credit": 0.0, "answered_at": start + timedelta(hours=1)}])
        est = {t: e for (_s, t), e in mastery.replay(log, P).items()}
        expected.append((readiness.chance(readiness.score(paper, est, P), paper)[0], passed))
    pairs = readiness.history_pairs(exam, paper, P, 80)
    assert [p for p, _y in sorted(pairs)] == pytest.approx([p for p, _y in sorted(expected)])
    assert [y for _p, y in sorted(pairs)] == [y for _p, y in sorted(expected)]
    readiness.forget_calibrations()
    app.config["PREP_CALIBRATION_MIN"] = 4
    try:
        calibration = readiness.calibration_for(exam, paper)
    finally:
        app.config["PREP_CALIBRATION_MIN"] = 40
        readiness.forget_calibrations()
    assert calibration.fitted and calibration.pairs == 4
    assert (calibration.a, calibration.b) == pytest.approx(readiness.platt(expected))
