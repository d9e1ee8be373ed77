"""Lay out a notice letter (takedown notice, referral, reminder, escalation) as PDF.

Pure: no database, no Flask. The caller builds a :class:`~.letter.Letter` and a
:class:`~casemgr.pdf.letterhead.Letterhead` and gets the PDF bytes from
:func:`render_letter`; the view wraps them in ``send_file`` and the notice run
stores them with their SHA-256. Fonts, scripts and shaping are
:mod:`casemgr.pdf`'s; this module places the letter's parts on A4 pages.

Design notes
------------
* Deterministic: the same ``Letter`` and ``Letterhead`` give byte-identical
  PDFs, whatever the process rendered before (reportlab's ``invariant``
  mode; the document's creation date is the letter's date, not the time of
  rendering; shaped glyphs are named up front by :mod:`casemgr.pdf.fonts`).
* URLs are broken into lines by :mod:`.urls`, not by reportlab, and a long URL
  spans several table rows so that the table can break across pages inside
  it. The characters of the URL are kept as they are; copied out of the PDF,
  a long URL has line breaks to remove.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    Image,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from casemgr.localtime import abbreviation, format_date, format_datetime, local
from casemgr.notices.pdf.letter import DEFAULT_LABELS, TITLES, Letter
from casemgr.notices.pdf.urls import url_lines
from casemgr.pdf.canvas import ShapingCanvas
from casemgr.pdf.fonts import SANS, StyleSheet, TextStyle, registered_fonts
from casemgr.pdf.letterhead import Letterhead, logo_size
from casemgr.pdf.typeset import Typesetter

__all__ = ["render_letter"]

_PAGE_W, _PAGE_H = A4
_MARGIN_X = 20 * mm
_MARGIN_TOP = 16 * mm
_MARGIN_BOTTOM = 20 * mm
_FRAME_W = _PAGE_W - 2 * _MARGIN_X
_LOGO_MAX_W, _LOGO_MAX_H = 45 * mm, 20 * mm
# #, case reference, URL, first seen, classification basis
_COLUMNS = (8 * mm, 29 * mm, 67 * mm, 24 * mm, _FRAME_W - 128 * mm)
_CELL_PAD = 3
_URL_LINES_PER_ROW = 6

_INK = colors.HexColor("#1a1a1a")
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#9a9a9a")
_HEADER_BG = colors.HexColor("#e6e6e6")
_STRIPE_BG = colors.HexColor("#f6f6f6")
_DEADLINE_BG = colors.HexColor("#fff4d6")
_DEADLINE_LINE = colors.HexColor("#c98a00")

_STYLES = StyleSheet(
    {
        "body": TextStyle(10, 14.5, False, _INK, {"spaceAfter": 7}),
        "meta": TextStyle(9, 12.5, False, _INK),
        "meta_label": TextStyle(9, 12.5, False, _GREY),
        "meta_strong": TextStyle(9.5, 13, True, _INK),
        "title": TextStyle(14, 18, True, _INK, {"spaceBefore": 4, "spaceAfter": 8}),
        "lh_name": TextStyle(13.5, 17, True, _INK),
        "lh_text": TextStyle(8.5, 11.5, False, _GREY),
        "cell": TextStyle(8, 10.5, False, _INK),
        "cell_head": TextStyle(8, 10.5, True, _INK),
        "url": TextStyle(8, 10.5, False, _INK, {"splitLongWords": 1}),
        "deadline": TextStyle(10.5, 15, True, _INK),
        "link": TextStyle(9.5, 13, True, _INK, {"splitLongWords": 1, "spaceAfter": 7}),
        "footer": TextStyle(7.5, 9.5, False, _GREY),
        "footer_right": TextStyle(7.5, 9.5, False, _GREY, {"alignment": TA_RIGHT}),
    }
)


class _LetterCanvas(ShapingCanvas):
    """Canvas that writes "Page N of M" and the reference on every page.

    Pages are kept until ``save`` (when the page count is known) and the
    footer is drawn on each then: the usual reportlab "NumberedCanvas" recipe.
    The document's creation date is the letter's date, so that the bytes do
    not depend on when the letter was rendered.
    """

    def __init__(
        self,
        *args: Any,
        footer: Callable[[Canvas, int, int], None],
        created: datetime,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []
        stamp = getattr(getattr(self, "_doc", None), "_timeStamp", None)
        if stamp is not None and hasattr(stamp, "YMDhms"):
            at = created.astimezone(UTC)
            stamp.t = at.timestamp()
            stamp.lt = at.timetuple()
            stamp.YMDhms = tuple(at.timetuple())[:6]
            stamp.dhh = stamp.dmm = 0
            stamp.tzname = "UTC"

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


def _letterhead_block(t: Typesetter, letterhead: Letterhead) -> Flowable:
    contact = " · ".join(
        part for part in (letterhead.email, letterhead.phone, letterhead.website) if part.strip()
    )
    text: list[Flowable] = [t.para(letterhead.name, "lh_name", latin_first=True)]
    if letterhead.address.strip():
        text.append(t.para(letterhead.address.strip(), "lh_text"))
    if contact:
        text.append(t.para(contact, "lh_text", latin_first=True))
    if not letterhead.logo_path:
        return Table([[text]], colWidths=[_FRAME_W], style=_NO_PADDING)
    width, height = logo_size(ImageReader(letterhead.logo_path), _LOGO_MAX_W, _LOGO_MAX_H)
    logo = Image(letterhead.logo_path, width=width, height=height)
    logo.hAlign = "RIGHT"
    return Table(
        [[text, logo]],
        colWidths=[_FRAME_W - _LOGO_MAX_W, _LOGO_MAX_W],
        style=TableStyle([*_NO_PADDING_CMDS, ("ALIGN", (1, 0), (1, 0), "RIGHT")]),
    )


_NO_PADDING_CMDS: list[tuple[Any, ...]] = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ("TOPPADDING", (0, 0), (-1, -1), 0),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
]
_NO_PADDING = TableStyle(_NO_PADDING_CMDS)


def _address_block(t: Typesetter, letter: Letter, labels: Mapping[str, str]) -> Flowable:
    recipient: list[Flowable] = [
        t.para(labels["to"], "meta_label"),
        t.para(letter.recipient_name, "meta_strong", latin_first=True),
    ]
    if letter.recipient_address.strip():
        recipient.append(t.para(letter.recipient_address.strip(), "meta"))
    if letter.recipient_email.strip():
        recipient.append(t.para(letter.recipient_email.strip(), "meta", latin_first=True))

    facts: list[tuple[str, str]] = [
        (labels["reference"], letter.reference),
        (labels["date"], format_date(letter.date, letter.timezone)),
    ]
    if letter.previous_reference:
        facts.append((labels["previous_reference"], letter.previous_reference))
    if letter.reminder_number is not None:
        facts.append((labels["reminder_number"], str(letter.reminder_number)))
    meta = Table(
        [
            [t.para(label, "meta_label"), t.para(value, "meta_strong", latin_first=True)]
            for label, value in facts
        ],
        colWidths=[28 * mm, 44 * mm],
        style=TableStyle([*_NO_PADDING_CMDS, ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]),
    )
    meta.hAlign = "RIGHT"
    return Table(
        [[recipient, meta]],
        colWidths=[_FRAME_W - 72 * mm, 72 * mm],
        style=TableStyle([*_NO_PADDING_CMDS, ("RIGHTPADDING", (0, 0), (0, 0), 6 * mm)]),
    )


def _url_table(t: Typesetter, letter: Letter, labels: Mapping[str, str]) -> Table:
    """The table of URLs. A long URL is set in several table rows of up to
    ``_URL_LINES_PER_ROW`` lines (drawn as one row), so that the table can
    break across pages inside it; reportlab's own ``splitInRow`` repeats the
    header in the middle of the page when it does that."""
    rows: list[list[Any]] = [
        [
            t.para(labels[key], "cell_head")
            for key in ("col_number", "col_case", "col_url", "col_first_seen", "col_basis")
        ]
    ]
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        # plain-string cells (number, first seen, short ASCII references)
        ("FONT", (0, 1), (-1, -1), SANS, _STYLES.specs["cell"].size, _STYLES.specs["cell"].leading),
        ("TEXTCOLOR", (0, 1), (-1, -1), _INK),
        ("TEXTCOLOR", (0, 1), (0, -1), _GREY),
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, _RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, _RULE),
    ]
    url_width = _COLUMNS[2] - 2 * _CELL_PAD - 0.5
    for number, line in enumerate(letter.lines, start=1):
        seen = local(line.first_seen, letter.timezone)
        broken = url_lines(t, line.url, url_width, _STYLES.specs["url"].size)
        chunks = [
            "\n".join(broken[i : i + _URL_LINES_PER_ROW])
            for i in range(0, len(broken), _URL_LINES_PER_ROW)
        ]
        first = len(rows)
        rows.append(
            [
                str(number),
                t.cell(line.case_reference, _COLUMNS[1] - 2 * _CELL_PAD),
                t.para(chunks[0], "url", latin_first=True),
                _first_seen(seen),
                t.para(line.classification_basis, "cell"),
            ]
        )
        rows.extend(["", "", t.para(c, "url", latin_first=True), "", ""] for c in chunks[1:])
        last = len(rows) - 1
        if number % 2 == 0:
            commands.append(("BACKGROUND", (0, first), (-1, last), _STRIPE_BG))
        commands.append(("LINEBELOW", (0, last), (-1, last), 0.25, _RULE))
        if last > first:
            commands.append(("BOTTOMPADDING", (0, first), (-1, last - 1), 0))
            commands.append(("TOPPADDING", (0, first + 1), (-1, last), 1))
    return Table(rows, colWidths=list(_COLUMNS), repeatRows=1, style=TableStyle(commands))


def _first_seen(seen: datetime) -> str:
    """Day, then time and zone; the zone on a line of its own when it does not fit
    ("UTC+05:45")."""
    spec = _STYLES.specs["cell"]
    clock = f"{seen:%H:%M} {abbreviation(seen)}"
    if stringWidth(clock, SANS, spec.size) > _COLUMNS[3] - 2 * _CELL_PAD:
        clock = clock.replace(" ", "\n", 1)
    return f"{seen:%Y-%m-%d}\n{clock}"


def _deadline_block(t: Typesetter, sentence: str) -> Flowable:
    return Table(
        [[t.para(sentence, "deadline")]],
        colWidths=[_FRAME_W],
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), _DEADLINE_BG),
                ("LINEBEFORE", (0, 0), (0, -1), 2.5, _DEADLINE_LINE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        ),
    )


def _footer(
    t: Typesetter, letterhead: Letterhead, letter: Letter, labels: Mapping[str, str]
) -> Callable[[Canvas, int, int], None]:
    left_text = f"{letterhead.name} · {letter.reference}"
    width = _FRAME_W / 2

    def draw(canvas: Canvas, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.5)
        y = _MARGIN_BOTTOM - 7 * mm
        canvas.line(_MARGIN_X, y + 10, _PAGE_W - _MARGIN_X, y + 10)
        right_text = labels["footer_page"].format(page=page, pages=pages)
        if t.latin_only(left_text) and t.latin_only(right_text):
            # the usual case, and much faster than two Paragraphs per page
            size = _STYLES.specs["footer"].size
            canvas.setFont(SANS, size)
            canvas.setFillColor(_GREY)
            left_width = canvas.stringWidth(left_text, SANS, size)
            if left_width <= width:
                canvas.drawString(_MARGIN_X, y - 0.5, left_text)
                canvas.drawRightString(_PAGE_W - _MARGIN_X, y - 0.5, right_text)
                canvas.restoreState()
                return
        left = t.para(left_text, "footer", latin_first=True)
        right = t.para(right_text, "footer_right")
        for para, x in ((left, _MARGIN_X), (right, _MARGIN_X + width)):
            _w, h = para.wrap(width, 20 * mm)
            para.drawOn(canvas, x, y - h + 7)
        canvas.restoreState()

    return draw


def render_letter(letter: Letter, letterhead: Letterhead) -> bytes:
    """Render ``letter`` on ``letterhead`` as an A4 PDF and return its bytes.

    The same arguments always give the same bytes. Raises ``OSError`` when
    ``letterhead.logo_path`` is set but cannot be read, ``KeyError`` when a
    label in ``letter.labels`` uses an unknown placeholder.
    """
    t = Typesetter(registered_fonts(), _STYLES, letter.language)
    labels = {**DEFAULT_LABELS, **letter.labels}
    title = letter.title or TITLES[letter.kind]
    count = len(letter.lines)
    values = {
        "hotline": letterhead.name,
        "count": count,
        "number": letter.reminder_number,
        "reference": letter.previous_reference,
    }
    plural = "one" if count == 1 else "many"
    values["previous"] = (
        labels["previous_notice"].format_map(values)
        if letter.previous_reference
        else labels["previous_notice_unknown"]
    )
    values["urls"] = labels[f"urls_below_{plural}"].format_map(values)
    intro = labels[f"intro_{letter.kind}"].format_map(values)
    if letter.kind == "reminder" and letter.reminder_number is not None:
        intro = f"{intro} {labels['reminder_sentence'].format_map(values)}"

    story: list[Flowable] = [
        _letterhead_block(t, letterhead),
        Spacer(1, 3 * mm),
        HRFlowable(width="100%", thickness=0.8, color=_RULE, spaceBefore=0, spaceAfter=5 * mm),
        _address_block(t, letter, labels),
        Spacer(1, 7 * mm),
        KeepTogether([t.para(title, "title"), t.para(intro, "body")]),
        *t.paras(letter.legal_basis, "body"),
        Spacer(1, 1 * mm),
        _url_table(t, letter, labels),
        Spacer(1, 5 * mm),
    ]
    # The end of the letter stays together: the last paragraph of the request,
    # the deadline and the closing are not split across pages.
    request = t.paras(letter.request, "body")
    story += request[:-1]
    ending: list[Flowable] = request[-1:]
    if letter.deadline is not None:
        values["urls"] = labels[f"urls_above_{plural}"].format_map(values)
        values["deadline"] = format_datetime(letter.deadline, letter.timezone)
        sentence = labels[f"deadline_{letter.kind}"].format_map(values)
        ending += [Spacer(1, 1 * mm), _deadline_block(t, sentence), Spacer(1, 4 * mm)]
    if letter.response_url is not None and letter.response_expires is not None:
        values["expires"] = format_date(letter.response_expires, letter.timezone)
        ending += [
            t.para(labels["respond"].format_map(values), "body"),
            t.para(letter.response_url, "link"),
        ]
    ending += t.paras(letter.closing, "body")
    story.append(KeepTogether(ending))

    out = BytesIO()
    frame = Frame(
        _MARGIN_X,
        _MARGIN_BOTTOM,
        _FRAME_W,
        _PAGE_H - _MARGIN_TOP - _MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="letter",
    )
    doc = BaseDocTemplate(
        out,
        pageTemplates=[PageTemplate(id="letter", frames=[frame])],
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP,
        bottomMargin=_MARGIN_BOTTOM,
        title=f"{letter.reference} \u2013 {title}",
        author=letterhead.name,
        subject=title,
        creator="casemgr",
        producer="casemgr",
        invariant=1,
        lang=letter.language,
    )
    canvasmaker = partial(
        _LetterCanvas, footer=_footer(t, letterhead, letter, labels), created=letter.date
    )
    doc.build(story, canvasmaker=canvasmaker)
    return out.getvalue()
