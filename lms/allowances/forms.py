"""The forms of the allowance pages. Every bad value gets a message naming its field, in the user's language."""
from datetime import date

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, StopValidation

from ..i18n import lazy_gettext as _l
from ..inputs import InputError, day
from .models import PAID_LEVELS
from .policy import MAX_AMOUNT, Draft

LEVEL_WORDS = {"assistant": _l("Assistant social worker"), "intermediate": _l("Social worker"),
               "senior": _l("Senior social worker")}
UPGRADE_WORDS = {"full": _l("the higher level's full reward"),
                 "difference": _l("the difference from the rewards already paid")}


def _day(required: bool):
    def check(form, field):
        text = str(field.data or "").strip()
        if not text:
            if required:
                raise StopValidation(_("%(field)s: enter a date (YYYY-MM-DD).", field=field.label.text))
            field.data = None
            return
        try:
            field.data = day(text, str(field.label.text))
        except InputError as exc:
            raise StopValidation(exc.message) from None
    return check


def _yuan(form, field):
    """Whole yuan, 0 to MAX_AMOUNT; blank is 0. Leaves the int in field.data."""
    text = str(field.data or "").strip().replace(",", "").replace("，", "")
    if not text:
        field.data = 0
        return
    if not text.isascii() or not text.isdigit() or int(text) > MAX_AMOUNT:
        raise StopValidation(_("%(field)s: “%(value)s” is not an amount in whole yuan from 0 to %(max)d.",
                               field=field.label.text, value=field.data, max=MAX_AMOUNT))
    field.data = int(text)


class PolicyForm(FlaskForm):
    effective_from = StringField(_l("Effective from"), validators=[_day(True)])
    effective_to = StringField(_l("Effective to (optional, last day included)"), validators=[_day(False)])
    monthly_assistant = StringField(_l("Monthly allowance, assistant social worker (yuan)"), validators=[_yuan])
    monthly_intermediate = StringField(_l("Monthly allowance, social worker (yuan)"), validators=[_yuan])
    monthly_senior = StringField(_l("Monthly allowance, senior social worker (yuan)"), validators=[_yuan])
    reward_assistant = StringField(_l("One-time reward, assistant social worker (yuan)"), validators=[_yuan])
    reward_intermediate = StringField(_l("One-time reward, social worker (yuan)"), validators=[_yuan])
    reward_senior = StringField(_l("One-time reward, senior social worker (yuan)"), validators=[_yuan])
    upgrade_reward = SelectField(_l("An upgrade to a higher level pays"),
                                 choices=[(k, v) for k, v in UPGRADE_WORDS.items()])
    note = StringField(_l("Note (e.g. the document that sets the programme)"), validators=[Length(max=500)])

    def draft(self) -> Draft:
        """The validated form as a Draft (the validators left dates and whole yuan in the fields)."""
        start, end = self.effective_from.data, self.effective_to.data
        assert isinstance(start, date)
        return Draft(effective_from=start, effective_to=end if isinstance(end, date) else None,
                     monthly={lv: getattr(self, f"monthly_{lv}").data for lv in PAID_LEVELS},
                     reward={lv: getattr(self, f"reward_{lv}").data for lv in PAID_LEVELS},
                     upgrade_reward=self.upgrade_reward.data, note=self.note.data or "")

    def fill(self, version) -> None:
        self.effective_from.data = version.effective_from.isoformat()
        self.effective_to.data = version.effective_to.isoformat() if version.effective_to else ""
        for lv in PAID_LEVELS:
            getattr(self, f"monthly_{lv}").data = str(version.monthly(lv))
            getattr(self, f"reward_{lv}").data = str(version.reward(lv))
        self.upgrade_reward.data, self.note.data = version.upgrade_reward, version.note


class ConfirmLevelForm(FlaskForm):
    reference = StringField(_l("Certificate number or reference"), validators=[Length(max=100)])


class DepartureForm(FlaskForm):
    left_on = StringField(_l("Left the job on (blank: still working)"), validators=[_day(False)])

    def day(self) -> date | None:
        """The validated leave date, or None (still working)."""
        value = self.left_on.data
        return value if isinstance(value, date) else None
