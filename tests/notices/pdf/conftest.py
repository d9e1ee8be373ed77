"""Letters to render in the tests of casemgr/notices/pdf (a letterhead, lines, a
letter) and the text of a rendered letter's URL column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casemgr.notices.pdf import layout
from casemgr.notices.pdf.letter import Letter, LetterLine
from casemgr.pdf.letterhead import Letterhead
from tests.pdf.conftest import read, squash

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


def url_column(data: bytes) -> str:
    """The text drawn in the URL column of the table, on all pages, in order
    (pypdf's plain extraction interleaves the other cells of a row and the
    page footers with a URL that spans several rows or pages)."""
    x0 = layout._MARGIN_X + layout._COLUMNS[0] + layout._COLUMNS[1]
    x1 = x0 + layout._COLUMNS[2]
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
