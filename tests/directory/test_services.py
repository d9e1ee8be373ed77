"""The directory's use cases: validation, duplicates, updates, deactivation, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.directory import services as directory
from casemgr.directory.models import Organisation, OrganisationNetwork
from casemgr.directory.services import OrganisationInput
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


def create(**fields) -> Organisation:
    data = {"kind": "hosting_provider", "name": "Host", "country": "KH"} | fields
    organisation = directory.create_organisation(
        db.session, OrganisationInput(**data), now=context.now(), actor_id=None
    )
    db.session.commit()
    return organisation


def refusal(**fields) -> dict[str, list[str]]:
    data = {"kind": "hosting_provider", "name": "Host", "country": "KH"} | fields
    with pytest.raises(ValidationFailed) as refused:
        directory.validate(OrganisationInput(**data))
    return refused.value.fields


# --- values, without a database


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("email", "not-an-address", "not an e-mail address"),
        ("email", "abuse@", "not an e-mail address"),
        ("country", "XX", "ISO 3166-1"),
        ("country", "KHM", "ISO 3166-1"),
        ("country", 12, "ISO 3166-1"),
        ("kind", "isp", "must be one of"),
        ("language", "klingon", "must be one of"),
        ("name", "", "is required"),
        ("name", "x" * 201, "at most 200"),
        ("name", "=HYPERLINK(1)", "formula"),
        ("notes", "+cmd", "formula"),
        ("address", "a\x00b", "control characters"),
        ("networks", "10.0.0.1/33", "not an IP network in CIDR notation"),
        ("networks", "10.0.0.1/24", "host bits set: the network is 10.0.0.0/24"),
        ("networks", "2001:db8::1/32", "host bits set: the network is 2001:db8::/32"),
        ("networks", "0.0.0.0/0", "every address"),
        ("networks", "fe80::%eth0/64", "zone"),
        ("networks", "example.com", "not an IP network"),
        ("domains", "http://example.com/", "not a domain name"),
        ("domains", "exa mple.com", None),
        ("domains", "bad_host!.example", "not a domain name"),
        ("domains", "intranet", "not a domain name"),
        ("domains", "192.0.2.1", "IP address, not a domain name"),
        ("domains", "*.example.com", "not a domain name"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field, value, words):
    fields = refusal(**{field: value})
    assert field in fields
    if words:
        assert any(words in message for message in fields[field]), fields


def test_every_bad_entry_of_a_list_is_named():
    fields = refusal(networks="192.0.2.0/24 10.0.0.1/33; 10.0.0.1/24")
    assert len(fields["networks"]) == 2
    assert "'10.0.0.1/33'" in fields["networks"][0]
    assert "'10.0.0.1/24'" in fields["networks"][1]


@pytest.mark.parametrize("kind", ["hotline", "police"])
def test_only_providers_and_registrars_have_domains(kind):
    assert "domains" in refusal(kind=kind, domains="example.com")
    assert "networks" in refusal(kind=kind, networks="192.0.2.0/24")


def test_registrars_have_domains_but_no_networks():
    clean = directory.validate(OrganisationInput("registrar", "Reg", "KH", domains="example.com"))
    assert clean.domains == ["example.com"]
    assert "networks" in refusal(kind="registrar", networks="192.0.2.0/24")


def test_values_are_normalised():
    clean = directory.validate(
        OrganisationInput(
            kind=" Hosting_Provider ",
            name="  Host  ",
            country=" kh ",
            email=" Abuse@Example.COM ",
            language="",
            domains="Example.COM. ; www.BÜCHER.example,example.com\nexample.net",
            networks=["2001:DB8::/32", "192.0.2.7", "192.0.2.0/24"],
        )
    )
    assert clean.kind == "hosting_provider"
    assert clean.name == "Host"
    assert clean.country == "KH"
    assert clean.email.lower() == "abuse@example.com"
    assert clean.language == "en"
    assert clean.domains == ["example.com", "www.xn--bcher-kva.example", "example.net"]
    assert clean.networks == ["2001:db8::/32", "192.0.2.7/32", "192.0.2.0/24"]


def test_no_country_is_allowed_for_the_international_channel():
    assert directory.validate(OrganisationInput("police", "Channel", None)).country is None
    assert directory.validate(OrganisationInput("police", "Channel", "  ")).country is None


# --- stored


def test_create_stores_domains_networks_and_audits(app):
    organisation = create(domains="example.com", networks="192.0.2.0/24 2001:db8::/32")
    stored = directory.get_organisation(db.session, organisation.id)
    assert stored.domain_names == ["example.com"]
    assert sorted(stored.cidrs) == ["192.0.2.0/24", "2001:db8::/32"]
    network = db.session.scalar(
        select(OrganisationNetwork).where(OrganisationNetwork.cidr == "192.0.2.0/24")
    )
    assert (network.family, network.prefix_length) == (4, 24)
    assert (network.first, network.last) == (bytes([192, 0, 2, 0]), bytes([192, 0, 2, 255]))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.create"))
    assert entry.target_id == str(organisation.id)
    assert entry.details["networks"] == ["192.0.2.0/24", "2001:db8::/32"]


@pytest.mark.parametrize("name", ["Host", "HOST", " host "])
def test_same_kind_name_and_country_is_refused(app, name):
    existing = create(name="Host")
    with pytest.raises(ValidationFailed) as refused:
        create(name=name)
    assert f"id {existing.id}" in refused.value.fields["name"][0]


def test_same_name_in_another_country_or_kind_is_another_organisation(app):
    create(name="Host", country="KH")
    create(name="Host", country="DE")
    create(name="Host", country=None)
    create(name="Host", kind="registrar")
    with pytest.raises(ValidationFailed):
        create(name="Host", country=None)


def test_a_deactivated_duplicate_is_named_as_such(app):
    existing = create(name="Host")
    directory.set_active(db.session, existing, False, now=context.now(), actor_id=None)
    with pytest.raises(ValidationFailed, match="deactivated"):
        create(name="Host")


def test_update_reports_and_audits_changes(app, supervisor):
    organisation = create(domains="example.com", networks="192.0.2.0/24")
    changes = directory.update_organisation(
        db.session,
        organisation,
        directory.input_from(
            organisation, email="new@example.com", networks="198.51.100.0/24", address=None
        ),
        now=context.now(),
        actor_id=supervisor.id,
    )
    db.session.commit()
    assert changes == {
        "email": [None, "new@example.com"],
        "networks": [["192.0.2.0/24"], ["198.51.100.0/24"]],
    }
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.update"))
    assert entry.actor_id == supervisor.id
    assert entry.details["changes"]["networks"] == [["192.0.2.0/24"], ["198.51.100.0/24"]]
    assert directory.get_organisation(db.session, organisation.id).cidrs == ["198.51.100.0/24"]


def test_update_without_change_is_not_audited(app):
    organisation = create()
    changes = directory.update_organisation(
        db.session,
        organisation,
        directory.input_from(organisation),
        now=context.now(),
        actor_id=None,
    )
    assert changes == {}
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organisation.update")
    ).all()


def test_update_to_the_name_of_another_is_refused(app):
    create(name="One")
    two = create(name="Two")
    with pytest.raises(ValidationFailed, match="exists already"):
        directory.update_organisation(
            db.session, two, directory.input_from(two, name="one"), now=context.now(), actor_id=None
        )


def test_kind_cannot_change_while_cases_name_the_organisation(app, make):
    case = make.case("notice_pending")
    provider = case.provider
    with pytest.raises(ValidationFailed) as refused:
        directory.update_organisation(
            db.session,
            provider,
            directory.input_from(provider, kind="registrar", networks=()),
            now=context.now(),
            actor_id=None,
        )
    assert "1 case(s)" in refused.value.fields["kind"][0]


def test_deactivate_keeps_the_organisation_and_its_cases(app, make):
    case = make.case("notice_pending")
    provider = case.provider
    assert directory.set_active(db.session, provider, False, now=context.now(), actor_id=None)
    db.session.commit()
    assert db.session.get(Organisation, provider.id) is not None
    assert db.session.get(type(case), case.id).provider_id == provider.id
    assert provider not in directory.list_organisations(db.session)
    assert directory.by_kind(db.session)["hosting_provider"] == []
    assert not directory.set_active(db.session, provider, False, now=context.now(), actor_id=None)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("organisation.deactivate") == 1


def test_search_by_kind_country_name_domain_and_address(app):
    host = create(name="Example Hosting", domains="example.com", networks="192.0.2.0/24")
    police = create(kind="police", name="Channel", country=None, email="c@police.example.org")
    hotline = create(kind="hotline", name="Partner DE", country="DE")
    gone = create(name="Gone Host")
    directory.set_active(db.session, gone, False, now=context.now(), actor_id=None)
    db.session.commit()

    def found(**filters):
        page = directory.search(db.session, directory.DirectoryFilter(**filters))
        return {organisation.id for organisation in page.items}

    assert found() == {host.id, police.id, hotline.id}
    assert found(status="all") == {host.id, police.id, hotline.id, gone.id}
    assert found(status="inactive") == {gone.id}
    assert found(kind="hotline") == {hotline.id}
    assert found(country="DE") == {hotline.id}
    assert found(country="none") == {police.id}
    assert found(q="hosting") == {host.id}
    assert found(q="POLICE.example") == {police.id}
    assert found(q="img.example.com") == {host.id}
    assert found(q="192.0.2.77") == {host.id}
    assert found(q="198.51.100.1") == set()
    assert found(q="100%_") == set()
