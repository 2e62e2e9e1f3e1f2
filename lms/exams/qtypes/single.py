"""单选: one right option of (usually) four."""
from flask_babel import gettext as _

from ...i18n import lazy_gettext as _l
from .. import grading
from .base import ChoiceType, register


class Single(ChoiceType):
    name = "single"
    label = _l("Single choice")
    in_case = True
    most = 1

    quiz_points = 1

    answer_field = "answer_single"

    def form_fields(self):
        from wtforms import SelectField
        from wtforms.validators import Optional

        from ..bank import OPTION_LETTERS

        return {"answer_single": SelectField(_l("Right answer"), choices=[("", "—")] + [(k, k) for k in OPTION_LETTERS],
                                             validators=[Optional()])}
    xlsx_words = ("single", "单选", "单选题", "单项选择题")

    def gift_mark(self, right, n_right):
        return "=" if right else "~"

    def answer_from_form(self, form):
        return [form.answer_single.data] if form.answer_single.data else []

    def to_form(self, form, question):
        form.answer_single.data = (question.answer or [""])[0]

    def answer_problems(self, answer, letters):
        if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in set(letters):
            return [("answer", _("The answer of a single-choice question is one letter of %(keys)s.",
                                 keys="、".join(letters) or _("none")))]
        return []

    def grade(self, question, response):
        return grading.grade_single(question, response)


register(Single())
