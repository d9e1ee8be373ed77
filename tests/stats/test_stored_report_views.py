"""Stored monthly reports over HTTP: the list, the audited download, making a
month's report by hand (CSRF, bad months), and who may."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.jobs import monthly_report
from casemgr.stats.models import MonthlyReport
from tests.conftest import NOW, login

ROUTES = [
    ("get", "/stats/reports/", None),
    ("post", "/stats/reports/", {"month": "2026-10"}),
    ("get", "/stats/reports/2026-10.pdf", None),
]


def stats_audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def stored_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MonthlyReport))


def run_the_job(app, now=NOW):
    summary = monthly_report.run(db.session, now, app)
    db.session.commit()
    return summary


@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_anonymous_is_sent_to_sign_in(client, method, path, form):
    response = getattr(client, method)(path, data=form)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_analysts_are_refused(app, client, analyst, method, path, form):
    run_the_job(app)
    response = getattr(login(client, analyst), method)(path, data=form)
    assert response.status_code == 403
    assert not stats_audit("stats.stored_report_download")
    assert not stats_audit("stats.report_replaced")


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_may(app, client, make, role):
    run_the_job(app)
    login(client, make.user(role))
    assert client.get("/stats/reports/").status_code == 200
    assert client.get("/stats/reports/2026-10.pdf").status_code == 200
    assert client.post("/stats/reports/", data={"month": "2026-09"}).status_code == 302


def test_the_dashboard_links_to_the_stored_reports(client, supervisor):
    page = login(client, supervisor).get("/stats/").get_data(as_text=True)
    assert 'href="/stats/reports/"' in page


def test_empty_list_says_how_reports_arrive(client, supervisor):
    page = login(client, supervisor).get("/stats/reports/").get_data(as_text=True)
    assert "No report is stored yet" in page
    assert 'value="2026-10"' in page and 'max="2026-10"' in page  # last month, the latest allowed


def test_list_shows_month_size_when_who_and_hash(app, client, data):
    run_the_job(app)  # October, by the scheduler
    login(client, data.sam).post("/stats/reports/", data={"month": "2026-09"})
    page = client.get("/stats/reports/").get_data(as_text=True)
    october, september = db.session.scalars(
        select(MonthlyReport).order_by(MonthlyReport.month.desc())
    ).all()
    table = page[page.index("<tbody>") :]
    assert table.index("October 2026") < table.index("September 2026")
    assert 'href="/stats/reports/2026-10.pdf"' in page
    assert 'href="/stats/reports/2026-09.pdf"' in page
    assert f"{october.size / 1000:.1f} kB" in page
    assert "<td>2026-11-28 09:00 UTC</td>" in page
    assert "<td>scheduler</td>" in page and f"<td>{data.sam.name}</td>" in page
    assert f"{october.sha256[:12]}…" in page and f'title="{september.sha256}"' in page
    assert "<script" not in page and "style=" not in page


def test_download_is_the_stored_pdf_and_is_audited(app, client, data):
    run_the_job(app)
    stored = db.session.scalars(select(MonthlyReport)).one()
    stored_bytes, stored_sha256 = bytes(stored.pdf), stored.sha256
    response = login(client, data.sam).get("/stats/reports/2026-10.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment; filename=statistics-2026-10.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == stored_bytes
    assert hashlib.sha256(response.data).hexdigest() == stored_sha256
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Statistics: October 2026" in text and "60% (3 of 5)" in text
    (entry,) = stats_audit("stats.stored_report_download")
    assert entry.actor_id == data.sam.id and entry.target_type == "monthly_report"
    assert entry.details == {
        "from": "2026-10-01",
        "to": "2026-10-31",
        "month": "2026-10",
        "sha256": stored_sha256,
    }


@pytest.mark.parametrize("name", ["2026-09", "2026-13", "2026-1", "latest", "2026-10-01"])
def test_download_of_a_month_not_stored_is_404(app, client, supervisor, name):
    run_the_job(app)
    response = login(client, supervisor).get(f"/stats/reports/{name}.pdf")
    assert response.status_code == 404
    assert not stats_audit("stats.stored_report_download")


def test_make_a_past_month_by_hand(client, data):
    response = login(client, data.sam).post("/stats/reports/", data={"month": "2026-10"})
    assert response.status_code == 302 and response.location == "/stats/reports/"
    page = client.get("/stats/reports/").get_data(as_text=True)
    assert "The report of October 2026 is stored." in page
    report = db.session.scalars(select(MonthlyReport)).one()
    assert report.created_by_id == data.sam.id
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf)).pages)
    assert "Statistics: October 2026" in text and "Per analyst" not in text
    (entry,) = stats_audit("stats.report_stored")
    assert entry.actor_id == data.sam.id and entry.details["month"] == "2026-10"


def test_a_stored_month_is_kept_unless_replace_is_asked(app, client, supervisor, clock):
    run_the_job(app)
    first_sha256 = db.session.scalars(select(MonthlyReport)).one().sha256
    clock.advance(hours=2)
    login(client, supervisor).post("/stats/reports/", data={"month": "2026-10"})
    page = client.get("/stats/reports/").get_data(as_text=True)
    assert "The report of October 2026 is already stored" in page
    assert db.session.scalars(select(MonthlyReport)).one().sha256 == first_sha256
    assert not stats_audit("stats.report_replaced")

    client.post("/stats/reports/", data={"month": "2026-10", "replace": "1"})
    page = client.get("/stats/reports/").get_data(as_text=True)
    assert "The report of October 2026 is replaced." in page
    db.session.expire_all()
    report = db.session.scalars(select(MonthlyReport)).one()
    assert report.created_by_id == supervisor.id and report.sha256 != first_sha256
    assert report.as_of == NOW + timedelta(hours=2)
    (entry,) = stats_audit("stats.report_replaced")
    assert entry.details["previous_sha256"] == first_sha256
    assert stored_count() == 1


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-11", "2026-11 is not over yet"),
        ("2026-12", "has not started yet (today is 2026-11-28)"),
        ("2026-13", "not a month that exists"),
        ("2026-1", "use YYYY-MM"),
        ("", "use YYYY-MM"),
        (None, "use YYYY-MM"),
        ("<b>x</b>", "use YYYY-MM"),
    ],
)
def test_bad_month_names_the_field(client, supervisor, month, message):
    form = {} if month is None else {"month": month}
    response = login(client, supervisor).post("/stats/reports/", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<strong>Month</strong>" in page and message in page
    assert 'aria-invalid="true"' in page
    assert "<b>x</b>" not in page
    assert stored_count() == 0
    assert not stats_audit("stats.report_stored")


def test_making_needs_the_csrf_token(app, client, supervisor):
    login(client, supervisor)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/stats/reports/", data={"month": "2026-10"})
    assert response.status_code == 400
    assert stored_count() == 0


def test_the_forms_carry_the_csrf_token(app, client, supervisor):
    run_the_job(app)
    login(client, supervisor)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/stats/reports/").get_data(as_text=True)
    content = page[page.index("<h1>Stored monthly reports</h1>") :]
    assert content.count('name="csrf_token"') == 2  # make a month, make October again
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/stats/reports/", data={"month": "2026-09", "csrf_token": token})
    assert response.status_code == 302
    assert stored_count() == 2
