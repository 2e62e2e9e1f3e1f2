"""Spreadsheets of training classes: session import (all-or-nothing) and the roster export."""
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..library.models import TrainingBase
from ..tabular import Column, ImportReport, read_rows, write_template, write_xlsx
from ..util import local_to_utc
from . import rules
from .models import ATTENDANCE_STATUSES, REGISTRATION_STATUSES, Registration, Training


def _date(text: str):
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("\"%(value)s\" is not a date like 2026-03-15.", value=text))


def _time(text: str) -> time:
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    raise ValueError(_("\"%(value)s\" is not a time like 14:30.", value=text))


def _hours(text: str) -> Decimal:
    try:
        value = Decimal(text).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValueError(_("\"%(value)s\" is not a number.", value=text)) from None
    if not Decimal("0") < value <= Decimal("24"):
        raise ValueError(_("Credit hours of a session must be between 0.1 and 24."))
    return value


PLACE_WORDS = {"基地": "base", "base": "base", "线上": "online", "online": "online", "其他": "text", "text": "text",
               "地点": "text"}


def _place_kind(text: str) -> str:
    kind = PLACE_WORDS.get(text.strip().lower())
    if kind is None:
        raise ValueError(_("Use 基地, 线上 or 其他."))
    return kind


PLACE_OPTIONS = ("基地", "线上", "其他")  # what the template's dropdown offers (PLACE_WORDS reads more)

SESSION_COLUMNS = [
    Column("date", _l("Date"), required=True, parse=_date, aliases=("日期",), example="2026-03-22"),
    Column("start", _l("Starts at"), required=True, parse=_time, aliases=("开始时间",), example="09:00"),
    Column("end", _l("Ends at"), required=True, parse=_time, aliases=("结束时间",), example="11:30"),
    Column("credit_hours", _l("Credit hours"), required=True, parse=_hours, aliases=("学时",), example="2.5"),
    Column("place_kind", _l("Place type"), required=True, parse=_place_kind, aliases=("地点类型",), example="线上",
           options=PLACE_OPTIONS),
    Column("base", _l("Training base"), aliases=("基地名称",), width=24),
    Column("place_text", _l("Address"), aliases=("地点", "地址"), width=30),
    Column("online_url", _l("Online link"), aliases=("线上链接",), width=30,
           example="https://meeting.example.org/room"),
]


def import_sessions(training: Training, data: bytes, filename: str) -> tuple[ImportReport, int]:
    report = ImportReport()
    rows = read_rows(data, filename, SESSION_COLUMNS, report)
    label = {c.key: str(c.label) for c in SESSION_COLUMNS}
    bases = {b.name: b for b in db.session.scalars(select(TrainingBase))}
    plans = []
    for number, row in rows:
        if row["date"] and row["start"] and row["end"] and row["end"] <= row["start"]:
            report.add(number, label["end"], _("A session must end after it starts."))
        kind = row["place_kind"]
        if kind == "base":
            if not row["base"]:
                report.add(number, label["base"], _("Give the name of the training base."))
            elif row["base"] not in bases:
                report.add(number, label["base"], _("No training base is called %(name)s.", name=row["base"]))
        elif kind == "online" and not (row["online_url"] or "").startswith(("http://", "https://")):
            report.add(number, label["online_url"], _("A link starts with http:// or https://."))
        elif kind == "text" and not row["place_text"]:
            report.add(number, label["place_text"], _("Say where the session takes place."))
        plans.append(row)
    if not report.ok:
        return report, 0
    for row in plans:
        rules.new_session(training, starts_at=local_to_utc(datetime.combine(row["date"], row["start"])),
                          ends_at=local_to_utc(datetime.combine(row["date"], row["end"])),
                          credit_hours=row["credit_hours"], place_kind=row["place_kind"],
                          base=bases.get(row["base"]), place_text=row["place_text"] or "", online_url=row["online_url"])
    return report, len(plans)


def session_template() -> bytes:
    notes = [
        [_("Column"), _("What to fill in")],
        [_("Date"), _("e.g. 2026-03-15")],
        [_("Starts at"), _("e.g. 14:30")],
        [_("Place type"), _("基地 (a training base: give its name), 线上 (online: give the link) or 其他 "
                            "(elsewhere: give the address).")],
    ]
    return write_template(_("Sessions"), SESSION_COLUMNS, notes)


def roster_xlsx(training: Training) -> bytes:
    """One row per registration: the worker, the community, the status and each session's attendance."""
    regs = db.session.scalars(select(Registration).where(Registration.training_id == training.id)
                              .order_by(Registration.status, Registration.created_at)).all()
    records = rules.attendance_by_user(training)
    sessions = list(training.sessions)
    held = rules.ended_session_ids(training)
    headers = [_("Name"), _("Username"), _("Community"), _("Registration")]
    headers += [format_datetime(s.starts_at, "MM-dd HH:mm") for s in sessions] + [_("Attendance rate")]
    rows = []
    for reg in regs:
        mine = records.get(reg.user_id, {})
        rate = rules.attendance_rate(mine, held) if reg.status == "registered" else None
        rows.append([reg.user.name, reg.user.username, reg.user.org_unit.name, str(REGISTRATION_STATUSES[reg.status])]
                    + [str(ATTENDANCE_STATUSES[mine[s.id].status]) if s.id in mine else "" for s in sessions]
                    + [rate])
    return write_xlsx(_("Roster"), headers, rows, widths=[12, 14, 16, 10] + [12] * len(sessions) + [10],
                      number_formats={len(headers): "0.0%"})
