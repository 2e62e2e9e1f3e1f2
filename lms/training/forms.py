from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from ..auth.forms import MultiCheckboxField
from ..i18n import lazy_gettext as _l
from .models import PLACE_KINDS


class TrainingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    audience_unit_id = SelectField(_l("Audience: workers of"), coerce=int)
    audience_cert_levels = MultiCheckboxField(_l("Only these certificate levels (none ticked: all)"), choices=[])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Length(max=20000)])
    trainers = SelectMultipleField(_l("Trainers"), coerce=int, choices=[])
    course_id = SelectField(_l("Linked online course"), coerce=int, choices=[])
    capacity = IntegerField(_l("Seats"), validators=[DataRequired(), NumberRange(1, 10000)])
    registration_deadline = DateTimeLocalField(_l("Registration deadline"), format="%Y-%m-%dT%H:%M",
                                               validators=[DataRequired()])
    status = SelectField(_l("Status"), choices=[("open", _l("Open for registration")), ("draft", _l("Draft (hidden)")),
                                                ("closed", _l("Registration closed")), ("cancelled", _l("Cancelled"))])


class SessionForm(FlaskForm):
    date = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Starts at"), validators=[DataRequired()])
    end = TimeField(_l("Ends at"), validators=[DataRequired()])
    credit_hours = DecimalField(_l("Credit hours"), places=1, validators=[DataRequired(), NumberRange(0.1, 24)])
    place_kind = SelectField(_l("Place"), choices=list(PLACE_KINDS.items()))
    base_id = SelectField(_l("Training base"), coerce=int, choices=[])
    place_text = StringField(_l("Address"), validators=[Length(max=300)])
    online_url = StringField(_l("Online link"), validators=[Optional(), URL(), Length(max=500)])
    weeks = IntegerField(
        _l("Repeat weekly, number of sessions"), default=1, validators=[DataRequired(), NumberRange(1, 52)]
    )


class ImportSessionsForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file to import."))])


class AssignForm(FlaskForm):
    unit_id = SelectField(_l("All workers of"), coerce=int, validators=[Optional()])
    usernames = TextAreaField(_l("Or these usernames (one per line)"), validators=[Length(max=20000)])


class CheckinForm(FlaskForm):
    session_id = IntegerField(validators=[DataRequired()])
    code = StringField(_l("Check-in code"), validators=[DataRequired(), Length(min=6, max=6)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})
