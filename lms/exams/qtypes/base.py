"""What a question type is, and the registry of them (DESIGN.md §3, §5).

A question type is one object: its label, its grading (a pure function, see grading.py), how a
response is cleaned before it is stored, what it adds to a frozen paper's item, its fields of the
question form, its GIFT/Excel import and export, whether practice and course quizzes use it, and its
template partial `exams/types/<name>.html` with these macros:
  take(item, key)           the inputs on the exam page (exam.js reads them as data-read says);
  result(item, answer)      the candidate's and the right answer on the result page;
  practice(question)        the inputs of the practice page (named "choice"; practice_response() reads them);
  feedback(question, fb)    the practice page's feedback: fb is practice.answer()'s dict;
  form_fields(form)         its fields of the question form (exams/form.html imports it with context).
Generic code asks the registry (`get(name)`, `names(...)`) instead of branching on type names.
"""
import random
from collections.abc import Iterator
from decimal import Decimal

from flask_babel import gettext as _

Score = Decimal | None


class ResponseError(ValueError):
    """A response that cannot be stored for this item; the message is shown to the learner."""


class QuestionType:
    name: str = ""
    label = ""             # a lazy_gettext string
    objective = False      # graded in full by machine: a wrong one goes into the mistakes book
    answerable = True      # takes a response itself (a case does not: its parts do)
    hand_marked = False    # a trainer marks it against the reference
    has_options = False    # lettered options (the question form shows the option fields)
    max_text = 20_000
    quiz_points: int | None = None  # points per question in a course quiz (None: quizzes do not draw it)
    quiz_share: int | None = None   # a quiz draws about one in quiz_share of this type (None: the rest)

    @property
    def practisable(self) -> bool:
        """Practice (and the mistakes book) offers it: graded right or wrong by machine, instantly."""
        return self.objective

    @property
    def template(self) -> str:
        return f"exams/types/{self.name}.html"

    # --- grading and responses ------------------------------------------------------------------------
    def grade(self, question, response) -> Score:  # pragma: no cover - every type defines it
        raise NotImplementedError

    def clean(self, response, letters: str):
        """`response` (not None or "") in its stored shape, or ResponseError. `letters`: the option
        letters of the item (see attempts.answer_keys())."""
        if not isinstance(response, str):
            raise ResponseError(_("A written answer is text."))
        if len(response) > self.max_text:
            raise ResponseError(_("A written answer has at most %(n)d characters.", n=self.max_text))
        return response

    def practice_response(self, form):
        """The response in the practice page's form (its inputs are named "choice")."""
        return (form.get("choice") or "").strip() or None

    def sample_response(self, item, right: bool, rng: random.Random | None = None):
        """A right or a wrong response to paper item (or question) `item`, for demo data and tests; with
        `rng`, a wrong one is drawn at random (it may still earn partial credit)."""
        raise NotImplementedError(f"question type {self.name!r} has no sample response")

    def quiz_section(self, count: int) -> dict:
        """A course quiz's blueprint section of `count` questions of this type (see learning/quiz.py)."""
        return {"type": self.name, "count": count, "points": self.quiz_points}

    # --- the bank ------------------------------------------------------------------------------------------
    def check(self, data: dict, complete: bool) -> list:
        """This type's rules for a question dict (bank.check_question() checks what all types share):
        problems as (path, message)."""
        from ..bank import check_points

        return check_points(data, (), required=False)

    def tidy(self, out: dict) -> None:
        """A checked question dict made ready to store (bank.prepare()): no options where it has none."""
        out["options"] = []

    # --- the question form (forms.QuestionForm) -------------------------------------------------------------
    answer_field = "stem"  # the form field that shows a problem with the answer

    def form_fields(self) -> dict:
        """This type's own fields of the question form, name → unbound WTForms field (forms.question_form()
        adds them to QuestionForm); its partial's form_fields(form) macro shows them."""
        return {}

    def from_form(self, form, data: dict) -> None:
        """Put this type's fields of the question form into the question dict `data`."""

    def to_form(self, form, question) -> None:
        """Show this type's fields of stored `question` in the form."""

    # --- import and export (lms/exams/interchange.py) -----------------------------------------------------
    gift = False               # GIFT can hold it: gift_lines() writes it and gift_read() recognises it
    xlsx_words: tuple = ()     # what the Excel template's type column may say for it (besides its label)
    xlsx_refusal = None        # why a row of this type cannot be imported from Excel (a lazy string), if so

    def gift_lines(self, q, head: str, general: str) -> list[str]:
        """Question row `q` in GIFT: `head` is "::id::[markdown]stem", `general` the "####explanation" or ""."""
        return []

    def gift_read(self, body) -> dict | bool | None:
        """A GIFT answer part {…} read as this type (body: interchange.GiftBody): the question fields it
        gives (type, options, answer), None when the part is not this type's form, False when it is but a
        problem was reported (body.error())."""
        return None

    def xlsx_answer(self, text: str):
        """The Answer cell as this type's answer (ValueError with a message when it cannot be one)."""
        return None

    # --- the frozen paper -------------------------------------------------------------------------------
    in_case = False        # may be a part of a case

    def freeze(self, q: dict, item: dict, section: dict, rng: random.Random, items: dict) -> None:
        """Add this type's fields (options, answer, …) to paper item `item` (its number in item["no"])
        built from question dict `q` (see assembly.question_dict()); `items`: the paper's items so far."""
        item["answer"] = q.get("answer")


class ChoiceType(QuestionType):
    """Options with letters; the answer is a list of right letters, shuffled per candidate."""
    objective = True
    has_options = True
    most: int | None = 1  # letters a response may hold (None: any number)

    def clean(self, response, letters: str):
        if not isinstance(response, str):
            raise ResponseError(_("An answer to a choice question is a string of option letters."))
        chosen = sorted({c for c in response.upper() if not c.isspace()})
        if not set(chosen) <= set(letters) or (self.most is not None and len(chosen) > self.most):
            raise ResponseError(_("Those are not options of this question."))
        return "".join(chosen) or None

    def check(self, data, complete):
        from ..bank import check_choice

        return check_choice(data, self.name, ()) + super().check(data, complete)

    def answer_problems(self, answer, letters: str) -> list:
        """This type's rule for the answer (a list of letters, checked by bank.check_choice()) of a question
        whose options are lettered `letters`: problems as (field, message)."""
        raise NotImplementedError  # pragma: no cover - every choice type defines it

    gift = True

    def gift_mark(self, right: bool, n_right: int) -> str:  # pragma: no cover - every choice type defines it
        raise NotImplementedError

    def gift_lines(self, q, head, general):
        from ..interchange import _gift_escape

        right = q.right_keys
        lines = [head + "{"] + [f"\t{self.gift_mark(o['key'] in right, len(right))}{_gift_escape(o['text'])}"
                                for o in q.options]
        return lines + ([f"\t{general}"] if general else []) + ["}"]

    def practice_response(self, form):
        return "".join(sorted(form.getlist("choice")))

    def sample_response(self, item, right, rng=None):
        from ..grading import _get

        answer, letters = _get(item, "answer") or [], [o["key"] for o in _get(item, "options") or []]
        if right:
            return "".join(answer)
        if rng is not None:
            return "".join(sorted(rng.sample(letters, k=min(self.most or 2, len(letters)))))
        return next(k for k in letters if k not in answer)

    def gift_read(self, body):
        if "~" not in body.stripped or body.stripped.startswith("#"):
            return None
        from ..interchange import gift_choices

        read = gift_choices(body)
        if read is None:
            return False
        options, rights = read
        return {"type": choice_type_for(len(rights)).name, "options": options, "answer": rights}

    def xlsx_answer(self, text):
        return [c.upper() for c in text if c.isalpha()]

    def answer_from_form(self, form):  # each choice type reads its own answer field
        raise NotImplementedError

    def from_form(self, form, data):

        from ..forms import options_of

        data["options"] = options_of(form)
        data["answer"] = self.answer_from_form(form)

    def tidy(self, out):
        if isinstance(out.get("answer"), list):
            out["answer"] = sorted(set(out["answer"]))

    def freeze(self, q: dict, item: dict, section: dict, rng: random.Random, items: dict) -> None:
        from ..assembly import _shuffled_options  # assembly imports the models, which import this package

        options, answer, key_map = _shuffled_options(q, rng)
        item.update(options=options, answer=answer, key_map=key_map)


# --- the registry ------------------------------------------------------------------------------------

REGISTRY: dict[str, QuestionType] = {}
TYPES: dict[str, object] = {}  # name → label, in registration order (the same dict object for all readers)


def register(qtype: QuestionType) -> QuestionType:
    if not qtype.name or qtype.name in REGISTRY:
        raise ValueError(f"question type {qtype.name!r} is unnamed or already registered")
    REGISTRY[qtype.name] = qtype
    TYPES[qtype.name] = qtype.label
    return qtype


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)
    TYPES.pop(name, None)


def get(name) -> QuestionType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"no question type {name!r}") from None


def all_types() -> Iterator[QuestionType]:
    return iter(list(REGISTRY.values()))


def choice_type_for(n_right: int) -> ChoiceType:
    """The first registered choice type whose answers may have `n_right` right options (imports that
    only see options and right letters: one right → single, more → multiple)."""
    return next(t for t in REGISTRY.values() if isinstance(t, ChoiceType) and (t.most is None or n_right <= t.most))


def names(**flags) -> tuple[str, ...]:
    """Names of the types whose attributes equal `flags`, e.g. names(objective=True)."""
    return tuple(t.name for t in REGISTRY.values() if all(getattr(t, k) == v for k, v in flags.items()))
