"""The monthly report PDF (casemgr/stats/pdf.py, pdf_charts.py): set in the bundled
fonts, so names in Khmer (or Arabic) print shaped as in the notice letters.

Checked on the Latin parts by pypdf and on the Khmer by the fonts the pages
embed (text extracted from shaped Khmer is not reliable).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from casemgr.pdf.letterhead import Letterhead
from casemgr.stats import pdf
from casemgr.stats.analysts import AnalystFigures
from casemgr.stats.figures import NOT_REMOVED, TIME_LABELS, Figures, ProviderCount, RemovalShare
from casemgr.stats.selection import Period, StatsFilter
from casemgr.stats.sql import Summary
from tests.pdf.conftest import embedded_fonts, png_bytes, read, squash, texts

KHMER_PROVIDER = "ក្រុមហ៊ុនបង្ហោះ"
LETTERHEAD = Letterhead(
    name="Internet Hotline Cambodia",
    address="APLE Cambodia\nPhnom Penh",
    email="report@hotline.example",
    phone="+855 23 000 000",
    website="https://hotline.example",
)


def figures(**changes: object) -> Figures:
    made = Figures(
        period=Period.month(2026, 10),
        filters=StatsFilter(),
        as_of=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        reports_received=12,
        urls_reported=14,
        unique_urls=13,
        illegal=7,
        notified=5,
        removed_after_notice=3,
        by_classification=[("illegal_baseline", 6), (None, 2)],
        by_resolution=[("removed", 3), (None, 5)],
        by_site_type=[("image_host", 3)],
        by_hosting_country=[("KH", 4), ("DE", 3)],
        by_provider=[
            ProviderCount(1, KHMER_PROVIDER, 4),
            ProviderCount(2, "Beta Cloud", 3),
            ProviderCount(3, "شركة الاستضافة", 1),
        ],
        by_month=[("2026-10", 14)],
        by_day=[(f"2026-10-{day:02d}", day % 3) for day in range(1, 32)],
        times={key: Summary(3, 3600.0, 7200.0) for key in TIME_LABELS},
        removal_within=[RemovalShare(1, 1, 5), RemovalShare(3, 3, 5)],
        removal_distribution=[("< 1 day", 1), ("1-3 days", 2), (NOT_REMOVED, 2)],
        open_total=4,
        overdue=2,
        open_by_state=[("triage", 2)],
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def page_fonts(data: bytes) -> list[set[str]]:
    """The fonts each page's resources name (subset prefix removed)."""
    return [
        {
            str(font.get_object()["/BaseFont"]).split("+")[-1]
            for font in page["/Resources"]["/Font"].values()
        }
        for page in read(data).pages
    ]


def fonts_of_drawn_text(data: bytes) -> set[str]:
    """The fonts text is drawn in (reportlab also names Helvetica in the resources
    for state it resets without drawing any text)."""
    used: set[str] = set()

    def visit(text: str, _cm: object, _tm: object, font: object, _size: object) -> None:
        if text.strip() and font is not None:
            used.add(str(font["/BaseFont"]).split("+")[-1])  # type: ignore[index]

    for page in read(data).pages:
        page.extract_text(visitor_text=visit)
    return used


def test_khmer_provider_is_set_in_the_khmer_font() -> None:
    data = pdf.monthly_report(figures(), letterhead=LETTERHEAD)

    text = "\n".join(texts(data))
    assert "Statistics: October 2026" in text
    assert "Internet Hotline Cambodia" in text
    assert "Top hosting providers" in text
    assert "Beta Cloud" in text
    assert "60% (3 of 5)" in text
    assert "Median notice to removal" in text  # "→" in words: Noto Sans has no arrow
    assert "APLE Cambodia, Phnom Penh" in text  # the address on one header line
    fonts = embedded_fonts(data)
    assert {"NotoSans-Regular", "NotoSans-Bold", "NotoSansKhmer-Regular"} <= fonts
    assert "NotoSansArabic-Regular" in fonts
    # no fallback to a standard font: every text drawn is in a bundled one
    drawn = fonts_of_drawn_text(data)
    assert {"NotoSans-Regular", "NotoSans-Bold", "NotoSansKhmer-Regular"} <= drawn
    assert all(name.startswith("NotoSans") for name in drawn), drawn


def test_latin_only_report_embeds_no_other_script() -> None:
    latin = figures(by_provider=[ProviderCount(2, "Beta Cloud", 3)])
    data = pdf.monthly_report(latin, letterhead=LETTERHEAD)
    assert embedded_fonts(data) - {"/Helvetica"} == {"NotoSans-Regular", "NotoSans-Bold"}


def test_khmer_hotline_and_analyst_names_are_shaped_on_every_page() -> None:
    letterhead = dataclasses.replace(LETTERHEAD, name="មជ្ឈមណ្ឌល Hotline", address="ភ្នំពេញ")
    with_analysts = figures(
        per_analyst=[AnalystFigures(1, "សុខា ចាន់", 3, 3600.0), AnalystFigures(2, "Bo", 2, None)]
    )
    data = pdf.monthly_report(with_analysts, letterhead=letterhead)

    pages = page_fonts(data)
    assert len(pages) > 1
    for fonts in pages:  # the letterhead heads every page
        assert {"NotoSansKhmer-Bold", "NotoSansKhmer-Regular"} <= fonts
    flat = squash("\n".join(texts(data)))
    assert "Peranalyst(internal)" in flat
    assert "1h0min" in flat


def test_logo_is_drawn_in_the_header(tmp_path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes())
    letterhead = dataclasses.replace(LETTERHEAD, logo_path=str(logo))
    page = read(pdf.monthly_report(figures(), letterhead=letterhead)).pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    assert sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image") == 1


def test_missing_logo_file_is_an_error(tmp_path) -> None:
    letterhead = dataclasses.replace(LETTERHEAD, logo_path=str(tmp_path / "missing.png"))
    with pytest.raises(OSError):
        pdf.monthly_report(figures(), letterhead=letterhead)
