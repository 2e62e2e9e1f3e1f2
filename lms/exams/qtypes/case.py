"""案例分析: a case text with parts (single, multiple or essay questions); the parts take the responses."""
from decimal import Decimal

from ...i18n import lazy_gettext as _l
from .. import grading
from .base import ChoiceType, QuestionType, get, register


class Case(QuestionType):
    name = "case"
    label = _l("Case analysis")
    answerable = False
    xlsx_words = ("case", "案例", "案例分析", "案例分析题")
    xlsx_refusal = _l("Cases cannot be imported from Excel: write them on the site.")

    def grade(self, question, response):
        return grading.grade_case(question, response)

    def check(self, data, complete):
        from ..bank import check_case

        return check_case(data, complete)

    def from_form(self, form, data):
        from ..forms import options_of

        data["parts"] = []
        for entry in form.parts:
            part = entry.form
            if part.remove.data:
                continue
            ptype = part.type.data
            pdata = {"type": ptype, "stem": part.stem.data or "", "points": (part.points.data or "").strip() or None,
                     "reference": part.reference.data or ""}
            if isinstance(get(ptype), ChoiceType):
                pdata["options"] = options_of(part)
                pdata["answer"] = [c.upper() for c in (part.answer.data or "") if c.isalpha()]
            data["parts"].append(pdata)

    def tidy(self, out):
        out["options"], out["answer"] = [], None

    def freeze(self, q, item, section, rng, items):
        """Its parts become items "n.1", "n.2", … scaled so that the case is worth the section's points."""
        from ..assembly import _scale

        key = item["no"]
        full = Decimal(str(section["points"]))
        total = sum((Decimal(str(p["points"] or 0)) for p in q["parts"]), Decimal(0)) or full
        factor = full / total
        part_keys = []
        for i, part in enumerate(q["parts"], start=1):
            pkey = f"{key}.{i}"
            part_keys.append(pkey)
            entry = {"no": pkey, "qid": part["id"], "type": part["type"], "stem": part["stem"], "topic": q["topic"],
                     "difficulty": q["difficulty"], "explanation": part.get("explanation") or "",
                     "points": _scale(part["points"] or 0, factor), "reference": part.get("reference") or ""}
            get(part["type"]).freeze(part, entry, section, rng, items)
            items[pkey] = entry
        item["parts"] = part_keys


register(Case())
