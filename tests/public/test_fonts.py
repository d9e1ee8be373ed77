"""The Khmer web fonts: WOFF2 that keep every character a Khmer reporter may type."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = sorted((ROOT / "static" / "fonts").glob("NotoSansKhmer-*.woff2"))
SOURCE = ROOT / "casemgr" / "pdf" / "fonts"

ttLib = pytest.importorskip("fontTools.ttLib", reason="fontTools is in the test extras")
pytest.importorskip("brotli", reason="WOFF2 needs Brotli (fonttools[woff])")


def _source_of(web: Path) -> Path:
    return SOURCE / (web.name.split("-2.")[0] + ".ttf")  # NotoSansKhmer-Regular-2.001-1.woff2


def test_there_is_a_regular_and_a_bold_font():
    assert [font.name.split("-")[1] for font in WEB] == ["Bold", "Regular"]


@pytest.mark.parametrize("web", WEB, ids=[font.name for font in WEB])
def test_every_khmer_latin_and_digit_character_of_the_full_font_is_kept(web):
    font = ttLib.TTFont(web)
    assert font.flavor == "woff2"
    full = ttLib.TTFont(_source_of(web))
    kept, had = set(font.getBestCmap()), set(full.getBestCmap())
    wanted = [
        cp
        for low, high in ((0x1780, 0x17FF), (0x19E0, 0x19FF), (0x20, 0x7E), (0x200B, 0x200D))
        for cp in range(low, high + 1)
        if unicodedata.category(chr(cp)) != "Cn"  # assigned characters
    ]
    missing = [f"U+{cp:04X}" for cp in wanted if cp in had and cp not in kept]
    assert missing == []
    assert all(cp in kept for cp in range(0x1780, 0x17DE))  # the consonants, vowels and signs
    # Shaping (subscript consonants, vowel placement) needs the layout tables whole.
    for table in ("GSUB", "GPOS", "GDEF"):
        assert table in font
    assert len(font.getGlyphOrder()) >= len(full.getGlyphOrder()) - 5
