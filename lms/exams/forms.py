"""Forms of the question bank pages. The rules of a valid question live in bank.check_question()."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..i18n import lazy_gettext as _l
from . import qtypes
from .bank import OPTION_LETTERS as LETTERS
from .interchange import FORMATS
from .models import DIFFICULTIES


def _option_list(form) -> list:
    return [getattr(form, f"option_{k.lower()}") for k in LETTERS]


def _option_fields(cls):
    """Fields Option A … Option H (bank.OPTION_LETTERS) on a form class, and option_fields() listing them."""
    for k in LETTERS:
        setattr(cls, f"option_{k.lower()}", StringField(_l("Option %(key)s", key=k)))
    cls.option_fields = _option_list
    return cls


@_option_fields
class PartForm(Form):
    """One sub-question of a case (no CSRF of its own: it lives inside QuestionForm)."""

    type = SelectField(_l("Part type"), choices=[(t.name, t.label) for t in sorted(
        qtypes.all_types(), key=lambda t: t.name != "essay") if t.in_case])  # essay first, the default
    stem = TextAreaField(_l("Part question"), render_kw={"rows": 3})
    points = StringField(_l("Points"), validators=[Length(max=10)])
    answer = StringField(_l("Answer letters"), description=_l("e.g. B, or ACD for multiple choice"),
                         validators=[Length(max=10)])
    reference = TextAreaField(_l("Marking points"), render_kw={"rows": 4})
    remove = BooleanField(_l("Remove this part"))


# The topic field suggests the chosen subject's topics (static/js/topic_picker.js, the page's datalist).
TOPIC_PICKER = {"list": "topic-options", "autocomplete": "off", "data-topics-of": "subject_id",
                "data-topics": "topics-by-subject"}


@_option_fields
class QuestionForm(FlaskForm):
    subject_id = SelectField(_l("Subject"), coerce=int, validators=[DataRequired()])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=200)], render_kw=TOPIC_PICKER)
    difficulty = SelectField(_l("Difficulty"), coerce=int, choices=list(DIFFICULTIES.items()), default=2)
    stem = TextAreaField(_l("Stem"), validators=[DataRequired()], render_kw={"rows": 6})
    # The answer fields are the type's own (QuestionType.form_fields(), added by question_form()). The option
    # fields (Option A …) and the case parts stay here: the pages of every type read them.
    explanation = TextAreaField(_l("Explanation"), render_kw={"rows": 5})
    source = StringField(_l("Source"), validators=[Length(max=200)])
    law = StringField(_l("Law or policy"), validators=[Length(max=200)])
    law_in_force = DateField(_l("In force since"), validators=[Optional()])
    parts = FieldList(FormField(PartForm), min_entries=0)
    add_part = SubmitField(_l("Add a part"))


_FORMS: dict = {}  # question type object → its form class


def question_form(qtype: str) -> type[QuestionForm]:
    """The question form of type `qtype`: QuestionForm with the type's own fields (QuestionType.form_fields())."""
    kind = qtypes.get(qtype)
    if kind not in _FORMS:
        _FORMS[kind] = type(f"{kind.name.title()}QuestionForm", (QuestionForm,), kind.form_fields())
    return _FORMS[kind]


def options_of(form) -> list[dict]:
    """The options up to the last one filled in (an empty one before it is kept: the bank reports it)."""
    texts = [(f.data or "").strip() for f in form.option_fields()]
    while texts and not texts[-1]:
        texts.pop()
    return [{"key": k, "text": t} for k, t in zip(LETTERS, texts, strict=False)]


def options_shown(form, rule_counts: list[int] | None) -> int:
    """How many option fields the page shows unfolded: as many as the mock exams ask for (all of
    them when no exam asks), or as many as are filled in."""
    fields = form.option_fields()
    last_filled = max((i + 1 for i, f in enumerate(fields) if (f.data or "").strip()), default=0)
    return max(max(rule_counts or [len(fields)]), last_filled)


def question_data(form: QuestionForm, qtype: str) -> dict:
    """The form as the plain question dict of bank.py (checked there, not here)."""
    data = {
        "type": qtype,
        "topic": (form.topic.data or "").strip(),
        "difficulty": form.difficulty.data,
        "stem": form.stem.data or "",
        "explanation": form.explanation.data or "",
        "source": (form.source.data or "").strip(),
        "law": (form.law.data or "").strip() or None,
        "law_in_force": form.law_in_force.data,
    }
    qtypes.get(qtype).from_form(form, data)
    return data


def fill_form(form: QuestionForm, question) -> None:
    """Show an existing question in the form (GET of the edit page)."""
    form.subject_id.data = question.subject_id
    for name in ("topic", "difficulty", "stem", "explanation", "source", "law", "law_in_force"):
        getattr(form, name).data = getattr(question, name)
    options = {o["key"]: o["text"] for o in question.options or []}
    for k in LETTERS:
        getattr(form, f"option_{k.lower()}").data = options.get(k, "")
    qtypes.get(question.type).to_form(form, question)
    while len(form.parts):
        form.parts.pop_entry()
    for part in question.parts:
        entry = form.parts.append_entry()
        entry.form.type.data = part.type
        entry.form.stem.data = part.stem
        entry.form.points.data = "" if part.points is None else f"{part.points.normalize():f}"
        popts = {o["key"]: o["text"] for o in part.options or []}
        for k in LETTERS:
            getattr(entry.form, f"option_{k.lower()}").data = popts.get(k, "")
        entry.form.answer.data = "".join(part.answer or []) if isinstance(part.answer, list) else ""
        entry.form.reference.data = part.reference


class StatusForm(FlaskForm):
    """A CSRF-protected POST button; the action is the button's value."""


class ImportQuestionsForm(FlaskForm):
    fmt = SelectField(_l("Format"), choices=list(FORMATS.items()))
    subject_id = SelectField(_l("Subject"), coerce=int, validators=[DataRequired()])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=200)], render_kw=TOPIC_PICKER)
    use_file_topics = BooleanField(_l("Take topics from the file ($CATEGORY in GIFT, the Topic column in Excel)"))
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to import."))])

