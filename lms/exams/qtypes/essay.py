"""论述 / 方案设计: free text a trainer marks against the reference (marking points)."""
from flask_babel import gettext as _

from ...i18n import lazy_gettext as _l
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

    def gift_read(self, body):
        return None if body.stripped else {"type": self.name, "options": [], "answer": None}

    def sample_response(self, item, right, rng=None):
        return (grading._get(item, "reference") or "按评分要点逐条作答。") if right else "不清楚。"

    def form_fields(self):
        from wtforms import StringField, TextAreaField
        from wtforms.validators import Length

        return {"points": StringField(_l("Points"), validators=[Length(max=10)]),
                "reference": TextAreaField(_l("Marking points"), render_kw={"rows": 5})}

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

    def to_form(self, form, question):
        form.points.data = "" if question.points is None else f"{question.points.normalize():f}"
        form.reference.data = question.reference

    def tidy(self, out):
        out["options"], out["answer"] = [], None

    def freeze(self, q, item, section, rng, items):
        item["reference"] = q.get("reference") or ""


register(Essay())
