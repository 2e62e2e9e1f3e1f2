"""Question types, one module each, registered here (see base.py). Adding a type is one module with a
`QuestionType` subclass that calls register(), its partial templates/exams/types/<name>.html (macros take,
result, practice, feedback, form_fields), and its import line below."""
from .base import (
    REGISTRY,
    TYPES,
    ChoiceType,
    QuestionType,
    ResponseError,
    all_types,
    choice_type_for,
    get,
    names,
    register,
    unregister,
)

# Registration order is the order of TYPES (type pickers, exports): keep it by hand.
# isort: off
from . import single, multiple, judge, case, essay  # noqa: E402,F401
# isort: on

__all__ = ["REGISTRY", "TYPES", "ChoiceType", "QuestionType", "ResponseError", "all_types", "choice_type_for", "get",
           "names", "register", "unregister"]
