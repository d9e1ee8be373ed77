"""Changing the directory: creating, duplicates, updates, deactivation, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.directory import inputs, operations, queries
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.models import Organisation, OrganisationNetwork
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


def create(**fields) -> Organisation:
    data = {"kind": "hosting_provider", "name": "Host", "country": "KH"} | fields
    organisation = operations.create_organisation(
        db.session, OrganisationInput(**data), now=context.now(), actor=SYSTEM_ACTOR
    )
    db.session.commit()
    return organisation


def test_create_stores_domains_networks_and_audits(app):
    organisation = create(domains="example.com", networks="192.0.2.0/24 2001:db8::/32")
    stored = queries.get_organisation(db.session, organisation.id)
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
    operations.set_active(db.session, existing, False, now=context.now(), actor=SYSTEM_ACTOR)
    with pytest.raises(ValidationFailed, match="deactivated"):
        create(name="Host")


def test_update_reports_and_audits_changes(app, supervisor):
    organisation = create(domains="example.com", networks="192.0.2.0/24")
    changes = operations.update_organisation(
        db.session,
        organisation,
        inputs.input_from(
            organisation, email="new@example.com", networks="198.51.100.0/24", address=None
        ),
        now=context.now(),
        actor=supervisor.actor,
    )
    db.session.commit()
    assert changes == {
        "email": [None, "new@example.com"],
        "networks": [["192.0.2.0/24"], ["198.51.100.0/24"]],
    }
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.update"))
    assert entry.actor_id == supervisor.id
    assert entry.details["changes"]["networks"] == [["192.0.2.0/24"], ["198.51.100.0/24"]]
    assert queries.get_organisation(db.session, organisation.id).cidrs == ["198.51.100.0/24"]


def test_update_without_change_is_not_audited(app):
    organisation = create()
    changes = operations.update_organisation(
        db.session,
        organisation,
        inputs.input_from(organisation),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    assert changes == {}
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organisation.update")
    ).all()


def test_update_to_the_name_of_another_is_refused(app):
    create(name="One")
    two = create(name="Two")
    with pytest.raises(ValidationFailed, match="exists already"):
        operations.update_organisation(
            db.session,
            two,
            inputs.input_from(two, name="one"),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )


def test_kind_cannot_change_while_cases_name_the_organisation(app, make):
    case = make.case("notice_pending")
    provider = case.provider
    with pytest.raises(ValidationFailed) as refused:
        operations.update_organisation(
            db.session,
            provider,
            inputs.input_from(provider, kind="registrar", networks=()),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )
    assert "1 case(s)" in refused.value.fields["kind"][0]


def test_deactivate_keeps_the_organisation_and_its_cases(app, make):
    case = make.case("notice_pending")
    provider = case.provider
    assert operations.set_active(db.session, provider, False, now=context.now(), actor=SYSTEM_ACTOR)
    db.session.commit()
    assert db.session.get(Organisation, provider.id) is not None
    assert db.session.get(type(case), case.id).provider_id == provider.id
    assert provider not in queries.list_organisations(db.session)
    assert queries.by_kind(db.session)["hosting_provider"] == []
    assert not operations.set_active(
        db.session, provider, False, now=context.now(), actor=SYSTEM_ACTOR
    )
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("organisation.deactivate") == 1
