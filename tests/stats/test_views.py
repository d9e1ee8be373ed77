"""The dashboard, the exports and the PDF over HTTP: who may, what they get, bad input."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.stats.exports import CASE_COLUMNS, LABEL_COLUMNS
from tests.conftest import login

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


def stats_audit():
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("stats.%")))


# (method, path, form data): every statistics route.
ROUTES = [
    ("get", "/stats/", None),
    ("get", "/stats/?from=2026-10-01&to=2026-10-31", None),
    ("get", "/stats/figures.csv", None),
    ("post", "/stats/cases.csv", {**OCTOBER, "include_urls": "1"}),
    ("get", "/stats/report.pdf?month=2026-10", None),
]


@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_anonymous_is_sent_to_sign_in(client, method, path, form):
    response = getattr(client, method)(path, data=form)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_analysts_are_refused(client, analyst, method, path, form):
    response = getattr(login(client, analyst), method)(path, data=form)
    assert response.status_code == 403
    assert not stats_audit().all()


@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_supervisors_and_admins_may(client, make, role, method, path, form):
    response = getattr(login(client, make.user(role)), method)(path, data=form)
    assert response.status_code == 200


def test_menu_item_for_supervisors_only(client, analyst, supervisor):
    page = login(client, analyst).get("/cases/").get_data(as_text=True)
    assert 'href="/stats/"' not in page
    client.post("/logout")
    page = login(client, supervisor).get("/cases/").get_data(as_text=True)
    assert '<a href="/stats/">Statistics</a>' in page


def test_dashboard_shows_the_figures(client, data):
    page = login(client, data.sam).get("/stats/", query_string=OCTOBER).get_data(as_text=True)
    assert "October 2026" in page
    assert "60%" in page  # removed within 3 days: 3 of 5
    assert "(3 of 5)" in page
    assert "1 d 12 h" in page  # median notice to removal: 129600 s
    assert page.count("<svg") == 4
    assert "Alpha Hosting" in page and "Cambodia (KH)" in page
    assert "Ana" in page and "Bo" in page  # per analyst
    assert "<script" not in page
    # Nothing from another site.
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_dashboard_filters(client, data):
    page = (
        login(client, data.sam)
        .get("/stats/", query_string={**OCTOBER, "country": "de"})
        .get_data(as_text=True)
    )
    assert "Beta Cloud" in page and "Alpha Hosting</text>" not in page


def test_empty_period_says_so(client, supervisor):
    response = login(client, supervisor).get(
        "/stats/", query_string={"from": "2025-01-01", "to": "2025-01-31"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "every figure below is zero" in page
    assert "No reports in this period" in page
    assert "No notice went out in this period" in page


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ({"from": "2026-10-31", "to": "2026-10-01"}, "to", "before it starts"),
        ({"from": "2026-02-30"}, "from", "not a date that exists"),
        ({"from": "yesterday"}, "from", "use YYYY-MM-DD"),
        ({"from": "2026-12-01"}, "from", "in the future"),
        ({"country": "XX"}, "country", "ISO 3166-1"),
        ({"provider": "999"}, "provider", "hosting provider"),
        ({"provider": "1" * 40}, "provider", "hosting provider"),
    ],
)
def test_bad_input_names_the_parameter(client, supervisor, query, parameter, message):
    response = login(client, supervisor).get("/stats/", query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = {
        "from": "From",
        "to": "To",
        "country": "Hosting country",
        "provider": "Hosting provider",
    }
    assert f"<strong>{shown[parameter]}</strong>" in page and message in page


def test_a_period_may_end_in_the_future(client, supervisor):
    response = login(client, supervisor).get(
        "/stats/", query_string={"from": "2026-01-01", "to": "2026-12-31"}
    )
    assert response.status_code == 200


def test_figures_csv_is_audited(client, data):
    response = login(client, data.sam).get("/stats/figures.csv", query_string=OCTOBER)
    assert response.mimetype == "text/csv"
    assert "figures-2026-10-01-to-2026-10-31.csv" in response.headers["Content-Disposition"]
    rows = dict(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows["urls_reported"] == "10"
    assert rows[f"per_analyst.{data.ana.id}.name"] == "Ana"
    assert rows[f"per_analyst.{data.ana.id}.assessed"] == "3"
    entry = stats_audit().one()
    assert (entry.action, entry.actor_id) == ("stats.export_figures", data.sam.id)
    assert entry.details["from"] == "2026-10-01"


def test_figures_csv_bad_input(client, supervisor):
    response = login(client, supervisor).get("/stats/figures.csv?from=2026-13-01")
    assert response.status_code == 422
    assert "from:" in response.get_data(as_text=True)


def _export(client, **form):
    response = client.post("/stats/cases.csv", data={**OCTOBER, **form})
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_cases_csv_without_urls_by_default(client, data):
    rows = _export(login(client, data.sam))
    assert len(rows) == 10
    assert "url" not in rows[0] and "host" not in rows[0] and "hosting_ip" not in rows[0]
    first = rows[0]
    assert first["reference"] == data.cases["c1"].reference
    assert first["received_at"] == "2026-10-01 00:00:00"
    assert first["provider"] == "Alpha Hosting" and first["resolution"] == "takedown_confirmed"
    overdue = {row["reference"]: row["overdue"] for row in rows}
    assert overdue[data.cases["c3"].reference] == "yes"
    assert overdue[data.cases["c4"].reference] == "no"
    entry = stats_audit().one()
    assert entry.action == "stats.export_cases"
    assert entry.details["include_urls"] is False and entry.details["rows"] == 10


def test_cases_csv_has_plain_words_after_the_codes(client, data):
    rows = _export(login(client, data.sam))
    first = rows[0]
    names = list(first)
    assert names[: len(CASE_COLUMNS)] == list(CASE_COLUMNS)  # the codes keep their places
    assert names[len(CASE_COLUMNS) :] == [name for name, _, _ in LABEL_COLUMNS]
    assert (first["status"], first["status_label"]) == ("closed", "Closed")
    assert (first["resolution"], first["resolution_label"]) == (
        "takedown_confirmed",
        "Takedown confirmed",
    )
    assert (first["site_type"], first["site_type_label"]) == ("image_host", "Image host")
    assert (first["hosting_country"], first["hosting_country_name"]) == ("KH", "Cambodia")
    assert first["age_group"] == first["age_group_label"] == ""


def test_cases_csv_labels_in_the_exporters_language(client, data):
    data.sam.language = "km"
    db.session.commit()
    first = _export(login(client, data.sam))[0]
    assert first["status"] == "closed" and first["status_label"] == "បានបិទ"
    assert first["hosting_country_name"] == "កម្ពុជា"


def test_the_dashboard_in_khmer(client, data):
    data.sam.language = "km"
    db.session.commit()
    page = login(client, data.sam).get("/stats/", query_string=OCTOBER).get_data(as_text=True)
    assert "ស្ថិតិ" in page and "ការទទួល → ការវាយតម្លៃ" in page  # Receipt → assessment
    assert "បានបញ្ជាក់ការដកចេញ" in page  # a resolution, in words
    assert "URL ដែលបានរាយការណ៍ប្រចាំថ្ងៃ" in page or "URL ដែលបានរាយការណ៍ប្រចាំខែ" in page


def test_cases_csv_with_urls_for_supervisors(client, data):
    rows = _export(login(client, data.sam), include_urls="1")
    assert rows[0]["url"] == "http://c1.example.com/x"
    entry = stats_audit().one()
    assert entry.details["include_urls"] is True


def test_cases_csv_never_holds_reporter_contact(client, supervisor, make):
    make.report(
        "http://contact.example.com/x",
        reporter_contact="reporter@example.net",
        description="call me on +855 12 345 678",
    )
    response = login(client, supervisor).post(
        "/stats/cases.csv", data={"from": "2026-11-01", "to": "2026-11-30", "include_urls": "1"}
    )
    text = response.get_data(as_text=True)
    assert "contact.example.com" in text
    assert "reporter@example.net" not in text and "345 678" not in text
    header = text.splitlines()[0]
    assert "contact" not in header and "description" not in header


def test_cases_csv_escapes_formulas(client, supervisor, make):
    # The directory refuses such names now; older data may still hold them.
    provider = make.organisation(name="Evil Host")
    provider.name = "=HYPERLINK(evil)"
    db.session.commit()
    case = make.case("action_required")
    from casemgr import context
    from casemgr.cases import services as cases

    cases.apply_action(
        db.session, case, "request_notice", {"provider_id": provider.id},
        actor=supervisor.actor, now=context.now(), timings=context.timings(),
    )  # fmt: skip
    db.session.commit()
    rows = _export(login(client, supervisor), **{"from": "2026-11-01", "to": "2026-11-30"})
    assert rows[0]["provider"] == "'=HYPERLINK(evil)"


def test_cases_csv_needs_the_csrf_token(app, client, supervisor):
    login(client, supervisor)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/stats/cases.csv", data=OCTOBER)
    assert response.status_code == 400
    assert not stats_audit().all()


def test_monthly_pdf(client, data, app):
    response = login(client, data.sam).get("/stats/report.pdf?month=2026-10")
    assert response.mimetype == "application/pdf"
    assert "statistics-2026-10.pdf" in response.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert app.config["HOTLINE_NAME"] in text and app.config["HOTLINE_EMAIL"] in text
    assert "Statistics: October 2026" in text
    assert "60% (3 of 5)" in text
    assert "Per analyst" not in text
    entry = stats_audit().one()
    assert entry.action == "stats.report" and entry.details["per_analyst"] is False


def test_monthly_pdf_with_analysts(client, data):
    response = login(client, data.sam).get("/stats/report.pdf?month=2026-10&analysts=1")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Per analyst" in text and "Bo" in text


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "not a month that exists"),
        ("2026-1", "use YYYY-MM"),
        ("", "use YYYY-MM"),
        ("2027-01", "has not started yet"),
    ],
)
def test_monthly_pdf_bad_month(client, supervisor, month, message):
    response = login(client, supervisor).get(f"/stats/report.pdf?month={month}")
    assert response.status_code == 422
    assert "month:" in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)


def test_monthly_pdf_of_an_empty_month(client, supervisor):
    response = login(client, supervisor).get("/stats/report.pdf?month=2025-01")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert response.status_code == 200
    assert "No reports in this period" in text
