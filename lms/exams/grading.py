"""Grading is a registry: question type → pure function (question, response) → score (DESIGN.md §3, §5).

`question` is anything question-like: a `Question` row or a plain mapping with the keys
`type`, `answer`, `points` and, for multiple choice, `partial_points` (the score per right option
when only right options but not all were chosen; default 0.5), and `parts` for a case. The figures
come from the blueprint or the question: none of them is fixed here.

A score is a `Decimal`, or `None` when the answer needs a trainer's marking (essays and
the free-text parts of a case). A missing, empty or malformed response scores 0, never an error.
"""
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation

DEFAULT_PARTIAL_POINTS = Decimal("0.5")
ZERO = Decimal(0)

Score = Decimal | None


def _get(question, key: str, default=None):
    if isinstance(question, Mapping):
        return question.get(key, default)
    return getattr(question, key, default)


def _decimal(value, default: Decimal) -> Decimal:
    if value is None:
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default


def points_of(question) -> Decimal:
    """Full marks of an objective question (1 when the caller gave none)."""
    return _decimal(_get(question, "points"), Decimal(1))


def _right_letters(question) -> set[str]:
    answer = _get(question, "answer")
    if isinstance(answer, str):
        return {c for c in answer.upper() if c.isalpha()}
    if isinstance(answer, Iterable):
        return {str(a).strip().upper() for a in answer}
    return set()


def chosen_letters(response) -> set[str] | None:
    """A response as a set of option letters: "ACD", ["A", "C"], {"c"} … Duplicates count once.

    None or "" is the empty set; a response that is not letters at all returns None (scores 0).
    """
    if response is None:
        return set()
    if isinstance(response, str):
        items = [c for c in response if not c.isspace() and c not in ",，、;；"]
    elif isinstance(response, Iterable) and not isinstance(response, (bytes, Mapping)):
        items = list(response)
    else:
        return None
    letters = set()
    for item in items:
        if not isinstance(item, str) or len(item.strip()) != 1 or not item.strip().isalpha():
            return None
        letters.add(item.strip().upper())
    return letters


def grade_single(question, response) -> Decimal:
    """Full points for exactly the one right letter; anything else 0."""
    right = _right_letters(question)
    chosen = chosen_letters(response)
    return points_of(question) if chosen and len(right) == 1 and chosen == right else ZERO


def grade_multiple(question, response) -> Decimal:
    """多选 (DESIGN.md §5): a wrong option chosen → 0; exactly the right set → full points;
    only right options but not all → `partial_points` per option chosen (never above full points)."""
    right = _right_letters(question)
    chosen = chosen_letters(response)
    if not chosen or not right or not chosen <= right:  # empty, malformed, or a wrong/unknown letter
        return ZERO
    full = points_of(question)
    if chosen == right:
        return full
    partial = _decimal(_get(question, "partial_points"), DEFAULT_PARTIAL_POINTS)
    return min(partial * len(chosen), full)


def _as_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "t", "yes"):
            return True
        if text in ("false", "f", "no"):
            return False
    return None


def grade_judge(question, response) -> Decimal:
    right = _as_bool(_get(question, "answer"))
    given = _as_bool(response)
    return points_of(question) if right is not None and given is right else ZERO


def grade_essay(question, response) -> Score:
    """Free text: a trainer marks it against the reference (marking points)."""
    return None


def grade_parts(question, response) -> list[Score]:
    """Scores of a case's parts, in order. `response` maps a part's position (1, 2, … or "1", "2", …)
    or its index in a list to that part's response."""
    parts = _get(question, "parts") or []
    scores = []
    for index, part in enumerate(parts):
        position = _get(part, "position") or index + 1
        if isinstance(response, Mapping):
            part_response = response.get(position, response.get(str(position)))
        elif isinstance(response, (list, tuple)):
            part_response = response[index] if index < len(response) else None
        else:
            part_response = None
        scores.append(grade(part, part_response))
    return scores


def grade_case(question, response) -> Score:
    """The sum of the parts, or None while any part (an essay part) still needs marking."""
    scores = grade_parts(question, response)
    known = [s for s in scores if s is not None]
    if len(known) < len(scores):
        return None
    return sum(known, ZERO)



class _Graders(Mapping):
    """Question type → its grading function, read from the registry of question types (lms/exams/qtypes)."""

    def _registry(self):
        from .qtypes import REGISTRY  # the types' modules import this one

        return REGISTRY

    def __getitem__(self, name):
        return self._registry()[name].grade

    def __iter__(self):
        return iter(list(self._registry()))

    def __len__(self):
        return len(self._registry())


GRADERS: Mapping[str, Callable[[object, object], Score]] = _Graders()


def grade(question, response) -> Score:
    """Dispatch on the question's type. Adding a question type is one module in lms/exams/qtypes."""
    qtype = _get(question, "type")
    try:
        grader = GRADERS[qtype]
    except KeyError:
        raise ValueError(f"no grader for question type {qtype!r}") from None
    return grader(question, response)
