from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..i18n import lazy_gettext as _l
from .models import REJECT_REASONS

MARKDOWN_MAX = 20000


def _length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


class AskForm(FlaskForm):
    title = StringField(_l("Your question in one sentence"),
                        validators=[DataRequired(_l("Give the question a title.")), _length(200)])
    body = TextAreaField(_l("Details"), validators=[
        DataRequired(_l("Describe the question: what happened, and what you want to know.")), _length(MARKDOWN_MAX)],
        description=_l("What happened, what you tried, what you want to know. Markdown is allowed. "
                       "Leave out residents' names, ID numbers and phone numbers."),
        render_kw={"rows": 8})
    topic = SelectField(_l("Topic"), validate_choice=False)
    attachments = MultipleFileField(_l("Attachments (optional)"))
    anonymous = BooleanField(_l("Ask anonymously: hide my name from the answerer and other workers "
                                "(the training office still sees it)"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(_l("Write the answer.")), _length(MARKDOWN_MAX)],
                           description=_l("Markdown is allowed: headings, lists, links."), render_kw={"rows": 12})


class RouteForm(FlaskForm):
    target = SelectField(_l("Route to"), validators=[DataRequired(_l("Choose an expert or a trainer from the list."))],
                         validate_choice=False)


class RejectForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=[("", "—"), *REJECT_REASONS.items()],
                         validators=[DataRequired(_l("Choose the reason."))])
    note = StringField(_l("Note to the asker (optional)"), validators=[_length(500)])


class LessonForm(FlaskForm):
    course_id = SelectField(_l("Put the lesson in"), coerce=int, validate_choice=False)
