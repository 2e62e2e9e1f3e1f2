"""单选: one right option of (usually) four."""
from flask_babel import lazy_gettext as _l

from .. import grading
from .base import ChoiceType, register


class Single(ChoiceType):
    name = "single"
    label = _l("Single choice")
    in_case = True
    most = 1

    def grade(self, question, response):
        return grading.grade_single(question, response)


register(Single())
