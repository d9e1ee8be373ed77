"""Text into reportlab Paragraphs, each script in a font that has it, shaped where needed.

Shared by the notice letters and the statistics report: what they print comes
from people (names, addresses, URLs) and may be in any bundled script, so no
text reaches reportlab but through :class:`Typesetter`. Its own module because
it is what the documents call; :mod:`casemgr.pdf.fonts` is what it stands on.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_RIGHT
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from casemgr.pdf.fonts import CHAINS, SANS, SANS_BOLD, Fonts, StyleSheet

_CONTROL = {c: "\ufffd" for c in range(32) if c not in (9, 10)}
_CONTROL.update({9: " ", 0x7F: "\ufffd"})


def clean(text: str) -> str:
    """Unify line ends; replace control characters (a PDF cannot show them)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)


class Typesetter:
    """Makes Paragraphs: escapes the text and sets each script in a font that has it.

    ``sheet`` names the document's styles; ``language`` is the document's:
    Khmer prose (``"km"``) is set Khmer font first, everything else Latin first.
    """

    def __init__(self, fonts: Fonts, sheet: StyleSheet, language: str) -> None:
        self.fonts = fonts
        self.specs = sheet.specs
        self.styles = sheet.styles(language)
        self.khmer_prose = language == "km"

    def chain(self, *, latin_first: bool, bold: bool) -> tuple[str, ...]:
        return CHAINS[(latin_first or not self.khmer_prose, bold)]

    def runs(self, line: str, chain: tuple[str, ...]) -> list[tuple[str, str]]:
        """``line`` as (font, text) runs (see :meth:`Fonts.runs`)."""
        return self.fonts.runs(line, chain)

    def latin_only(self, text: str) -> bool:
        """Whether Noto Sans alone can set ``text`` (no other script, no markup needed)."""
        cmap = self.fonts.cmaps[SANS]
        return text.isprintable() and all(ord(ch) in cmap for ch in text)

    def markup(self, text: str, *, latin_first: bool, bold: bool) -> tuple[str, bool]:
        """Paragraph markup for ``text`` and whether it needs shaping."""
        text = clean(text)
        chain = self.chain(latin_first=latin_first, bold=bold)
        base = chain[0]
        if text.isascii() and base in (SANS, SANS_BOLD):
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
        bold = self.specs[style].bold
        markup, shaped = self.markup(text, latin_first=latin_first, bold=bold)
        return Paragraph(markup, self.styles[(style, latin_first, shaped)])

    def cell(self, text: str, width: float, style: str = "cell") -> str | Paragraph:
        """A table cell: the plain string when it is ASCII, one line and fits
        ``width`` (a Table draws those much faster than a Paragraph; the table
        sets them in Noto Sans at the size of ``style``)."""
        size = self.specs[style].size
        if (
            text.isascii()
            and text.isprintable()
            and pdfmetrics.stringWidth(text, SANS, size) <= width
        ):
            return text
        return self.para(text, style, latin_first=True)

    def paras(self, text: str, style: str) -> list[Paragraph]:
        """One Paragraph per blank-line-separated block of ``text``."""
        blocks = [b.strip() for b in clean(text).split("\n\n")]
        return [self.para(b, style) for b in blocks if b]

    def draw_line(
        self, canvas: Canvas, text: str, style: str, x: float, baseline: float, width: float
    ) -> None:
        """Draw ``text`` on ``canvas`` in the box from ``x`` ``width`` wide, its
        first baseline at ``baseline``; right-aligned when ``style`` is.

        Noto Sans text that fits is drawn as a plain string (fast, the same
        bytes as ``drawString``); any other script goes through a Paragraph,
        so that it is set in its font and shaped.
        """
        spec = self.specs[style]
        right = spec.extra.get("alignment") == TA_RIGHT
        font = SANS_BOLD if spec.bold else SANS
        if self.latin_only(text) and canvas.stringWidth(text, font, spec.size) <= width:
            canvas.setFont(font, spec.size)
            canvas.setFillColor(spec.colour)
            if right:
                canvas.drawRightString(x + width, baseline, text)
            else:
                canvas.drawString(x, baseline, text)
            return
        para = self.para(text, style, latin_first=True)
        _used, height = para.wrap(width, 10 * spec.leading)
        # reportlab sets a Paragraph's first baseline one font size below its top
        para.drawOn(canvas, x, baseline - height + spec.size)
