"""Render notice letters (takedown notice, referral, reminder, escalation) as PDF.

Pure: no database, no Flask. The caller builds a :class:`Letter` and a
:class:`Letterhead` and gets the PDF bytes from :func:`render_letter`; the view
wraps them in ``send_file`` and the notice run stores them with their SHA-256.

The letter lists URLs and metadata only. Nothing here describes the material:
the table says *that* a URL was assessed illegal and on which basis.

Design notes
------------
* Deterministic: the same ``Letter`` and ``Letterhead`` give byte-identical
  PDFs, whatever the process rendered before (reportlab's ``invariant``
  mode; the document's creation date is the letter's date, not the time of
  rendering; see :func:`_name_unmapped_glyphs` for shaped glyphs).
* Fonts: Noto Sans (Latin, Greek, Cyrillic), Noto Sans Khmer, Noto Sans
  Arabic and Noto Sans Hebrew are shipped in ``fonts/`` (SIL OFL 1.1, see
  ``fonts/OFL.txt``) and registered once, lazily. Noto Sans Khmer has no
  Latin letters or digits and reportlab 5 has no font fallback, so every
  paragraph is split into runs, each set in the first font of a fallback
  chain that has the character (Latin first for data such as URLs and
  references; Khmer first for the prose of a ``language="km"`` letter).
* Shaping: Khmer, Arabic and Hebrew need shaping (reportlab does it with
  uharfbuzz, a ``TTFont`` and ``shaping=1``). A paragraph gets a shaping
  style only when it holds such a run. Two reportlab 5.1 faults are worked
  around here: it shapes a whole *word* with the font of its first run, so a
  word mixing scripts without a space (``example.com/ខ្មែរ``, ``ថ្ងៃទី28``)
  comes out as boxes (:func:`_install_run_shaping` shapes such words run by
  run); and its ``setRise`` loses track of the text rise, which drops whole
  runs of Khmer below the line (:class:`_TextObject`). Latin runs are never
  shaped, so no ligature replaces the letters of a URL in the extracted text.
* Right-to-left runs (Arabic, Hebrew) are shaped right to left inside the run;
  there is no bidi reordering of a whole paragraph (RTL text appears here
  inside URLs and names only).
* URLs are broken into lines here (after ``/``, ``?``, ``&`` where possible),
  not by reportlab, and a long URL spans several table rows so that the table
  can break across pages inside it. The characters of the URL are kept as
  they are; copied out of the PDF, a long URL has line breaks to remove.
"""

from __future__ import annotations

import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts as rl_ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    Image,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph

__all__ = [
    "DEFAULT_LABELS",
    "KINDS",
    "TITLES",
    "Letter",
    "LetterLine",
    "Letterhead",
    "render_letter",
]

#: English titles by letter kind. A caller may override one with ``Letter.title``.
TITLES: Mapping[str, str] = {
    "notice": "Notice of illegal content and request for removal",
    "referral": "Referral",
    "reminder": "Reminder: removal overdue",
    "escalation": "Escalation: removal overdue",
}
KINDS = frozenset(TITLES)

#: The fixed wording of a letter, in English. ``Letter.labels`` overrides any of
#: them (a translation, or a hotline's own wording). Placeholders in braces are
#: filled with ``str.format``: keep them in a translation.
DEFAULT_LABELS: Mapping[str, str] = {
    "to": "To",
    "reference": "Reference",
    "date": "Date",
    "previous_reference": "Original notice",
    "reminder_number": "Reminder no.",
    "col_number": "#",
    "col_case": "Case reference",
    "col_url": "URL",
    "col_first_seen": "First seen (UTC)",
    "col_basis": "Classification basis",
    # {count}: number of URLs
    "urls_below_one": "the URL listed below",
    "urls_below_many": "the {count} URLs listed below",
    "urls_above_one": "the URL listed above",
    "urls_above_many": "the {count} URLs listed above",
    # {reference}: Letter.previous_reference
    "previous_notice": "our notice {reference}",
    "previous_notice_unknown": "our earlier notice",
    # {hotline}: letterhead name; {urls}: urls_below_*; {previous}: previous_notice*
    "intro_notice": (
        "{hotline} runs a hotline to which members of the public report child sexual "
        "abuse material found online. Our analysts have assessed {urls}, hosted on your "
        "service, as illegal on the basis stated for each."
    ),
    "intro_referral": (
        "{hotline} refers to you {urls}. Our analysts have assessed each of them as "
        "illegal on the basis stated for each."
    ),
    "intro_reminder": (
        "We refer to {previous} concerning {urls}. We have not yet received "
        "confirmation that the content has been removed."
    ),
    "intro_escalation": (
        "We sent {previous} concerning {urls}, followed by reminders. We have had no "
        "answer and no confirmation that the content has been removed, so we are "
        "escalating the matter."
    ),
    # {number}: Letter.reminder_number; appended to intro_reminder when set
    "reminder_sentence": "This is reminder no. {number}.",
    # {deadline}: "2026-12-01 10:00 UTC"; {urls}: urls_above_*
    "deadline_notice": "Please remove the content at {urls} by {deadline}.",
    "deadline_referral": "Please let us know by {deadline} what action has been taken.",
    "deadline_reminder": "Please remove the content at {urls} by {deadline}.",
    "deadline_escalation": "Please remove the content at {urls} by {deadline}.",
    # {page}, {pages}
    "footer_page": "Page {page} of {pages}",
}


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class Letterhead:
    """The hotline's letterhead; ``logo_path`` is a PNG or JPEG file, optional."""

    name: str
    address: str
    email: str
    phone: str = ""
    website: str = ""
    logo_path: str | None = None


@dataclass(frozen=True)
class LetterLine:
    """One URL of a letter. ``classification_basis`` names the legal basis of the
    assessment (e.g. "Child sexual abuse material (international baseline)"),
    never what the material shows."""

    case_reference: str
    url: str
    first_seen: datetime
    classification_basis: str

    def __post_init__(self) -> None:
        _require_aware("first_seen", self.first_seen)


@dataclass(frozen=True)
class Letter:
    """What a letter says. ``legal_basis``, ``request`` and ``closing`` are the
    caller's text in the letter's language (blank lines separate paragraphs,
    single newlines break lines). ``labels`` overrides :data:`DEFAULT_LABELS`,
    ``title`` overrides :data:`TITLES`."""

    kind: str
    reference: str
    date: datetime
    recipient_name: str
    lines: Sequence[LetterLine]
    deadline: datetime | None
    legal_basis: str
    request: str
    recipient_address: str = ""
    recipient_email: str = ""
    closing: str = ""
    language: str = "en"
    previous_reference: str | None = None
    reminder_number: int | None = None
    title: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown letter kind {self.kind!r}; expected one of {sorted(KINDS)}")
        _require_aware("date", self.date)
        _require_aware("deadline", self.deadline)
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise ValueError("a letter lists at least one URL")
        unknown = set(self.labels) - set(DEFAULT_LABELS)
        if unknown:
            raise ValueError(f"unknown labels: {sorted(unknown)}")


# --------------------------------------------------------------------------- fonts

FONT_DIR = Path(__file__).with_name("fonts")

# reportlab name -> (file, needs shaping). Names are prefixed so that they never
# collide with fonts another part of the process registers.
_FONT_FILES: dict[str, tuple[str, bool]] = {
    "CasemgrSans": ("NotoSans-Regular.ttf", False),
    "CasemgrSans-Bold": ("NotoSans-Bold.ttf", False),
    "CasemgrKhmer": ("NotoSansKhmer-Regular.ttf", True),
    "CasemgrKhmer-Bold": ("NotoSansKhmer-Bold.ttf", True),
    "CasemgrArabic": ("NotoSansArabic-Regular.ttf", True),
    "CasemgrHebrew": ("NotoSansHebrew-Regular.ttf", True),
}
_SANS, _SANS_BOLD = "CasemgrSans", "CasemgrSans-Bold"
_KHMER, _KHMER_BOLD = "CasemgrKhmer", "CasemgrKhmer-Bold"

# Fallback chains: (Latin first, bold) -> fonts in order of preference.
_CHAINS: dict[tuple[bool, bool], tuple[str, ...]] = {
    (True, False): (_SANS, _KHMER, "CasemgrArabic", "CasemgrHebrew"),
    (True, True): (_SANS_BOLD, _KHMER_BOLD, "CasemgrArabic", "CasemgrHebrew"),
    (False, False): (_KHMER, _SANS, "CasemgrArabic", "CasemgrHebrew"),
    (False, True): (_KHMER_BOLD, _SANS_BOLD, "CasemgrArabic", "CasemgrHebrew"),
}

# Characters that stay in the font of the run they follow when that font has
# them: punctuation, spaces, symbols, combining marks, format characters.
_NEUTRAL_CATEGORIES = frozenset("PZSMC")


@dataclass(frozen=True)
class _Fonts:
    cmaps: Mapping[str, frozenset[int]]  # font name -> the characters it has
    widths: Mapping[str, Mapping[int, float]]  # font name -> advance widths (1/1000 em)
    default_width: Mapping[str, float]
    complex: frozenset[str]  # fonts whose runs must be shaped


_fonts_lock = threading.Lock()
_fonts_cache: list[_Fonts] = []


def _fonts() -> _Fonts:
    """Register the shipped fonts with reportlab, once per process."""
    if _fonts_cache:
        return _fonts_cache[0]
    with _fonts_lock:
        if not _fonts_cache:
            cmaps: dict[str, frozenset[int]] = {}
            widths: dict[str, Mapping[int, float]] = {}
            default_width: dict[str, float] = {}
            for name, (filename, shaped) in _FONT_FILES.items():
                font = TTFont(name, str(FONT_DIR / filename))
                pdfmetrics.registerFont(font)
                cmaps[name] = frozenset(font.face.charToGlyph)  # before the private ones
                if shaped:
                    _name_unmapped_glyphs(font)
                widths[name] = font.face.charWidths
                default_width[name] = font.face.defaultWidth
            pdfmetrics.registerFontFamily(
                _SANS, normal=_SANS, bold=_SANS_BOLD, italic=_SANS, boldItalic=_SANS_BOLD
            )
            pdfmetrics.registerFontFamily(
                _KHMER, normal=_KHMER, bold=_KHMER_BOLD, italic=_KHMER, boldItalic=_KHMER_BOLD
            )
            complex_fonts = frozenset(n for n, (_f, shaped) in _FONT_FILES.items() if shaped)
            _install_run_shaping(frozenset(_FONT_FILES), complex_fonts)
            _fonts_cache.append(
                _Fonts(
                    cmaps=cmaps,
                    widths=widths,
                    default_width=default_width,
                    complex=complex_fonts,
                )
            )
    return _fonts_cache[0]


def _name_unmapped_glyphs(font: TTFont) -> None:
    """Give every glyph that no character maps to a private-use character now.

    Shaping yields glyphs that have no character (Khmer subscript forms,
    Arabic positional forms); reportlab gives each a private-use character
    when it first meets it, in the order met in the process. The PDF then
    depends on which letters the process rendered before. Naming them all
    up front, in glyph order, makes the bytes depend on the letter only.
    """
    hb_font = font.hbFont(10)  # also makes ``font.hbAddPrivate``
    mapped = font.face.glyphToChar
    for gid in range(hb_font.face.glyph_count):
        if gid not in mapped:
            font.hbAddPrivate(hb_font.glyph_to_string(gid), gid, hb_font.get_glyph_h_advance(gid))


def _install_run_shaping(ours: frozenset[str], complex_fonts: frozenset[str]) -> None:
    """Make reportlab shape a word run by run when the word is set in our fonts.

    ``reportlab.platypus.paragraph`` shapes each word with the uharfbuzz font
    of the word's first run; the glyphs of a later run in another font become
    boxes, and a Khmer run in a word that starts in Latin is not reordered.
    The wrapper leaves every word that uses a font not in ``ours`` (or holds
    an inline image) to reportlab's own function, unchanged; for our words it
    shapes each run of a complex-script font separately and leaves Latin runs
    unshaped. Installed once per process (idempotent).
    """
    original = rl_paragraph.shapeFragWord
    if getattr(original, "_casemgr_runs", False):
        return
    shaped_word_type = rl_ttfonts.ShapedFragWord
    shaped_str_type = rl_ttfonts.ShapedStr
    make_shaped = rl_ttfonts.makeShapedFragWord
    string_width = pdfmetrics.stringWidth

    def shape_frag_word(w: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(w, shaped_word_type):
            return w
        frags = w[1:]
        if (
            not frags
            or any(hasattr(f, "cbDefn") for f, _ in frags)
            or any(f.fontName not in ours for f, _ in frags)
        ):
            return original(w, *args, **kwargs)
        runs: list[list[tuple[Any, str]]] = []
        for f, s in frags:
            if runs and runs[-1][0][0].fontName == f.fontName:
                runs[-1].append((f, s))
            else:
                runs.append([(f, s)])
        parts: list[Any] = []
        width = 0.0
        shaped = False
        for run in runs:
            if any(isinstance(s, shaped_str_type) for _f, s in run):
                # shaped before: reportlab rejoins the pieces of a word it split
                # across lines when a paragraph is wrapped again (as tables do)
                shaped = True
                width += sum(_shaped_width(s, f) for f, s in run)
                parts.extend(run)
                continue
            run_width = sum(string_width(s, f.fontName, f.fontSize) for f, s in run)
            if run[0][0].fontName in complex_fonts:
                result = original([run_width, *run], *args, **kwargs)
                shaped = shaped or isinstance(result, shaped_word_type)
                width += result[0]
                parts.extend(result[1:])
            else:
                width += run_width
                parts.extend(run)
        if not shaped:
            return w
        return make_shaped(w)([width, *parts])

    def _shaped_width(s: Any, f: Any) -> float:
        data = getattr(s, "__shapeData__", None)
        if data is None:
            return string_width(s, f.fontName, f.fontSize)
        return sum(d.x_advance for d in data) * f.fontSize / 1000

    shape_frag_word._casemgr_runs = True  # type: ignore[attr-defined]
    rl_paragraph.shapeFragWord = shape_frag_word


# ---------------------------------------------------------------------- typesetting

_CONTROL = {c: "\ufffd" for c in range(32) if c not in (9, 10)}
_CONTROL.update({9: " ", 0x7F: "\ufffd"})

_INK = colors.HexColor("#1a1a1a")
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#9a9a9a")
_HEADER_BG = colors.HexColor("#e6e6e6")
_STRIPE_BG = colors.HexColor("#f6f6f6")
_DEADLINE_BG = colors.HexColor("#fff4d6")
_DEADLINE_LINE = colors.HexColor("#c98a00")

# name -> (size, leading, bold, colour, extra ParagraphStyle attributes)
_STYLE_SPECS: dict[str, tuple[float, float, bool, Any, dict[str, Any]]] = {
    "body": (10, 14.5, False, _INK, {"spaceAfter": 7}),
    "meta": (9, 12.5, False, _INK, {}),
    "meta_label": (9, 12.5, False, _GREY, {}),
    "meta_strong": (9.5, 13, True, _INK, {}),
    "title": (14, 18, True, _INK, {"spaceBefore": 4, "spaceAfter": 8}),
    "lh_name": (13.5, 17, True, _INK, {}),
    "lh_text": (8.5, 11.5, False, _GREY, {}),
    "cell": (8, 10.5, False, _INK, {}),
    "cell_head": (8, 10.5, True, _INK, {}),
    "url": (8, 10.5, False, _INK, {"splitLongWords": 1}),
    "deadline": (10.5, 15, True, _INK, {}),
    "footer": (7.5, 9.5, False, _GREY, {}),
    "footer_right": (7.5, 9.5, False, _GREY, {"alignment": TA_RIGHT}),
}
# Khmer stacks consonants and vowels above and below the line: give it room.
_KHMER_LEADING = 1.3


@dataclass(frozen=True)
class _StyleSet:
    # (style name, Latin first, shaped) -> style
    styles: Mapping[tuple[str, bool, bool], ParagraphStyle]


_style_cache: dict[str, _StyleSet] = {}


def _styles(language: str) -> _StyleSet:
    found = _style_cache.get(language)
    if found is not None:
        return found
    khmer_prose = language == "km"
    styles: dict[tuple[str, bool, bool], ParagraphStyle] = {}
    for name, (size, leading, bold, colour, extra) in _STYLE_SPECS.items():
        for latin_first in (True, False):
            chain = _CHAINS[(latin_first or not khmer_prose, bold)]
            for shaped in (False, True):
                khmer_base = chain[0] in (_KHMER, _KHMER_BOLD)
                lead = leading * _KHMER_LEADING if shaped or khmer_base else leading
                styles[(name, latin_first, shaped)] = ParagraphStyle(
                    f"casemgr-{name}-{int(latin_first)}{int(shaped)}",
                    fontName=chain[0],
                    fontSize=size,
                    leading=lead,
                    textColor=colour,
                    shaping=int(shaped),
                    **extra,
                )
    found = _StyleSet(styles=styles)
    _style_cache[language] = found
    return found


class _Typesetter:
    """Makes Paragraphs: escapes the text and sets each script in a font that has it."""

    def __init__(self, fonts: _Fonts, language: str) -> None:
        self.fonts = fonts
        self.styles = _styles(language).styles
        self.khmer_prose = language == "km"

    def chain(self, *, latin_first: bool, bold: bool) -> tuple[str, ...]:
        return _CHAINS[(latin_first or not self.khmer_prose, bold)]

    def runs(self, line: str, chain: tuple[str, ...]) -> list[tuple[str, str]]:
        """Split one line into (font, text) runs: each character goes to the
        first font of ``chain`` that has it; punctuation, spaces and marks stay
        with the run they follow when its font has them."""
        cmaps = self.fonts.cmaps
        base = chain[0]
        runs: list[tuple[str, list[str]]] = []
        for ch in line:
            code = ord(ch)
            current = runs[-1][0] if runs else None
            if (
                current is not None
                and unicodedata.category(ch)[0] in _NEUTRAL_CATEGORIES
                and code in cmaps[current]
            ):
                font = current
            else:
                font = next((f for f in chain if code in cmaps[f]), current or base)
            if font == current:
                runs[-1][1].append(ch)
            else:
                runs.append((font, [ch]))
        return [(font, "".join(chars)) for font, chars in runs]

    def latin_only(self, text: str) -> bool:
        """Whether Noto Sans alone can set ``text`` (no other script, no markup needed)."""
        cmap = self.fonts.cmaps[_SANS]
        return text.isprintable() and all(ord(ch) in cmap for ch in text)

    def markup(self, text: str, *, latin_first: bool, bold: bool) -> tuple[str, bool]:
        """Paragraph markup for ``text`` and whether it needs shaping."""
        text = _clean(text)
        chain = self.chain(latin_first=latin_first, bold=bold)
        base = chain[0]
        if text.isascii() and base in (_SANS, _SANS_BOLD):
            return escape(text).replace("\n", "<br/>"), False
        out: list[str] = []
        shaped = False
        for line_no, line in enumerate(text.split("\n")):
            if line_no:
                out.append("<br/>")
            for font, run in self.runs(line, chain):
                shaped = shaped or font in self.fonts.complex
                run = escape(run)
                out.append(run if font == base else f'<font face="{font}">{run}</font>')
        return "".join(out), shaped

    def para(self, text: str, style: str, *, latin_first: bool = False) -> Paragraph:
        bold = _STYLE_SPECS[style][2]
        markup, shaped = self.markup(text, latin_first=latin_first, bold=bold)
        return Paragraph(markup, self.styles[(style, latin_first, shaped)])

    def cell(self, text: str, width: float) -> str | Paragraph:
        """A table cell: the plain string when it is ASCII, one line and fits
        ``width`` (a Table draws those much faster than a Paragraph)."""
        size = _STYLE_SPECS["cell"][0]
        if (
            text.isascii()
            and text.isprintable()
            and pdfmetrics.stringWidth(text, _SANS, size) <= width
        ):
            return text
        return self.para(text, "cell", latin_first=True)

    def paras(self, text: str, style: str) -> list[Paragraph]:
        """One Paragraph per blank-line-separated block of ``text``."""
        blocks = [b.strip() for b in _clean(text).split("\n\n")]
        return [self.para(b, style) for b in blocks if b]

    def url_lines(self, url: str, width: float) -> list[str]:
        """A URL broken into lines that fit ``width``.

        Reportlab breaks lines at spaces only (a zero-width space is not a
        break for it) and, once it has split a long word, does not split the
        pieces again; so the breaks are chosen here: after ``/ ? & = ...``
        (else ``. - _ =``) where that leaves the line at least 60 % full, else at the last
        character that fits, never inside a Khmer cluster. The URL's
        characters are kept exactly; only line breaks are added.
        """
        url = _clean(url).replace("\n", " ")
        size = _STYLE_SPECS["url"][0]
        chain = self.chain(latin_first=True, bold=False)
        chars: list[str] = []
        prefix = [0.0]
        for font, run in self.runs(url, chain):
            widths = self.fonts.widths[font]
            default = self.fonts.default_width[font]
            for ch in run:
                chars.append(ch)
                prefix.append(prefix[-1] + widths.get(ord(ch), default) * size / 1000)
        lines: list[str] = []
        start, n = 0, len(chars)
        while prefix[n] - prefix[start] > width:
            end = max(bisect_right(prefix, prefix[start] + width) - 1, start + 1)
            cut = None
            for preferred in _URL_BREAKS:
                for j in range(end, start, -1):
                    if prefix[j] - prefix[start] < 0.6 * width:
                        break
                    if chars[j - 1] in preferred and _can_break(chars, j):
                        cut = j
                        break
                if cut is not None:
                    break
            if cut is None:
                cut = end
                while cut > start + 1 and not _can_break(chars, cut):
                    cut -= 1
            lines.append("".join(chars[start:cut]))
            start = cut
        lines.append("".join(chars[start:]))
        return lines


# Where a URL line may end, best first: after a path or query separator, else
# after punctuation inside a name.
_URL_BREAKS = (frozenset("/?&#"), frozenset("=;,-._~+|:@!$*"))
_COENG = "\u17d2"


def _can_break(chars: Sequence[str], j: int) -> bool:
    """Whether a line may end before ``chars[j]`` (not inside a cluster)."""
    return (
        unicodedata.category(chars[j])[0] != "M"
        and chars[j] not in "\u200c\u200d"
        and chars[j - 1] not in (_COENG, "\u200c", "\u200d")
    )


def _clean(text: str) -> str:
    """Unify line ends; replace control characters (a PDF cannot show them)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------- canvas


class _TextObject(PDFTextObject):
    """Text object with reportlab 5.1's ``setRise`` corrected.

    Shaped text moves marks up or down with a text rise (``Ts``) per cluster.
    ``PDFTextObject.setRise`` folds ``a Ts b Ts`` into ``b Ts`` but then keeps
    ``a`` as the current rise, so the next cluster at rise ``a`` is not reset
    and a whole run of Khmer after a vowel sign sits below the line.
    """

    def setRise(self, rise: float) -> None:  # noqa: N802 - reportlab's name
        code = f"{fp_str(rise)} Ts"
        if self._code and self._code[-1].endswith(" Ts"):
            self._y += self._rise
            self._code[-1] = code
        else:
            self._code.append(code)
        self._rise = rise
        self._y -= rise


class _LetterCanvas(Canvas):
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

    def beginText(self, x: float = 0, y: float = 0, direction: Any = None) -> PDFTextObject:  # noqa: N802
        return _TextObject(self, x, y, direction=direction)

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


# ------------------------------------------------------------------------- layout

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


def _letterhead_block(t: _Typesetter, letterhead: Letterhead) -> Flowable:
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
    reader = ImageReader(letterhead.logo_path)
    width, height = reader.getSize()
    scale = min(_LOGO_MAX_W / width, _LOGO_MAX_H / height)
    logo = Image(letterhead.logo_path, width=width * scale, height=height * scale)
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


def _address_block(t: _Typesetter, letter: Letter, labels: Mapping[str, str]) -> Flowable:
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
        (labels["date"], letter.date.strftime("%Y-%m-%d")),
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


def _url_table(t: _Typesetter, letter: Letter, labels: Mapping[str, str]) -> Table:
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
        ("FONT", (0, 1), (-1, -1), _SANS, _STYLE_SPECS["cell"][0], _STYLE_SPECS["cell"][1]),
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
        seen = line.first_seen.astimezone(UTC)
        url_lines = t.url_lines(line.url, url_width)
        chunks = [
            "\n".join(url_lines[i : i + _URL_LINES_PER_ROW])
            for i in range(0, len(url_lines), _URL_LINES_PER_ROW)
        ]
        first = len(rows)
        rows.append(
            [
                str(number),
                t.cell(line.case_reference, _COLUMNS[1] - 2 * _CELL_PAD),
                t.para(chunks[0], "url", latin_first=True),
                seen.strftime("%Y-%m-%d\n%H:%M UTC"),
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


def _deadline_block(t: _Typesetter, sentence: str) -> Flowable:
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
    t: _Typesetter, letterhead: Letterhead, letter: Letter, labels: Mapping[str, str]
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
            size = _STYLE_SPECS["footer"][0]
            canvas.setFont(_SANS, size)
            canvas.setFillColor(_GREY)
            left_width = canvas.stringWidth(left_text, _SANS, size)
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
    t = _Typesetter(_fonts(), letter.language)
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
        values["deadline"] = _utc(letter.deadline)
        sentence = labels[f"deadline_{letter.kind}"].format_map(values)
        ending += [Spacer(1, 1 * mm), _deadline_block(t, sentence), Spacer(1, 4 * mm)]
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
