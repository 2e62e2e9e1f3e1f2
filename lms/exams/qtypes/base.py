"""What a question type is, and the registry of them (DESIGN.md §3, §5).

A question type is one object: its label, its grading (a pure function, see grading.py), how a
response is cleaned before it is stored, what it adds to a frozen paper's item, how a response and a
right answer read on a result page, and its template partial (`exams/types/<name>.html`, with a
`take(item, key)` macro for the exam page and a `result(item, answer)` macro for the result page).
Generic code asks the registry (`get(name)`) instead of branching on type names.
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
    max_text = 20_000

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

    def from_form(self, form, data: dict) -> None:
        """Put this type's fields of the question form into the question dict `data`."""

    def to_form(self, form, question) -> None:
        """Show this type's fields of stored `question` in the form."""

    # --- import and export (lms/exams/interchange.py) -----------------------------------------------------
    gift = False               # GIFT can hold it: gift_lines() writes it
    xlsx_words: tuple = ()     # what the Excel template's type column may say for it (besides its label)
    xlsx_refusal = None        # why a row of this type cannot be imported from Excel (a lazy string), if so

    def gift_lines(self, q, head: str, general: str) -> list[str]:
        """Question row `q` in GIFT: `head` is "::id::[markdown]stem", `general` the "####explanation" or ""."""
        return []

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
    most = 1  # letters a response may hold (None: any number)

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

    def xlsx_answer(self, text):
        return [c.upper() for c in text if c.isalpha()]

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


def names(**flags) -> tuple[str, ...]:
    """Names of the types whose attributes equal `flags`, e.g. names(objective=True)."""
    return tuple(t.name for t in REGISTRY.values() if all(getattr(t, k) == v for k, v in flags.items()))
