"""Create/edit forms of the pools. Each form's values() gives the attributes for pools.save_record()
(the org unit and the linked account are resolved by the view)."""
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .. import clock
from ..auth.accounts import PHONE_RE
from ..i18n import lazy_gettext as _l
from .models import BASE_KINDS, INSTITUTION_KINDS, SERIES, TRAINER_KINDS

MARKDOWN_MAX = 20000


def _options(table: dict):
    return [("", "—")] + [(k, v) for k, v in table.items()]


def _int_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


def _length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


def _publication_year(form, field):
    """1949 to next year, next year counted when the form is checked (not when the module loaded)."""
    top = clock.this_year() + 1
    if field.data is not None and not 1949 <= field.data <= top:
        raise ValidationError(_("The year must be between %(min)s and %(max)s.", min=1949, max=top))


def _required(message):
    return DataRequired(message=message)


def _markdown(label):
    return TextAreaField(label, validators=[Optional(), _length(MARKDOWN_MAX)],
                         render_kw={"rows": 10, "data-preview": "#markdown-preview", "data-markdown": "1"},
                         description=_l("Markdown: **bold**, lists with -, links as [text](https://…)."))


def _phone(label):
    return StringField(label, validators=[Optional(), Regexp(PHONE_RE, message=_l(
        "Not a phone number (11-digit mobile or area code and number)."))])


def _list_hint():
    return _l("Separate several with 、 or commas.")


def _http_link(form, field):
    if field.data and not field.data.strip().lower().startswith(("http://", "https://")):
        raise ValidationError(_l("A link starts with http:// or https://."))


class _PoolForm(FlaskForm):
    TEXT: tuple[str, ...] = ()       # string attributes, stripped
    NULLABLE: tuple[str, ...] = ()   # string attributes stored as NULL when empty

    def values(self) -> dict:
        out: dict[str, object] = {}

        for name in self.TEXT:
            out[name] = (getattr(self, name).data or "").strip()
        for name in self.NULLABLE:
            out[name] = (getattr(self, name).data or "").strip() or None
        if hasattr(self, "active"):
            out["active"] = bool(self.active.data)
        return out


class TextbookForm(_PoolForm):
    TEXT = ("title", "series", "topics", "editors", "publisher", "description")
    NULLABLE = ("link",)

    title = StringField(_l("Book title"), validators=[_required(_l("Enter the title.")), _length(200)])
    series = SelectField(_l("Series"), choices=_options(SERIES), validators=[_required(_l("Choose a series."))])
    topics = StringField(_l("Topics"), validators=[_length(500)], description=_list_hint())
    editors = StringField(_l("Editors"), validators=[_length(200)])
    publisher = StringField(_l("Publisher"), validators=[_length(200)])
    year = IntegerField(_l("Year of publication"), validators=[
        Optional(), _publication_year])
    link = StringField(_l("Link"), validators=[Optional(), _length(500), _http_link])
    description = _markdown(_l("Description"))

    def values(self) -> dict:
        return {**super().values(), "year": self.year.data}


class TrainerForm(_PoolForm):
    TEXT = ("name", "kind", "title", "affiliation", "expertise", "bio")
    NULLABLE = ("phone",)

    name = StringField(_l("Name"), validators=[_required(_l("Enter the name.")), _length(64)])
    kind = SelectField(
        _l("Trainer type"), choices=_options(TRAINER_KINDS), validators=[_required(_l("Choose a type."))]
    )
    title = StringField(_l("Job title"), validators=[_length(100)])
    affiliation = StringField(_l("Affiliation"), validators=[_length(200)])
    expertise = StringField(_l("Expertise"), validators=[_length(500)], description=_list_hint())
    phone = _phone(_l("Phone"))
    org_unit_id = SelectField(_l("Org unit"), coerce=_int_or_none, validators=[Optional()])
    username = StringField(_l("Account"), validators=[Optional(), _length(64)],
                           description=_l("Optional: the username of the trainer's own account on this site."))
    bio = _markdown(_l("Biography"))
    active = BooleanField(_l("Active"), default=True)


class BaseForm(_PoolForm):
    TEXT = ("name", "kind", "address", "theme", "contact_name", "contact_phone", "description")

    name = StringField(_l("Base name"), validators=[_required(_l("Enter the name.")), _length(200)])
    kind = SelectField(_l("Base type"), choices=_options(BASE_KINDS), validators=[_required(_l("Choose a type."))])
    # The choice is checked by the view (a unit outside the office's area is a 404, not a form error).
    org_unit_id = SelectField(_l("Org unit"), coerce=_int_or_none, validate_choice=False)
    address = StringField(_l("Address"), validators=[_length(300)])
    theme = StringField(_l("Teaching themes"), validators=[_length(300)])
    capacity = IntegerField(_l("Capacity"), validators=[
        Optional(), NumberRange(1, 100000, message=_l("The capacity must be between %(min)s and %(max)s."))])
    contact_name = StringField(_l("Contact person"), validators=[_length(64)])
    contact_phone = _phone(_l("Contact phone"))
    description = _markdown(_l("Description"))
    active = BooleanField(_l("Active"), default=True)

    def values(self) -> dict:
        return {**super().values(), "capacity": self.capacity.data}


class ExpertForm(_PoolForm):
    TEXT = ("name", "title", "affiliation", "fields", "contact", "bio")

    name = StringField(_l("Name"), validators=[_required(_l("Enter the name.")), _length(64)])
    title = StringField(_l("Job title"), validators=[_length(100)])
    affiliation = StringField(_l("Affiliation"), validators=[_length(200)])
    fields = StringField(_l("Fields"), validators=[_length(500)], description=_list_hint())
    contact = StringField(_l("Contact"), validators=[_length(100)],
                          description=_l("Phone or e-mail; shown only to training offices."))
    username = StringField(_l("Account"), validators=[Optional(), _length(64)],
                           description=_l("Optional: the username of the expert's own account on this site, so "
                                          "that questions to experts can be routed to them."))
    bio = _markdown(_l("Biography"))
    active = BooleanField(_l("Active"), default=True)


class InstitutionForm(_PoolForm):
    TEXT = ("name", "kind", "cooperation", "address", "contact_name", "contact_phone", "description")

    name = StringField(_l("Institution name"), validators=[_required(_l("Enter the name.")), _length(200)])
    kind = SelectField(_l("Institution type"), choices=_options(INSTITUTION_KINDS),
                       validators=[_required(_l("Choose a type."))])
    cooperation = StringField(_l("Cooperation"), validators=[_length(500)], description=_list_hint())
    address = StringField(_l("Address"), validators=[_length(300)])
    contact_name = StringField(_l("Contact person"), validators=[_length(64)])
    contact_phone = _phone(_l("Contact phone"))
    description = _markdown(_l("Description"))
    active = BooleanField(_l("Active"), default=True)


FORMS = {
    "textbooks": TextbookForm,
    "trainers": TrainerForm,
    "bases": BaseForm,
    "experts": ExpertForm,
    "institutions": InstitutionForm,
}
