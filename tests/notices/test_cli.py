"""``flask notices export``: a period's letters into one file, or a clear refusal."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.conftest import NOW
from tests.jobs.conftest import letters, run_notices


@pytest.fixture
def sent(app, make, queue):
    queue(make.organisation(name="Alpha"))
    queue(make.organisation(name="Beta"))
    run_notices(app, NOW)


def export(runner, *args: str):
    return runner.invoke(args=["notices", "export", *args])


def test_merged_pdf(runner, sent, tmp_path):
    target = tmp_path / "november.pdf"
    result = export(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(target))
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert f"2 letters written to {target}" in result.output
    assert hashlib.sha256(data).hexdigest() in result.output
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "CM-N-2026-000001" in text and "CM-N-2026-000002" in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notices.export"))
    assert entry.actor_id is None and entry.details["via"] == "cli"
    assert entry.details["sha256"] == hashlib.sha256(data).hexdigest()
    assert all(n.exported_at == NOW for n in letters())
    assert [p.name for p in tmp_path.iterdir()] == ["november.pdf"]  # no partial file left


def test_zip_filtered_by_recipient(runner, sent, tmp_path):
    beta = letters()[1]
    target = tmp_path / "beta.zip"
    result = export(
        runner,
        *("--from", "2026-11-28", "--to", "2026-11-28", "--output", str(target)),
        *("--recipient", str(beta.recipient_id), "--kind", "notice", "--zip"),
    )
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(target)
    assert sorted(archive.namelist()) == sorted([beta.filename, "SHA256SUMS", "index.csv"])
    assert archive.read(beta.filename) == beta.pdf


def test_an_empty_period_writes_nothing_and_exits_1(runner, sent, tmp_path):
    target = tmp_path / "empty.pdf"
    result = export(runner, "--from", "2025-01-01", "--to", "2025-01-31", "--output", str(target))
    assert result.exit_code == 1
    assert "no letters from 2025-01-01 to 2025-01-31: nothing to export" in result.output
    assert list(tmp_path.iterdir()) == []
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notices.export")) is None
    )
    assert all(n.exported_at is None for n in letters())


def test_a_merged_pdf_over_the_limit_is_refused(runner, sent, tmp_path, app):
    app.config["NOTICE_EXPORT_MAX_LETTERS"] = 1
    target = tmp_path / "big.pdf"
    result = export(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(target))
    assert result.exit_code == 1
    assert "zip format" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "yesterday", "--to", "2026-11-30"),
        ("--from", "2026-11-30", "--to", "2026-11-01"),
        ("--from", "2026-11-01", "--to", "2026-11-30", "--kind", "poem"),
        ("--from", "2026-11-01", "--to", "2026-11-30", "--recipient", "0"),
        ("--from", "2026-11-01"),
    ],
)
def test_bad_arguments_exit_2(runner, sent, tmp_path, args):
    target = tmp_path / "out.pdf"
    result = export(runner, *args, "--output", str(target))
    assert result.exit_code == 2, result.output
    assert "Error" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_output_in_a_missing_folder_exits_2(runner, sent, tmp_path):
    target = tmp_path / "no" / "such" / "out.pdf"
    result = export(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(target))
    assert result.exit_code == 2
    assert "cannot write there" in result.output
