"""A question type is one registered object (lms/exams/qtypes): adding one is a module, its partial and a
registry entry. A throw-away type proves it end to end: bank row, paper, autosave, grading, result page."""
import re
from decimal import Decimal, InvalidOperation

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from lms.exams import grading, qtypes
from lms.exams.models import PART_TYPES, TYPES, Attempt, AttemptAnswer, Exam, Mistake, Question
from lms.extensions import db

from .conftest import login, post_form
from .test_mock_exams import save_http, start_http, subject

# --- the throw-away type: what a new type's author writes -------------------------------------------

def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip().replace("，", ",").replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


class Numeric(qtypes.QuestionType):
    """A number, right within the question's tolerance (the module a new type would be)."""
    name = "numeric"
    label = "Numeric answer"
    objective = True

    def grade(self, question, response):
        right, given = _number(grading._get(question, "answer")), _number(response)
        if right is None or given is None or response in (None, ""):
            return grading.ZERO
        return grading.points_of(question) if abs(given - right) <= Decimal("0.01") else grading.ZERO

    def clean(self, response, letters):
        if not isinstance(response, str) or _number(response) is None:
            raise qtypes.ResponseError("An answer to this question is a number.")
        return response.strip()


PARTIAL = """{% import 'exams/types/_answer.html' as answer_line %}
{% macro take(item, key) %}<div class="answer-inputs" data-read="text">
  <input class="form-control answer-input" type="text" inputmode="decimal"
         name="q-{{ key }}" id="q-{{ key }}-number"></div>{% endmacro %}
{% macro result(it, a) %}{% call(response) answer_line.line(a, it.answer) %}{{ response }}{% endcall %}{% endmacro %}
"""


@pytest.fixture
def numeric_type(app):
    """Register the type and its partial for one test, then take both away again."""
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"exams/types/numeric.html": PARTIAL}), loader])
    qtypes.register(Numeric())
    try:
        yield
    finally:
        qtypes.unregister("numeric")
        app.jinja_env.loader = loader


# --- the tests ---------------------------------------------------------------------------------------------

def test_every_type_is_registered_once_with_its_label_grader_and_partial(app):
    assert list(TYPES) == ["single", "multiple", "judge", "case", "essay"]
    assert set(grading.GRADERS) == set(TYPES) and PART_TYPES == ("single", "multiple", "essay")
    assert qtypes.names(objective=True) == ("single", "multiple", "judge")
    assert qtypes.names(answerable=False) == ("case",) and qtypes.names(hand_marked=True) == ("essay",)
    with app.app_context():
        for qtype in qtypes.all_types():
            partial = app.jinja_env.get_template(qtype.template).module
            assert callable(partial.take) and callable(partial.result), qtype.name
    with pytest.raises(ValueError):
        qtypes.register(qtypes.get("single"))  # a name is registered once
    with pytest.raises(ValueError):
        grading.grade({"type": "numeric", "answer": "1"}, "1")  # not registered: no grader


def test_a_throw_away_type_is_taken_graded_and_shown_like_any_other(app, client, tx, numeric_type):
    assert TYPES["numeric"] == "Numeric answer" and grading.GRADERS["numeric"]
    with app.app_context():
        s = subject("junior-general")
        for i in range(3):
            db.session.add(Question(external_id=f"t-num{i}", subject=s, topic="统计", type="numeric", difficulty=2,
                                    stem=f"某社区{i}号楼独居老人有几位？", status="active", answer="12.5",
                                    explanation=f"解析数值{i}：逐户核对名册。"))
        exam = Exam(code="small-numeric", name="数值小测", subject=s, duration_minutes=30, pass_score=Decimal(2),
                    sections=[{"type": "numeric", "count": 2, "points": 2}])
        db.session.add(exam)
        db.session.flush()
        exam_id = exam.id
        db.session.commit()

    login(client, "worker_a")
    attempt_id = start_http(app, client, exam_id)
    page = client.get(f"/mock/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="q-1-number"' in page and 'id="q-2-number"' in page and 'data-read="text"' in page
    assert "Numeric answer" in page                                    # the section's label, from the registry
    assert "12.5" not in page and "解析数值" not in page                  # no answer leaks before submission

    assert save_http(client, attempt_id, "1", " 12.50 ", 1).json["seq"] == 1
    bad = save_http(client, attempt_id, "2", "twelve", 1)
    assert bad.status_code == 400 and "number" in bad.get_data(as_text=True)  # cleaned by the type
    assert save_http(client, attempt_id, "2", "7", 2).json["seq"] == 2
    state = client.get(f"/mock/attempts/{attempt_id}/state.json").json
    assert state["answers"] == {"1": {"response": "12.50", "seq": 1, "flagged": False},
                                "2": {"response": "7", "seq": 2, "flagged": False}}

    r = post_form(client, f"/mock/attempts/{attempt_id}/submit", page=f"/mock/attempts/{attempt_id}")
    assert r.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert (attempt.status, attempt.score, attempt.max_score, attempt.passed) == ("graded", 2, 4, True)
        scores = dict(db.session.execute(select(AttemptAnswer.item, AttemptAnswer.score)
                                         .where(AttemptAnswer.attempt_id == attempt_id)).all())
        assert scores == {"1": Decimal(2), "2": Decimal(0)}
        wrong_qid = attempt.paper["items"]["2"]["qid"]  # an objective type: the wrong one is in the mistakes book
        assert db.session.scalar(select(Mistake.question_id).where(Mistake.user_id == attempt.user_id)) == wrong_qid

    result = client.get(f"/mock/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Numeric answer" in result and "解析数值" in result
    one, two = result.split('id="result-1"')[1], result.split('id="result-2"')[1]
    assert '<span class="your-answer">12.50</span>' in one and '<span class="right-answer">12.5</span>' in one
    assert '<span class="your-answer">7</span>' in two
    assert re.search(r'class="item-score">2(\.0)? / 2(\.0)?<', one) and re.search(
        r'class="item-score">0(\.0)? / 2', two
    )


def test_unregistering_takes_the_type_away(numeric_type):
    assert "numeric" in TYPES
    qtypes.unregister("numeric")
    assert "numeric" not in TYPES and "numeric" not in grading.GRADERS
    with pytest.raises(ValueError):
        qtypes.get("numeric")
