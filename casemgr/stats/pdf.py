"""The monthly statistics report as a PDF: letterhead, headline figures, tables and
charts drawn with reportlab's own chart library. ``monthly_report`` returns bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from casemgr.countries import country_name
from casemgr.pdf.letterhead import Letterhead
from casemgr.stats import charts
from casemgr.stats.charts import seconds_text, share_text
from casemgr.stats.services import NOT_REMOVED, TIME_LABELS, Figures
from casemgr.templating import format_datetime

ACCENT = colors.HexColor("#1f5fbf")
MUTED = colors.HexColor("#9aa7bb")
INK = colors.HexColor("#1d2330")
GREY = colors.HexColor("#5b6475")
LINE = colors.HexColor("#d9dee7")
HEAD_BG = colors.HexColor("#eef1f6")
# The logo in the page header: at most this size, kept in proportion.
LOGO_MAX_WIDTH = 40 * mm
LOGO_MAX_HEIGHT = 12 * mm

# A TrueType font with the dashes, arrows and signs the labels use (Noto Sans,
# SIL Open Font License; Debian: fonts-noto-core). Without one, Helvetica and
# plain ASCII stand-ins.
FONT_DIRS = (
    os.path.join(os.path.dirname(os.path.dirname(__file__)), "fonts"),
    "/usr/share/fonts/truetype/noto",
)
# Noto Sans has no arrows or "≤": words instead, in every font.
_WORDS = (("≤ ", "up to "), (" → ", " to "), ("→", "to"))
_ASCII = str.maketrans({"–": "-", "…": "...", "—": "-", "×": "x", "·": "-"})


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    unicode: bool

    def text(self, value: str) -> str:
        for sign, words in _WORDS:
            value = value.replace(sign, words)
        return value if self.unicode else value.translate(_ASCII)


def _fonts() -> Fonts:
    if "CasemgrSans" in pdfmetrics.getRegisteredFontNames():
        return Fonts("CasemgrSans", "CasemgrSans-Bold", True)
    for folder in FONT_DIRS:
        regular = os.path.join(folder, "NotoSans-Regular.ttf")
        bold = os.path.join(folder, "NotoSans-Bold.ttf")
        if os.path.exists(regular) and os.path.exists(bold):
            pdfmetrics.registerFont(TTFont("CasemgrSans", regular))
            pdfmetrics.registerFont(TTFont("CasemgrSans-Bold", bold))
            return Fonts("CasemgrSans", "CasemgrSans-Bold", True)
    return Fonts("Helvetica", "Helvetica-Bold", False)


def as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# --- charts


class _Chart(Flowable):
    """A reportlab Drawing, or a framed message when there is nothing to draw."""

    def __init__(self, drawing: Drawing):
        super().__init__()
        self.drawing = drawing
        self.width, self.height = drawing.width, drawing.height

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        self.drawing.drawOn(self.canv, 0, 0)


def _empty_drawing(width: float, height: float, message: str, fonts: Fonts) -> Drawing:
    from reportlab.graphics.shapes import Rect

    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#fafbfc"), strokeColor=LINE))
    drawing.add(
        String(
            width / 2,
            height / 2,
            fonts.text(message),
            fontName=fonts.regular,
            fontSize=9,
            fillColor=GREY,
            textAnchor="middle",
        )
    )
    return drawing


def _title(drawing: Drawing, text: str, fonts: Fonts) -> None:
    drawing.add(
        String(
            0,
            drawing.height - 11,
            fonts.text(text),
            fontName=fonts.bold,
            fontSize=9.5,
            fillColor=INK,
        )
    )


def _vertical(
    bars: Sequence[tuple[str, int]],
    title: str,
    fonts: Fonts,
    *,
    width: float,
    height: float = 62 * mm,
    empty: str,
    muted: Sequence[str] = (),
) -> Drawing:
    if not bars or not any(v for _, v in bars):
        return _titled(_empty_drawing(width, height, empty, fonts), title, fonts)
    drawing = Drawing(width, height + 16)
    chart = VerticalBarChart()
    chart.x, chart.y = 26, 34
    chart.width, chart.height = width - 34, height - 40
    chart.data = [[v for _, v in bars]]
    every = max(1, -(-len(bars) // 16))
    slot = (width - 34) / len(bars)
    labels = [fonts.text(label) for label, _ in bars]
    chart.categoryAxis.categoryNames = [
        _two_lines(label) if len(label) * 3.6 > slot else label for label in labels
    ]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 6.5 if len(bars) > 12 else 7
    chart.categoryAxis.labels.boxAnchor = "n"
    if every > 1:
        chart.categoryAxis.categoryNames = [
            label if i % every == 0 else ""
            for i, label in enumerate(chart.categoryAxis.categoryNames)
        ]
    chart.valueAxis.valueMin = 0
    ticks = charts.nice_ticks(max(v for _, v in bars))
    chart.valueAxis.valueMax = ticks[-1]
    chart.valueAxis.valueStep = ticks[1] - ticks[0]
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = LINE
    chart.valueAxis.strokeColor = GREY
    chart.categoryAxis.strokeColor = GREY
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barSpacing = 1
    chart.groupSpacing = 3 if len(bars) > 12 else 8
    for index, (label, _) in enumerate(bars):
        if label in muted:
            chart.bars[(0, index)].fillColor = MUTED
    if len(bars) <= 16:
        chart.barLabelFormat = _count_or_nothing
        chart.barLabels.fontName = fonts.regular
        chart.barLabels.fontSize = 7
        chart.barLabels.nudge = 6
    drawing.add(chart)
    _title(drawing, title, fonts)
    return drawing


def _count_or_nothing(value: float) -> str:
    return f"{value:,.0f}" if value else ""


def _two_lines(label: str) -> str:
    return "\n".join(charts.split_in_two(label))


def _titled(drawing: Drawing, title: str, fonts: Fonts) -> Drawing:
    framed = Drawing(drawing.width, drawing.height + 16)
    framed.add(drawing)
    _title(framed, title, fonts)
    return framed


def _horizontal(
    bars: Sequence[tuple[str, int]], title: str, fonts: Fonts, *, width: float, empty: str
) -> Drawing:
    if not bars:
        return _titled(_empty_drawing(width, 30 * mm, empty, fonts), title, fonts)
    row = 13
    height = row * len(bars) + 14
    drawing = Drawing(width, height + 16)
    chart = HorizontalBarChart()
    chart.x, chart.y = 100, 4
    chart.width, chart.height = width - 126, height - 8
    chart.data = [[v for _, v in reversed(bars)]]
    chart.categoryAxis.categoryNames = [
        fonts.text(charts._short(label, 22)) for label, _ in reversed(bars)
    ]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -5
    chart.categoryAxis.strokeColor = GREY
    chart.valueAxis.visible = False
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(v for _, v in bars)
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = _count_or_nothing
    chart.barLabels.fontName = fonts.regular
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.groupSpacing = 3
    drawing.add(chart)
    _title(drawing, title, fonts)
    return drawing


# --- the document


def _styles(fonts: Fonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=fonts.regular, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=GREY),
        "h1": ParagraphStyle("h1", parent=base, fontName=fonts.bold, fontSize=16, leading=20),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=fonts.bold,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
        ),  # fmt: skip
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "big": ParagraphStyle("big", parent=base, fontName=fonts.bold, fontSize=15, leading=18),
    }


def _table(rows: list[list[Any]], widths: Sequence[float], fonts: Fonts, *, header=True) -> Table:
    table = Table(
        [[fonts.text(c) if isinstance(c, str) else c for c in row] for row in rows],
        colWidths=widths,
        hAlign="LEFT",
    )
    style = [
        ("FONT", (0, 0), (-1, -1), fonts.regular, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [
            ("FONT", (0, 0), (-1, 0), fonts.bold, 7.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ]
    table.setStyle(TableStyle(style))
    return table


def _label(key: str | None, none: str) -> str:
    return none if key is None else key.replace("_", " ")


def monthly_report(figures: Figures, *, letterhead: Letterhead) -> bytes:
    """The report of ``figures`` (one month, or any period) as PDF bytes."""
    fonts = _fonts()
    styles = _styles(fonts)
    buffer = io.BytesIO()
    period = figures.period
    partial = figures.as_of < period.end_at
    title = f"Statistics: {period.label}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=34 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=letterhead.name,
        subject="Notice-and-takedown statistics",
    )
    full = doc.width
    half = (full - 8 * mm) / 2

    left, right = doc.leftMargin + 6, A4[0] - doc.rightMargin - 6  # the frame's padding
    # Read once (an unreadable file fails here, as it fails a notice letter).
    logo = ImageReader(letterhead.logo_path) if letterhead.logo_path else None

    def page(canvas, document):
        canvas.saveState()
        top = A4[1] - 14 * mm
        canvas.setFillColor(ACCENT)
        canvas.setFont(fonts.bold, 14)
        canvas.drawString(left, top - 4, fonts.text(letterhead.name))
        contact_right = right
        if logo is not None:
            width, height = logo.getSize()
            scale = min(LOGO_MAX_WIDTH / width, LOGO_MAX_HEIGHT / height)
            drawn = (width * scale, height * scale)
            canvas.drawImage(logo, right - drawn[0], top - 13, *drawn, mask="auto")
            contact_right = right - drawn[0] - 4 * mm
        canvas.setFillColor(GREY)
        canvas.setFont(fonts.regular, 8)
        lines = [letterhead.address, " · ".join(filter(None, (letterhead.email, letterhead.phone)))]
        lines.append(letterhead.website)
        y = top + 2
        for line in filter(None, lines):
            canvas.drawRightString(contact_right, y, fonts.text(line))
            y -= 10
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        canvas.line(left, top - 16, right, top - 16)
        canvas.setFont(fonts.regular, 7.5)
        canvas.drawString(
            left,
            10 * mm,
            fonts.text(f"{title} · made {format_datetime(figures.as_of)}"),
        )
        canvas.drawRightString(right, 10 * mm, f"page {document.page}")
        canvas.restoreState()

    story: list[Any] = [Paragraph(escape(fonts.text(title)), styles["h1"])]
    scope = (
        f"Figures as of {format_datetime(figures.as_of)}"
        + (" (the month is not over yet)" if partial else "")
        + ". Counts, times from receipt and open cases are about the URLs reported in the "
        "period; times from notice and removal shares are about the notices sent in it."
    )
    story += [Paragraph(escape(fonts.text(scope)), styles["small"]), Spacer(1, 4 * mm)]

    headline = figures.headline_share
    tiles = [
        ("Reports received", f"{figures.reports_received:,}"),
        ("URLs reported", f"{figures.urls_reported:,}"),
        ("Unique URLs", f"{figures.unique_urls:,}"),
        ("Assessed illegal", f"{figures.illegal:,}"),
        ("Notices sent", f"{figures.notified:,}"),
        (
            "Removed within 3 days of the notice",
            f"{headline.share:.0%}" if headline and headline.share is not None else "—",
        ),
        ("Median notice → removal", seconds_text(figures.times["notice_to_removal"].median)),
        ("Open now (overdue)", f"{figures.open_total:,} ({figures.overdue:,})"),
    ]
    cells = [
        [
            Paragraph(escape(fonts.text(value)), styles["big"]),
        ]
        for _, value in tiles
    ]
    captions = [Paragraph(escape(fonts.text(label)), styles["small"]) for label, _ in tiles]
    grid = []
    for start in (0, 4):
        grid.append([c[0] for c in cells[start : start + 4]])
        grid.append(captions[start : start + 4])
    tile_table = Table(grid, colWidths=[full / 4] * 4, hAlign="LEFT")
    tile_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 8),
                ("BOX", (0, 0), (-1, -1), 0.5, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f5f7fa")),
            ]
        )
    )
    story += [tile_table, Spacer(1, 5 * mm)]

    series_title, series = charts.received_series(figures)
    chart_row = Table(
        [
            [
                _Chart(
                    _vertical(
                        series, series_title, fonts, width=half, empty="No reports in this period"
                    )
                ),
                _Chart(
                    _vertical(
                        figures.removal_distribution if figures.notified else [],
                        "Time from notice to removal",
                        fonts,
                        width=half,
                        empty="No notice went out in this period",
                        muted=(NOT_REMOVED,),
                    )
                ),
            ]
        ],
        colWidths=[half + 8 * mm, half],
        hAlign="LEFT",
    )
    chart_row.setStyle(
        TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [chart_row, Spacer(1, 3 * mm)]

    story.append(Paragraph("Times", styles["h2"]))
    rows = [["", "cases", "median", "90th percentile"]]
    for key, label in TIME_LABELS.items():
        summary = figures.times[key]
        rows.append(
            [label, f"{summary.count:,}", seconds_text(summary.median), seconds_text(summary.p90)]
        )
    story.append(_table(rows, [60 * mm, 25 * mm, 35 * mm, 35 * mm], fonts))

    story.append(Paragraph("Notified URLs removed", styles["h2"]))
    rows = [["within", "share (removed of measurable)"]]
    rows += [
        [f"{s.days} day{'s' if s.days > 1 else ''}", share_text(s)] for s in figures.removal_within
    ]
    rows.append(
        [
            "notices sent / removed so far",
            f"{figures.notified:,} / {figures.removed_after_notice:,}",
        ]
    )
    story += [_table(rows, [60 * mm, 60 * mm], fonts), Spacer(1, 1.5 * mm)]
    story.append(
        Paragraph(
            escape(
                fonts.text(
                    "A notice younger than the window whose URL is not removed yet is not "
                    "measurable yet and is left out of that share."
                )
            ),
            styles["small"],
        )
    )

    def count_table(title_text, pairs, none):
        rows = [[title_text, "cases"]] + [[_label(k, none), f"{v:,}"] for k, v in pairs]
        return _table(rows, [half - 22 * mm, 20 * mm], fonts)

    grid = Table(
        [
            [
                count_table("classification", figures.by_classification, "not assessed"),
                count_table("resolution", figures.by_resolution, "open"),
            ],
            [
                count_table("site type", figures.by_site_type, "not recorded"),
                count_table(
                    "open cases by state",
                    figures.open_by_state + [("overdue", figures.overdue)],
                    "",
                ),
            ],
        ],
        colWidths=[half + 8 * mm, half],
        hAlign="LEFT",
    )
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story += [KeepTogether([Paragraph("Counts", styles["h2"]), grid])]

    countries = [
        (f"{country_name(code)} ({code})", n) for code, n in figures.by_hosting_country if code
    ][: charts.TOP]
    providers = charts.top_providers(figures)
    hosting = Table(
        [
            [
                _Chart(
                    _horizontal(
                        countries,
                        "Top hosting countries",
                        fonts,
                        width=half,
                        empty="No hosting country recorded",
                    )
                ),
                _Chart(
                    _horizontal(
                        providers,
                        "Top hosting providers",
                        fonts,
                        width=half,
                        empty="No hosting provider recorded",
                    )
                ),
            ]
        ],
        colWidths=[half + 8 * mm, half],
        hAlign="LEFT",
    )
    hosting.setStyle(
        TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [KeepTogether([Paragraph("Where the material was hosted", styles["h2"]), hosting])]

    if figures.per_analyst is not None:
        rows = [["analyst", "cases assessed", "median time to assessment"]]
        rows += [
            [a.name, f"{a.assessed:,}", seconds_text(a.median_seconds)] for a in figures.per_analyst
        ]
        if len(rows) == 1:
            rows.append(["nobody assessed a case of this period", "", ""])
        story += [
            KeepTogether(
                [
                    Paragraph("Per analyst (internal)", styles["h2"]),
                    _table(rows, [70 * mm, 30 * mm, 50 * mm], fonts),
                ]
            )
        ]

    story += [
        Spacer(1, 4 * mm),
        Paragraph(
            escape(
                fonts.text(
                    "Medians and 90th percentiles interpolate linearly between the two nearest "
                    "values (as PostgreSQL's percentile_cont). Removal within N days: removed at "
                    "most N × 24 hours after the notice went out."
                )
            ),
            styles["small"],
        ),
    ]
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()
