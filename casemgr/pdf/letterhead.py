"""The hotline's letterhead, as every casemgr PDF prints it at its top.

Its own module because the notice letters and the statistics report both take
one (built from the app's settings by the notices feature) and neither feature
should import the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.utils import ImageReader


@dataclass(frozen=True)
class Letterhead:
    """The hotline's letterhead; ``logo_path`` is a PNG or JPEG file, optional."""

    name: str
    address: str
    email: str
    phone: str = ""
    website: str = ""
    logo_path: str | None = None


def logo_size(logo: ImageReader, max_width: float, max_height: float) -> tuple[float, float]:
    """The size to draw ``logo`` at: as large as fits the box, kept in proportion."""
    width, height = logo.getSize()
    scale = min(max_width / width, max_height / height)
    return width * scale, height * scale
