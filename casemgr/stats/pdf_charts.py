"""The statistics report's bar charts, drawn with reportlab's chart library.

Its own module because drawing a chart (axes, ticks, labels that may be in
Khmer) is apart from laying out the report (:mod:`casemgr.stats.pdf`), which
only places the charts it gets from here. Which bars a chart has comes from
:mod:`casemgr.stats.charts`, shared with the dashboard's SVG charts.

reportlab's chart labels are plain strings in one font, without shaping: a
label Noto Sans cannot set alone (a provider's name in Khmer, Arabic or
Hebrew) is left out of the chart and drawn over it by the typesetter instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus.flowables import Flowable

from casemgr.pdf.fonts import SANS, SANS_BOLD
from casemgr.pdf.typeset import Typesetter
from casemgr.stats import charts

ACCENT = colors.HexColor("#1f5fbf")
MUTED = colors.HexColor("#9aa7bb")
INK = colors.HexColor("#1d2330")
GREY = colors.HexColor("#5b6475")
LINE = colors.HexColor("#d9dee7")

#: The typesetter's style for a label drawn over a chart (see the module's doc).
LABEL_STYLE = "chart_label"
LABEL_SIZE = 7

# Noto Sans has no arrows or "≤": words instead.
_WORDS = (("≤ ", "up to "), (" → ", " to "), ("→", "to"))


def words(value: str) -> str:
    """``value`` with the signs Noto Sans lacks written as words."""
    for sign, replacement in _WORDS:
        value = value.replace(sign, replacement)
    return value


@dataclass(frozen=True)
class _Label:
    """A label drawn over the chart: right-aligned to ``right``, centred on ``middle``."""

    text: str
    right: float
    middle: float


class Chart(Flowable):
    """A reportlab Drawing, with the labels it could not set drawn over it."""

    def __init__(self, drawing: Drawing, t: Typesetter, labels: Sequence[_Label] = ()) -> None:
        super().__init__()
        self.drawing = drawing
        self.typesetter = t
        self.labels = tuple(labels)
        self.width, self.height = drawing.width, drawing.height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.drawing.drawOn(self.canv, 0, 0)
        for label in self.labels:
            # centre the line on the category as reportlab centres its labels
            baseline = label.middle - 0.35 * LABEL_SIZE
            self.typesetter.draw_line(self.canv, label.text, LABEL_STYLE, 0, baseline, label.right)


def _empty_drawing(width: float, height: float, message: str) -> Drawing:
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#fafbfc"), strokeColor=LINE))
    drawing.add(
        String(
            width / 2,
            height / 2,
            words(message),
            fontName=SANS,
            fontSize=9,
            fillColor=GREY,
            textAnchor="middle",
        )
    )
    return drawing


def _title(drawing: Drawing, text: str) -> None:
    drawing.add(
        String(0, drawing.height - 11, words(text), fontName=SANS_BOLD, fontSize=9.5, fillColor=INK)
    )


def _titled(drawing: Drawing, title: str) -> Drawing:
    framed = Drawing(drawing.width, drawing.height + 16)
    framed.add(drawing)
    _title(framed, title)
    return framed


def _count_or_nothing(value: float) -> str:
    return f"{value:,.0f}" if value else ""


def _two_lines(label: str) -> str:
    return "\n".join(charts.split_in_two(label))


def vertical_chart(
    bars: Sequence[tuple[str, int]],
    title: str,
    t: Typesetter,
    *,
    width: float,
    height: float = 62 * mm,
    empty: str,
    muted: Sequence[str] = (),
) -> Chart:
    """Vertical bars (a time series, a distribution); ``muted`` bars are grey."""
    if not bars or not any(v for _, v in bars):
        return Chart(_titled(_empty_drawing(width, height, empty), title), t)
    drawing = Drawing(width, height + 16)
    chart = VerticalBarChart()
    chart.x, chart.y = 26, 34
    chart.width, chart.height = width - 34, height - 40
    chart.data = [[v for _, v in bars]]
    every = max(1, -(-len(bars) // 16))
    slot = (width - 34) / len(bars)
    labels = [words(label) for label, _ in bars]
    chart.categoryAxis.categoryNames = [
        _two_lines(label) if len(label) * 3.6 > slot else label for label in labels
    ]
    chart.categoryAxis.labels.fontName = SANS
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
    chart.valueAxis.labels.fontName = SANS
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
        chart.barLabels.fontName = SANS
        chart.barLabels.fontSize = 7
        chart.barLabels.nudge = 6
    drawing.add(chart)
    _title(drawing, title)
    return Chart(drawing, t)


def horizontal_chart(
    bars: Sequence[tuple[str, int]], title: str, t: Typesetter, *, width: float, empty: str
) -> Chart:
    """Horizontal bars, largest first (a ranking), labelled on the left."""
    if not bars:
        return Chart(_titled(_empty_drawing(width, 30 * mm, empty), title), t)
    row = 13
    height = row * len(bars) + 14
    drawing = Drawing(width, height + 16)
    chart = HorizontalBarChart()
    chart.x, chart.y = 100, 4
    chart.width, chart.height = width - 126, height - 8
    chart.data = [[v for _, v in reversed(bars)]]
    names = [words(charts.shorten(label, 22)) for label, _ in reversed(bars)]
    # reportlab cannot set these: blank in the chart, drawn over it (see the module's doc)
    over = [index for index, name in enumerate(names) if not t.latin_only(name)]
    band = chart.height / len(names)
    right = chart.x - 5  # where reportlab's labels end (dx below)
    labels = [_Label(names[i], right, chart.y + (i + 0.5) * band) for i in over]
    chart.categoryAxis.categoryNames = [
        "" if index in over else name for index, name in enumerate(names)
    ]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -5
    chart.categoryAxis.strokeColor = GREY
    chart.valueAxis.visible = False
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(v for _, v in bars)
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = _count_or_nothing
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.groupSpacing = 3
    drawing.add(chart)
    _title(drawing, title)
    return Chart(drawing, t, labels)
