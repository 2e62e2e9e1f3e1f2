"""On track (lms/prep/track.py): the one rule of the plan, the calendar and the office page, on hand-made cases."""
from datetime import date

import pytest

from lms.prep import mastery, track

P = mastery.Params()


def test_weights_follow_the_blueprint_and_share_the_rest():
    w = track.topic_weights(["甲", "乙", "丙", "丁"], {"甲": 0.4, "乙": 0.2, "不在其中": 0.3})
    assert w == pytest.approx({"甲": 0.4, "乙": 0.2, "丙": 0.2, "丁": 0.2})
    assert track.topic_weights(["甲", "乙"], {}) == pytest.approx({"甲": 0.5, "乙": 0.5})
    # Shares over 1 are scaled down; nothing is left for the unnamed topic.
    assert track.topic_weights(["甲", "乙", "丙"], {"甲": 0.8, "乙": 0.4}) == pytest.approx(
        {"甲": 2 / 3, "乙": 1 / 3, "丙": 0.0})
    assert track.topic_weights([], {"甲": 1}) == {}


def test_the_expected_share_grows_through_the_study_period():
    start, exam = date(2027, 1, 1), date(2027, 6, 14)   # study period ends 14 days before: 2027-05-31
    assert track.expected_share(date(2027, 1, 1), start, exam) == 0.0
    assert track.expected_share(date(2027, 3, 17), start, exam) == pytest.approx(75 / 150)
    assert track.expected_share(date(2027, 5, 31), start, exam) == 1.0
    assert track.expected_share(date(2027, 6, 20), start, exam) == 1.0
    assert track.expected_share(date(2027, 6, 5), date(2027, 6, 1), exam) == 1.0  # planned too late to study


def test_on_track_counts_only_settled_topics_at_the_target():
    weights = {"甲": 0.5, "乙": 0.25, "丙": 0.25}
    strong = mastery.Estimate(theta=1.5, evidence=12, information=2.0)   # 82 %, settled
    unsure = mastery.Estimate(theta=3.0, evidence=3, information=0.5)    # 95 % but only 3 answers
    weak = mastery.Estimate(theta=-0.5, evidence=30, information=6.0)    # 38 %
    start, exam = date(2027, 1, 1), date(2027, 6, 14)
    mid = date(2027, 3, 17)                                               # half the period gone
    got = track.progress(mid, start, exam, weights, {"甲": strong, "乙": unsure, "丙": weak}, P, 70)
    assert got.mastered == pytest.approx(0.5) and got.expected == pytest.approx(0.5) and got.on_track
    got = track.progress(mid, start, exam, weights, {"乙": strong, "丙": strong, "甲": weak}, P, 70)
    assert got.mastered == pytest.approx(0.5) and got.on_track
    got = track.progress(mid, start, exam, weights, {"乙": strong, "甲": unsure}, P, 70)
    assert got.mastered == pytest.approx(0.25) and not got.on_track       # 0.25 < 0.5 − 0.1
    assert track.progress(start, start, exam, weights, {}, P, 70).on_track  # nothing expected on day one
