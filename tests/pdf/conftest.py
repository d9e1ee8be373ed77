"""Reading a PDF back in tests: its text (pypdf), the fonts it embeds, a tiny PNG to draw.

Text extracted from shaped Khmer is not reliable, so documents are checked on
their Latin parts, and Khmer by the fonts embedded and by looking at the page.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

from pypdf import PdfReader


def read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in read(data).pages]


def squash(text: str) -> str:
    """Text without whitespace and zero-width characters, to compare URLs
    that the letter broke across lines."""
    return re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff]+", "", text)


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
