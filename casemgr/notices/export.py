"""Exporting a period's letters: one merged PDF, or a zip of the stored files.

Its own module because an export writes a file of its own (streamed to the
caller's ``out``, hashed as it goes) and is audited with that hash; the web
page and ``flask notices export`` both call :func:`export_letters`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import IO, Any

from flask_babel import gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, undefer

from casemgr.audit.services import record
from casemgr.cases.labels import label
from casemgr.domain import Actor
from casemgr.errors import NotFound, ValidationFailed
from casemgr.localtime import day_start, local, zone_name
from casemgr.notices.models import KINDS, Notice
from casemgr.notices.queries import NoticeFilter

EXPORT_FORMATS = ("pdf", "zip")


class NothingToExport(NotFound):
    """The export period holds no letter: nothing is written."""


@dataclass(frozen=True)
class ExportRequest:
    """Letters made from ``first`` to ``last`` (days in ``timezone``, the
    hotline's, both included)."""

    first: date
    last: date
    kind: str | None = None
    recipient_id: int | None = None
    format: str = "pdf"
    timezone: tzinfo = UTC

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        for name, day, after in (("from", self.first, 0), ("to", self.last, 1)):
            try:
                day_start(day + timedelta(days=after), self.timezone)
            except (ValueError, OverflowError):
                errors[name] = ["is past the range of dates"]
        if self.last < self.first:
            errors["to"] = ["must not be before the start of the period"]
        if self.kind is not None and self.kind not in KINDS:
            errors["kind"] = [f"must be one of: {', '.join(KINDS)}"]
        if self.format not in EXPORT_FORMATS:
            errors["format"] = [f"must be one of: {', '.join(EXPORT_FORMATS)}"]
        if errors:
            raise ValidationFailed(errors)

    @property
    def filter(self) -> NoticeFilter:
        return NoticeFilter(
            kind=self.kind,
            recipient_id=self.recipient_id,
            start=day_start(self.first, self.timezone),
            end=day_start(self.last + timedelta(days=1), self.timezone),
        )

    @property
    def filename(self) -> str:
        kind = f"-{self.kind}" if self.kind else ""
        return f"letters{kind}-{self.first.isoformat()}-to-{self.last.isoformat()}.{self.format}"

    @property
    def description(self) -> str:
        parts = [f"{self.first.isoformat()} to {self.last.isoformat()}"]
        if self.kind:
            parts.append(f"kind {self.kind}")
        if self.recipient_id is not None:
            parts.append(f"recipient {self.recipient_id}")
        return ", ".join(parts)


@dataclass
class ExportResult:
    filename: str
    count: int
    sha256: str
    references: list[str] = field(default_factory=list)


class _HashingWriter(io.RawIOBase):
    """Writes through to ``out`` and hashes what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.position = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:  # pypdf records object offsets; seeking stays unsupported
        return self.position

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.digest.update(view)
        self.out.write(view)
        self.position += len(view)
        return len(view)


def export_letters(
    session: Session,
    request: ExportRequest,
    out: IO[bytes],
    *,
    now: datetime,
    actor: Actor,
    max_merged: int,
    via: str,
) -> ExportResult:
    """Write the letters of a period to ``out``: one merged PDF (with a bookmark
    per letter) or a zip of the stored files with ``SHA256SUMS`` and
    ``index.csv``. Sets ``exported_at`` and audits the export with the SHA-256
    of what was written.

    Raises NothingToExport when the period holds no letter and ValidationFailed
    when a merged PDF would exceed ``max_merged`` letters; ``out`` is then
    left untouched.
    """
    conditions = request.filter.conditions()
    count = session.scalar(select(func.count(Notice.id)).where(*conditions)) or 0
    if count == 0:
        raise NothingToExport(f"no letters from {request.description}: nothing to export")
    if request.format == "pdf" and count > max_merged:
        raise ValidationFailed(
            {
                "format": [
                    gettext(
                        "%(count)d letters are more than the %(max)d a merged PDF may hold: "
                        "choose a shorter period or the zip format",
                        count=count,
                        max=max_merged,
                    )
                ]
            }
        )
    notices = session.scalars(
        select(Notice)
        .where(*conditions)
        .options(undefer(Notice.pdf))
        .order_by(Notice.created_at, Notice.id)
        .execution_options(yield_per=100)
    )
    sink = _HashingWriter(out)
    references: list[str] = []
    if request.format == "pdf":
        _write_merged(notices, sink, references, request)
    else:
        _write_zip(notices, sink, references, request.timezone)
    session.execute(
        update(Notice).where(*conditions).values(exported_at=now),
        execution_options={"synchronize_session": False},
    )
    record(
        session,
        action="notices.export",
        now=now,
        actor_id=actor.id,
        target_type="notice",
        details={
            "via": via,
            "from": request.first.isoformat(),
            "to": request.last.isoformat(),
            "time_zone": zone_name(request.timezone),
            "kind": request.kind,
            "recipient_id": request.recipient_id,
            "format": request.format,
            "count": len(references),
            "sha256": sink.digest.hexdigest(),
            "references": references[:500],
        },
    )
    session.flush()
    return ExportResult(request.filename, len(references), sink.digest.hexdigest(), references)


def _write_merged(
    notices: Iterable[Notice], sink: IO[bytes], references: list[str], request: ExportRequest
) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for notice in notices:
        writer.append(PdfReader(io.BytesIO(notice.pdf)), outline_item=notice.reference)
        references.append(notice.reference)
    writer.add_metadata({"/Title": f"Letters {request.description}", "/Producer": "casemgr"})
    writer.write(sink)


_INDEX_COLUMNS = (
    "reference",
    "kind",
    "created_at",
    "recipient_id",
    "recipient_name",
    "recipient_email",
    "manual_delivery",
    "sent_at",
    "cases",
    "sha256",
    "file",
    # For people, last so the columns above keep their places: the kind in words.
    "kind_label",
)


def _write_zip(
    notices: Iterable[Notice], sink: IO[bytes], references: list[str], timezone: tzinfo
) -> None:
    """The stored PDFs, SHA256SUMS, and index.csv; times in ``timezone`` with their
    offset (``2026-12-04T21:15:00+07:00``), as the members' dates (zip has no zone)."""

    def stamp(moment: datetime | None) -> str:
        return local(moment, timezone).isoformat() if moment is not None else ""

    sums = io.StringIO()
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(_INDEX_COLUMNS)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notice in notices:
            made = local(notice.created_at, timezone).timetuple()[:6]
            archive.writestr(zipfile.ZipInfo(notice.filename, date_time=made), notice.pdf)
            sums.write(f"{notice.sha256}  {notice.filename}\n")
            writer.writerow(
                (
                    notice.reference,
                    notice.kind,
                    stamp(notice.created_at),
                    notice.recipient_id or "",
                    notice.recipient_name,
                    notice.recipient_email or "",
                    "yes" if notice.manual_delivery else "no",
                    stamp(notice.sent_at),
                    notice.case_count,
                    notice.sha256,
                    notice.filename,
                    label(notice.kind, "letter_kind"),
                )
            )
            references.append(notice.reference)
        archive.writestr("SHA256SUMS", sums.getvalue())
        archive.writestr("index.csv", index.getvalue())
