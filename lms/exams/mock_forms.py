from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange


class MockDayForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    exam_id = SelectField(_l("Exam"), coerce=int)
    org_unit_id = SelectField(_l("For the workers of"), coerce=int)
    opens_at = DateTimeLocalField(_l("Opens at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    closes_at = DateTimeLocalField(_l("Closes at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    stagger_minutes = IntegerField(_l("Spread the start times over (minutes)"), default=0,
                                   validators=[NumberRange(0, 240)])
