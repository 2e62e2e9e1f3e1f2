"""论述 / 方案设计: free text a trainer marks against the reference (marking points)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import grading
from .base import QuestionType, register


class Essay(QuestionType):
    name = "essay"
    label = _l("Essay")
    in_case = True
    hand_marked = True
    gift = True
    xlsx_words = ("essay", "论述", "论述题", "方案设计", "方案设计题", "简答", "简答题")

    def gift_lines(self, q, head, general):
        return [f"{head}{{{general}}}"]

    def grade(self, question, response):
        return grading.grade_essay(question, response)

    def check(self, data, complete):
        from ..bank import check_points

        problems = check_points(data, (), required=complete)
        if complete and not str(data.get("reference") or "").strip():
            problems.append((("reference",), _("An essay needs its marking points (reference).")))
        return problems

    def from_form(self, form, data):
        data["points"] = (form.points.data or "").strip() or None
        data["reference"] = form.reference.data or ""

    def tidy(self, out):
        out["options"], out["answer"] = [], None

    def freeze(self, q, item, section, rng, items):
        item["reference"] = q.get("reference") or ""


register(Essay())
