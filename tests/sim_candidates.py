"""Simulated candidates for the readiness calibration test: known true abilities per topic, answers drawn
by the Rasch model, estimates made by the real model (mastery.replay). Pure Python, no database.

A candidate has a general ability g ~ N(0.4, 0.8) and on each topic g + N(0, 0.5) (logits). Each question's
true difficulty is its level's logit plus N(0, 0.3) (the bank's levels are rough). A candidate practises
4–25 questions per topic, sits a full mock exam (60 single × 1 + 20 multiple × 2, pass line 60), learns a
little (+N(0.15, 0.1) per topic), practises 0–15 more per topic and sits a second mock exam. A multiple
choice is fully right with the Rasch chance, otherwise partly right (0.5 or 1 point of 2) one time in three:
the model treats it as right-or-wrong, the calibration has to absorb the difference.
"""
import math
import random
from dataclasses import dataclass

from lms.exams.assembly import quotas
from lms.prep import mastery, readiness

TOPICS = [f"知识点{i:02d}" for i in range(11)]
SECTIONS = [{"type": "single", "count": 60, "points": 1, "options": 4},
            {"type": "multiple", "count": 20, "points": 2, "partial_points": 0.5, "options": 5}]
PASS = 60.0
P = mastery.Params()


def candidates_bank() -> list[dict]:
    """A bank with every topic at every difficulty for both sections."""
    out, n = [], 0
    for topic in TOPICS:
        for d in (1, 2, 3):
            for qtype, k in (("single", 4), ("multiple", 5)):
                n += 1
                out.append({"id": n, "type": qtype, "topic": topic, "difficulty": d, "options": [{}] * k})
    return out


PAPER = readiness.paper_model(SECTIONS, {}, {}, PASS, candidates_bank())


@dataclass
class Sitting:
    estimates: dict[str, mastery.Estimate]   # the model's, just before the mock exam started
    passed: bool
    score: float


def _p(theta: float, b: float) -> float:
    return 1.0 / (1.0 + math.exp(-(theta - b)))


def _practise(rng, truth, log, low, high):
    answers = []
    for topic in TOPICS:
        for _ in range(rng.randint(low, high)):
            d = rng.randint(1, 3)
            answers.append((1, topic, d, 1.0 if rng.random() < _p(truth[topic], P.b(d) + rng.gauss(0, 0.3)) else 0.0))
    rng.shuffle(answers)
    log.extend(answers)


def _mock(rng, truth, log) -> float:
    total = 0.0
    for section in SECTIONS:
        for topic, count in quotas(section["count"], {t: 1 / len(TOPICS) for t in TOPICS}, TOPICS).items():
            for _ in range(count):
                d = rng.randint(1, 3)
                p = _p(truth[topic], P.b(d) + rng.gauss(0, 0.3))
                if section["type"] == "single":
                    credit = 1.0 if rng.random() < p else 0.0
                elif rng.random() < p:
                    credit = 1.0
                else:
                    credit = rng.choice((0.25, 0.5)) if rng.random() < 1 / 3 else 0.0
                total += credit * section["points"]
                log.append((1, topic, d, credit))
    return total


def simulate(n: int, seed: int) -> list[Sitting]:
    rng = random.Random(seed)
    sittings = []
    for _ in range(n):
        g = rng.gauss(0.4, 0.8)
        truth = {t: g + rng.gauss(0, 0.5) for t in TOPICS}
        log: list[tuple[int, str, int, float]] = []
        _practise(rng, truth, log, 4, 25)
        for _sitting in range(2):
            before = {t: e for (_s, t), e in mastery.replay(log, P).items()}
            got = _mock(rng, truth, log)
            sittings.append(Sitting(before, got >= PASS, got))
            for t in TOPICS:
                truth[t] += rng.gauss(0.15, 0.1)
            _practise(rng, truth, log, 0, 15)
    return sittings


def pairs(sittings: list[Sitting], shift: float = 0.0, threshold: int = 80) -> list[tuple[float, bool]]:
    """(the model's chance, passed) for the sittings with enough evidence; `shift` moves every estimate by
    that many logits (a model miscalibrated on purpose)."""
    out = []
    for s in sittings:
        est = {t: mastery.Estimate(e.theta + shift, e.evidence, e.information) for t, e in s.estimates.items()}
        covered, _missing = readiness.coverage(PAPER, est, P)
        if readiness.enough(covered, threshold):
            out.append((readiness.chance(readiness.score(PAPER, est, P), PAPER)[0], s.passed))
    return out
