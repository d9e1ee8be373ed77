"""Exporting a period's letters (casemgr/notices/export.py); the page and the CLI
that call it are tested in test_views.py and test_cli.py."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.notices.export import ExportRequest, NothingToExport, export_letters
from tests.conftest import NOW
from tests.jobs.conftest import letters, run_notices

NOVEMBER = {"first": date(2026, 11, 1), "last": date(2026, 11, 30)}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first": date(2026, 11, 30), "last": date(2026, 11, 1)}, "to"),
        ({**NOVEMBER, "kind": "love-letter"}, "kind"),
        ({**NOVEMBER, "format": "docx"}, "format"),
    ],
)
def test_a_request_is_checked_when_made(fields, field):
    with pytest.raises(ValidationFailed) as raised:
        ExportRequest(**fields)
    assert field in raised.value.fields


def test_a_request_names_its_file_and_period():
    request = ExportRequest(**NOVEMBER, kind="notice", recipient_id=7, format="zip")
    assert request.filename == "letters-notice-2026-11-01-to-2026-11-30.zip"
    assert request.description == "2026-11-01 to 2026-11-30, kind notice, recipient 7"


def test_export_by_the_system_is_audited_without_a_person(app, make, queue):
    queue(make.organisation())
    run_notices(app, NOW)
    out = io.BytesIO()
    result = export_letters(
        db.session,
        ExportRequest(**NOVEMBER, format="zip"),
        out,
        now=NOW,
        actor=SYSTEM_ACTOR,
        max_merged=10,
        via="test",
    )
    db.session.commit()  # the audit entry is written with the transaction
    (notice,) = letters()
    assert result.references == [notice.reference] and result.count == 1
    assert result.sha256 == hashlib.sha256(out.getvalue()).hexdigest()
    assert zipfile.ZipFile(out).read(notice.filename) == notice.pdf
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notices.export"))
    assert entry.actor_id is None and entry.details["via"] == "test"


def test_an_empty_period_writes_nothing(app):
    out = io.BytesIO()
    with pytest.raises(NothingToExport):
        export_letters(
            db.session,
            ExportRequest(**NOVEMBER),
            out,
            now=NOW,
            actor=SYSTEM_ACTOR,
            max_merged=10,
            via="test",
        )
    assert out.getvalue() == b""
