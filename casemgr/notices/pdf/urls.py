"""A URL broken into lines that fit the URL column of a letter's table.

Its own module because the breaking is a small algorithm of its own (widths per
script, preferred break points, never inside a Khmer cluster), tested on its
own, and the layout only asks it for lines.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Sequence

from casemgr.pdf.typeset import Typesetter, clean

# Where a URL line may end, best first: after a path or query separator, else
# after punctuation inside a name.
_URL_BREAKS = (frozenset("/?&#"), frozenset("=;,-._~+|:@!$*"))
_COENG = "\u17d2"


def url_lines(t: Typesetter, url: str, width: float, size: float) -> list[str]:
    """``url`` broken into lines that fit ``width`` at font size ``size``.

    Reportlab breaks lines at spaces only (a zero-width space is not a
    break for it) and, once it has split a long word, does not split the
    pieces again; so the breaks are chosen here: after ``/ ? & = ...``
    (else ``. - _ =``) where that leaves the line at least 60 % full, else at the last
    character that fits, never inside a Khmer cluster. The URL's
    characters are kept exactly; only line breaks are added.
    """
    url = clean(url).replace("\n", " ")
    chain = t.chain(latin_first=True, bold=False)
    chars: list[str] = []
    prefix = [0.0]
    for font, run in t.runs(url, chain):
        widths = t.fonts.widths[font]
        default = t.fonts.default_width[font]
        for ch in run:
            chars.append(ch)
            prefix.append(prefix[-1] + widths.get(ord(ch), default) * size / 1000)
    lines: list[str] = []
    start, n = 0, len(chars)
    while prefix[n] - prefix[start] > width:
        end = max(bisect_right(prefix, prefix[start] + width) - 1, start + 1)
        cut = None
        for preferred in _URL_BREAKS:
            for j in range(end, start, -1):
                if prefix[j] - prefix[start] < 0.6 * width:
                    break
                if chars[j - 1] in preferred and _can_break(chars, j):
                    cut = j
                    break
            if cut is not None:
                break
        if cut is None:
            cut = end
            while cut > start + 1 and not _can_break(chars, cut):
                cut -= 1
        lines.append("".join(chars[start:cut]))
        start = cut
    lines.append("".join(chars[start:]))
    return lines


def _can_break(chars: Sequence[str], j: int) -> bool:
    """Whether a line may end before ``chars[j]`` (not inside a cluster)."""
    return (
        unicodedata.category(chars[j])[0] != "M"
        and chars[j] not in "\u200c\u200d"
        and chars[j - 1] not in (_COENG, "\u200c", "\u200d")
    )
