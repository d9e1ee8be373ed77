"""A text box holding one URL per line (the public form, staff's new report):
each line normalised, duplicates collapsed, bad lines named by number.

Its own module because reading a submission (its limit, line numbers,
duplicates) is apart from the rules for one URL, which live in
:mod:`casemgr.intake.urls`. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from casemgr.intake.urls import (
    MSG_TOO_MANY_URLS,
    SURROUNDING_WHITESPACE,
    InvalidURL,
    normalise_url,
)

MAX_URLS_PER_SUBMISSION = 50


class TooManyURLs(ValueError):
    """More URLs were sent at once than allowed.

    Raised by :func:`parse_url_lines` before any line is looked at: it is an
    error about the whole submission, not about one line, so the form shows
    it once at the top instead of on a made-up line number.
    """

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        self.message = MSG_TOO_MANY_URLS % {"limit": limit}
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class LineError:
    """A line of a multi-line submission that is not an acceptable URL.

    ``line_number`` counts from 1 and includes blank lines, so it matches
    what the person sees in the text box; ``raw`` is the line without its
    surrounding whitespace.
    """

    line_number: int
    raw: str
    message: str


def parse_url_lines(
    text: str, limit: int = MAX_URLS_PER_SUBMISSION
) -> tuple[list[str], list[LineError]]:
    """Read a text box holding one URL per line.

    Returns the normalised URLs in the order given, each once (the first
    occurrence is kept, compared after normalisation), and one
    :class:`LineError` per line that is not acceptable. Blank lines are
    ignored. Raises :class:`TooManyURLs` if there are more than ``limit``
    non-blank lines.

    Lines are split on ``\\r\\n``, ``\\r`` and ``\\n`` only (not on the other
    separators :meth:`str.splitlines` knows) so that a stray control character
    is reported on its line instead of silently splitting it.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    lines = re.split(r"\r\n|\r|\n", text)
    numbered = [
        (number, line.strip(SURROUNDING_WHITESPACE))
        for number, line in enumerate(lines, start=1)
        if line.strip(SURROUNDING_WHITESPACE)
    ]
    if len(numbered) > limit:
        raise TooManyURLs(len(numbered), limit)

    urls: list[str] = []
    seen: set[str] = set()
    errors: list[LineError] = []
    for number, line in numbered:
        try:
            url = normalise_url(line)
        except InvalidURL as error:
            errors.append(LineError(number, line, error.message))
            continue
        if url not in seen:
            seen.add(url)
            urls.append(url)
    return urls, errors
