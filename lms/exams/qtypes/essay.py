"""论述 / 方案设计: free text a trainer marks against the reference (marking points)."""
from flask_babel import lazy_gettext as _l

from .. import grading
from .base import QuestionType, register


class Essay(QuestionType):
    name = "essay"
    label = _l("Essay")
    in_case = True
    hand_marked = True

    def grade(self, question, response):
        return grading.grade_essay(question, response)

    def freeze(self, q, item, section, rng, items):
        item["reference"] = q.get("reference") or ""


register(Essay())
