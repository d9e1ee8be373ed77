"""The demo's directory: example names and documentation address ranges only."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select

from casemgr.directory.models import Organisation
from casemgr.directory.tracing import match_domain, match_network
from casemgr.extensions import db

DOCUMENTATION = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


def test_the_demo_directory(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "9 organisations" in result.output
    organisations = db.session.scalars(select(Organisation)).all()
    assert {o.kind for o in organisations} == {"hotline", "police", "hosting_provider", "registrar"}
    for organisation in organisations:
        for domain in organisation.domain_names:
            assert domain.split(".")[-2] == "example", domain
        for cidr in organisation.cidrs:
            assert any(
                ipaddress.ip_network(cidr).subnet_of(d)
                for d in DOCUMENTATION
                if d.version == ipaddress.ip_network(cidr).version
            ), cidr
        if organisation.email:
            assert organisation.email.split("@")[1].split(".")[-2] == "example"
    assert match_domain(db.session, "img.example.com").organisation.name == "Example Hosting Ltd"
    assert (
        match_network(db.session, ["192.0.2.200"]).organisation.name == "Offline Host (no e-mail)"
    )
    assert match_network(db.session, ["2001:db8:2::1"]).organisation.name == "Sample Cloud GmbH"
