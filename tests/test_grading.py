"""The grading registry and the official scoring rules (DESIGN.md §3, §5): pure functions, no database."""
from decimal import Decimal

import pytest

from lms.exams.grading import GRADERS, chosen_letters, grade, grade_parts
from lms.exams.models import TYPES, Question

SINGLE = {"type": "single", "answer": ["B"], "points": 1}
MULTIPLE = {"type": "multiple", "answer": ["A", "C", "D"], "points": 2}


def test_every_question_type_has_exactly_one_grader():
    assert set(GRADERS) == set(TYPES)
    with pytest.raises(ValueError):
        grade({"type": "fill-in"}, "x")


@pytest.mark.parametrize("response, score", [
    ("B", 1), (["B"], 1), ("b", 1), ({"B"}, 1), (["B", "B"], 1),       # forms of the same right answer
    ("A", 0), (["B", "C"], 0), ("BC", 0),                                # wrong, or more than one letter
    (None, 0), ("", 0), ([], 0),                                         # nothing answered
    ("Z", 0), ("?", 0), (7, 0), ({"B": True}, 0), (["BB"], 0), ([None], 0),  # unknown or malformed
])
def test_single_choice_is_all_or_nothing(response, score):
    assert grade(SINGLE, response) == score


def test_points_come_from_the_question_data():
    assert grade(dict(SINGLE, points=Decimal("1.5")), "B") == Decimal("1.5")
    assert grade({"type": "single", "answer": ["B"]}, "B") == 1  # no figure given: one point


@pytest.mark.parametrize("response, score", [
    ("ACD", 2), ("DCA", 2), (["A", "C", "D"], 2), ("a,c,d", 2),          # exactly the right set: full 2
    ("A", Decimal("0.5")), ("AC", 1), ("a c", 1), (["D", "A"], 1),       # only right ones, not all: 0.5 each
    (["A", "A"], Decimal("0.5")), ("AACC", 1),                           # duplicates count once
    ("AB", 0), ("ACDB", 0), ("B", 0), ("ABCDE", 0),                      # any wrong option: 0
    ("AZ", 0), ("AC?", 0), ([1, 2], 0),                                  # unknown letters count as wrong
    (None, 0), ("", 0), ([], 0), (set(), 0),                             # nothing answered
])
def test_multiple_choice_follows_the_exam_rule(response, score):
    assert grade(MULTIPLE, response) == score


def test_the_partial_value_is_data_and_never_beats_full_marks():
    assert grade(dict(MULTIPLE, partial_points="0.25"), "A") == Decimal("0.25")
    assert grade(dict(MULTIPLE, partial_points=1), "AC") == 2          # capped at the question's points
    assert grade(dict(MULTIPLE, points=4, partial_points=1), "AC") == 2


def test_a_multiple_choice_answer_may_be_stored_as_letters():
    assert grade({"type": "multiple", "answer": "ACD", "points": 2}, "AC") == 1


@pytest.mark.parametrize("right, response, score", [
    (True, True, 1), (True, "true", 1), (True, "T", 1), (False, False, 1), (False, "false", 1),
    (True, False, 0), (False, True, 0), (True, None, 0), (True, "", 0), (True, 1, 0), (True, "maybe", 0),
])
def test_judge(right, response, score):
    assert grade({"type": "judge", "answer": right, "points": 1}, response) == score


def test_essays_need_marking():
    assert grade({"type": "essay", "points": 20}, "我的答案……") is None
    assert grade({"type": "essay", "points": 20}, None) is None


def test_a_case_sums_its_parts_or_waits_for_marking():
    objective = {"type": "case", "parts": [
        {"type": "single", "answer": ["B"], "points": 2},
        {"type": "multiple", "answer": ["A", "B", "D"], "points": 4, "partial_points": 1},
    ]}
    assert grade(objective, {1: "B", 2: "ABD"}) == 6
    assert grade(objective, {"1": "B", "2": "AB"}) == 4
    assert grade(objective, ["C", "ABD"]) == 4
    assert grade(objective, None) == 0
    with_essay = {"type": "case", "parts": objective["parts"] + [{"type": "essay", "points": 10}]}
    assert grade(with_essay, {1: "B", 2: "ABD", 3: "……"}) is None
    assert grade_parts(with_essay, {1: "B", 2: "ABE", 3: "……"}) == [2, 0, None]


def test_question_rows_grade_like_plain_data():
    q = Question(type="multiple", answer=["A", "B"], points=Decimal(2))
    assert grade(q, "AB") == 2 and grade(q, "A") == Decimal("0.5") and grade(q, "AE") == 0
    case = Question(type="case", parts=[Question(type="single", answer=["C"], points=Decimal(2), position=1),
                                        Question(type="essay", points=Decimal(8), position=2)])
    assert grade_parts(case, {1: "C", 2: "text"}) == [2, None]


def test_chosen_letters_normalises_responses():
    assert chosen_letters(" a、c，d ") == {"A", "C", "D"}
    assert chosen_letters(None) == set()
    assert chosen_letters(b"AB") is None and chosen_letters(3) is None
