"""The directory screens: who may do what, and what bad input gets back."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.directory.models import Organisation
from casemgr.extensions import db
from tests.conftest import login

ORG = 1  # the id of the organisation every access test creates first

# (method, path): every directory route.
READ_ROUTES = [("GET", "/directory/"), ("GET", f"/directory/{ORG}")]
MANAGE_ROUTES = [
    ("GET", "/directory/new"),
    ("POST", "/directory/new"),
    ("GET", f"/directory/{ORG}/edit"),
    ("POST", f"/directory/{ORG}/edit"),
    ("POST", f"/directory/{ORG}/deactivate"),
    ("POST", f"/directory/{ORG}/activate"),
    ("GET", "/directory/import"),
    ("POST", "/directory/import"),
    ("GET", "/directory/export.csv"),
]


@pytest.fixture
def an_organisation(app, make):
    organisation = make.organisation(
        name="Example Hosting", domains="example.com", networks="192.0.2.0/24"
    )
    assert organisation.id == ORG
    return organisation


def form_data(**fields) -> dict:
    return {
        "kind": "hosting_provider",
        "name": "New Host",
        "country": "KH",
        "email": "abuse@new.example.com",
        "language": "km",
        "domains": "new.example.com\nexample.net",
        "networks": "198.51.100.0/24; 2001:db8:9::/48",
        "address": "1 Example Street",
        "notes": "",
    } | fields


def organisations() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


# --- access


@pytest.mark.parametrize(("method", "path"), READ_ROUTES + MANAGE_ROUTES)
def test_anonymous_users_are_sent_to_sign_in(client, an_organisation, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("method", "path"), MANAGE_ROUTES)
def test_analysts_cannot_manage_the_directory(client, an_organisation, analyst, method, path):
    response = login(client, analyst).open(path, method=method, data=form_data())
    assert response.status_code == 403
    assert organisations() == 1
    assert db.session.get(Organisation, ORG).active


@pytest.mark.parametrize(("method", "path"), READ_ROUTES)
def test_analysts_read_the_directory_without_management_links(
    client, an_organisation, analyst, method, path
):
    response = login(client, analyst).open(path, method=method)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Example Hosting" in page
    assert "/directory/new" not in page
    assert "/edit" not in page
    assert "export.csv" not in page


@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize(("method", "path"), READ_ROUTES + MANAGE_ROUTES)
def test_supervisors_and_admins_may(client, an_organisation, make, role, method, path):
    response = login(client, make.user(role)).open(path, method=method)
    assert response.status_code in (200, 302, 422)


def test_the_nav_links_to_the_directory_for_all_staff(client, analyst):
    page = login(client, analyst).get("/cases/").get_data(as_text=True)
    assert '<a href="/directory/">Directory</a>' in page


def test_a_missing_organisation_is_404(client, supervisor):
    login(client, supervisor)
    assert client.get("/directory/999").status_code == 404
    assert client.get("/directory/999/edit").status_code == 404
    assert client.post("/directory/999/deactivate").status_code == 404


# --- the list


def test_list_filters(client, make, analyst):
    make.organisation("hotline", name="Partner DE", country="DE")
    make.organisation("police", name="Channel", country=None)
    make.organisation(name="Host KH", domains="example.com", networks="192.0.2.0/24")
    login(client, analyst)

    def names(query):
        page = client.get(f"/directory/?{query}").get_data(as_text=True)
        return re.findall(r'<a href="/directory/\d+">([^<]+)</a>', page)

    assert names("") == ["Host KH", "Partner DE", "Channel"]
    assert names("kind=hotline") == ["Partner DE"]
    assert names("country=de") == ["Partner DE"]
    assert names("country=none") == ["Channel"]
    assert names("q=www.example.com") == ["Host KH"]
    assert names("q=192.0.2.9") == ["Host KH"]
    assert names("kind=nonsense&country=ZZZ&status=weird&page=x") == names("")


def test_list_pages(client, make, analyst, monkeypatch):
    for number in range(3):
        make.organisation("hotline", name=f"Partner {number}", country="DE")
    from casemgr.directory import queries

    original = queries.search
    monkeypatch.setattr(queries, "search", lambda *a, **k: original(*a, **(k | {"per_page": 2})))
    login(client, analyst)
    first = client.get("/directory/").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "Partner 2" not in first
    assert "Partner 2" in client.get("/directory/?page=2").get_data(as_text=True)


# --- create, edit, deactivate


def test_create(client, supervisor):
    response = login(client, supervisor).post("/directory/new", data=form_data())
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation))
    assert response.headers["Location"] == f"/directory/{organisation.id}"
    assert organisation.language == "km"
    assert sorted(organisation.domain_names) == ["example.net", "new.example.com"]
    assert sorted(organisation.cidrs) == ["198.51.100.0/24", "2001:db8:9::/48"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.create"))
    assert entry.actor_id == supervisor.id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "is not an e-mail address"),
        ("networks", "10.0.0.1/33", "is not an IP network in CIDR notation"),
        ("networks", "10.0.0.1/24", "has host bits set: the network is 10.0.0.0/24"),
        ("domains", "http://example.com/path", "is not a domain name"),
        ("domains", "exa mple.com", "is not a domain name"),
        ("country", "XX", "is not an ISO 3166-1 alpha-2 country code"),
        ("kind", "isp", "must be one of"),
        ("language", "xx", "must be one of"),
        ("name", "", "is required"),
        ("name", "x" * 300, "at most 200"),
        ("address", "x" * 1001, "1000 characters"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(client, supervisor, field, value, message):
    response = login(client, supervisor).post("/directory/new", data=form_data(**{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    # The message is next to the field it is about.
    field_html = page[page.index(f'name="{field}"') :]
    field_html = field_html[: field_html.index("</div>")]
    assert 'class="error"' in field_html
    assert organisations() == 0


def test_a_duplicate_is_refused_naming_the_other(client, an_organisation, supervisor):
    response = login(client, supervisor).post(
        "/directory/new", data=form_data(name="example hosting", networks="", domains="")
    )
    assert response.status_code == 422
    assert "exists already (id 1)" in response.get_data(as_text=True)


def test_edit(client, an_organisation, supervisor):
    login(client, supervisor)
    page = client.get(f"/directory/{ORG}/edit").get_data(as_text=True)
    assert "192.0.2.0/24</textarea>" in page
    response = client.post(
        f"/directory/{ORG}/edit",
        data=form_data(name="Example Hosting", domains="example.com", networks="192.0.2.0/25"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, ORG).cidrs == ["192.0.2.0/25"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.update"))
    assert entry.details["changes"]["networks"] == [["192.0.2.0/24"], ["192.0.2.0/25"]]


def test_edit_with_bad_input_keeps_what_was_typed(client, an_organisation, supervisor):
    response = login(client, supervisor).post(
        f"/directory/{ORG}/edit", data=form_data(networks="192.0.2.0/24 10.0.0.1/33")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "192.0.2.0/24 10.0.0.1/33</textarea>" in page
    assert "&#39;10.0.0.1/33&#39; is not an IP network" in page
    db.session.expire_all()
    assert db.session.get(Organisation, ORG).name == "Example Hosting"


def test_deactivate_and_activate_never_delete(client, make, supervisor):
    case = make.case("notice_pending")
    provider_id = case.provider_id
    login(client, supervisor)
    page = client.get(f"/directory/{provider_id}").get_data(as_text=True)
    assert "Cases naming it</dt><dd>1<" in page
    assert "delete" not in page.lower().replace("never deleted", "")
    response = client.post(f"/directory/{provider_id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Organisation, provider_id).active
    assert db.session.get(type(case), case.id).provider_id == provider_id
    assert "deactivated" in client.get(f"/directory/{provider_id}").get_data(as_text=True)
    client.post(f"/directory/{provider_id}/activate")
    db.session.expire_all()
    assert db.session.get(Organisation, provider_id).active
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_type == "organisation")
    ).all()
    assert actions[-2:] == ["organisation.deactivate", "organisation.activate"]


def test_there_is_no_delete_route(client, an_organisation, supervisor):
    login(client, supervisor)
    assert client.delete(f"/directory/{ORG}").status_code == 405
    assert client.post(f"/directory/{ORG}/delete").status_code == 404


# --- import and export


def upload(client, text: str | bytes, **extra):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/directory/import",
        data={"file": (io.BytesIO(data), "directory.csv"), **extra},
        content_type="multipart/form-data",
    )


def test_import_through_the_screen(client, supervisor):
    login(client, supervisor)
    response = upload(
        client, "kind,name,country,email,language,domains,networks\nhotline,P,DE,,de,,\n"
    )
    assert response.status_code == 302
    assert organisations() == 1
    page = client.get("/directory/").get_data(as_text=True)
    assert "1 added" in page


def test_import_check_only(client, supervisor):
    login(client, supervisor)
    response = upload(
        client,
        "kind,name,country,email,language,domains,networks\nhotline,P,DE,,de,,\n",
        dry_run="y",
    )
    assert response.status_code == 200
    assert "nothing was saved yet" in response.get_data(as_text=True)
    assert organisations() == 0


def test_import_lists_every_problem(client, supervisor):
    login(client, supervisor)
    response = upload(
        client,
        "kind,name,country,email,language,domains,networks\n"
        "hotline,P,XX,,de,,\n"
        "hosting_provider,H,KH,bad,en,,10.0.0.1/33\n",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "nothing was saved" in page
    assert "line 2: country:" in page
    assert "line 3: email:" in page
    assert "line 3: networks:" in page
    assert organisations() == 0


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff\xfe garbage", b"name\n", b"kind;name\n", b"\xef\xbb\xbf"],
)
def test_import_of_junk_is_a_message_not_a_500(client, supervisor, data):
    response = upload(login(client, supervisor), data)
    assert response.status_code == 422
    assert "nothing was saved" in response.get_data(as_text=True)


def test_import_without_a_file(client, supervisor):
    response = login(client, supervisor).post("/directory/import", data={})
    assert response.status_code == 422
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_export_through_the_screen(client, an_organisation, supervisor):
    response = login(client, supervisor).get("/directory/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbfid,kind,name,")
    assert b"Example Hosting" in response.data
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "directory.export"))
    assert entry.actor_id == supervisor.id


class TestCSRF:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.mark.parametrize(
        "path", ["/directory/new", f"/directory/{ORG}/edit", f"/directory/{ORG}/deactivate"]
    )
    def test_changes_need_the_token(self, client, an_organisation, supervisor, path):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post(
            "/login",
            data={
                "email": supervisor.email,
                "password": "correct horse battery",
                "csrf_token": token,
            },
        )
        response = client.post(path, data=form_data())
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Organisation, ORG).active
        assert organisations() == 1


def test_the_directory_in_khmer(client, make):
    reader = make.user("supervisor")
    reader.language = "km"
    db.session.commit()
    make.organisation(name="Alpha Hosting", country="KH")
    client = login(client, reader)
    page = client.get("/directory/").get_data(as_text=True)
    assert "បញ្ជីស្ថាប័ន" in page and "ក្រុមហ៊ុនផ្ទុកគេហទំព័រ" in page  # Directory, Hosting provider
    assert "កម្ពុជា (KH)" in page  # the country filter, named in Khmer
    assert "ស្ថាប័នចំនួន 1" in page
    form = client.get("/directory/new").get_data(as_text=True)
    assert "ភាសាដែលពេញចិត្ត" in form and "ខ្មែរ (km)" in form
