"""The monthly statistics report as a PDF: letterhead, headline figures, tables and
charts. ``monthly_report`` returns bytes.

Its text is set by :mod:`casemgr.pdf` in the bundled Noto fonts, as the notice
letters are: a hotline, provider or analyst name in Khmer (or Arabic, Hebrew)
prints shaped, not as boxes. The charts are drawn by :mod:`.pdf_charts`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from casemgr.countries import country_name
from casemgr.localtime import format_datetime, is_utc
from casemgr.pdf.canvas import ShapingCanvas
from casemgr.pdf.fonts import SANS, SANS_BOLD, StyleSheet, TextStyle, registered_fonts
from casemgr.pdf.letterhead import Letterhead, logo_size
from casemgr.pdf.typeset import Typesetter
from casemgr.stats import charts
from casemgr.stats.charts import seconds_text, share_text
from casemgr.stats.figures import NOT_REMOVED, TIME_LABELS, Figures
from casemgr.stats.pdf_charts import (
    ACCENT,
    GREY,
    INK,
    LABEL_SIZE,
    LABEL_STYLE,
    LINE,
    horizontal_chart,
    vertical_chart,
    words,
)

HEAD_BG = colors.HexColor("#eef1f6")
# The logo in the page header: at most this size, kept in proportion.
LOGO_MAX_WIDTH = 40 * mm
LOGO_MAX_HEIGHT = 12 * mm

_STYLES = StyleSheet(
    {
        "base": TextStyle(9, 12, False, INK),
        "small": TextStyle(7.5, 10, False, GREY),
        "h1": TextStyle(16, 20, True, INK),
        "h2": TextStyle(11, 14, True, INK, {"spaceBefore": 8, "spaceAfter": 4}),
        "cell": TextStyle(8.5, 11, False, INK),
        "big": TextStyle(15, 18, True, INK),
        # the page header and footer, drawn on the canvas
        "head_name": TextStyle(14, 17, True, ACCENT),
        "head_text": TextStyle(8, 9, False, GREY, {"alignment": TA_RIGHT}),
        "foot": TextStyle(7.5, 9.5, False, GREY),
        LABEL_STYLE: TextStyle(LABEL_SIZE, 9, False, INK, {"alignment": TA_RIGHT}),
    },
    prefix="casemgr-stats",
)


# --- the document


def _table(
    rows: list[list[Any]], widths: Sequence[float], t: Typesetter, *, header: bool = True
) -> Table:
    table = Table(
        [[_cell(t, c) if isinstance(c, str) else c for c in row] for row in rows],
        colWidths=widths,
        hAlign="LEFT",
    )
    style = [
        ("FONT", (0, 0), (-1, -1), SANS, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [
            ("FONT", (0, 0), (-1, 0), SANS_BOLD, 7.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ]
    table.setStyle(TableStyle(style))
    return table


def _cell(t: Typesetter, text: str) -> str | Paragraph:
    """A table cell: the string itself when Noto Sans can set it (the table's
    font), else a Paragraph in the fonts of its scripts (a name in Khmer)."""
    text = words(text)
    return text if t.latin_only(text) else t.para(text, "cell", latin_first=True)


def _label(key: str | None, none: str) -> str:
    return none if key is None else key.replace("_", " ")


def monthly_report(
    figures: Figures,
    *,
    letterhead: Letterhead,
    timezone: tzinfo = UTC,
    checkpoint: str | None = None,
) -> bytes:
    """The report of ``figures`` (one month, or any period) as PDF bytes; the time
    it was made in ``timezone`` (HOTLINE_TIMEZONE). Days and months are counted in UTC.

    ``checkpoint``: the latest audit log checkpoint's line, printed at the end and
    kept in the document's keywords, so every copy of the report is one more
    copy of it outside the database."""
    t = Typesetter(registered_fonts(), _STYLES, "en")

    def para(text: str, style: str) -> Paragraph:
        return t.para(words(text), style)

    buffer = io.BytesIO()
    period = figures.period
    unfinished = figures.as_of < period.end_at
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
        keywords=checkpoint or "",
    )
    full = doc.width
    half = (full - 8 * mm) / 2

    left, right = doc.leftMargin + 6, A4[0] - doc.rightMargin - 6  # the frame's padding
    # Read once (an unreadable file fails here, as it fails a notice letter).
    logo = ImageReader(letterhead.logo_path) if letterhead.logo_path else None

    def page(canvas, document):
        canvas.saveState()
        top = A4[1] - 14 * mm
        contact_right = right
        if logo is not None:
            drawn = logo_size(logo, LOGO_MAX_WIDTH, LOGO_MAX_HEIGHT)
            canvas.drawImage(logo, right - drawn[0], top - 13, *drawn, mask="auto")
            contact_right = right - drawn[0] - 4 * mm
        t.draw_line(canvas, words(letterhead.name), "head_name", left, top - 4, right - left)
        # one line each: the address (its lines joined), the contact, the website
        address = ", ".join(
            part.strip() for part in letterhead.address.splitlines() if part.strip()
        )
        contact = " · ".join(filter(None, (letterhead.email, letterhead.phone)))
        y = top + 6  # three lines end above the rule
        for line in filter(None, (address, contact, letterhead.website)):
            t.draw_line(canvas, words(line), "head_text", left, y, contact_right - left)
            y -= 9
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        canvas.line(left, top - 16, right, top - 16)
        footer = words(f"{title} · made {format_datetime(figures.as_of, timezone)}")
        t.draw_line(canvas, footer, "foot", left, 10 * mm, right - left)
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawRightString(right, 10 * mm, f"page {document.page}")
        canvas.restoreState()

    story: list[Any] = [para(title, "h1")]
    scope = (
        f"Figures as of {format_datetime(figures.as_of, timezone)}"
        + (" (the month is not over yet)" if unfinished else "")
        + ("" if is_utc(timezone) else ". Days and months are counted in UTC")
        + ". Counts, times from receipt and open cases are about the URLs reported in the "
        "period; times from notice and removal shares are about the notices sent in it."
    )
    story += [para(scope, "small"), Spacer(1, 4 * mm)]

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
    values = [para(value, "big") for _, value in tiles]
    captions = [para(label, "small") for label, _ in tiles]
    grid = []
    for start in (0, 4):
        grid.append(values[start : start + 4])
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
                vertical_chart(
                    series, series_title, t, width=half, empty="No reports in this period"
                ),
                vertical_chart(
                    figures.removal_distribution if figures.notified else [],
                    "Time from notice to removal",
                    t,
                    width=half,
                    empty="No notice went out in this period",
                    muted=(NOT_REMOVED,),
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

    story.append(para("Times", "h2"))
    rows = [["", "cases", "median", "90th percentile"]]
    for key, label in TIME_LABELS.items():
        summary = figures.times[key]
        rows.append(
            [label, f"{summary.count:,}", seconds_text(summary.median), seconds_text(summary.p90)]
        )
    story.append(_table(rows, [60 * mm, 25 * mm, 35 * mm, 35 * mm], t))

    story.append(para("Notified URLs removed", "h2"))
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
    story += [_table(rows, [60 * mm, 60 * mm], t), Spacer(1, 1.5 * mm)]
    story.append(
        para(
            "A notice younger than the window whose URL is not removed yet is not "
            "measurable yet and is left out of that share.",
            "small",
        )
    )

    def count_table(title_text, pairs, none):
        rows = [[title_text, "cases"]] + [[_label(k, none), f"{v:,}"] for k, v in pairs]
        return _table(rows, [half - 22 * mm, 20 * mm], t)

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
    story += [KeepTogether([para("Counts", "h2"), grid])]

    countries = [
        (f"{country_name(code)} ({code})", n) for code, n in figures.by_hosting_country if code
    ][: charts.TOP]
    providers = charts.top_providers(figures)
    hosting = Table(
        [
            [
                horizontal_chart(
                    countries,
                    "Top hosting countries",
                    t,
                    width=half,
                    empty="No hosting country recorded",
                ),
                horizontal_chart(
                    providers,
                    "Top hosting providers",
                    t,
                    width=half,
                    empty="No hosting provider recorded",
                ),
            ]
        ],
        colWidths=[half + 8 * mm, half],
        hAlign="LEFT",
    )
    hosting.setStyle(
        TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story += [KeepTogether([para("Where the material was hosted", "h2"), hosting])]

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
                    para("Per analyst (internal)", "h2"),
                    _table(rows, [70 * mm, 30 * mm, 50 * mm], t),
                ]
            )
        ]

    story += [
        Spacer(1, 4 * mm),
        para(
            "Medians and 90th percentiles interpolate linearly between the two nearest "
            "values (as PostgreSQL's percentile_cont). Removal within N days: removed at "
            "most N × 24 hours after the notice went out.",
            "small",
        ),
    ]
    if checkpoint:
        story += [
            Spacer(1, 3 * mm),
            para(
                "The audit log's latest checkpoint when this report was made "
                f"(docs/audit.md): {checkpoint}",
                "small",
            ),
        ]
    doc.build(story, onFirstPage=page, onLaterPages=page, canvasmaker=ShapingCanvas)
    return buffer.getvalue()
