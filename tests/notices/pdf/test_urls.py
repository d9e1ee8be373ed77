"""URLs broken into lines for the letter's URL column (casemgr/notices/pdf/urls.py)."""

from __future__ import annotations

import pytest
from reportlab.pdfbase import pdfmetrics

from casemgr.notices.pdf import layout
from casemgr.notices.pdf.urls import url_lines
from casemgr.pdf.fonts import CHAINS, registered_fonts
from casemgr.pdf.typeset import Typesetter
from tests.notices.pdf.conftest import KHMER


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example-host.net/share/" + "/".join(f"d{i:03d}" for i in range(300)),
        "https://example-host.net/?t=" + "W" * 1990,
        "https://forum.example.kh/" + KHMER * 20 + "/topic",
    ],
)
def test_url_lines_fit_the_column(url: str) -> None:
    typesetter = Typesetter(registered_fonts(), layout._STYLES, "en")
    width = layout._COLUMNS[2] - 2 * layout._CELL_PAD

    lines = url_lines(typesetter, url, width, 8)

    assert "".join(lines) == url
    assert len(lines) > 1
    for line in lines:
        font_width = sum(
            pdfmetrics.stringWidth(run, font, 8)
            for font, run in typesetter.runs(line, CHAINS[(True, False)])
        )
        assert font_width <= width
        # never inside a Khmer cluster
        assert not line.startswith("\u17d2")
        assert not line.endswith("\u17d2")


def test_url_breaks_after_a_slash_when_it_can() -> None:
    typesetter = Typesetter(registered_fonts(), layout._STYLES, "en")
    url = "https://img.example-host.net/u/8f3a9c/index.php?id=12345&s=full"
    lines = url_lines(typesetter, url, layout._COLUMNS[2] - 2 * layout._CELL_PAD, 8)
    assert lines == ["https://img.example-host.net/u/8f3a9c/", "index.php?id=12345&s=full"]
