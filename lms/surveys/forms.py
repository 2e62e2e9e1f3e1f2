from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..i18n import lazy_gettext as _l
from .models import QUESTION_KINDS

BLANK_QUESTIONS = 8


class QuestionForm(Form):
    kind = SelectField(_l("Kind"), choices=[("", "—")] + list(QUESTION_KINDS.items()), validators=[Optional()])
    text = StringField(_l("Question"), validators=[Optional(), Length(max=300)])
    options = TextAreaField(_l("Choices, one a line"), validators=[Optional(), Length(max=5000)])
    required = BooleanField(_l("Required"), default=True)


class SurveyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Introduction for the workers (Markdown)"), validators=[Length(max=20000)])
    org_unit_id = SelectField(_l("Sent to the workers of"), coerce=int)
    deadline = DateTimeLocalField(_l("Deadline"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    questions = FieldList(FormField(QuestionForm), min_entries=BLANK_QUESTIONS, max_entries=30)
