"""flask stats report / figures: output, and exit status 2 with a message on bad input."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.pdf.conftest import png_bytes


def test_report_writes_the_pdf(runner, data, tmp_path):
    output = tmp_path / "2026-10.pdf"
    result = runner.invoke(args=["stats", "report", "--month", "2026-10", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "statistics of October 2026, 10 URLs reported, 5 notices sent" in result.output
    text = "".join(page.extract_text() for page in PdfReader(output).pages)
    assert "Statistics: October 2026" in text and "Per analyst" not in text
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "stats.report")).one()
    assert entry.actor_id is None and entry.details["via"] == "cli"


def test_report_with_analysts(runner, data, tmp_path):
    output = tmp_path / "r.pdf"
    result = runner.invoke(
        args=["stats", "report", "--month", "2026-10", "--output", str(output), "--with-analysts"]
    )
    assert result.exit_code == 0, result.output
    assert "Per analyst" in "".join(page.extract_text() for page in PdfReader(output).pages)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "--month: 2026-13 is not a month that exists"),
        ("October", "--month: 'October' is not a month: use YYYY-MM"),
        ("2026-12", "--month: 2026-12 has not started yet (today is 2026-11-28)"),
    ],
)
def test_report_bad_month(runner, app, tmp_path, month, message):
    output = tmp_path / "x.pdf"
    result = runner.invoke(args=["stats", "report", "--month", month, "--output", str(output)])
    assert result.exit_code == 2
    assert message in result.output
    assert not output.exists()


def test_report_missing_folder(runner, app, tmp_path):
    output = tmp_path / "nowhere" / "x.pdf"
    result = runner.invoke(args=["stats", "report", "--month", "2026-10", "--output", str(output)])
    assert result.exit_code == 2 and "--output: the folder" in result.output


def test_report_of_the_current_month_so_far(runner, app, tmp_path):
    output = tmp_path / "x.pdf"
    result = runner.invoke(args=["stats", "report", "--month", "2026-11", "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(output).pages)
    assert "the month is not over yet" in text


def test_figures_json(runner, data):
    result = runner.invoke(args=["stats", "figures", "--from", "2026-10-01", "--to", "2026-10-31"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["urls_reported"] == 10 and "per_analyst" not in figures


def test_figures_csv_with_filters(runner, data):
    result = runner.invoke(
        args=["stats", "figures", "--from", "2026-10-01", "--to", "2026-10-31",
              "--country", "kh", "--format", "csv"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "urls_reported,3" in result.output.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-10-31", "--to", "2026-10-01"], "--to: the period ends (2026-10-01)"),
        (["--from", "2027-01-01"], "--from: 2027-01-01 is in the future"),
        (["--from", "2026-02-29"], "--from: 2026-02-29 is not a date that exists"),
        (["--country", "ZZ"], "--country: must be an ISO 3166-1"),
        (["--provider", "x"], "--provider: must be the id of a hosting provider"),
    ],
)
def test_figures_bad_input(runner, app, args, message):
    result = runner.invoke(args=["stats", "figures", *args])
    assert result.exit_code == 2
    assert message in result.output


def _images_on_each_page(path) -> list[int]:
    return [
        sum(
            1
            for xobject in page["/Resources"].get("/XObject", {}).values()
            if xobject.get_object()["/Subtype"] == "/Image"
        )
        for page in PdfReader(path).pages
    ]


def test_report_carries_the_letterhead_logo_of_the_notice_letters(
    runner, app, data, tmp_path, monkeypatch
):
    """The same HOTLINE_LOGO as the notice letters, on every page; no logo, no image."""
    output = tmp_path / "plain.pdf"
    runner.invoke(args=["stats", "report", "--month", "2026-10", "--output", str(output)])
    assert set(_images_on_each_page(output)) == {0}

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "logo.png").write_bytes(png_bytes(width=60, height=20))
    monkeypatch.setattr(app, "instance_path", str(instance))
    app.config["HOTLINE_LOGO"] = "logo.png"
    output = tmp_path / "with-logo.pdf"
    result = runner.invoke(args=["stats", "report", "--month", "2026-10", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert set(_images_on_each_page(output)) == {1}
