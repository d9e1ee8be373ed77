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


def _pdf_with(text: str, font: str) -> bytes:
    from io import BytesIO

    from reportlab.pdfgen.canvas import Canvas

    out = BytesIO()
    canvas = Canvas(out, invariant=1)
    canvas.setFont(font, 12)
    canvas.drawString(72, 720, text)
    canvas.save()
    return out.getvalue()


def test_documents_with_the_same_characters_share_one_subset_and_others_get_their_own() -> None:
    """The subset font made for one document is reused by the next with the
    same characters, and never given to a document whose characters differ."""
    from io import BytesIO

    from pypdf import PdfReader

    registered_fonts()
    face = pdfmetrics.getFont("CasemgrSans").face
    first = _pdf_with("Notice CM-N-2026-000001", "CasemgrSans")
    same = _pdf_with("Notice CM-N-2026-000001", "CasemgrSans")
    other = _pdf_with("Avis n° CM-N-2026-000002 – reçu", "CasemgrSans")

    assert first == same
    assert face.makeSubset([0, 32, 65]) is face.makeSubset([0, 32, 65])
    text = PdfReader(BytesIO(other)).pages[0].extract_text()
    assert "Avis n° CM-N-2026-000002 – reçu" in text
