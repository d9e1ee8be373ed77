"""Letters screens: the case page, downloads (the stored bytes), exports, access.

The alerts page (under /notices/alerts) is tested in tests/alerts/test_views.py."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.conftest import NOW, login
from tests.jobs.conftest import letters, pdf_text, run_notices, run_reminders

H = timedelta(hours=1)


@pytest.fixture
def sent(app, make, queue):
    """Two providers' notices (one provider without e-mail), made by the run."""
    first = make.organisation(name="Alpha Hosting")
    offline = make.organisation(name="Offline Host", email=None)
    cases = [queue(first), queue(first), queue(offline)]
    run_notices(app, NOW)
    return cases


# ---------------------------------------------------------------------- access

GET_SUPERVISOR = ["/notices/"]
POST_SUPERVISOR = [
    ("/notices/export", {"first": "2026-11-01", "last": "2026-11-30", "format": "pdf"}),
    ("/notices/1/delivered", {}),
]


@pytest.mark.parametrize("path", [*GET_SUPERVISOR, "/notices/1/pdf"])
def test_anonymous_is_sent_to_sign_in(client, sent, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(("path", "data"), POST_SUPERVISOR)
def test_anonymous_cannot_post(client, sent, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", GET_SUPERVISOR)
def test_analysts_cannot_open_supervisor_pages(client, sent, analyst, path):
    assert login(client, analyst).get(path).status_code == 403


@pytest.mark.parametrize(("path", "data"), POST_SUPERVISOR)
def test_analysts_cannot_export_or_deliver(client, sent, analyst, path, data):
    response = login(client, analyst).post(path, data=data)
    assert response.status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("notice%"))) is None
    assert all(n.exported_at is None and n.sent_at is None for n in letters())


# --------------------------------------------------------------- case page, download


def test_case_page_lists_its_letters(client, sent, analyst, app):
    run_reminders(app, NOW + 72 * H)
    html = login(client, analyst).get(f"/cases/{sent[0].id}").get_data(as_text=True)
    assert 'id="letters"' in html
    assert "CM-N-2026-000001" in html  # the notice
    assert "CM-N-2026-000003" in html  # the reminder
    assert "CM-N-2026-000002" not in html  # another provider's notice
    assert "queued for e-mail" in html
    assert html.index("CM-N-2026-000003") < html.index("CM-N-2026-000001")  # newest first
    other = client.get(f"/cases/{sent[2].id}").get_data(as_text=True)
    assert "by hand" in other


def test_a_case_without_letters_says_so(client, make, analyst):
    case = make.case("triage")
    html = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "No letter yet." in html


def test_download_serves_the_stored_bytes(client, sent, analyst):
    notice = letters()[0]
    response = login(client, analyst).get(f"/notices/{notice.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=CM-N-2026-000001-notice.pdf"
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert hashlib.sha256(response.data).hexdigest() == notice.sha256
    assert response.data == notice.pdf


def test_the_stored_letter_is_served_even_if_the_settings_change(client, sent, analyst, app):
    notice = letters()[0]
    app.config["HOTLINE_NAME"] = "Renamed Hotline"
    app.config["NOTICE_WORDING"] = {"en": {"legal_basis": "Other words."}}
    body = login(client, analyst).get(f"/notices/{notice.id}/pdf").data
    assert hashlib.sha256(body).hexdigest() == notice.sha256
    assert "Renamed Hotline" not in pdf_text(body)


@pytest.mark.parametrize("notice_id", ["999", str(2**31), str(2**64)])
def test_download_of_no_letter_is_404(client, sent, analyst, notice_id):
    assert login(client, analyst).get(f"/notices/{notice_id}/pdf").status_code == 404


# ------------------------------------------------------------------ letters page


def test_letters_page_lists_and_filters(client, sent, supervisor):
    login(client, supervisor)
    html = client.get("/notices/").get_data(as_text=True)
    assert "CM-N-2026-000001" in html and "CM-N-2026-000002" in html
    assert "Mark delivered" in html  # the offline provider's letter
    offline = letters()[1]
    html = client.get(f"/notices/?recipient={offline.recipient_id}").get_data(as_text=True)
    assert "CM-N-2026-000002" in html and "CM-N-2026-000001" not in html
    html = client.get("/notices/?kind=reminder").get_data(as_text=True)
    assert "No letters here." in html
    html = client.get("/notices/?from=2026-12-01").get_data(as_text=True)
    assert "No letters here." in html


@pytest.mark.parametrize(
    "query", ["kind=<x>", "recipient=abc", "recipient=99999999999", "from=2026-13-45", "page=-1"]
)
def test_letters_page_ignores_nonsense(client, sent, supervisor, query):
    assert login(client, supervisor).get(f"/notices/?{query}").status_code == 200


def test_mark_delivered_by_hand(client, sent, supervisor, clock):
    offline = letters()[1]
    login(client, supervisor)
    response = client.post(f"/notices/{offline.id}/delivered")
    assert response.status_code == 302
    db.session.refresh(offline)
    assert offline.sent_at == NOW and offline.sent_by_id == supervisor.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notice.delivered"))
    assert entry.actor_id == supervisor.id and entry.target_id == str(offline.id)
    again = client.post(f"/notices/{offline.id}/delivered", follow_redirects=True)
    assert "was marked as sent already" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/notices/?kind=notice", "/notices/?kind=notice"),
        ("https://evil.example/", "/notices/"),
        ("//evil.example/", "/notices/"),
        ("/\\evil.example", "/notices/"),
    ],
)
def test_delivered_goes_back_only_to_a_page_of_this_site(
    client, sent, supervisor, next_path, location
):
    offline = letters()[1]
    response = login(client, supervisor).post(
        f"/notices/{offline.id}/delivered", data={"next": next_path}
    )
    assert response.status_code == 302
    assert response.location == location


# ------------------------------------------------------------------------ export


def export(client, **data):
    """POST the export form; the response is read whole and closed (it streams a file)."""
    form = {"first": "2026-11-01", "last": "2026-11-30", "format": "pdf", **data}
    response = client.post("/notices/export", data=form)
    response.get_data()
    response.close()
    return response


def test_export_merged_pdf(client, sent, supervisor, app):
    run_reminders(app, NOW + 72 * H)
    login(client, supervisor)
    response = export(client, last="2026-12-31")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "letters-2026-11-01-to-2026-12-31.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    made = letters()
    assert len(made) == 4
    assert len(reader.pages) == sum(len(PdfReader(io.BytesIO(n.pdf)).pages) for n in made)
    assert [item.title for item in reader.outline] == [n.reference for n in made]
    text = "\n".join(page.extract_text() for page in reader.pages)
    for notice in made:
        assert notice.reference in text
        db.session.refresh(notice)
        assert notice.exported_at == NOW
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notices.export"))
    assert entry.actor_id == supervisor.id
    assert entry.details["count"] == 4
    assert entry.details["format"] == "pdf"
    assert entry.details["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert entry.details["references"] == [n.reference for n in made]


def test_export_zip_of_the_stored_files(client, sent, supervisor):
    login(client, supervisor)
    response = export(client, format="zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    made = letters()
    assert sorted(archive.namelist()) == sorted(
        [n.filename for n in made] + ["SHA256SUMS", "index.csv"]
    )
    for notice in made:
        assert archive.read(notice.filename) == notice.pdf
    sums = archive.read("SHA256SUMS").decode()
    assert f"{made[0].sha256}  {made[0].filename}" in sums
    rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert [r["reference"] for r in rows] == [n.reference for n in made]
    assert rows[1]["manual_delivery"] == "yes"
    assert list(rows[0])[-1] == "kind_label"  # for people, after every column programs read
    assert (rows[0]["kind"], rows[0]["kind_label"]) == ("notice", "Takedown notice")


def test_export_filters_by_kind_and_recipient(client, sent, supervisor):
    login(client, supervisor)
    offline = letters()[1]
    response = export(client, recipient=str(offline.recipient_id), format="zip")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert offline.filename in names and len(names) == 3


def test_export_of_an_empty_period_is_a_message_not_a_file(client, sent, supervisor):
    login(client, supervisor)
    response = export(client, first="2025-01-01", last="2025-01-31")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "No letter from 2025-01-01 to 2025-01-31 matches: nothing to export." in html
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notices.export")) is None
    )
    assert all(n.exported_at is None for n in letters())
    response = export(client, kind="escalation")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"first": "2026-11-30", "last": "2026-11-01"},
        {"first": "not a date"},
        {"last": ""},
        {"kind": "love-letter"},
        {"format": "docx"},
        {"recipient": "99999"},
    ],
)
def test_export_refuses_bad_input(client, sent, supervisor, data):
    login(client, supervisor)
    response = export(client, **data)
    assert response.status_code == 422
    assert "valid period" in response.get_data(as_text=True)


def test_merged_export_has_a_limit(client, sent, supervisor, app):
    app.config["NOTICE_EXPORT_MAX_LETTERS"] = 1
    login(client, supervisor)
    response = export(client)
    assert response.status_code == 422
    assert "choose a shorter period or the zip format" in response.get_data(as_text=True)
    assert export(client, format="zip").status_code == 200
