"""The bundled fonts and their shaping (casemgr/pdf/fonts.py, casemgr/pdf/typeset.py)."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from casemgr.pdf.fonts import StyleSheet, TextStyle, registered_fonts
from casemgr.pdf.typeset import Typesetter

KHMER = "ព្រះរាជាណាចក្រកម្ពុជា"
SHEET = StyleSheet(
    {"url": TextStyle(8, 10.5, False, colors.black, {"splitLongWords": 1})}, prefix="test"
)


def test_mixed_script_word_is_shaped_run_by_run() -> None:
    """A word that mixes Latin and Khmer without a space gets each run shaped
    with its own font (reportlab alone shapes the Khmer with the Latin font,
    which gives .notdef boxes)."""
    typesetter = Typesetter(registered_fonts(), SHEET, "en")
    para = typesetter.para(f"https://ex.kh/{KHMER}?q=ថ្ងៃទី28", "url", latin_first=True)
    para.wrap(1000, 100)

    khmer_glyphs = 0
    for line in para.blPara.lines:
        for frag in line.words:
            font = pdfmetrics.getFont(frag.fontName)
            for ch in frag.text:
                assert font.face.charToGlyph.get(ord(ch), 0) != 0, (frag.fontName, ch)
                khmer_glyphs += frag.fontName == "CasemgrKhmer"
    assert khmer_glyphs >= len(KHMER) // 2
