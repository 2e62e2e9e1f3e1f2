"""判断: true or false."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import grading
from .base import QuestionType, ResponseError, register


class Judge(QuestionType):
    name = "judge"
    label = _l("True or false")
    objective = True
    read = "bool"

    answer_field = "answer_judge"

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
