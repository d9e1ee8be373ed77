"""The bundled fonts: registered with reportlab once, a font chosen per script, shaped.

Every PDF casemgr makes (notice letters, the monthly statistics report) sets
its text in these fonts, so that a Khmer, Arabic or Hebrew name prints the
same wherever it appears. Its own module because the registration patches
reportlab process-wide and must happen once, whatever document comes first.

* Fonts: Noto Sans (Latin, Greek, Cyrillic), Noto Sans Khmer, Noto Sans
  Arabic and Noto Sans Hebrew are shipped in ``fonts/`` beside this module
  (SIL OFL 1.1, see ``fonts/OFL.txt``) and registered once, lazily. Noto Sans
  Khmer has no Latin letters or digits and reportlab 5 has no font fallback,
  so every paragraph is split into runs (:mod:`casemgr.pdf.typeset`), each set
  in the first font of a fallback chain (:data:`CHAINS`) that has the
  character (Latin first for data such as URLs and references; Khmer first
  for the prose of a ``language="km"`` document).
* Shaping: Khmer, Arabic and Hebrew need shaping (reportlab does it with
  uharfbuzz, a ``TTFont`` and ``shaping=1``). Two reportlab 5.1 faults are
  worked around: it shapes a whole *word* with the font of its first run, so
  a word mixing scripts without a space (``example.com/ខ្មែរ``, ``ថ្ងៃទី28``)
  comes out as boxes (:func:`_install_run_shaping` shapes such words run by
  run); and its ``setRise`` loses track of the text rise
  (:class:`casemgr.pdf.canvas.ShapingCanvas`). Latin runs are never shaped, so
  no ligature replaces the letters of a URL in the extracted text.
* Deterministic: the glyphs shaping yields are named up front
  (:func:`_name_unmapped_glyphs`), so the bytes of a PDF do not depend on what
  the process rendered before.
* Right-to-left runs (Arabic, Hebrew) are shaped right to left inside the run;
  there is no bidi reordering of a whole paragraph (RTL text appears inside
  URLs and names only).
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts as rl_ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import paragraph as rl_paragraph

FONT_DIR = Path(__file__).with_name("fonts")

# Names are prefixed so that they never collide with fonts another part of the
# process registers.
SANS, SANS_BOLD = "CasemgrSans", "CasemgrSans-Bold"
KHMER, KHMER_BOLD = "CasemgrKhmer", "CasemgrKhmer-Bold"
ARABIC, HEBREW = "CasemgrArabic", "CasemgrHebrew"

# reportlab name -> (file, needs shaping)
_FONT_FILES: dict[str, tuple[str, bool]] = {
    SANS: ("NotoSans-Regular.ttf", False),
    SANS_BOLD: ("NotoSans-Bold.ttf", False),
    KHMER: ("NotoSansKhmer-Regular.ttf", True),
    KHMER_BOLD: ("NotoSansKhmer-Bold.ttf", True),
    ARABIC: ("NotoSansArabic-Regular.ttf", True),
    HEBREW: ("NotoSansHebrew-Regular.ttf", True),
}

#: Fallback chains: (Latin first, bold) -> fonts in order of preference.
CHAINS: Mapping[tuple[bool, bool], tuple[str, ...]] = {
    (True, False): (SANS, KHMER, ARABIC, HEBREW),
    (True, True): (SANS_BOLD, KHMER_BOLD, ARABIC, HEBREW),
    (False, False): (KHMER, SANS, ARABIC, HEBREW),
    (False, True): (KHMER_BOLD, SANS_BOLD, ARABIC, HEBREW),
}

# Characters that stay in the font of the run they follow when that font has
# them: punctuation, spaces, symbols, combining marks, format characters.
_NEUTRAL_CATEGORIES = frozenset("PZSMC")
# Khmer stacks consonants and vowels above and below the line: give it room.
KHMER_LEADING = 1.3


@dataclass(frozen=True)
class Fonts:
    """What the typesetter needs to know of the registered fonts."""

    cmaps: Mapping[str, frozenset[int]]  # font name -> the characters it has
    widths: Mapping[str, Mapping[int, float]]  # font name -> advance widths (1/1000 em)
    default_width: Mapping[str, float]
    complex: frozenset[str]  # fonts whose runs must be shaped

    def runs(self, line: str, chain: tuple[str, ...]) -> list[tuple[str, str]]:
        """Split one line into (font, text) runs: each character goes to the
        first font of ``chain`` that has it; punctuation, spaces and marks stay
        with the run they follow when its font has them."""
        cmaps = self.cmaps
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


_fonts_lock = threading.Lock()
_fonts_cache: list[Fonts] = []


def registered_fonts() -> Fonts:
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
                _remember_subsets(font)
                widths[name] = font.face.charWidths
                default_width[name] = font.face.defaultWidth
            pdfmetrics.registerFontFamily(
                SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
            )
            pdfmetrics.registerFontFamily(
                KHMER, normal=KHMER, bold=KHMER_BOLD, italic=KHMER, boldItalic=KHMER_BOLD
            )
            complex_fonts = frozenset(n for n, (_f, shaped) in _FONT_FILES.items() if shaped)
            _install_run_shaping(frozenset(_FONT_FILES), complex_fonts)
            _fonts_cache.append(
                Fonts(
                    cmaps=cmaps,
                    widths=widths,
                    default_width=default_width,
                    complex=complex_fonts,
                )
            )
    return _fonts_cache[0]


#: Subset fonts kept per font face. An English letter's first subset is
#: nearly always the same (reportlab puts ASCII at fixed codes), so most
#: letters reuse one; 32 a face bounds the memory (a subset is a few tens of KB).
SUBSETS_KEPT = 32


def _remember_subsets(font: TTFont) -> None:
    """Keep the subset fonts reportlab makes for a document, by their glyph list.

    reportlab rebuilds the embedded subset of every font for every PDF
    (parsing glyph tables, composing the font file), a tenth of a letter's
    time. The result depends only on the list of characters in the subset,
    so a letter with the same characters as an earlier one reuses its bytes.
    """
    make_subset = font.face.makeSubset
    lock = threading.Lock()  # the face reads its file through a shared position

    @functools.lru_cache(maxsize=SUBSETS_KEPT)
    def subset_of(characters: tuple[int, ...]) -> bytes:
        with lock:
            return make_subset(list(characters))

    font.face.makeSubset = lambda subset: subset_of(tuple(subset))


def _name_unmapped_glyphs(font: TTFont) -> None:
    """Give every glyph that no character maps to a private-use character now.

    Shaping yields glyphs that have no character (Khmer subscript forms,
    Arabic positional forms); reportlab gives each a private-use character
    when it first meets it, in the order met in the process. The PDF then
    depends on which documents the process rendered before. Naming them all
    up front, in glyph order, makes the bytes depend on the document only.
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


# ------------------------------------------------------------ paragraph styles


@dataclass(frozen=True)
class TextStyle:
    """One kind of text of a document; ``extra`` holds further ParagraphStyle
    attributes (``spaceAfter``, ``alignment``...)."""

    size: float
    leading: float
    bold: bool
    colour: Any
    extra: Mapping[str, Any] = field(default_factory=dict)


class StyleSheet:
    """A document's text styles as shaping-aware ParagraphStyles.

    Each style exists four times: with the Latin or the Khmer font first, and
    with shaping on (only for a paragraph that holds a complex-script run:
    shaping costs time) or off. Khmer as base font or any shaped run gets a
    taller leading. Built once per language, cached.
    """

    def __init__(self, specs: Mapping[str, TextStyle], *, prefix: str = "casemgr") -> None:
        self.specs = specs
        self.prefix = prefix
        self._by_language: dict[str, Mapping[tuple[str, bool, bool], ParagraphStyle]] = {}

    def styles(self, language: str) -> Mapping[tuple[str, bool, bool], ParagraphStyle]:
        """(style name, Latin first, shaped) -> ParagraphStyle for ``language``."""
        found = self._by_language.get(language)
        if found is not None:
            return found
        khmer_prose = language == "km"
        styles: dict[tuple[str, bool, bool], ParagraphStyle] = {}
        for name, spec in self.specs.items():
            for latin_first in (True, False):
                chain = CHAINS[(latin_first or not khmer_prose, spec.bold)]
                for shaped in (False, True):
                    khmer_base = chain[0] in (KHMER, KHMER_BOLD)
                    lead = spec.leading * KHMER_LEADING if shaped or khmer_base else spec.leading
                    styles[(name, latin_first, shaped)] = ParagraphStyle(
                        f"{self.prefix}-{name}-{int(latin_first)}{int(shaped)}",
                        fontName=chain[0],
                        fontSize=spec.size,
                        leading=lead,
                        textColor=spec.colour,
                        shaping=int(shaped),
                        **spec.extra,
                    )
        self._by_language[language] = styles
        return styles
