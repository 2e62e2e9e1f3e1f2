from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation

from .. import clock
from ..i18n import lazy_gettext as _l
from .real_results import FIRST_EXAM_YEAR


class MockDayForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    exam_id = SelectField(_l("Exam"), coerce=int)
    org_unit_id = SelectField(_l("For the workers of"), coerce=int)
    opens_at = DateTimeLocalField(_l("Opens at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    closes_at = DateTimeLocalField(_l("Closes at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    stagger_minutes = IntegerField(_l("Spread the start times over (minutes)"), default=0,
                                   validators=[NumberRange(0, 240)])


def _exam_year(form, field):
    """A four-digit exam year from the first national exam to this year (the Asia/Shanghai year,
    read when the form is checked). Leaves the int in field.data."""
    top = clock.this_year()
    try:
        year = int(str(field.data or "").strip())
    except ValueError:
        raise StopValidation(_("Enter the exam year as four digits, e.g. %(y)d.", y=top)) from None
    if not FIRST_EXAM_YEAR <= year <= top:
        raise StopValidation(_("The exam year must be between %(a)d and %(b)d.", a=FIRST_EXAM_YEAR, b=top))
    field.data = year


def _score(form, field):
    """Optional; 0–100 with at most one decimal place. Leaves a Decimal (or None) in field.data."""
    text = str(field.data or "").strip()
    if not text:
        field.data = None
        return
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value <= Decimal(100) \
            or value != value.quantize(Decimal("0.1")):
        raise StopValidation(_("The score must be a number from 0 to 100, with at most one decimal place, e.g. 72.5."))
    field.data = value


def _one_of(choices_attr: str, message):
    def check(form, field):
        if not field.data or field.data not in {str(k) for k, _label in getattr(form, choices_attr).choices}:
            raise StopValidation(message)
    return check


class RealResultForm(FlaskForm):
    """A real exam result, entered by the worker (pending) or by an office (may verify at once)."""

    subject_id = SelectField(_l("Subject"), coerce=str, validate_choice=False,
                             validators=[_one_of("subject_id", _l("Choose the subject from the list."))])
    exam_year = StringField(_l("Exam year"), validators=[_exam_year], render_kw={"inputmode": "numeric"})
    score = StringField(_l("Score (optional)"), validators=[_score], render_kw={"inputmode": "decimal"})
    passed = SelectField(_l("Result"), coerce=str, validate_choice=False,
                         choices=[("1", _l("Passed")), ("0", _l("Not passed"))],
                         validators=[_one_of("passed", _l("Choose whether the subject was passed."))])
    verify = BooleanField(_l("I have checked the score report: verify this result now"), default=True)


class RejectResultForm(FlaskForm):
    reason = StringField(_l("Reason (the worker sees it)"), validators=[
        DataRequired(message=_l("Give the reason, so that the worker knows what to correct.")),
        Length(max=500, message=_l("At most %(max)d characters."))])


class MarkingAssignmentForm(FlaskForm):
    """Hand the marking of an exam (every sitting by the office's workers) or of one exam day to a trainer."""

    target = SelectField(_l("Mark the written answers of"), validators=[DataRequired()])
    trainer_id = SelectField(_l("Trainer"), coerce=int)
