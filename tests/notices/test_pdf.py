"""The PDF letter renderer: content, pagination, determinism, scripts.

Content is checked by reading the PDF back with pypdf, on its Latin parts
(references, URLs, dates): text extracted from shaped Khmer is not reliable,
so Khmer is checked by the fonts embedded and by the shaping itself.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import struct
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from casemgr.notices import pdf
from casemgr.notices.pdf import (
    TITLES,
    Letter,
    Letterhead,
    LetterLine,
    render_letter,
)

T0 = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BASIS = "Child sexual abuse material (international baseline)"
KHMER = "ព្រះរាជាណាចក្រកម្ពុជា"

LETTERHEAD = Letterhead(
    name="Internet Hotline Cambodia",
    address="APLE Cambodia\nPhnom Penh, Cambodia",
    email="report@hotline.example",
    phone="+855 23 000 000",
    website="https://hotline.example",
)


def make_line(i: int, url: str | None = None, basis: str = BASIS) -> LetterLine:
    return LetterLine(
        case_reference=f"CM-2026-{i:06d}",
        url=url or f"https://cdn{i % 7}.example-host.net/gallery/{i * 7919:x}/view.php?img={i}",
        first_seen=T0 + timedelta(minutes=37 * i),
        classification_basis=basis,
    )


def make_letter(lines: list[LetterLine] | None = None, **changes: object) -> Letter:
    fields: dict[str, object] = {
        "kind": "notice",
        "reference": "CM-N-2026-000042",
        "date": datetime(2026, 11, 28, 17, 0, tzinfo=UTC),
        "recipient_name": "Example Hosting Ltd",
        "recipient_address": "12 Server Road\nSingapore",
        "recipient_email": "abuse@example-host.net",
        "lines": lines if lines is not None else [make_line(i) for i in range(1, 4)],
        "deadline": DEADLINE,
        "legal_basis": "Distributing such material is an offence.\n\nSecond paragraph.",
        "request": "Please remove the content and preserve all related data for the police.",
        "closing": "Yours faithfully,\nThe analysts",
    }
    fields.update(changes)
    return Letter(**fields)  # type: ignore[arg-type]


def read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in read(data).pages]


def squash(text: str) -> str:
    """Text without whitespace and zero-width characters, to compare URLs
    that the letter broke across lines."""
    return re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff]+", "", text)


def url_column(data: bytes) -> str:
    """The text drawn in the URL column of the table, on all pages, in order
    (pypdf's plain extraction interleaves the other cells of a row and the
    page footers with a URL that spans several rows or pages)."""
    x0 = pdf._MARGIN_X + pdf._COLUMNS[0] + pdf._COLUMNS[1]
    x1 = x0 + pdf._COLUMNS[2]
    parts: list[str] = []
    in_table = [False]

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        if not (x0 <= x < x1 and text.strip()):
            return
        if text.strip() == "URL":  # the column header, repeated on each page
            in_table[0] = True
        elif in_table[0]:
            parts.append(text)

    for page in read(data).pages:
        in_table[0] = False
        page.extract_text(visitor_text=visit)
    return squash("".join(parts))


def embedded_fonts(data: bytes) -> set[str]:
    names: set[str] = set()
    for page in read(data).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def png_bytes(width: int = 4, height: int = 2) -> bytes:
    """A tiny opaque RGB PNG, written by hand."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x20\x46\x8c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


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


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example-host.net/share/" + "/".join(f"d{i:03d}" for i in range(300)),
        "https://example-host.net/?t=" + "W" * 1990,
        "https://forum.example.kh/" + KHMER * 20 + "/topic",
    ],
)
def test_url_lines_fit_the_column(url: str) -> None:
    typesetter = pdf._Typesetter(pdf._fonts(), "en")
    width = pdf._COLUMNS[2] - 2 * pdf._CELL_PAD

    lines = typesetter.url_lines(url, width)

    assert "".join(lines) == url
    assert len(lines) > 1
    for line in lines:
        font_width = sum(
            pdfmetrics.stringWidth(run, font, 8)
            for font, run in typesetter.runs(line, pdf._CHAINS[(True, False)])
        )
        assert font_width <= width
        # never inside a Khmer cluster
        assert not line.startswith("\u17d2")
        assert not line.endswith("\u17d2")


def test_url_breaks_after_a_slash_when_it_can() -> None:
    typesetter = pdf._Typesetter(pdf._fonts(), "en")
    url = "https://img.example-host.net/u/8f3a9c/index.php?id=12345&s=full"
    lines = typesetter.url_lines(url, pdf._COLUMNS[2] - 2 * pdf._CELL_PAD)
    assert lines == ["https://img.example-host.net/u/8f3a9c/", "index.php?id=12345&s=full"]


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
        "import hashlib, sys; sys.path.insert(0, 'tests/notices'); "
        "from test_pdf import make_letter, make_line, LETTERHEAD; "
        "from casemgr.notices.pdf import render_letter; "
        "before = make_letter([make_line(1, 'https://ex.kh/ខ្លឹមសារ/منتدى')]); "
        "letter = make_letter([make_line(1, 'https://ex.kh/ភ្នំពេញ/مرحبا')]); "
        "render_letter(before, LETTERHEAD) if sys.argv[1] == 'after' else None; "
        "print(hashlib.sha256(render_letter(letter, LETTERHEAD)).hexdigest())"
    )
    root = Path(__file__).resolve().parents[2]
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


def test_mixed_script_word_is_shaped_run_by_run() -> None:
    """A word that mixes Latin and Khmer without a space gets each run shaped
    with its own font (reportlab alone shapes the Khmer with the Latin font,
    which gives .notdef boxes)."""
    typesetter = pdf._Typesetter(pdf._fonts(), "en")
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


def test_text_rise_is_reset_after_a_folded_rise() -> None:
    """reportlab 5.1 folds ``a Ts b Ts`` but keeps ``a`` as the current rise."""
    canvas = pdf._LetterCanvas(io.BytesIO(), footer=lambda *_: None, created=T0, invariant=1)
    tx = canvas.beginText(0, 0)
    tx.setRise(-0.78)
    tx._code.append("(x) Tj")
    tx.setRise(0)
    tx.setRise(-8.88)
    assert tx._rise == -8.88
    assert tx._code[-1] == "-8.88 Ts"


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


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "memo"}, "unknown letter kind"),
        ({"date": datetime(2026, 11, 28, 17, 0)}, "date must be a timezone-aware"),
        ({"deadline": datetime(2026, 12, 1, 10, 0)}, "deadline must be a timezone-aware"),
        ({"lines": []}, "at least one URL"),
        ({"labels": {"no_such_label": "x"}}, "unknown labels"),
    ],
)
def test_invalid_letters_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_letter(**changes)  # type: ignore[arg-type]


def test_first_seen_must_be_aware() -> None:
    with pytest.raises(ValueError, match="first_seen"):
        LetterLine("CM-1", "https://example.net/", datetime(2026, 1, 1), BASIS)


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
