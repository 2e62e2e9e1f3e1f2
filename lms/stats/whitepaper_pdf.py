"""The white paper as a PDF (A4, in Chinese): the same sentences and tables as the page, with charts drawn by
reportlab.graphics, set in WenQuanYi Micro Hei embedded as a subset (learning/certificates.py)."""
from __future__ import annotations

import io
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..learning.certificates import _register_font
from . import whitepaper as wp
from .charts import PALETTE

WIDTH = A4[0] - 36 * mm
RED = colors.HexColor(PALETTE[0])


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK", firstLineIndent=21,
                          spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=1, firstLineIndent=0,
                                textColor=RED, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, alignment=1, firstLineIndent=0,
                                   textColor=colors.HexColor("#555555"), spaceAfter=14),
        "h2": ParagraphStyle("h2", parent=base, fontSize=14, leading=20, firstLineIndent=0, spaceBefore=10,
                             spaceAfter=6, textColor=RED),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10, firstLineIndent=0, spaceAfter=0),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, firstLineIndent=0,
                               textColor=colors.HexColor("#555555")),
    }


def _table(header: list[str], rows: list[list[str]], st: dict[str, ParagraphStyle], widths: list[float]) -> Table:
    data = [[Paragraph(c, st["cell"]) for c in header]] + [[Paragraph(str(c), st["cell"]) for c in r] for r in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), st["cell"].fontName),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f1f3f5")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#888888")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#dddddd")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _share_chart(title: str, labels: list[str], shares: list[float], font: str) -> Drawing:
    """Horizontal bars of shares in %, one per group, labelled."""
    height = 26 + 16 * len(labels)
    d = Drawing(WIDTH / 2 - 6, height, initialFontName=font)  # the renderer's first font: not Helvetica
    d.add(String(0, height - 12, title, fontName=font, fontSize=9))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 70, 4, int(WIDTH / 2 - 110), height - 26
    chart.data = [list(reversed(shares))]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = font, 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, max([100.0] + shares)
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = font, 6
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = RED
    chart.barLabelFormat = "%.1f%%"
    chart.barLabels.fontName, chart.barLabels.fontSize = font, 6
    chart.barLabels.boxAnchor, chart.barLabels.dx = "w", 2
    d.add(chart)
    return d


def _levels_chart(title: str, names: list[str], series: list[list[int]], legend: list[str], font: str) -> Drawing:
    """Grouped vertical bars: 人次 of each training level, per unit."""
    d = Drawing(WIDTH, 170, initialFontName=font)
    d.add(String(0, 158, title, fontName=font, fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 36, 36, int(WIDTH - 50), 108
    chart.data = series
    chart.categoryAxis.categoryNames = [n if len(n) <= 8 else n[:7] + "…" for n in names]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = font, 7
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = font, 7
    chart.valueAxis.valueMin = 0
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
    d.add(chart)
    x = 36.0
    for i, name in enumerate(legend):
        swatch = Rect(x, 8, 8, 8)
        swatch.fillColor, swatch.strokeColor = colors.HexColor(PALETTE[i % len(PALETTE)]), None
        d.add(swatch)
        d.add(String(x + 11, 9, name, fontName=font, fontSize=7))
        x += 110
    return d


def render_pdf(paper: dict[str, Any]) -> bytes:
    """The white paper as PDF bytes, in Chinese (the site's default language) whoever asks."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _render(paper)


def _render(paper: dict[str, Any]) -> bytes:
    from ..training.models import TRAINING_LEVELS

    font = _register_font()
    st = _styles(font)
    name, year = paper["unit"]["name"], paper["year"]
    buf = io.BytesIO()
    title = _("%(unit)s community workers white paper %(year)d", unit=name, year=year)
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=title, author=name,
                            initialFontName=font)  # no unembedded Helvetica
    story: list[Any] = [Paragraph(title, st["title"]), Paragraph(
        _("Figures of the active community workers of %(unit)s and the units below it.", unit=name),
        st["subtitle"])]

    def section(heading: str, lines: list[str]) -> None:
        story.append(Paragraph(heading, st["h2"]))
        story.extend(Paragraph(line, st["body"]) for line in lines)

    s = paper["structure"]
    section(_("1. The workforce"), wp.structure_sentences(paper))
    if s["dimensions"]:
        charts = []
        for dim in s["dimensions"]:
            labels = wp.labels(dim)
            buckets = s["dimensions"][dim]
            charts.append(_share_chart(str(wp.profile.DIMENSION_LABELS[dim]), [labels[b["key"]] for b in buckets],
                                       [round((b["share"] or 0) * 100, 1) for b in buckets], font))
        pairs = [charts[i:i + 2] + ([""] if len(charts[i:i + 2]) == 1 else []) for i in range(0, len(charts), 2)]
        grid = Table(pairs, colWidths=[WIDTH / 2, WIDTH / 2])
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), font)]))
        story.append(grid)
    words = wp.activity_sentences(paper)
    section(_("2. Training"), words["training"])
    levels = list(TRAINING_LEVELS)
    rows = [r for r in paper["rows"] if not r["direct"]]
    if rows:
        story.append(_levels_chart(_("Person-times by training level"), [r["name"] for r in rows],
                                   [[r["attended"][lv] for r in rows] for lv in levels],
                                   [str(TRAINING_LEVELS[lv]) for lv in levels], font))
    section(_("3. Credit hours and continuing education"), words["hours"])
    section(_("4. Exams"), words["exams"])
    section(_("5. The units below"), words["units"])
    header, body = comparison(paper)
    widths = [WIDTH * 0.16] + [WIDTH * 0.84 / (len(header) - 1)] * (len(header) - 1)
    story.append(_table(header, body, st, widths))
    story.append(Spacer(1, 6))
    story.append(KeepTogether([Paragraph(wp.note(), st["note"])]))
    doc.build(story)
    return buf.getvalue()


def comparison(paper: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The comparison table's header and rows as shown (the total first): the same figures for every unit."""
    from ..training.models import TRAINING_LEVELS

    header = [_("Org unit"), _("Workers"), _("Certified share")] + [
        _("Person-times: %(level)s", level=label) for label in TRAINING_LEVELS.values()] + [
        _("Credit hours per worker"), _("Share reached"), _("Pass rate"), _("Real exam pass rate")]
    body = []
    for r in [paper["total"]] + paper["rows"]:
        if r is paper["total"]:
            label = _("Total: %(unit)s", unit=r["name"])
        elif r["direct"]:
            label = _("Attached directly to %(unit)s", unit=r["name"])
        else:
            label = r["name"]
        body.append([label, f"{r['workers']:,}", wp.pct(r["certified_share"])]
                    + [f"{r['attended'][lv]:,}" for lv in TRAINING_LEVELS]
                    + [r["hours_per_worker"] or "—", wp.pct(r["ce_rate"]), wp.pct(r["pass_rate"]),
                       wp.pct(r["real_rate"])])
    return header, body
