from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..i18n import lazy_gettext as _l
from .models import LEVEL_LABELS


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=list(LEVEL_LABELS.items()))
    parent_id = SelectField(_l("Parent unit"), coerce=int)
