"""A partner hotline's API fields in the directory: the base URL's checks, the
write-only token, forward_by; the form, the API, the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.directory.endpoints import normalise_api_base_url
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.models import Organisation
from casemgr.directory.operations import create_organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from tests.api.conftest import anonymous, document, token_for  # noqa: F401 - fixtures
from tests.conftest import login
from tests.partners.conftest import TOKEN, partner_org

OWN = {("casemgr.test", 80)}


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://hotline.example.org", "https://hotline.example.org"),
        ("https://Hotline.Example.org/", "https://hotline.example.org"),
        ("https://hotline.example.org/casemgr/api/v1/", "https://hotline.example.org/casemgr"),
        ("http://192.0.2.1:8080", "http://192.0.2.1:8080"),
        ("https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443"),
    ],
)
def test_base_urls_are_stored_plain(app, url, stored):
    assert normalise_api_base_url(url, OWN) == stored


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hotline.example.org", "https://"),
        ("javascript:alert(1)", "https://"),
        ("hotline.example.org", "https://"),
        ("https://user:secret@hotline.example.org", "user name or password"),
        ("https://user@hotline.example.org", "user name or password"),
        ("https://hotline.example.org/?token=x", "query"),
        ("https://hotline.example.org/#x", "fragment"),
        ("https://hotline.example.org:99999", "is not a URL"),
        ("https://hot line.example.org", "spaces"),
        ("https://" + "a" * 300 + ".org", "at most 300"),
        ("http://casemgr.test/", "this installation itself"),
        ("http://CASEMGR.test:80/x", "this installation itself"),
    ],
)
def test_bad_base_urls_are_refused(app, url, message):
    with pytest.raises(ValueError, match=message):
        normalise_api_base_url(url, OWN)


def test_the_own_address_is_refused_from_the_configuration_and_the_request(app):
    with pytest.raises(ValidationFailed) as refused:
        partner_org("http://casemgr.test")
    assert "this installation itself" in refused.value.fields["api_base_url"][0]
    with (
        app.test_request_context("/", base_url="https://hotline-a.example:8443"),
        pytest.raises(ValidationFailed),
    ):
        partner_org("https://hotline-a.example:8443/")


def test_only_hotlines_have_an_api_and_api_needs_a_url(app):
    with pytest.raises(ValidationFailed) as refused:
        create_organisation(
            db.session,
            OrganisationInput(kind="hosting_provider", name="H", api_base_url="https://h.example"),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )
    assert "api_base_url" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        create_organisation(
            db.session,
            OrganisationInput(kind="hotline", name="B", country="DE", forward_by="api"),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )
    assert "needs the partner's API base URL" in refused.value.fields["forward_by"][0]


def audit_text() -> str:
    return json.dumps([entry.details for entry in db.session.scalars(select(AuditEntry))])


def test_the_token_is_encrypted_and_audited_as_set_only(app):
    org = partner_org("https://hotline-b.example")
    assert org.api_token_encrypted and TOKEN.encode() not in org.api_token_encrypted
    assert context.cipher().decrypt(org.api_token_encrypted) == TOKEN
    assert TOKEN not in audit_text()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.create"))
    assert entry.details["api_token"] == "set"
    assert entry.details["forward_by"] == "api"


def form(org: Organisation, **changes) -> dict:
    data = {
        "kind": "hotline",
        "name": org.name,
        "country": org.country,
        "email": org.email,
        "language": "en",
        "api_base_url": org.api_base_url,
        "forward_by": org.forward_by,
        "api_token": "",
    }
    return data | changes


def test_the_form_never_shows_the_token_and_replaces_or_removes_it(client, app, supervisor):
    org = partner_org("https://hotline-b.example")
    login(client, supervisor)
    page = client.get(f"/directory/{org.id}/edit").get_data(as_text=True)
    assert TOKEN not in page and "An API token is stored" in page
    assert "https://hotline-b.example" in page
    # saved without a token: the stored one stays
    response = client.post(f"/directory/{org.id}/edit", data=form(org, forward_by="both"))
    assert response.status_code == 302
    db.session.expire_all()
    assert org.forward_by == "both" and org.has_api_token
    response = client.post(f"/directory/{org.id}/edit", data=form(org, api_token="pt_new-token"))
    assert response.status_code == 302
    db.session.expire_all()
    assert context.cipher().decrypt(org.api_token_encrypted) == "pt_new-token"
    response = client.post(f"/directory/{org.id}/edit", data=form(org, remove_api_token="y"))
    db.session.expire_all()
    assert org.api_token_encrypted is None
    changes = [
        entry.details["changes"].get("api_token")
        for entry in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "organisation.update")
            .order_by(AuditEntry.id)
        )
    ]
    assert changes == [None, ["replaced"], ["removed"]]
    assert TOKEN not in audit_text() and "pt_new-token" not in audit_text()
    assert TOKEN not in client.get(f"/directory/{org.id}").get_data(as_text=True)


def test_the_form_names_a_bad_base_url(client, app, supervisor):
    org = partner_org("https://hotline-b.example")
    response = login(client, supervisor).post(
        f"/directory/{org.id}/edit", data=form(org, api_base_url="https://u:p@b.example")
    )
    assert response.status_code == 422
    assert "user name or password" in response.get_data(as_text=True)


def test_the_api_takes_the_fields_and_never_shows_the_token(anonymous, make, token_for):  # noqa: F811
    client = anonymous.as_token(token_for(make.user("supervisor")))
    response = client.post(
        "/api/v1/organizations",
        json={
            "kind": "hotline",
            "name": "Hotline B",
            "country": "DE",
            "api_base_url": "https://hotline-b.example/",
            "forward_by": "both",
            "api_token": TOKEN,
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["api_base_url"] == "https://hotline-b.example"
    assert body["forward_by"] == "both" and body["has_api_token"] is True
    assert TOKEN not in json.dumps(body)
    listed = client.get("/api/v1/organizations").get_data(as_text=True)
    assert TOKEN not in listed and '"has_api_token": true' in listed.replace('":true', '": true')
    bad = client.post(
        "/api/v1/organizations",
        json={"kind": "hotline", "name": "C", "api_base_url": "ftp://c.example"},
    )
    assert bad.status_code == 422 and "api_base_url" in bad.json["fields"]
