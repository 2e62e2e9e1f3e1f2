from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from ..i18n import lazy_gettext as _l
from .models import CATEGORIES, LEVELS, SERIES


class TopicsField(SelectMultipleField):
    """A course's or lesson's exam topics, picked from the question bank's (choices set by the view). The
    domain checks them (courses.taught_topics), so a name the list lacks gets its message, not WTForms'."""

    def pre_validate(self, form):
        pass


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(_l("Summary"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Introduction (Markdown)"), validators=[Length(max=20000)])
    series = SelectField(_l("Series"), choices=[("", "—")] + list(SERIES.items()), validators=[Optional()])
    category = SelectField(_l("Category"), choices=list(CATEGORIES.items()))
    tags = StringField(_l("Tags (separate with 、 or commas)"), validators=[Length(max=300)])
    level = SelectField(_l("Course level"), choices=list(LEVELS.items()))
    topics = TopicsField(_l("Exam topics it teaches"), choices=[],
                         description=_l("Topics of the question bank the course teaches (hold Ctrl or ⌘ to pick more "
                                        "than one). Exam preparation recommends it to workers weak on them. Pick none "
                                        "if it teaches none."))
    credit_hours = DecimalField(_l("Credit hours"), places=1, validators=[
        DataRequired(), NumberRange(0.5, 100, message=_l("Credit hours must be between 0.5 and 100."))])
    cover = FileField(_l("Cover image (PNG/JPEG, up to 5 MB)"))

    def fields_dict(self) -> dict:
        tags = [
            t.strip() for t in (self.tags.data or "").replace(",", "、").replace("，", "、").split("、") if t.strip()
        ]
        hours = self.credit_hours.data  # DataRequired
        return {"title": (self.title.data or "").strip(), "summary": (self.summary.data or "").strip(),
                "description": self.description.data or "", "series": self.series.data or None,
                "category": self.category.data, "tags": "、".join(tags), "level": self.level.data,
                "topics": list(self.topics.data or []),
                "credit_hours": hours.quantize(Decimal("0.1")) if hours is not None else None}



class LessonForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Content (Markdown)"), validators=[Length(max=200000)])
    minutes = IntegerField(_l("Expected study time (minutes)"), default=30, validators=[
        DataRequired(), NumberRange(1, 600)])
    min_minutes = IntegerField(_l("Minimum active study (minutes)"), validators=[
        Optional(), NumberRange(1, 600, message=_l("The minimum study time must be between 1 and 600 minutes."))],
        description=_l("Leave empty to require the usual share of the expected time. Set it for short texts "
                       "whose expected time is mostly exercises."))
    required = BooleanField(_l("Required to complete the course"), default=True)
    topics = TopicsField(_l("Exam topics it teaches"), choices=[],
                         description=_l("Topics of the question bank this lesson teaches (hold Ctrl or ⌘ to pick more "
                                        "than one)."))
    video_url = StringField(_l("Video URL"), validators=[Optional(), URL(), Length(max=500)])
    video = FileField(_l("Or upload a video (MP4/WebM)"))
    attachment = FileField(_l("Add an attachment (PDF/Word/Excel/PowerPoint/image, up to 20 MB)"))
    image = FileField(_l("Add an image for the text (PNG/JPEG, up to 5 MB)"))

    def validate_min_minutes(self, field):
        if field.data is not None and self.minutes.data and field.data > self.minutes.data:
            raise ValidationError(_l("The minimum study time cannot exceed the expected study time."))


class QuizForm(FlaskForm):
    """The course's end-of-course quiz (课后测验). `topics` values are "<subject id>|<topic>"."""

    enabled = BooleanField(_l("The course ends with a quiz: it completes only when the quiz is passed"))
    topics = SelectMultipleField(_l("Topics to draw from (one subject)"), choices=[])
    questions = IntegerField(_l("Number of questions"), default=10, validators=[Optional(), NumberRange(1, 50)])
    pass_percent = IntegerField(_l("Pass mark (percent)"), default=60, validators=[Optional(), NumberRange(1, 100)])
    retries = IntegerField(_l("Retries after a fail (leave empty for unlimited)"), validators=[Optional(),
                                                                                             NumberRange(0, 20)])


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Review comment"), validators=[Length(max=5000)])


class RatingForm(FlaskForm):
    stars = SelectField(_l("Rating"), choices=[(str(i), "★" * i) for i in range(5, 0, -1)], validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])


class AssignForm(FlaskForm):
    org_unit_id = SelectField(_l("Org unit"), coerce=int)
    cert_level = SelectField(_l("Certificate level"), validators=[Optional()])


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=20)])
