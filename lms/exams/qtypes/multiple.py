"""多选: at least two right options of five; the official partial-credit rule (grading.grade_multiple)."""
from flask_babel import gettext as _

from ...i18n import lazy_gettext as _l
from .. import grading
from .base import ChoiceType, register


class Multiple(ChoiceType):
    name = "multiple"
    label = _l("Multiple choice")
    in_case = True
    most: int | None = None

    quiz_points = 2
    quiz_share = 4  # about a quarter of a course quiz

    def quiz_section(self, count):
        return super().quiz_section(count) | {"partial_points": 0.5}

    answer_field = "answer_multiple"

    def form_fields(self):
        from ...auth.forms import MultiCheckboxField
        from ..bank import OPTION_LETTERS

        return {"answer_multiple": MultiCheckboxField(_l("Right answers"), choices=[(k, k) for k in OPTION_LETTERS])}
    xlsx_words = ("multiple", "多选", "多选题", "多项选择题")

    def gift_mark(self, right, n_right):
        """Moodle cannot express the partial-credit rule: right options share 100%, a wrong one is -100%."""
        from ..interchange import _weight

        return f"~%{_weight(n_right)}%" if right else "~%-100%"

    def answer_from_form(self, form):
        return sorted(form.answer_multiple.data or [])

    def to_form(self, form, question):
        form.answer_multiple.data = list(question.answer or [])

    def answer_problems(self, answer, letters):
        """At least 2 right options and at least 1 wrong one (DESIGN.md §5)."""
        if (not isinstance(answer, list) or len(set(answer)) != len(answer) or not set(answer) <= set(letters)
                or not 2 <= len(answer) <= len(letters) - 1):
            return [("answer", _("The answer of a multiple-choice question is at least 2 different letters of "
                                 "%(keys)s, leaving at least 1 option wrong.", keys="、".join(letters) or _("none")))]
        return []

    def grade(self, question, response):
        return grading.grade_multiple(question, response)

    def freeze(self, q, item, section, rng, items):
        super().freeze(q, item, section, rng, items)
        item["partial_points"] = float(section.get("partial_points") or grading.DEFAULT_PARTIAL_POINTS)


register(Multiple())
