"""Chart configurations for the JSON islands that static/js/stats_charts.js draws with Chart.js, and
server-rendered SVG charts (percent_bars_svg) for pages that need no script.

Each chart shows numbers that also stand in an HTML table beside it (from the same Report)."""
import math
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from ..training.models import TRAINING_LEVELS

PALETTE = ["#b5292f", "#2f6db5", "#3a9d5d", "#d08a1e", "#7a4fb5", "#4fa3b5", "#8c8c8c"]


def _chart(chart_id, kind, labels, datasets, title, percent=False, stacked=False, horizontal=False, table=None):
    for i, ds in enumerate(datasets):
        ds.setdefault("backgroundColor", PALETTE[i % len(PALETTE)])
        ds.setdefault("borderColor", PALETTE[i % len(PALETTE)])
    return {"id": chart_id, "type": kind, "title": title, "labels": labels, "datasets": datasets,
            "percent": percent, "stacked": stacked, "horizontal": horizontal, "table": table}


def _pct(value):
    return None if value is None else round(value * 100, 1)


def comparison(dash) -> list[dict]:
    """Comparison across the units below: 学时 per worker, 人次 by level, the rates."""
    rows = [r for r in dash.rows if not r.direct]
    if not rows:
        return []
    labels = [r.unit.name for r in rows]
    return [
        _chart(
            "chart-hours",
            "bar",
            labels,
            [{"label": _("Credit hours per worker"), "data": [float(r.figures.hours_per_worker or 0) for r in rows]}],
            _("Credit hours per worker"),
            table="units",
        ),
        _chart(
            "chart-person-times",
            "bar",
            labels,
            [
                {"label": str(label), "data": [r.figures.attended[level] for r in rows]}
                for level, label in TRAINING_LEVELS.items()
            ],
            _("Person-times by training level"),
            stacked=True,
            table="units",
        ),
        _chart(
            "chart-rates",
            "bar",
            labels,
            [
                {"label": _("Completion rate"), "data": [_pct(r.figures.completion_rate) for r in rows]},
                {"label": _("Attendance rate"), "data": [_pct(r.figures.attendance_rate) for r in rows]},
                {"label": _("Pass rate"), "data": [_pct(r.figures.pass_rate) for r in rows]},
            ],
            _("Rates by unit"),
            percent=True,
            table="units",
        ),
    ]


def trend(report) -> list[dict]:
    if not report.rows:
        return []
    months = [row[0] for row in report.rows]
    col = {c.key: i for i, c in enumerate(report.columns)}

    def series(key):
        return [float(row[col[key]]) if row[col[key]] is not None else None for row in report.rows]

    return [
        _chart(
            "chart-trend-hours",
            "line",
            months,
            [{"label": _("Credit hours"), "data": series("credit_hours")}],
            _("Credit hours by month"),
            table="trend",
        ),
        _chart(
            "chart-trend-activity",
            "line",
            months,
            [
                {"label": _("Person-times"), "data": series("person_times")},
                {"label": _("Courses completed"), "data": series("courses_completed")},
                {"label": _("Graded attempts"), "data": series("exam_attempts")},
            ],
            _("Activity by month"),
            table="trend",
        ),
    ]


def ce(report) -> list[dict]:
    rows = report.rows[1:]  # without the total
    if not rows:
        return []
    col = {c.key: i for i, c in enumerate(report.columns)}
    return [_chart("chart-ce", "bar", [r[0] for r in rows],
                   [{"label": _("Reached the target"), "data": [r[col["reached"]] for r in rows]},
                    {"label": _("Behind target"), "data": [r[col["behind"]] for r in rows]}],
                   _("Workers reaching the annual target"), stacked=True, table="ce_units")]


def profile(prof, tables) -> dict:
    """dimension → chart of its distribution (shares in %)."""
    out = {}
    for table in tables:
        dimension = table.name.removeprefix("profile_")
        out[dimension] = _chart(f"chart-{dimension}", "bar", [row[0] for row in table.rows],
                                [{"label": _("Share"), "data": [_pct(row[2]) for row in table.rows]}],
                                str(table.title), percent=True, horizontal=True, table=table.name)
    return out


# --- server-rendered SVG ---------------------------------------------------------------------------------

def stacked_bars_svg(chart_id: str, title: str, rows: list[tuple[str, list[int]]], legend: list[str],
                     colors: list[str] | None = None) -> Markup:
    """Horizontal bars of counts split into parts (one bar per row, its label above it so long Chinese names
    fit a 390 px phone), as inline SVG: each bar is as long as its row's share of the largest row, its parts
    in the order of `legend`. Widths are percentages, so the chart follows the page's width. The page shows
    the same numbers in a table."""
    colors = colors or PALETTE
    per_line = 3                                   # legend entries per line: they fit a 390 px phone
    row_h, legend_h = 44, 18 * math.ceil(len(legend) / per_line) + 4
    height = legend_h + row_h * len(rows) + 4
    largest = max((sum(values) for _label, values in rows), default=0) or 1
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="stacked-chart" id="{}" width="100%" height="{}" '
                    'role="img" aria-labelledby="{}-title"><title id="{}-title">{}</title>').format(
                        chart_id, height, chart_id, chart_id, title)]
    for i, name in enumerate(legend):
        x, y = round(100 * (i % per_line) / per_line, 2), 4 + 18 * (i // per_line)
        parts.append(Markup('<rect x="{}%" y="{}" width="10" height="10" fill="{}"/>'
                            '<text x="{}%" y="{}" dx="13" font-size="11" fill="#212529">{}</text>').format(
            x, y, colors[i % len(colors)], x, y + 9, name))
    for r, (label, values) in enumerate(rows):
        y = legend_h + r * row_h
        parts.append(Markup('<g class="bar" data-label="{}" data-values="{}">'
                            '<text x="0" y="{}" font-size="13" fill="#212529">{}</text>'
                            '<text x="100%" y="{}" font-size="13" fill="#212529" text-anchor="end">{}</text>'
                            '<rect x="0" y="{}" width="100%" height="14" fill="#f1f3f5"/>').format(
            label, ",".join(str(v) for v in values), y + 14, label, y + 14, sum(values), y + 20))
        x = 0.0
        for i, value in enumerate(values):
            width = 100 * value / largest
            if width > 0:
                parts.append(Markup('<rect x="{}%" y="{}" width="{}%" height="14" fill="{}"><title>{}: {}</title>'
                                    '</rect>').format(round(x, 3), y + 20, round(width, 3),
                                                      colors[i % len(colors)], legend[i], value))
            x += width
        parts.append(Markup("</g>"))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Bar:
    """One bar of a percentage bar chart: `value` in % with an optional band [low, high] around it."""
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str = ""            # shown after the value, e.g. "依据 12 题"


def percent_bars_svg(chart_id: str, title: str, bars: list[Bar], line: float | None = None,
                     line_label: str = "") -> Markup:
    """A horizontal bar chart of percentages as inline SVG, one bar per row with its label above it (long
    Chinese topic names fit a 390 px phone), a whisker for each band and a dashed line at `line` %. Bars and
    text take percentages of the width, so the chart follows the page's width. The page shows the same
    numbers in a table."""
    row, top = 46, 22 if line is not None else 4
    height = top + row * len(bars) + 4
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" id="{}" width="100%" height="{}" '
                    'role="img" aria-labelledby="{}-title"><title id="{}-title">{}</title>').format(
                        chart_id, height, chart_id, chart_id, title)]
    if line is not None:
        parts.append(Markup('<text x="{}%" y="12" font-size="11" fill="#555" text-anchor="{}">{}</text>').format(
            line, "end" if line > 50 else "start", line_label))
    for i, bar in enumerate(bars):
        y = top + i * row
        value = min(max(bar.value, 0.0), 100.0)
        parts.append(Markup(
            '<g class="bar" data-label="{}" data-value="{}">'
            '<text x="0" y="{}" font-size="13" fill="#212529">{}</text>'
            '<text x="100%" y="{}" font-size="13" fill="#212529" text-anchor="end">{}%{}</text>'
            '<rect x="0" y="{}" width="100%" height="14" fill="#e9ecef"/>'
            '<rect x="0" y="{}" width="{}%" height="14" fill="{}"/>').format(
                bar.label, bar.value, y + 14, bar.label, y + 14, f"{bar.value:g}",
                Markup(" · {}").format(bar.note) if bar.note else "", y + 20, y + 20, value, PALETTE[0]))
        if bar.low is not None and bar.high is not None:
            low, high, mid = max(bar.low, 0.0), min(bar.high, 100.0), y + 27
            parts.append(Markup(
                '<line x1="{}%" y1="{}" x2="{}%" y2="{}" stroke="#212529" stroke-width="1.5"/>'
                '<line x1="{}%" y1="{}" x2="{}%" y2="{}" stroke="#212529" stroke-width="1.5"/>'
                '<line x1="{}%" y1="{}" x2="{}%" y2="{}" stroke="#212529" stroke-width="1.5"/>').format(
                    low, mid, high, mid, low, mid - 5, low, mid + 5, high, mid - 5, high, mid + 5))
        parts.append(Markup("</g>"))
    if line is not None:
        parts.append(Markup('<line x1="{}%" y1="16" x2="{}%" y2="{}" stroke="#555" stroke-dasharray="4 3"/>').format(
            line, line, height))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
