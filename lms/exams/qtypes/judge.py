"""判断: true or false."""
from flask_babel import gettext as _

from ...i18n import lazy_gettext as _l
from .. import grading
from .base import QuestionType, ResponseError, register


class Judge(QuestionType):
    name = "judge"
    label = _l("True or false")
    objective = True
    quiz_points = 1
    quiz_share = 10  # about one in ten of a course quiz

    answer_field = "answer_judge"

    def form_fields(self):
        from wtforms import SelectField
        from wtforms.validators import Optional

        return {"answer_judge": SelectField(_l("Right answer"), choices=[("true", _l("True")), ("false", _l("False"))],
                                            validators=[Optional()])}

    def sample_response(self, item, right, rng=None):
        answer = grading._get(item, "answer")
        return answer if right else not answer
    gift = True
    xlsx_words = ("judge", "判断", "判断题", "true/false")
    true_words = {"true", "t", "yes", "y", "对", "正确", "是", "√", "✓"}
    false_words = {"false", "f", "no", "n", "错", "错误", "否", "×", "✗"}

    def practice_response(self, form):
        value = form.get("choice")
        return True if value == "true" else False if value == "false" else None

    def gift_lines(self, q, head, general):
        return [f"{head}{{{'TRUE' if q.answer else 'FALSE'}{general}}}"]

    def gift_read(self, body):
        value, *notes = body.stripped.split("#", 2)
        value = value.strip().upper()
        if value not in ("T", "TRUE", "F", "FALSE"):
            return None
        # Moodle: the first feedback is shown for a wrong answer, the second for a right one.
        body.feedback += [note for note in (body.markup(n) for n in reversed(notes)) if note]
        return {"type": self.name, "options": [], "answer": value in ("T", "TRUE")}

    def xlsx_answer(self, text):
        word = text.strip().lower()
        if word in self.true_words or word in self.false_words:
            return word in self.true_words
        raise ValueError(_("The answer of a true-or-false question is 对 or 错 (true or false)."))

    def from_form(self, form, data):
        data["options"], data["answer"] = [], form.answer_judge.data == "true"

    def to_form(self, form, question):
        form.answer_judge.data = "true" if question.answer else "false"

    def grade(self, question, response):
        return grading.grade_judge(question, response)

    def clean(self, response, letters):
        if not isinstance(response, bool):
            raise ResponseError(_("A true-or-false answer is true or false."))
        return response

    def check(self, data, complete):
        problems = []
        if data.get("options"):
            problems.append((("options",), _("A true-or-false question has no options.")))
        if not isinstance(data.get("answer"), bool):
            problems.append((("answer",), _("The answer of a true-or-false question is true or false.")))
        return problems + super().check(data, complete)

    def freeze(self, q, item, section, rng, items):
        item.update(options=[], answer=q["answer"], key_map={})


register(Judge())
