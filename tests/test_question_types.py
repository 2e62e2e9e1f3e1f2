"""A question type is one registered object (lms/exams/qtypes): adding one is a module, its partial and a
registry entry. A throw-away type proves it end to end: bank row, paper, autosave, grading, result page,
practice with its feedback, the question form, GIFT import and export."""
import re
from decimal import Decimal, InvalidOperation

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from lms.auth.models import User
from lms.exams import grading, interchange, qtypes
from lms.exams.models import PART_TYPES, TYPES, Attempt, AttemptAnswer, Exam, Mistake, Question
from lms.extensions import db
from lms.tabular import ImportReport

from .conftest import login, post_form
from .test_exam_bank import submit
from .test_mock_exams import make_bank, make_case_bank, save_http, start_http, subject

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

    def sample_response(self, item, right, rng=None):
        answer = _number(grading._get(item, "answer"))
        return str(answer if right else answer + 1)

    # the bank and the question form
    answer_field = "answer_number"

    def check(self, data, complete):
        problems = super().check(data, complete)
        if _number(data.get("answer")) is None:
            problems.append((("answer",), "The answer of a numeric question is a number."))
        return problems

    def form_fields(self):
        return {"answer_number": StringField("Right number", validators=[Length(max=20)])}

    def from_form(self, form, data):
        data["answer"] = (form.answer_number.data or "").strip()

    def to_form(self, form, question):
        form.answer_number.data = question.answer

    # GIFT: Moodle's numerical form {#12.5}
    gift = True

    def gift_read(self, body):
        if not body.stripped.startswith("#"):
            return None
        value = body.stripped[1:].split(":")[0].strip()
        if _number(value) is None:
            return body.error(f"{value!r} is not a number.")
        return {"type": self.name, "options": [], "answer": value}

    def gift_lines(self, q, head, general):
        return [f"{head}{{#{q.answer}{general}}}"]


PARTIAL = """{% import 'exams/types/_answer.html' as answer_line %}
{% from '_macros.html' import field %}
{% macro take(item, key) %}<div class="answer-inputs" data-read="text">
  <input class="form-control answer-input" type="text" inputmode="decimal"
         name="q-{{ key }}" id="q-{{ key }}-number"></div>{% endmacro %}
{% macro result(it, a) %}{% call(response) answer_line.line(a, it.answer) %}{{ response }}{% endcall %}{% endmacro %}
{% macro practice(question) %}<input class="form-control" type="text" inputmode="decimal" name="choice"
  id="c-number">{% endmacro %}
{% macro feedback(question, fb) %}
  {% call(response) answer_line.verdict(fb, question.answer) %}{{ response }}{% endcall %}{% endmacro %}
{% macro form_fields(form) %}{{ field(form.answer_number) }}{% endmacro %}
{% macro detail(q) %}<p>Right number: <span class="answer">{{ q.answer }}</span></p>{% endmacro %}
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
            assert callable(partial.form_fields) and callable(partial.detail), qtype.name
            if qtype.practisable:
                assert callable(partial.practice) and callable(partial.feedback), qtype.name
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


def _numeric_questions(n=3, status="active"):
    s = subject("junior-general")
    for i in range(n):
        db.session.add(Question(external_id=f"t-num{i}", subject=s, topic="统计", type="numeric", difficulty=2,
                                stem=f"某社区{i}号楼独居老人有几位？", status=status, answer="12.5",
                                explanation=f"解析数值{i}：逐户核对名册。"))
    db.session.flush()
    return s


def test_a_throw_away_type_is_practised_with_its_own_inputs_and_feedback(app, client, tx, numeric_type):
    with app.app_context():
        sid = _numeric_questions().id
        db.session.commit()
    login(client, "worker_a")
    url = f"/mock/practice?subject={sid}&topic=统计"
    page = client.get(url).get_data(as_text=True)
    assert 'id="c-number"' in page and "12.5" not in page and "解析数值" not in page  # its input, no answer
    qid = int(re.search(r'name="question" value="(\d+)"', page).group(1))

    feedback = _feedback(client, url, qid, "7")
    assert "alert-danger" in feedback and '<strong class="your-answer">7</strong>' in feedback
    assert re.search(r"：12.5\s*</div>", feedback)
    with app.app_context():  # practice is a machine-graded type's: the wrong answer is in the mistakes book
        assert db.session.scalar(select(Mistake.question_id).where(Mistake.question_id == qid)) == qid

    assert "alert-success" in _feedback(client, url, qid, "12.50")


def test_a_throw_away_type_is_written_and_edited_in_the_question_form(app, client, tx, numeric_type):
    login(client, "trainer")
    url = "/exams/questions/new/numeric"
    html = client.get(url).get_data(as_text=True)
    assert 'name="answer_number"' in html and 'name="answer_single"' not in html and 'id="options"' not in html
    values = {"subject_id": str(db_subject_id(app)), "topic": "社会工作研究",
              "stem": "独居老人几位？", "explanation": "核对。"}
    r = submit(client, url, {**values, "answer_number": "twelve"})
    assert r.status_code == 200 and "is a number" in r.get_data(as_text=True)  # the type's check, under its field
    r = submit(client, url, {**values, "answer_number": "12.5"})
    assert r.status_code == 302
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.type == "numeric"))
        assert (question.answer, question.options, question.status) == ("12.5", [], "draft")
        qid = question.id
    assert '<span class="answer">12.5</span>' in client.get(f"/exams/questions/{qid}").get_data(as_text=True)
    edit = client.get(f"/exams/questions/{qid}/edit").get_data(as_text=True)
    assert re.search(r'name="answer_number"[^>]*value="12.5"', edit)
    assert submit(client, f"/exams/questions/{qid}/edit", {"answer_number": "13"}).status_code == 302
    with app.app_context():
        assert db.session.get(Question, qid).answer == "13"


def db_subject_id(app, code="junior-general") -> int:
    with app.app_context():
        return subject(code).id


def test_a_throw_away_type_is_imported_and_exported_in_gift(ctx, numeric_type):
    s = subject("junior-general")
    user = db.session.scalar(select(User).where(User.username == "trainer"))
    gift = ("::num-a::独居老人有几位？{#12.5####逐户核对。}\n\n"
            "::num-b::这是什么？{#twelve}\n\n"
            "::m::配对{=甲->乙 =丙->丁}\n")
    report, counts = interchange.import_file("gift", gift.encode(), "q.gift", s, "社会工作研究", user)
    errors = [(e.row, e.message) for e in report.errors]
    assert counts is None and errors[0] == (3, "'twelve' is not a number.")  # the type's own message, its line
    assert errors[1][0] == 5 and "Numeric answer" in errors[1][1]  # the registry's types, the new one among them

    report, counts = interchange.import_file("gift", gift.split("\n\n")[0].encode(), "q.gift", s, "社会工作研究", user)
    assert report.ok and counts.created == 1
    question = db.session.scalar(select(Question).where(Question.type == "numeric"))
    assert (question.answer, question.explanation) == ("12.5", "逐户核对。")
    text, skipped = interchange.export_gift([question], s)
    assert skipped == 0 and "{#12.5####逐户核对。}" in text
    again = interchange.parse_gift(text, ImportReport())
    assert [(i.data["type"], i.data["answer"]) for i in again] == [("numeric", "12.5")]

    qtypes.get("numeric").gift = False  # a type without a GIFT form: left out of the export and counted
    try:
        assert interchange.export_gift([question], s)[1] == 1
    finally:
        qtypes.get("numeric").gift = True


def test_a_sample_response_is_right_or_wrong_for_every_answerable_type(ctx, numeric_type):
    make_bank()
    questions = {q.type: q for q in db.session.scalars(select(Question).where(Question.external_id.like("t-%")))}
    questions["numeric"] = Question(type="numeric", answer="12.5")
    questions["essay"] = Question(type="essay", points=Decimal(10), reference="要点")
    for name in qtypes.names(objective=True):
        kind, q = qtypes.get(name), questions[name]
        assert kind.grade(q, kind.sample_response(q, True)) == grading.points_of(q), name
        assert kind.grade(q, kind.sample_response(q, False)) == 0, name
    assert qtypes.get("essay").sample_response(questions["essay"], True) == "要点"


def _feedback(client, url, question_id, choice) -> str:
    """Answer on the practice page: the feedback shown, from its alert to the explanation (excluded)."""
    r = post_form(client, "/mock/practice", {"question": question_id, "choice": choice}, page=url)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    start = html.rindex("<div", 0, html.index('id="practice-feedback"'))
    return html[start:html.index('class="markdown explanation"')]


def test_practice_feedback_shows_the_chosen_and_the_right_answer(app, client):
    """Issue 14: the worker sees what they chose (marked as theirs, in red when wrong) and what is right, as on
    the result page."""
    with app.app_context():
        sid = make_bank().id
        db.session.commit()
        ids = dict(db.session.execute(select(Question.external_id, Question.id).where(
            Question.external_id.in_(["t-junior-general-s1", "t-junior-general-m0", "t-junior-general-j1"]))).all())
    login(client, "worker_a")
    url = f"/mock/practice?subject={sid}"

    single = _feedback(client, url, ids["t-junior-general-s1"], "C")  # right: B
    assert '<strong class="your-answer">C</strong>' in single and re.search(r"：B\s*</div>", single)
    assert _options(single) == {"A": ("", "选项A1", ""), "B": ("option-right", "选项B1", "right"),
                                "C": ("option-chosen option-chosen-wrong", "选项C1", "mine ✗"),
                                "D": ("", "选项D1", "")}

    multiple = _feedback(client, url, ids["t-junior-general-m0"], ["A", "B"])  # right: ACD
    assert '<strong class="your-answer">AB</strong>' in multiple and re.search(r"：ACD\s*</div>", multiple)
    marks = {k: (cls, mark) for k, (cls, _text, mark) in _options(multiple).items()}
    assert marks == {"A": ("option-right option-chosen", "mine right"),
                     "B": ("option-chosen option-chosen-wrong", "mine ✗"),
                     "C": ("option-right", "right"), "D": ("option-right", "right"), "E": ("", "")}

    judge = _feedback(client, url, ids["t-junior-general-j1"], "false")  # right: true
    assert "alert-danger" in judge and '<strong class="your-answer">错</strong>' in judge
    assert re.search(r"：对\s*</div>", judge)

    right = _feedback(client, url, ids["t-junior-general-s1"], "B")
    assert "alert-success" in right and '<strong class="your-answer">B</strong>' in right
    assert _options(right)["B"] == ("option-right option-chosen", "选项B1", "mine right")


def _options(feedback: str) -> dict:
    """Option letter → (its classes, its text, its marks: "mine", "✗" when a wrong choice, "right")."""
    out = {}
    for cls, key, body in re.findall(r'<li class="([^"]*)" data-option="([A-H])">(.*?)</li>', feedback, re.S):
        text = re.match(r"\s*[A-H]\. ([^<]*?)\s*(<|$)", body).group(1)
        mine = re.search(r'mark-chosen">[^<]*?( ✗)?</span>', body)
        marks = (["mine"] if mine else []) + (["✗"] if mine and mine.group(1) else []) + (
            ["right"] if "mark-right" in body else [])
        out[key] = (" ".join(cls.split()), text, " ".join(marks))
    return out


def test_the_bank_page_of_each_type_shows_its_answer_through_its_partial(app, client):
    with app.app_context():
        make_bank()
        make_case_bank()
        db.session.commit()
        ids = dict(db.session.execute(select(Question.external_id, Question.id).where(Question.external_id.in_(
            ["t-junior-general-s1", "t-junior-general-m0", "t-junior-general-j1", "t-essay0", "t-case0"]))).all())
    login(client, "trainer")
    page = {ext: client.get(f"/exams/questions/{qid}").get_data(as_text=True) for ext, qid in ids.items()}
    assert '<span class="answer">B</span>' in page["t-junior-general-s1"]
    multiple = page["t-junior-general-m0"]
    assert '<span class="answer">ACD</span>' in multiple and "D. 多选项D0" in multiple
    assert '<span class="answer">对</span>' in page["t-junior-general-j1"]
    assert 'class="reference"' in page["t-essay0"] and "方案要点" in page["t-essay0"]
    case = page["t-case0"]
    assert case.count('class="card mb-3 part"') == 2 and "需求要点（12分）" in case
    assert '<span class="answer">B</span>' in case


def test_unregistering_takes_the_type_away(numeric_type):
    assert "numeric" in TYPES
    qtypes.unregister("numeric")
    assert "numeric" not in TYPES and "numeric" not in grading.GRADERS
    with pytest.raises(ValueError):
        qtypes.get("numeric")
