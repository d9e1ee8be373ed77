"""Bar charts drawn on the server as inline SVG: no script, nothing loaded from elsewhere.

``bar_chart`` returns markup safe to put straight into a template; every label
is escaped (provider names come from the directory, typed by people).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from datetime import timedelta

from babel.dates import get_month_names
from flask_babel import gettext
from markupsafe import Markup, escape

from casemgr.templating import format_duration

BAR = "#1f5fbf"
BAR_MUTED = "#9aa7bb"
GRID = "#e3e7ee"
AXIS = "#5b6475"
INK = "#1d2330"
# A character after which a cluster goes on: Khmer coeng, zero-width (non-)joiner.
_JOINERS = frozenset("\u17d2\u200c\u200d")


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (whole numbers for counts)."""
    if top <= 0:
        return [0, 1]
    raw = top / most
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    count = math.ceil(top / step)
    return [step * i for i in range(count + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def seconds_text(seconds: float | None) -> str:
    """A duration in seconds as people read it ("2 d 4 h"); "—" for none."""
    if seconds is None:
        return "—"
    return format_duration(timedelta(seconds=round(seconds)))


def share_text(share) -> str:
    """A RemovalShare as "60% (3 of 5)"; "—" when nothing is measurable yet."""
    if share.share is None:
        return "—"
    return f"{share.share:.0%} ({share.removed} of {share.measurable})"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with "…", never inside a cluster (a
    Khmer subscript consonant or vowel sign stays with its consonant)."""
    if len(text) <= limit:
        return text

    def inside(cut: int) -> bool:
        return unicodedata.category(text[cut])[0] == "M" or text[cut - 1] in _JOINERS

    cut = limit - 1
    while cut > 0 and inside(cut):
        cut -= 1
    if cut == 0:  # the first cluster alone is longer than the limit: keep it whole
        cut = 1
        while cut < len(text) and inside(cut):
            cut += 1
    return text[:cut] + "…"


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    chart_id: str,
    horizontal: bool = False,
    width: int = 520,
    empty_message: str = "No data for this period",
    value_format: Callable[[float], str] = _fmt,
    muted: Sequence[str] = (),
) -> Markup:
    """An SVG bar chart of ``bars`` ((label, value) pairs, in the order given).

    Vertical bars suit a time series or a distribution; ``horizontal`` suits a
    ranking (labels on the left). Bars whose label is in ``muted`` are drawn
    grey (e.g. "not removed yet"). With nothing to draw, the frame carries
    ``empty_message`` instead.
    """
    if horizontal:
        body, height = _horizontal(bars, width, value_format, muted, empty_message)
    else:
        body, height = _vertical(bars, width, value_format, muted, empty_message)
    title_id = f"{chart_id}-title"
    # Every text in ``body`` and here went through escape(); numbers are formatted floats.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{escape(title_id)}" font-size="12">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>{body}</svg>'
    )


def _empty(width: int, height: int, message: str) -> str:
    return (
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fafbfc" '
        f'stroke="{GRID}" rx="6"/>'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
        f'dominant-baseline="middle" fill="{AXIS}" font-size="14">{escape(message)}</text>'
    )


def _vertical(bars, width, value_format, muted, empty_message) -> tuple[str, int]:
    height = 260
    left, right, top, bottom = 44, 10, 18, 46
    if not bars or not any(value for _, value in bars):
        return _empty(width, height, empty_message), height
    ticks = nice_ticks(max(value for _, value in bars))
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = plot_h / ticks[-1]
    parts = []
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{AXIS}">{escape(value_format(tick))}</text>'
        )
    slot = plot_w / len(bars)
    bar_w = max(1.0, slot * 0.72)
    # Label every bar when they fit, else every n-th (and always the last).
    longest_word = max(len(word) for label, _ in bars for word in (label.split(" ") or [""]))
    every = max(1, math.ceil((longest_word * 6.6 + 6) / slot))
    show_values = len(bars) <= 16
    for index, (label, value) in enumerate(bars):
        x = left + index * slot + (slot - bar_w) / 2
        h = value * scale
        y = top + plot_h - h
        colour = BAR_MUTED if label in muted else BAR
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(value_format(value))}</title></rect>'
        )
        if show_values and value:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'fill="{INK}">{escape(value_format(value))}</text>'
            )
        if index % every == 0:
            parts.append(_axis_label(x + bar_w / 2, top + plot_h + 16, label, slot * every))
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>'
    )
    return "".join(parts), height


def split_in_two(label: str) -> list[str]:
    """The label cut at the space nearest its middle ("not yet removed" -> "not yet",
    "removed"); a label without a space stays whole."""
    words = label.split(" ")
    if len(words) < 2:
        return [label]
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(label) / 2))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _axis_label(x: float, y: float, label: str, room: float) -> str:
    """A category label under its bar: on two lines ("Oct" / "2026", "not removed" /
    "yet") when it is too wide for the room it has."""
    fits = int(room / 6.6)
    lines = [label]
    if len(label) > fits and " " in label:
        lines = split_in_two(label)
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 13}">'
        f"{escape(shorten(line, max(fits, 4)))}</tspan>"
        for n, line in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{AXIS}">{spans}</text>'


def _horizontal(bars, width, value_format, muted, empty_message) -> tuple[str, int]:
    row, top = 26, 8
    if not bars or not any(value for _, value in bars):
        return _empty(width, 120, empty_message), 120
    height = top * 2 + row * len(bars)
    label_w, value_w = 170, 56
    plot_w = width - label_w - value_w
    peak = max(value for _, value in bars)
    parts = []
    for index, (label, value) in enumerate(bars):
        y = top + index * row
        w = plot_w * value / peak if peak else 0
        colour = BAR_MUTED if label in muted else BAR
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" fill="{INK}">{escape(shorten(label, 26))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 8}" '
            f'fill="{colour}" rx="2"><title>{escape(label)}: {escape(value_format(value))}'
            f"</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2:.1f}" dominant-baseline="middle" '
            f'fill="{INK}">{escape(value_format(value))}</text>'
        )
    return "".join(parts), height


# --- the dashboard's four charts, from the figures

TOP = 10


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month_label(key: str, names: Sequence[str] = MONTHS) -> str:
    year, month = key.split("-")
    return f"{names[int(month) - 1]} {year}"


def received_series(
    figures, *, years: bool = True, months: Sequence[str] = MONTHS
) -> tuple[str, list[tuple[str, int]]]:
    """(title, bars): cases per day for short periods, else per month (labelled
    "Oct", with the year on the first month and on each January); ``months``
    names the months (English for the PDF, the staff's language on screen)."""
    if figures.by_day is not None:
        return "Reported URLs per day", [(d[8:].lstrip("0"), n) for d, n in figures.by_day]
    bars = []
    for index, (month, count) in enumerate(figures.by_month):
        label = _month_label(month, months)
        if not years or (index and not month.endswith("-01")):
            label = label.split(" ")[0]
        bars.append((label, count))
    return "Reported URLs per month", bars


def top_countries(figures, language: str = "en") -> list[tuple[str, int]]:
    from casemgr.countries import country_name

    return [
        (f"{country_name(code, language)} ({code})", count)
        for code, count in figures.by_hosting_country
        if code is not None and count
    ][:TOP]


def top_providers(figures) -> list[tuple[str, int]]:
    return [(p.name or f"#{p.provider_id}", p.count) for p in figures.by_provider if p.provider_id][
        :TOP
    ]


def dashboard_charts(figures, language: str = "en") -> dict[str, Markup]:
    """The dashboard's charts, their words in the staff's ``language`` (the
    current request's translations)."""
    from casemgr.stats.figures import NOT_REMOVED

    months = get_month_names("abbreviated", locale=language)
    _, bars = received_series(figures, months=[months[m] for m in range(1, 13)])
    per_day = figures.by_day is not None
    removal = [(gettext(bucket), count) for bucket, count in figures.removal_distribution]
    return {
        "received": bar_chart(
            bars,
            title=gettext("Reported URLs per day")
            if per_day
            else gettext("Reported URLs per month"),
            chart_id="chart-received",
            empty_message=gettext("No reports in this period"),
        ),
        "removal": bar_chart(
            removal if figures.notified else [],
            title=gettext("Time from notice to removal (notices sent in the period)"),
            chart_id="chart-removal",
            muted=(gettext(NOT_REMOVED),),
            empty_message=gettext("No notice went out in this period"),
        ),
        "countries": bar_chart(
            top_countries(figures, language),
            title=gettext("Top hosting countries"),
            chart_id="chart-countries",
            horizontal=True,
            empty_message=gettext("No hosting country recorded in this period"),
        ),
        "providers": bar_chart(
            top_providers(figures),
            title=gettext("Top hosting providers"),
            chart_id="chart-providers",
            horizontal=True,
            empty_message=gettext("No hosting provider recorded in this period"),
        ),
    }
