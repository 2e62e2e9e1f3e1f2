"""Reading the statistics' filters from query arguments (pages and API alike), with messages for bad input.

Values are read by the parsers of lms/inputs.py (dates and years from inputs.FIRST_YEAR to next year), which
also give the API's OpenAPI document its limits. A page shows each message, ignores that filter and answers
400; the API refuses the request (400 with the messages as details)."""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select

from .. import clock, inputs
from ..auth.models import User
from ..auth.scope import scope_unit, unit_filter
from ..exams.models import Exam
from ..extensions import db
from ..inputs import InputError
from ..learning.models import Course
from ..orgs.models import OrgUnit
from ..training.models import TRAINING_LEVELS, Training, TrainingSession
from .queries import Filters

MAX_CLASS_CHOICES = 300
FILTER_ARGS = ("year", "from", "to", "level", "course", "training", "exam")


def this_year() -> int:
    return clock.this_year()


@dataclass
class Parsed:
    filters: Filters
    year: int | None                 # the year chosen (None: a date range or all years)
    errors: list = field(default_factory=list)
    args: dict = field(default_factory=dict)  # the accepted arguments, to carry along links

    @property
    def label(self) -> str:
        f = self.filters
        if self.year:
            return str(self.year)
        if f.start or f.end:
            return f"{f.start.isoformat() if f.start else '…'} – {f.end.isoformat() if f.end else '…'}"
        return _("All years")


def _date(value: str, name: str, errors: list) -> date | None:
    try:
        return inputs.day(value, name)
    except InputError as exc:
        errors.append(exc.message)
        return None


def allowed_trainings(viewer: User):
    """The classes a viewer may filter by: organised in its area or by a unit above it."""
    if viewer.has_role("admin"):
        return select(Training)
    root = scope_unit(viewer)
    above = [int(x) for x in root.path.strip("/").split("/") if x] if root is not None else []
    organisers = select(OrgUnit.id).where(or_(unit_filter(viewer), OrgUnit.id.in_(above)))
    return select(Training).where(Training.org_unit_id.in_(organisers))


def parse(args, viewer: User) -> Parsed:
    errors: list = []
    accepted: dict = {}
    start = end = None
    year: int | None = None
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if raw_from or raw_to:
        start = _date(raw_from, _("From"), errors) if raw_from else None
        end = _date(raw_to, _("To"), errors) if raw_to else None
        if start and end and start > end:
            errors.append(_("The period ends before it starts."))
            start = end = None
        if start:
            accepted["from"] = start.isoformat()
        if end:
            accepted["to"] = end.isoformat()
    if not (start or end):
        raw_year = (args.get("year") or "").strip()
        if raw_year == "all":
            accepted["year"] = "all"
        elif raw_year:
            try:
                year = inputs.year(raw_year, _("Year"))
            except InputError as exc:
                errors.append(exc.message)
                year = this_year()
        else:
            year = this_year()
        if year:
            start, end = date(year, 1, 1), date(year, 12, 31)
            accepted["year"] = str(year)
    level = (args.get("level") or "").strip() or None
    if level and level not in TRAINING_LEVELS:
        errors.append(_("Training level: “%(value)s” is not a level.", value=level))
        level = None
    course_id = _checked(args, "course", Course, select(Course.id), _("Course"), errors)
    exam_id = _checked(args, "exam", Exam, select(Exam.id), _("Exam"), errors)
    training_id = _checked(args, "training", Training, allowed_trainings(viewer).with_only_columns(Training.id),
                           _("Training class"), errors)
    for key, value in (("level", level), ("course", course_id), ("exam", exam_id), ("training", training_id)):
        if value:
            accepted[key] = str(value)
    f = Filters(start=start, end=end, level=level, course_id=course_id, training_id=training_id, exam_id=exam_id)
    return Parsed(f, year, errors, accepted)


def _checked(args, name, model, allowed, label, errors) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        ident = inputs.ident(raw, label)
    except InputError as exc:
        errors.append(exc.message)
        return None
    if db.session.scalar(allowed.where(model.id == ident)) is None:
        errors.append(_("%(field)s: no such choice is available to you.", field=label))
        return None
    return ident


def choices(viewer: User, f: Filters) -> dict:
    """The options of the filter form."""
    courses = db.session.execute(select(Course.id, Course.title)  # a revision is no course of its own
                                 .where(Course.revision_of_id.is_(None)).order_by(Course.title)).all()
    exams = db.session.execute(select(Exam.id, Exam.name).order_by(Exam.id)).all()
    trainings = allowed_trainings(viewer).with_only_columns(Training.id, Training.title, Training.level)
    lo, hi = f.utc_bounds()
    if lo or hi:
        held = select(TrainingSession.training_id)
        if lo:
            held = held.where(TrainingSession.starts_at >= lo)
        if hi:
            held = held.where(TrainingSession.starts_at < hi)
        trainings = trainings.where(Training.id.in_(held))
    trainings = list(db.session.execute(trainings.order_by(Training.id.desc()).limit(MAX_CLASS_CHOICES)))

    if f.training_id and f.training_id not in {t.id for t in trainings}:
        trainings.append(db.session.execute(select(Training.id, Training.title, Training.level)
                                            .where(Training.id == f.training_id)).one())
    current = this_year()
    return {"courses": courses, "exams": exams, "trainings": trainings,
            "years": list(range(current, current - 6, -1)), "levels": TRAINING_LEVELS,
            "first_day": date(inputs.FIRST_YEAR, 1, 1).isoformat(),
            "last_day": date(inputs.last_year(), 12, 31).isoformat()}


def notes(unit: OrgUnit, parsed: Parsed, extra: list | None = None) -> list[list]:
    """The "About" sheet of an export: what the figures cover."""
    f = parsed.filters
    rows = [[_("Org unit"), unit.full_name], [_("Period"), parsed.label]]
    if f.level:
        rows.append([_("Training level"), str(TRAINING_LEVELS[f.level])])
    for label, model, ident, attr in ((_("Course"), Course, f.course_id, "title"),
                                      (_("Training class"), Training, f.training_id, "title"),
                                      (_("Exam"), Exam, f.exam_id, "name")):
        if ident:
            rows.append([label, getattr(db.session.get(model, ident), attr)])
    rows.append([_("Exported at"), clock.local_now().strftime("%Y-%m-%d %H:%M")])
    rows.append([_("Workers"), _("Active accounts with the community-worker role, counted in their current org unit.")])
    rows.append([_("Filters"), _("The course filter narrows enrolments and course credit hours; the training level and "
                                 "class filters narrow attendance, person-times and training credit hours; the exam "
                                 "filter narrows the exam figures.")])
    return rows + (extra or [])
