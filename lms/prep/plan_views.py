"""The worker's plan to the exam date and its calendar: /prep/plan/<subject_id> (lms/prep/plan.py builds it).

A plan is the logged-in worker's own: the URL names a subject, never a user, so nobody reaches another's plan."""
import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import StopValidation

from .. import clock
from ..auth.forms import ConfirmForm
from ..exams.models import ExamSubject
from ..i18n import lazy_gettext as _l
from ..inputs import BadInput
from ..util import get_or_404, local_to_utc
from . import mastery
from . import plan as plans
from .views import bp

_DAY = re.compile(r"\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\s*")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def _exam_date(form, field) -> None:
    """YYYY-MM-DD, then the plan's rules (plan.check_exam_date). Leaves the date in field.data."""
    m = _DAY.fullmatch(str(field.data or ""))
    try:
        value = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        value = None
    if value is None:
        raise StopValidation(_("Enter the exam date as year-month-day, e.g. %(d)s.",
                               d=plans.default_exam_date(clock.today(), current_app.config["PREP_EXAM_DATE"])))
    try:
        plans.check_exam_date(clock.today(), value)
    except plans.PlanError as exc:
        raise StopValidation(str(exc)) from None
    field.data = value


def _minutes(form, field) -> None:
    text = str(field.data or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise StopValidation(_("Enter the minutes a day as a whole number from %(lo)d to %(hi)d.",
                               lo=plans.MIN_MINUTES, hi=plans.MAX_MINUTES))
    try:
        plans.check_minutes(int(text))
    except plans.PlanError as exc:
        raise StopValidation(str(exc)) from None
    field.data = int(text)


class PlanForm(FlaskForm):
    exam_date = StringField(_l("Exam date"), validators=[_exam_date], render_kw={"type": "date"})
    minutes = StringField(_l("Minutes a day"), validators=[_minutes],
                          render_kw={"inputmode": "numeric", "min": plans.MIN_MINUTES, "max": plans.MAX_MINUTES})


@dataclass
class Cell:
    day: date
    in_month: bool
    planned: plans.Day | None = None
    answered: int = 0
    mocks: list[plans.Mock] = field(default_factory=list)


def _month_arg(first: date, last: date, today: date) -> date:
    """?month=YYYY-MM, within the plan's months (first … last); absent: this month."""
    raw = request.args.get("month")
    if raw is None or not raw.strip():
        month = today.replace(day=1)
    else:
        m = _MONTH.fullmatch(raw.strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
            raise BadInput(_("month: “%(value)s” is not a month (YYYY-MM).", value=raw))
        month = date(int(m.group(1)), int(m.group(2)), 1)
    return min(max(month, first.replace(day=1)), last.replace(day=1))


def _weeks(month: date, built: plans.Plan, past: plans.Past) -> list[list[Cell]]:
    """The month as weeks from Monday to Sunday, each day with what was planned and what was done."""
    by_day = {d.day: d for d in built.days}
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append([Cell(d, d.month == month.month, by_day.get(d), past.answered.get(d, 0), past.mocks.get(d, []))
                      for d in week])
    return weeks


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@bp.route("/plan/<int:subject_id>", methods=["GET", "POST"])
@login_required
def plan(subject_id: int):
    subject = get_or_404(ExamSubject, subject_id)
    today = clock.today()
    row = plans.of(current_user.id, subject.id)
    form = PlanForm()
    if request.method == "GET":
        form.exam_date.data = (row.exam_date if row else
                               plans.default_exam_date(today, current_app.config["PREP_EXAM_DATE"])).isoformat()
        form.minutes.data = str(row.minutes_per_day if row else 30)
    if form.validate_on_submit():
        # the form's validators leave a date and an int in .data
        plans.save(current_user.id, subject, cast(date, form.exam_date.data), cast(int, form.minutes.data), today)
        flash(_("Plan saved.") if row else _("Plan made: it is worked out again from your answers every time you "
                                              "open this page."), "success")
        return redirect(url_for("prep.plan", subject_id=subject.id))
    page: dict[str, object] = {"subject": subject, "row": row, "form": form, "today": today,
                               "max_minutes": plans.MAX_MINUTES}
    if row is not None:
        params = mastery.Params.from_config()
        data = plans.inputs(current_user.id, subject, today)
        built = plans.build(today, row, data.topics, data.reviews_due, data.mock_minutes, params,
                            plans.target_percent())
        start = min(plans.start_of(row), today)
        month = _month_arg(start, max(row.exam_date, today), today)
        last = calendar.monthrange(month.year, month.month)[1]
        done = plans.past(current_user.id, subject.id, min(month, today), max(month.replace(day=last), today), today)
        first_day: dict[str, date] = {}
        for d in built.days:
            for t in d.tasks:
                if t.topic and t.kind in ("lesson", "practice"):
                    first_day.setdefault(t.topic, d.day)
        prev_month = (month - timedelta(days=1)).replace(day=1)
        since = local_to_utc(datetime.combine(today - timedelta(days=plans.CHANGE_DAYS), datetime.min.time()))
        page.update(built=built, progress=plans.progress(row, data, today, params), params=params,
                    target=plans.target_percent(), month=month, weeks=_weeks(month, built, done), past=done,
                    first_day=first_day, days_left=(row.exam_date - today).days,
                    prev_month=prev_month if prev_month >= start.replace(day=1) else None,
                    next_month=_next_month(month) if _next_month(month) <= row.exam_date else None,
                    today_plan=built.days[0] if built.days and built.days[0].day == today else None,
                    has_review="prep.review" in current_app.view_functions, change_days=plans.CHANGE_DAYS,
                    changes=plans.changes(current_user.id, subject.id, since, params, plans.target_percent()))
    return render_template("prep/plan.html", **page)


@bp.route("/plan/<int:subject_id>/stop", methods=["GET", "POST"])
@login_required
def stop_plan(subject_id: int):
    """Stop preparing for the subject: a page that asks, then the plan goes."""
    subject = get_or_404(ExamSubject, subject_id)
    row = plans.of(current_user.id, subject.id)
    form = ConfirmForm()
    if row is None:
        return redirect(url_for("prep.plan", subject_id=subject.id))
    if form.validate_on_submit():
        plans.stop(current_user.id, subject.id)
        flash(_("You have stopped preparing for %(subject)s. Your answers and mastery are kept; make a new plan "
                "whenever you like.", subject=subject.name), "success")
        return redirect(url_for("prep.plan", subject_id=subject.id))
    return render_template("prep/plan_stop.html", subject=subject, row=row, form=form)
