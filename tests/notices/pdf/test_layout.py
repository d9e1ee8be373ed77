"""The PDF letter layout: content, pagination, determinism, scripts, letterhead.

Content is checked by reading the PDF back with pypdf, on its Latin parts
(references, URLs, dates): text extracted from shaped Khmer is not reliable,
so Khmer is checked by the fonts embedded and by the shaping itself
(tests/pdf/test_fonts.py).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casemgr.notices.pdf.layout import render_letter
from casemgr.notices.pdf.letter import TITLES, LetterLine
from tests.notices.pdf.conftest import (
    BASIS,
    KHMER,
    LETTERHEAD,
    make_letter,
    make_line,
    url_column,
)
from tests.pdf.conftest import embedded_fonts, png_bytes, read, squash, texts

# ------------------------------------------------------------------- content


def test_notice_holds_reference_recipient_urls_and_deadline() -> None:
    letter = make_letter()
    data = render_letter(letter, LETTERHEAD)

    assert data.startswith(b"%PDF-")
    text = "\n".join(texts(data))
    flat = squash(text)
    assert "CM-N-2026-000042" in text
    assert "Example Hosting Ltd" in text
    assert "abuse@example-host.net" in text
    assert "Internet Hotline Cambodia" in text
    assert TITLES["notice"] in text
    for line in letter.lines:
        assert squash(line.url) in flat
        assert line.case_reference in text
    assert "2026-11-28\n10:52 UTC" in text  # first seen of line 1, T0 + 37 min
    assert (
        squash("Please remove the content at the 3 URLs listed above by 2026-12-01 10:00 UTC.")
        in flat
    )
    assert "Second paragraph." in text
    assert "preserve all related data for the police" in squash_spaces(text)


def squash_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_metadata_names_letter_and_hotline_only() -> None:
    info = read(render_letter(make_letter(), LETTERHEAD)).metadata
    assert info is not None
    assert info["/Title"] == f"CM-N-2026-000042 \u2013 {TITLES['notice']}"
    assert info["/Author"] == "Internet Hotline Cambodia"
    assert info["/Creator"] == "casemgr"
    assert info["/Producer"] == "casemgr"
    # the creation date is the letter's, not the time of rendering
    assert info["/CreationDate"].startswith("D:20261128170000")


def test_five_hundred_urls_run_over_numbered_pages() -> None:
    letter = make_letter([make_line(i) for i in range(1, 501)])
    data = render_letter(letter, LETTERHEAD)

    pages = texts(data)
    total = len(pages)
    assert total > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in page
        assert "CM-N-2026-000042" in page
    # the table header repeats on every page that holds rows
    assert all("Case reference" in page for page in pages[:-1])
    flat = squash("\n".join(pages))
    for line in letter.lines:
        assert squash(line.url) in flat
    assert "2026-12-0110:00UTC" in flat


@pytest.mark.parametrize("kind", sorted(TITLES))
def test_every_kind_renders_with_its_title(kind: str) -> None:
    letter = make_letter(
        kind=kind,
        previous_reference="CM-N-2026-000001" if kind in ("reminder", "escalation") else None,
        reminder_number=2 if kind == "reminder" else None,
    )
    text = squash_spaces("\n".join(texts(render_letter(letter, LETTERHEAD))))
    assert TITLES[kind] in text
    if kind in ("reminder", "escalation"):
        assert "our notice CM-N-2026-000001" in text
    if kind == "reminder":
        assert "This is reminder no. 2." in text
    if kind == "referral":
        assert "Please let us know by 2026-12-01 10:00 UTC" in text


def test_reminder_without_previous_reference_or_deadline() -> None:
    letter = make_letter(kind="reminder", deadline=None)
    text = squash_spaces("\n".join(texts(render_letter(letter, LETTERHEAD))))
    assert "our earlier notice" in text
    assert "2026-12-01" not in text
    assert "listed above by" not in text


def test_title_and_labels_can_be_replaced() -> None:
    letter = make_letter(
        title="Takedown request",
        labels={"col_url": "Address", "footer_page": "p. {page}/{pages}"},
    )
    text = "\n".join(texts(render_letter(letter, LETTERHEAD)))
    assert "Takedown request" in text
    assert TITLES["notice"] not in text
    assert "Address" in text
    assert "p. 1/1" in text


def test_markup_in_the_data_is_printed_not_obeyed() -> None:
    url = "https://example-host.net/a?x=1&y=<b>2</b>&z=&amp;"
    letter = make_letter(
        [make_line(1, url)],
        recipient_name='Evil <font size="40">Corp</font> & Sons',
    )
    text = "\n".join(texts(render_letter(letter, LETTERHEAD)))
    assert 'Evil <font size="40">Corp</font> & Sons' in text
    assert squash(url) in squash(text)


def test_control_characters_do_not_break_rendering() -> None:
    letter = make_letter([make_line(1, "https://example.net/a\x00b\x07c\td")])
    text = "\n".join(texts(render_letter(letter, LETTERHEAD)))
    assert "https://example.net/a" in text


# ----------------------------------------------------------------- long URLs


def test_url_of_two_thousand_characters_wraps_and_is_complete() -> None:
    long_url = "https://files.example-host.net/share/" + "/".join(f"d{i:03d}" for i in range(60))
    long_url += "/download?token=" + "aB3xY9kQ" * 300
    long_url = long_url[:2000]
    unbroken = "https://example-host.net/" + "x" * 1975  # no separator at all
    letter = make_letter([make_line(1), make_line(2, long_url), make_line(3, unbroken)])

    data = render_letter(letter, LETTERHEAD)

    assert len(read(data).pages) > 1
    assert url_column(data) == squash(letter.lines[0].url + long_url + unbroken)


# --------------------------------------------------------------- determinism


def test_same_letter_gives_the_same_bytes() -> None:
    letter = make_letter([make_line(i) for i in range(1, 40)])
    first = render_letter(letter, LETTERHEAD)
    second = render_letter(letter, LETTERHEAD)
    assert first == second
    assert (
        render_letter(dataclasses.replace(letter, reference="CM-N-2026-000043"), LETTERHEAD)
        != first
    )


def test_same_bytes_whatever_the_process_rendered_before() -> None:
    """The bytes depend on the letter only: not on hash seeds, the clock, or
    the letters (and so the glyphs) the process rendered before."""
    code = (
        "import hashlib, sys; "
        "from tests.notices.pdf.conftest import make_letter, make_line, LETTERHEAD; "
        "from casemgr.notices.pdf.layout import render_letter; "
        "before = make_letter([make_line(1, 'https://ex.kh/ខ្លឹមសារ/منتدى')]); "
        "letter = make_letter([make_line(1, 'https://ex.kh/ភ្នំពេញ/مرحبا')]); "
        "render_letter(before, LETTERHEAD) if sys.argv[1] == 'after' else None; "
        "print(hashlib.sha256(render_letter(letter, LETTERHEAD)).hexdigest())"
    )
    root = Path(__file__).resolve().parents[3]
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, history],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed, history in (("1", "fresh"), ("2", "after"))
    }
    assert len(digests) == 1


# ------------------------------------------------------------------- scripts


def test_khmer_and_right_to_left_text_render() -> None:
    lines = [
        make_line(1, f"https://forum.example.kh/{KHMER}/topic-99?ref=1"),
        make_line(
            2, "https://example.net/\u0645\u0646\u062a\u062f\u0649/\u05e4\u05d5\u05e8\u05d5\u05dd/x"
        ),
        make_line(3, basis="ខ្លឹមសារខុសច្បាប់ (international baseline)"),
    ]
    letter = make_letter(lines, recipient_name=f"ក្រុមហ៊ុន {KHMER} Hosting")

    data = render_letter(letter, LETTERHEAD)

    text = "\n".join(texts(data))
    assert "CM-N-2026-000042" in text
    assert "https://forum.example.kh/" in text
    assert {"NotoSans-Regular", "NotoSansKhmer-Regular", "NotoSansKhmer-Bold"} <= embedded_fonts(
        data
    )
    assert {"NotoSansArabic-Regular", "NotoSansHebrew-Regular"} <= embedded_fonts(data)


def test_khmer_letter_is_set_in_the_khmer_font() -> None:
    letter = make_letter(
        language="km",
        title="សេចក្តីជូនដំណឹង",
        legal_basis=f"យោងតាមមាត្រា ៤០ នៃច្បាប់ ({KHMER})។",
        request="សូមលុបខ្លឹមសារ និងរក្សាទុកទិន្នន័យ (CM-2026-000001)។",
        closing="ដោយក្តីគោរព",
        labels={"footer_page": "ទំព័រ {page} នៃ {pages}", "col_url": "URL"},
    )
    data = render_letter(letter, LETTERHEAD)

    assert read(data).trailer["/Root"]["/Lang"] == "km"
    assert {"NotoSansKhmer-Regular", "NotoSansKhmer-Bold"} <= embedded_fonts(data)
    flat = squash("\n".join(texts(data)))
    for line in letter.lines:
        assert squash(line.url) in flat


# ---------------------------------------------------------- letterhead, input


def test_logo_is_optional(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes())

    with_logo = render_letter(make_letter(), dataclasses.replace(LETTERHEAD, logo_path=str(logo)))
    without = render_letter(make_letter(), LETTERHEAD)

    def images(data: bytes) -> int:
        page = read(data).pages[0]
        xobjects = page["/Resources"].get("/XObject", {})
        return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")

    assert images(with_logo) == 1
    assert images(without) == 0


def test_missing_logo_file_is_an_error(tmp_path: Path) -> None:
    letterhead = dataclasses.replace(LETTERHEAD, logo_path=str(tmp_path / "missing.png"))
    with pytest.raises(OSError):
        render_letter(make_letter(), letterhead)


def test_times_are_shown_in_utc() -> None:
    phnom_penh = timedelta(hours=7)
    from datetime import timezone

    local = timezone(phnom_penh)
    line = LetterLine(
        "CM-1", "https://example.net/", datetime(2026, 11, 28, 17, 15, tzinfo=local), BASIS
    )
    letter = make_letter([line], deadline=datetime(2026, 12, 1, 17, 0, tzinfo=local))
    flat = squash("\n".join(texts(render_letter(letter, LETTERHEAD))))
    assert "2026-11-2810:15UTC" in flat
    assert "by2026-12-0110:00UTC" in flat
