"""Training classes: offices run them, workers register and check in."""
import secrets
from datetime import date, datetime, time, timedelta
from typing import cast

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from ..auth import choices
from ..auth.forms import ConfirmForm
from ..auth.scope import (
    above,
    can_cancel_registration,
    can_manage_training,
    can_see_open_training,
    can_see_unit,
    get_in_scope_or_404,
    in_scope_or_404,
    in_subtree,
    roles_required,
    visible_trainings_filter,
    visible_units,
)
from ..database import begin_writing, utcnow
from ..extensions import db, login_manager
from ..imports import Outcome, run_import
from ..learning.models import Course
from ..library.models import Trainer, TrainingBase
from ..orgs.models import OrgUnit
from ..orgs.tree import unit_choices
from ..surveys import evaluations as _evaluations
from ..tabular import TableError, download
from ..transaction import discard
from ..util import Page, get_or_404, get_or_none, local_to_utc, page_arg, utc_to_local
from . import io, rules
from .forms import AssignForm, CheckinForm, ImportSessionsForm, SessionForm, TrainingForm
from .models import (
    ATTENDANCE_METHODS,
    ATTENDANCE_STATUSES,
    PLACE_KINDS,
    REGISTRATION_STATUSES,
    SESSION_STATES,
    TRAINING_LEVELS,
    Attendance,
    Registration,
    Training,
    TrainingSession,
)

bp = Blueprint("training", __name__, url_prefix="/training")
DEVICE_COOKIE = "lms_device"
TICKET_COOKIE = "lms_checkin"  # a QR scan's signed ticket (rules.scan), kept a few minutes


@bp.app_context_processor
def _labels():
    return {"TRAINING_LEVELS": TRAINING_LEVELS, "PLACE_KINDS": PLACE_KINDS,
            "REGISTRATION_STATUSES": REGISTRATION_STATUSES, "ATTENDANCE_STATUSES": ATTENDANCE_STATUSES,
            "ATTENDANCE_METHODS": ATTENDANCE_METHODS, "SESSION_STATES": SESSION_STATES}


def _managed(training_id: int) -> Training:
    return get_in_scope_or_404(Training, training_id, can_manage_training)


def _managed_session(session_id: int) -> TrainingSession:
    session = get_or_404(TrainingSession, session_id)
    _managed(session.training_id)
    return session


# --- offices: classes ------------------------------------------------------------------------------

@bp.route("/")
@roles_required("office", "admin")
def index():
    stmt = select(Training).where(visible_trainings_filter(current_user))
    if request.args.get("level") in TRAINING_LEVELS:
        stmt = stmt.where(Training.level == request.args["level"])
    if request.args.get("status") in ("draft", "open", "closed", "cancelled"):
        stmt = stmt.where(Training.status == request.args["status"])
    page = Page(stmt.order_by(Training.registration_deadline.desc(), Training.id.desc())
                .options(joinedload(Training.org_unit)), page_arg(), 50)
    ids = [t.id for t in page.items]
    seats = dict(
        db.session.execute(
            select(Registration.training_id, func.count())
            .where(Registration.training_id.in_(ids), Registration.status == "registered")
            .group_by(Registration.training_id)
        ).tuples().all()
    )
    return render_template("training/index.html", page=page, seats=seats)


def _prepare(form: TrainingForm, organiser: OrgUnit):
    form.audience_unit_id.choices = unit_choices(
        select(OrgUnit).where(in_subtree(OrgUnit.path, organiser)))
    form.audience_cert_levels.choices = [(k, v) for k, v in choices.CERT_LEVELS.items()]
    form.trainers.choices = [(t.id, t.name) for t in db.session.scalars(
        select(Trainer).where(Trainer.active.is_(True)).order_by(Trainer.name))]
    form.course_id.choices = [(0, "—")] + [(c.id, c.title) for c in db.session.scalars(
        select(Course).where(Course.status == "published").order_by(Course.title))]


def _apply(form: TrainingForm, training: Training, organiser: OrgUnit) -> None:
    audience = get_or_404(OrgUnit, form.audience_unit_id.data)
    rules.check_organiser(current_user, organiser.level, organiser, audience)
    training.title = (form.title.data or "").strip()
    training.level, training.org_unit, training.audience_unit = organiser.level, organiser, audience
    training.audience_cert_levels = ",".join(form.audience_cert_levels.data or [])
    training.description = form.description.data or ""
    training.trainers = list(db.session.scalars(select(Trainer).where(Trainer.id.in_(form.trainers.data or []))))
    training.course_id = form.course_id.data or None
    training.capacity = cast(int, form.capacity.data)  # DataRequired
    training.registration_deadline = local_to_utc(form.registration_deadline.data)
    training.status = form.status.data


@bp.route("/new", methods=["GET", "POST"])
@roles_required("office", "admin")
def create():
    organiser = rules.organiser_for(current_user)
    if organiser is None:
        flash(_("Classes are organised by city, district and street offices."), "danger")
        return redirect(url_for(".index"))
    form = TrainingForm()
    _prepare(form, organiser)
    if request.method == "GET":
        form.audience_unit_id.data = organiser.id
        form.registration_deadline.data = utc_to_local(utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    if form.validate_on_submit():
        training = Training(created_by_id=current_user.id, lock_version=0)
        try:
            _apply(form, training, organiser)
            db.session.add(training)
            db.session.flush()  # its id, for the redirect
        except rules.TrainingError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Class created. Now add its sessions."), "success")
            return redirect(url_for(".detail", training_id=training.id))
    return render_template("training/form.html", form=form, training=None, organiser=organiser)


@bp.route("/<int:training_id>/edit", methods=["GET", "POST"])
@roles_required("office", "admin")
def edit(training_id):
    training = _managed(training_id)
    form = TrainingForm(obj=training)
    _prepare(form, training.org_unit)
    if request.method == "GET":
        form.audience_cert_levels.data = training.cert_levels
        form.trainers.data = [t.id for t in training.trainers]
        form.course_id.data = training.course_id or 0
        form.registration_deadline.data = utc_to_local(training.registration_deadline)
    if form.validate_on_submit():
        try:
            _apply(form, training, training.org_unit)
            rules.promote(training)  # a larger capacity seats the waiting list
        except rules.TrainingError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".detail", training_id=training.id))
    return render_template("training/form.html", form=form, training=training, organiser=training.org_unit)


@bp.route("/<int:training_id>")
@login_required
def detail(training_id):
    training = get_or_404(Training, training_id)
    if can_manage_training(current_user, training):
        return _office_detail(training)
    in_scope_or_404(training, can_see_open_training)
    reg = db.session.scalar(select(Registration).where(Registration.training_id == training.id,
                                                       Registration.user_id == current_user.id))
    now = utcnow()
    mine = rules.attendance_by_user(training, now).get(current_user.id, {})
    seated = reg is not None and reg.status == "registered"
    states = {s.id: rules.session_state(s, mine.get(s.id), now) for s in training.sessions if seated or s.id in mine}
    evaluation = _evaluation_for_worker(training, mine)
    return render_template("training/detail_worker.html", training=training, reg=reg, states=states, now=now,
                           seats=rules.seats_taken(training), form=ConfirmForm(), evaluation=evaluation)


def _evaluation_for_worker(training: Training, mine: dict) -> dict | None:
    """The class's evaluation as the worker's page shows it (lms/surveys): for a worker who attended."""
    if not any(a.status in rules.CREDITED for a in mine.values()):
        return None
    return {"state": _evaluations.state(training), "done": _evaluations.mine(training, current_user) is not None}


def _office_detail(training: Training):
    regs = rules.registrations(training)
    now = utcnow()
    summary = rules.attendance_summary(training, regs, now)
    flags = rules.proxy_flags(TrainingSession.training_id == training.id)
    return render_template(
        "training/detail_office.html",
        training=training,
        regs=regs,
        records=summary.records,
        rates=summary.rates,
        overall=summary.overall,
        below=summary.below,
        threshold=current_app.config["ATTENDANCE_ALERT_RATE"],
        flags=flags,
        now=now,
        form=ConfirmForm(),
        evaluation=_evaluations.class_results(training),
    )


@bp.route("/<int:training_id>/export.xlsx")
@roles_required("office", "admin")
def export(training_id):
    training = _managed(training_id)
    return download(io.roster_xlsx(training), f"training-{training.id}-roster.xlsx")


# --- offices: sessions --------------------------------------------------------------------------------

def _place_kwargs(form: SessionForm) -> dict:
    return {
        "place_kind": form.place_kind.data,
        "base": db.session.get(TrainingBase, form.base_id.data) if form.base_id.data else None,
        "place_text": form.place_text.data or "",
        "online_url": form.online_url.data or None,
    }


@bp.route("/<int:training_id>/sessions/new", methods=["GET", "POST"])
@roles_required("office", "admin")
def new_session(training_id):
    training = _managed(training_id)
    form = SessionForm()
    form.base_id.choices = [(0, "—")] + [(b.id, b.name) for b in db.session.scalars(
        select(TrainingBase).where(TrainingBase.active.is_(True)).order_by(TrainingBase.name))]
    if form.validate_on_submit():
        # DataRequired on date, start and end; weeks defaults to 1
        start = local_to_utc(datetime.combine(cast(date, form.date.data), cast(time, form.start.data)))
        end = local_to_utc(datetime.combine(cast(date, form.date.data), cast(time, form.end.data)))
        try:
            created = rules.weekly_series(training, start, end - start, form.weeks.data or 1,
                                          credit_hours=form.credit_hours.data, **_place_kwargs(form))
        except rules.TrainingError as exc:
            discard()
            flash(str(exc), "danger")
        else:
            flash(_("%(n)d sessions added.", n=len(created)), "success")
            return redirect(url_for(".detail", training_id=training.id))
    return render_template("training/session_form.html", form=form, training=training)


@bp.route("/<int:training_id>/sessions/import", methods=["GET", "POST"])
@roles_required("office", "admin")
def import_sessions(training_id):
    training = _managed(training_id)
    form = ImportSessionsForm()
    outcome = Outcome()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = run_import(lambda: io.import_sessions(training, upload.read(), upload.filename or ""),
                             lambda n: _("%(n)d sessions added.", n=n), errors=(TableError, rules.TrainingError))
        if outcome.ok:
            return redirect(url_for(".detail", training_id=training.id))
    return render_template("training/import_sessions.html", form=form, training=training, report=outcome.report)


@bp.route("/sessions/template.xlsx")
@roles_required("office", "admin")
def session_template():
    return download(io.session_template(), "sessions-template.xlsx")


@bp.route("/sessions/<int:session_id>/delete", methods=["POST"])
@roles_required("office", "admin")
def delete_session(session_id):
    session = _managed_session(session_id)
    training_id = session.training_id
    try:
        rules.delete_session(session)
    except rules.TrainingError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("Session deleted."), "success")
    return redirect(url_for(".detail", training_id=training_id))


@bp.route("/<int:training_id>/assign", methods=["GET", "POST"])
@roles_required("office", "admin")
def assign(training_id):
    training = _managed(training_id)
    form = AssignForm()
    form.unit_id.choices = [(0, "—")] + unit_choices(
        visible_units(current_user).where(in_subtree(OrgUnit.path, training.audience_unit)))
    if form.validate_on_submit():
        unit = None
        if form.unit_id.data:
            unit = in_scope_or_404(db.session.get(OrgUnit, form.unit_id.data), can_see_unit)
        users, problems = rules.assignees(training, unit, form.usernames.data)
        if problems:
            for p in problems:
                flash(p, "danger")
        elif not users:
            flash(_("Choose a unit or give usernames."), "warning")
        else:
            try:
                seated, waiting = rules.assign(training, list({u.id: u for u in users}.values()))
            except rules.TrainingError as exc:
                discard()
                flash(str(exc), "danger")
            else:
                flash(_("%(s)d registered, %(w)d on the waiting list.", s=seated, w=waiting), "success")
                return redirect(url_for(".detail", training_id=training.id))
    return render_template("training/assign.html", form=form, training=training)


# --- check-in screen and roster -----------------------------------------------------------------------

def _code_payload(session: TrainingSession) -> dict:
    now = utcnow()
    opens, closes = rules.window(session)
    is_open = opens <= now <= closes
    payload = {
        "open": is_open,
        "seconds_left": rules.seconds_left(now),
        "opens": utc_to_local(opens).strftime("%Y-%m-%d %H:%M"),
        "closes": utc_to_local(closes).strftime("%H:%M"),
    }
    if is_open:
        code = rules.code_at(session, now)
        link = url_for(".checkin", s=session.id, c=code, _external=True)
        payload.update(code=code, link=link, qr=segno.make(link, error="m").svg_data_uri(scale=6, border=2))
    checked = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == session.id, Attendance.status.in_(rules.CREDITED)))
    payload["checked_in"] = checked
    return payload


def _countdown_sentences() -> dict[str, str]:
    """The projector's countdown as a whole sentence, one and many seconds; checkin_screen.js puts the
    seconds in place of {n}."""
    def sentence(count: int) -> str:
        return ngettext("The check-in code changes in %(n)s second", "The check-in code changes in %(n)s seconds",
                        count, n="{n}")

    return {"one": sentence(1), "other": sentence(2)}


@bp.route("/sessions/<int:session_id>/screen")
@roles_required("office", "admin")
def screen(session_id):
    """The projector's full-screen kiosk: no site menu, the code and QR large enough for the back of a hall."""
    session = _managed_session(session_id)
    return render_template("training/screen.html", session=session, training=session.training,
                           data=_code_payload(session), countdown=_countdown_sentences())


@bp.route("/sessions/<int:session_id>/code.json")
@roles_required("office", "admin")
def code_json(session_id):
    session = _managed_session(session_id)
    response = current_app.json.response(_code_payload(session))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sessions/<int:session_id>/roster", methods=["GET", "POST"])
@roles_required("office", "admin")
def roster(session_id):
    session = _managed_session(session_id)
    training = session.training
    regs = rules.registrations(training, "registered")
    if request.method == "POST":
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        rules.close_session(session)  # unmarked workers of an ended session become absent first
        by_id = {r.user_id: r.user for r in regs}
        bulk = request.form.get("bulk_status")
        selected = {int(i) for i in request.form.getlist("selected") if i.isdigit()}
        changed = 0
        for user_id, user in by_id.items():
            status = (
                bulk if (bulk in ATTENDANCE_STATUSES and user_id in selected) else request.form.get(f"status-{user_id}")
            )
            if status in ATTENDANCE_STATUSES:
                before = db.session.scalar(select(Attendance.status).where(Attendance.session_id == session.id,
                                                                           Attendance.user_id == user_id))
                if before != status:
                    rules.set_status(session, user, status, method="roster", by=current_user)
                    changed += 1
        flash(_("%(n)d attendance records changed.", n=changed), "success")
        return redirect(url_for(".roster", session_id=session.id))
    records = {uid: by_session[session.id] for uid, by_session in rules.attendance_by_user(training).items()
               if session.id in by_session}
    return render_template("training/roster.html", session=session, training=training, regs=regs, records=records,
                           form=ConfirmForm())


@bp.route("/sessions/<int:session_id>/history")
@roles_required("office", "admin")
def history(session_id):
    from .models import AttendanceChange

    session = _managed_session(session_id)
    changes = db.session.scalars(select(AttendanceChange).join(Attendance).where(Attendance.session_id == session.id)
                                 .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())).all()
    return render_template("training/history.html", session=session, training=session.training, changes=changes)


# --- workers -------------------------------------------------------------------------------------------

@bp.route("/open")
@login_required
def open_classes():
    path = current_user.org_unit.path
    stmt = (select(Training).join(OrgUnit, Training.audience_unit_id == OrgUnit.id)
            .where(Training.status == "open", Training.registration_deadline >= utcnow(),
                   above(path)).order_by(Training.registration_deadline)
            .options(contains_eager(Training.audience_unit), joinedload(Training.org_unit)))
    classes = [t for t in db.session.scalars(stmt) if rules.in_audience(t, current_user)]
    mine = dict(db.session.execute(select(Registration.training_id, Registration.status).where(
        Registration.user_id == current_user.id)).tuples().all())
    return render_template("training/open.html", classes=classes, mine=mine)


@bp.route("/<int:training_id>/register", methods=["POST"])
@login_required
def register(training_id):
    training = get_in_scope_or_404(Training, training_id, can_see_open_training)  # as its page
    training_id = training.id
    begin_writing()  # end the read transaction: the registration starts a fresh one with the lock
    rules.lock_training(training_id)
    try:
        reg = rules.register(training, current_user)
    except rules.TrainingError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        if reg.status == "registered":
            flash(_("You are registered."), "success")
        else:
            flash(_("The class is full: you are on the waiting list and will move up when a seat frees."), "info")
    return redirect(url_for(".detail", training_id=training.id))


@bp.route("/<int:training_id>/cancel", methods=["POST"])
@login_required
def cancel(training_id):
    training = get_in_scope_or_404(Training, training_id, can_cancel_registration)
    begin_writing()
    rules.lock_training(training_id)
    try:
        rules.cancel(training, current_user)
    except rules.TrainingError as exc:
        discard()
        flash(str(exc), "danger")
    else:
        flash(_("Your registration is cancelled."), "success")
    return redirect(url_for(".detail", training_id=training.id))


def _device_id() -> tuple[str, bool]:
    value = request.cookies.get(DEVICE_COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value, False
    return secrets.token_hex(16), True


def _with_device_cookie(response, device: str, new: bool):
    if new:
        response.set_cookie(DEVICE_COOKIE, device, max_age=5 * 365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _attempt(check_in) -> "rules.CheckinResult | None":
    """Run one check-in; a refusal is flashed and written nothing, except a 代签到 refusal: it keeps its flag
    for the office (ProxyCheckinError.keeps_flushed), which the request commits."""
    try:
        result = check_in()
        return result
    except rules.ProxyCheckinError as exc:
        flash(str(exc), "danger")
    except rules.TrainingError as exc:
        discard()
        flash(str(exc), "danger")
    return None


def _scan(device: str):
    """The QR code's link (?s=session&c=code), opened logged in or not: the code is checked now and the
    scan kept on this phone as a ticket; the check-in page (after the login, if needed) redeems it."""
    session = get_or_none(TrainingSession, request.args.get("s", type=int))
    token = None
    if session is None:
        flash(_("No such session: scan the code on the screen again."), "danger")
    else:
        try:
            token = rules.scan(session, request.args.get("c", ""), device)
        except rules.TrainingError as exc:
            flash(str(exc), "danger")
    target = url_for(".checkin")
    if current_user.is_authenticated:
        response = redirect(target)
    else:
        if token:
            flash(_("Log in to finish checking in. Your scan is kept on this phone for %(n)d minutes.",
                    n=current_app.config["CHECKIN_TICKET_MINUTES"]), "info")
        response = redirect(url_for("auth.login", next=target))
    if token:
        response.set_cookie(TICKET_COOKIE, token, max_age=current_app.config["CHECKIN_TICKET_MINUTES"] * 60,
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/checkin", methods=["GET", "POST"])
def checkin():
    device, new = _device_id()
    if request.method == "GET" and "c" in request.args:
        return _with_device_cookie(_scan(device), device, new)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    form = CheckinForm()
    result = pending = None
    ticket = request.cookies.get(TICKET_COOKIE) if request.method == "GET" else None
    if ticket:
        try:  # a scan waiting on this phone: confirmed by a POST (no writes on GET), which the page sends itself
            pending = rules.read_ticket(ticket, device)
        except rules.TrainingError as exc:
            flash(str(exc), "danger")
            ticket = None
            response = redirect(url_for(".checkin"))
            response.delete_cookie(TICKET_COOKIE, httponly=True, samesite="Lax",
                                   secure=current_app.config["SESSION_COOKIE_SECURE"])
            return _with_device_cookie(response, device, new)
    elif request.method == "GET":
        form.session_id.data = request.args.get("s", type=int)
    elif form.validate_on_submit():
        session = get_or_none(TrainingSession, form.session_id.data)
        if session is None:
            flash(_("No such session: scan the code on the screen again."), "danger")
        else:
            result = _attempt(lambda: rules.check_in(session, current_user, form.code.data or "", device))

    return _checkin_page(form, result, device, new, pending=pending)


@bp.route("/checkin/scan", methods=["POST"])
@login_required
def redeem_scan():
    """Finish the check-in of the QR scan kept on this phone (rules.redeem_ticket), judged at the scan."""
    device, new = _device_id()
    ticket = request.cookies.get(TICKET_COOKIE)
    result = None
    if ConfirmForm().validate_on_submit():
        if ticket:
            result = _attempt(lambda: rules.redeem_ticket(ticket, current_user, device))
        else:
            flash(_("This check-in scan is not valid: scan the QR code on the screen again."), "danger")
    response = _checkin_page(CheckinForm(formdata=None), result, device, new)
    response.delete_cookie(
        TICKET_COOKIE, httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"]
    )
    return response


def _checkin_page(form, result, device: str, new: bool, pending=None):
    pending_session = get_or_404(TrainingSession, pending.session_id) if pending else None
    html = render_template("training/checkin.html", form=form, result=result, pending=pending,
                           pending_session=pending_session, confirm=ConfirmForm(), sessions=_my_sessions_today())
    return _with_device_cookie(current_app.make_response(html), device, new)


def _my_sessions_today():
    now = utcnow()
    before = timedelta(minutes=current_app.config["CHECKIN_OPENS_MINUTES_BEFORE"])
    return db.session.scalars(
        select(TrainingSession)
        .join(Registration, Registration.training_id == TrainingSession.training_id)
        .where(
            Registration.user_id == current_user.id,
            Registration.status == "registered",
            TrainingSession.starts_at - before <= now,
            TrainingSession.ends_at >= now,
        )
    ).all()


@bp.route("/mine")
@login_required
def mine():
    now = utcnow()
    rows = rules.my_sessions(current_user, now)
    current = sorted((r for r in rows if r.session.ends_at > now), key=lambda r: r.session.starts_at)
    past = [r for r in rows if r.session.ends_at <= now]
    hours = sum((r.session.credit_hours for r in rows if r.state in rules.CREDITED), 0)
    return render_template("training/mine.html", current=current, past=past, hours=hours,
                           due=_evaluations.due_for(current_user, now))


@bp.route("/flags")
@roles_required("office", "admin")
def flags():
    return render_template(
        "training/flags.html", flags=rules.proxy_flags(visible_trainings_filter(current_user), limit=500)
    )
