"""What a letter says is checked when it is made (casemgr/notices/pdf/letter.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from casemgr.notices.pdf.letter import LetterLine
from tests.notices.pdf.conftest import BASIS, make_letter


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
