"""What an organisation is given as: every bad field named, values normalised;
no database."""

from __future__ import annotations

import pytest

from casemgr.directory import inputs
from casemgr.directory.inputs import OrganisationInput
from casemgr.errors import ValidationFailed


def refusal(**fields) -> dict[str, list[str]]:
    data = {"kind": "hosting_provider", "name": "Host", "country": "KH"} | fields
    with pytest.raises(ValidationFailed) as refused:
        inputs.validate(OrganisationInput(**data))
    return refused.value.fields


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
    clean = inputs.validate(OrganisationInput("registrar", "Reg", "KH", domains="example.com"))
    assert clean.domains == ["example.com"]
    assert "networks" in refusal(kind="registrar", networks="192.0.2.0/24")


def test_values_are_normalised():
    clean = inputs.validate(
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
    assert inputs.validate(OrganisationInput("police", "Channel", None)).country is None
    assert inputs.validate(OrganisationInput("police", "Channel", "  ")).country is None
