"""Tables of figures: one definition renders the HTML table, the XLSX and the CSV export,
so the page and its download always hold the same numbers."""
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from ..i18n import lazy_gettext as _l
from ..tabular import write_csv, write_xlsx
from ..training.models import TRAINING_LEVELS
from .queries import CERT_LEVELS, Figures

# kinds of column: how a value is shown, exported and formatted in Excel
NUMBER_FORMATS = {"int": "#,##0", "dec": "0.0", "pct": "0.0%"}


@dataclass
class Col:
    key: str
    label: object
    kind: str = "text"  # text / int / dec / pct
    width: int = 12


@dataclass
class Report:
    name: str
    title: object
    columns: list
    rows: list = field(default_factory=list)    # lists of raw values, in column order
    links: list = field(default_factory=list)   # per row: URL for the first cell, or None
    classes: list = field(default_factory=list)  # per row: CSS class ("table-secondary" for totals)

    def add(self, values, link=None, css=""):
        self.rows.append(list(values))
        self.links.append(link)
        self.classes.append(css)

    # -- rendering ----------------------------------------------------------------------------------
    @staticmethod
    def show(value, kind: str) -> str:
        """A value as the page shows it."""
        if value is None:
            return "—"
        if kind == "int":
            return f"{int(value):,}"
        if kind == "dec":
            return f"{Decimal(str(value)):,.1f}"
        if kind == "pct":
            return f"{float(value) * 100:.1f}%"
        return str(value)

    def cells(self, i: int):
        return [(col, self.show(v, col.kind), v) for col, v in zip(self.columns, self.rows[i], strict=False)]

    # -- exporting -----------------------------------------------------------------------------------
    def _xlsx_value(self, value, kind):
        if value is None:
            return None
        if kind == "int":
            return int(value)
        if kind in ("dec", "pct"):
            return float(value)
        return str(value)

    def _csv_value(self, value, kind):
        if value is None:
            return ""
        if kind in ("int", "dec", "pct"):
            return self.show(value, kind).replace(",", "")
        return str(value)

    def xlsx(self, notes: list[list]) -> bytes:
        rows = [[self._xlsx_value(v, c.kind) for c, v in zip(self.columns, row, strict=False)] for row in self.rows]
        formats = {i: NUMBER_FORMATS[c.kind] for i, c in enumerate(self.columns, start=1) if c.kind in NUMBER_FORMATS}
        return write_xlsx(str(self.title), [str(c.label) for c in self.columns], rows,
                          widths=[c.width for c in self.columns], number_formats=formats,
                          notes=(_("About"), notes))

    def csv(self) -> bytes:
        return write_csv(
            [str(c.label) for c in self.columns],
            [[self._csv_value(v, c.kind) for c, v in zip(self.columns, row, strict=False)] for row in self.rows],
        )


# --- the tables ---------------------------------------------------------------------------------------

def person_columns() -> list[Col]:
    """The first columns of a table of people: who they are and where they work."""
    return [Col("name", _l("Name"), "text", 12), Col("username", _l("Username"), "text", 12),
            Col("unit", _l("Org unit"), "text", 16)]


def figure_columns() -> list[Col]:
    cols = [
        Col("workers", _l("Workers"), "int", 9),
        Col("enrolled", _l("Courses enrolled"), "int", 10),
        Col("completed", _l("Courses completed"), "int", 10),
        Col("completion_rate", _l("Completion rate"), "pct", 10),
        Col("hours_course", _l("Credit hours from courses"), "dec", 11),
        Col("hours_training", _l("Credit hours from training"), "dec", 11),
        Col("hours", _l("Credit hours"), "dec", 11),
        Col("hours_per_worker", _l("Credit hours per worker"), "dec", 10),
    ]
    for level, label in TRAINING_LEVELS.items():
        cols.append(Col(f"pt_{level}", _l("Person-times: %(level)s", level=label), "int", 10))
    cols += [
        Col("person_times", _l("Person-times"), "int", 10),
        Col("attendance_rate", _l("Attendance rate"), "pct", 10),
        Col("exam_takers", _l("Exam takers"), "int", 9),
        Col("participation", _l("Exam participation"), "pct", 10),
        Col("attempts", _l("Graded attempts"), "int", 9),
        Col("average_score", _l("Average score"), "dec", 9),
        Col("pass_rate", _l("Pass rate"), "pct", 9),
    ]
    from ..auth.choices import CERT_LEVELS as CERT_LABELS

    for level in CERT_LEVELS:
        cols.append(Col(f"cert_{level}", _l("Certificate: %(level)s", level=CERT_LABELS[level]), "pct", 11))
    return cols


def figure_values(f: Figures) -> list:
    return ([f.workers, f.enrolled, f.completed, f.completion_rate, f.hours_course, f.hours_session, f.hours,
             f.hours_per_worker] + [f.attended[level] for level in TRAINING_LEVELS] +
            [f.person_times, f.attendance_rate, f.exam_takers, f.participation, f.attempts, f.average_score,
             f.pass_rate] + [f.cert_share(level) for level in CERT_LEVELS])


def units_report(dash, link_for) -> Report:
    """The dashboard table: the unit's total, then each unit below it. `link_for(row)` gives a row's URL."""
    report = Report("units", _l("Figures by unit"), [Col("unit", _l("Org unit"), "text", 22)] + figure_columns())
    report.add(
        [_("Total: %(unit)s", unit=dash.unit.name)] + figure_values(dash.total), None, "table-secondary fw-semibold"
    )
    for row in dash.rows:
        name = _("Attached directly to %(unit)s", unit=row.unit.name) if row.direct else row.unit.name
        report.add([name] + figure_values(row.figures), link_for(row))
    return report


def trend_report(trend) -> Report:
    report = Report("trend", _l("Month by month"), [
        Col("month", _l("Month"), "text", 10),
        Col("credit_hours", _l("Credit hours"), "dec", 11),
        Col("person_times", _l("Person-times"), "int", 10),
        Col("courses_enrolled", _l("Courses enrolled"), "int", 10),
        Col("courses_completed", _l("Courses completed"), "int", 10),
        Col("exam_attempts", _l("Graded attempts"), "int", 10),
        Col("exam_pass_rate", _l("Pass rate"), "pct", 9),
    ])
    for r in trend.rows():
        report.add([r["month"], r["credit_hours"], r["person_times"], r["courses_enrolled"], r["courses_completed"],
                    r["exam_attempts"], r["exam_pass_rate"]])
    return report


def workers_report(users, figures: dict, link_for) -> Report:
    report = Report("workers", _l("Workers"), person_columns() + [
        Col("cert_level", _l("Certificate level"), "text", 14),
        Col("enrolled", _l("Courses enrolled"), "int", 10), Col("completed", _l("Courses completed"), "int", 10),
        Col("hours", _l("Credit hours"), "dec", 10), Col("person_times", _l("Person-times"), "int", 10),
        Col("attendance_rate", _l("Attendance rate"), "pct", 10), Col("attempts", _l("Graded attempts"), "int", 9),
        Col("average_score", _l("Average score"), "dec", 9), Col("passed", _l("Attempts passed"), "int", 9),
    ])
    for user in users:
        f = figures.get(user.id) or Figures()
        report.add([user.name, user.username, user.org_unit.name, user.label("cert_level"), f.enrolled, f.completed,
                    f.hours, f.person_times, f.attendance_rate, f.attempts, f.average_score, f.passed], link_for(user))
    return report


def ce_units_report(unit, rows, total, target, link_for) -> Report:
    report = Report("ce_units", _l("Continuing education by unit"), [
        Col("unit", _l("Org unit"), "text", 22), Col("workers", _l("Workers"), "int", 9),
        Col("reached", _l("Reached the target"), "int", 10), Col("behind", _l("Behind target"), "int", 10),
        Col("reached_rate", _l("Share reached"), "pct", 10), Col("average", _l("Average credit hours"), "dec", 10),
    ])
    report.add([_("Total: %(unit)s", unit=unit.name), total.workers, total.reached, total.behind, total.reached_rate,
                total.average], None, "table-secondary fw-semibold")
    for row_unit, figs, direct in rows:
        name = _("Attached directly to %(unit)s", unit=row_unit.name) if direct else row_unit.name
        report.add([name, figs.workers, figs.reached, figs.behind, figs.reached_rate, figs.average],
                   link_for(row_unit, direct))
    return report


def ce_workers_report(rows, target, link_for) -> Report:
    report = Report("ce_workers", _l("Workers and their credit hours"), person_columns() + [
        Col("cert_level", _l("Certificate level"), "text", 14),
        Col("hours", _l("Credit hours"), "dec", 10), Col("target", _l("Target"), "dec", 8),
        Col("shortfall", _l("Hours behind"), "dec", 10),
    ])
    from .ce import shortfall
    from .queries import one_decimal

    for user, hours in rows:
        report.add([user.name, user.username, user.org_unit.name, user.label("cert_level"), one_decimal(hours),
                    one_decimal(target), shortfall(hours, target)], link_for(user))
    return report


def profile_reports(prof) -> list[Report]:
    from .profile import DIMENSION_LABELS

    reports = []
    for dimension, buckets in prof.dimensions.items():
        cols = [Col("bucket", DIMENSION_LABELS[dimension], "text", 20), Col("count", _l("Workers"), "int", 9),
                Col("share", _l("Share"), "pct", 9)]
        if prof.compared_year is not None:
            cols += [Col("before", _l("Workers in %(year)s", year=prof.compared_year), "int", 11),
                     Col("before_share", _l("Share in %(year)s", year=prof.compared_year), "pct", 11),
                     Col("change", _l("Change in number"), "int", 9),
                     Col("share_change", _l("Change of share (points)"), "dec", 11)]
        report = Report(f"profile_{dimension}", DIMENSION_LABELS[dimension], cols)
        for b in buckets:
            values = [b.label, b.count, b.share]
            if prof.compared_year is not None:
                values += [b.before, b.before_share, b.change, b.share_change]
            report.add(values)
        reports.append(report)
    return reports


def profile_report(prof) -> Report:
    """All distributions in one table (for the export)."""
    parts = profile_reports(prof)
    cols = [Col("dimension", _l("Dimension"), "text", 16)] + [
        Col(c.key, _l("Group") if c.key == "bucket" else c.label, c.kind, c.width) for c in parts[0].columns]
    report = Report("profile", _l("Workforce profile"), cols)
    for part in parts:
        for row in part.rows:
            report.add([str(part.title)] + row)
    return report
