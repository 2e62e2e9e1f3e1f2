from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import lazy_gettext as _l
from . import choices
from .accounts import PHONE_RE, USERNAME_RE


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])


def _options(table: dict, blank: bool = True):
    return ([("", "—")] if blank else []) + [(k, v) for k, v in table.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Regexp(USERNAME_RE, message=_l("A username is 3–64 letters, digits or . _ @ -"))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    gender = SelectField(_l("Gender"), choices=_options(choices.GENDERS), validators=[Optional()])
    birth_year = IntegerField(_l("Birth year"), validators=[Optional(), NumberRange(1940, 2015)])
    education = SelectField(_l("Education"), choices=_options(choices.EDUCATION), validators=[Optional()])
    political_status = SelectField(
        _l("Political status"), choices=_options(choices.POLITICAL_STATUS), validators=[Optional()]
    )
    cert_level = SelectField(_l("Certificate level"), choices=_options(choices.CERT_LEVELS, blank=False))
    years_in_work = IntegerField(_l("Years in community work"), validators=[Optional(), NumberRange(0, 50)])
    phone = StringField(_l("Phone"), validators=[
        Optional(), Regexp(PHONE_RE, message=_l("Not a phone number (11-digit mobile or area code and number)."))])
    org_unit_id = SelectField(_l("Org unit"), coerce=int, validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), choices=[])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=256)])

    def profile(self) -> dict:
        return {
            "name": (self.name.data or "").strip(),
            "gender": self.gender.data or None,
            "birth_year": self.birth_year.data,
            "education": self.education.data or None,
            "political_status": self.political_status.data or None,
            "cert_level": self.cert_level.data or "none",
            "years_in_work": self.years_in_work.data,
            "phone": self.phone.data or None,
        }


class ImportForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file to import."))])


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected POST button."""
