"""Tracing help: resolving a case's host (with a fake DNS) and matching it
against the providers' domains and networks."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.directory import tracing
from casemgr.directory.tracing import LookupFailed, match_domain, match_network, resolve, trace
from casemgr.extensions import db
from tests.conftest import login


class FakeDNS:
    """A resolver that answers from a table, raises, or hangs until released."""

    def __init__(self, answers=None, *, error: Exception | None = None, hang: bool = False):
        self.answers = answers or {}
        self.error = error
        self.release = threading.Event()
        self.hang = hang
        self.calls: list[str] = []

    def __call__(self, host):
        self.calls.append(host)
        if self.hang:
            self.release.wait(10)
        if self.error:
            raise self.error
        return self.answers.get(host, [])


@pytest.fixture
def hanging_dns():
    dns = FakeDNS(hang=True)
    yield dns
    dns.release.set()


# --- resolving, without a database


def test_addresses_in_the_resolvers_order_each_once():
    dns = FakeDNS({"example.com": ["192.0.2.1", "2001:DB8::1", "192.0.2.1", "::ffff:192.0.2.9"]})
    assert resolve("example.com", dns, timeout=1) == ["192.0.2.1", "2001:db8::1", "192.0.2.9"]


def test_an_address_host_is_not_looked_up():
    dns = FakeDNS()
    assert resolve("2001:db8::7", dns, timeout=1) == ["2001:db8::7"]
    assert resolve("192.0.2.7", dns, timeout=1) == ["192.0.2.7"]
    assert dns.calls == []


def test_a_resolver_that_raises_gives_a_message():
    dns = FakeDNS(error=RuntimeError("boom"))
    with pytest.raises(LookupFailed, match=r"the look-up of example.com failed \(RuntimeError"):
        resolve("example.com", dns, timeout=1)


def test_a_resolver_without_an_answer_gives_a_message():
    with pytest.raises(LookupFailed, match="DNS gave no address for example.com"):
        resolve("example.com", FakeDNS({"example.com": ["not an address", 7]}), timeout=1)


def test_a_slow_resolver_times_out(hanging_dns):
    with pytest.raises(LookupFailed, match=r"no answer from DNS for example.com within 0.05 s"):
        resolve("example.com", hanging_dns, timeout=0.05)


def test_the_system_resolver_uses_getaddrinfo(monkeypatch):
    def getaddrinfo(host, port, proto=0):
        assert (host, port) == ("example.com", None)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.5", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::5", 0, 0, 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert resolve("example.com", tracing.system_resolver, timeout=1) == [
        "192.0.2.5",
        "2001:db8::5",
    ]


def test_the_system_resolver_explains_a_name_without_address(monkeypatch):
    def getaddrinfo(host, port, proto=0):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(LookupFailed, match="DNS has no address for nowhere.example"):
        resolve("nowhere.example", tracing.system_resolver, timeout=1)


# --- matching


@pytest.fixture
def providers(app, make):
    return {
        "wide": make.organisation(
            name="Wide Host", domains="example.com", networks="192.0.2.0/24 2001:db8::/32"
        ),
        "narrow": make.organisation(
            name="Narrow Host",
            country="DE",
            domains="img.example.com",
            networks="192.0.2.128/25 2001:db8:5::/48",
        ),
        "single": make.organisation(name="Single Host", networks="192.0.2.200"),
        "other": make.organisation(name="Other Host", country="US", networks="198.51.100.0/24"),
        "registrar": make.organisation("registrar", name="Registrar", domains="example.com"),
    }


@pytest.mark.parametrize(
    ("host", "expected", "entry"),
    [
        ("example.com", "wide", "example.com"),
        ("www.example.com", "wide", "example.com"),
        ("img.example.com", "narrow", "img.example.com"),
        ("a.b.img.example.com", "narrow", "img.example.com"),
        ("notexample.com", None, None),
        ("example.org", None, None),
        ("192.0.2.1", None, None),
    ],
)
def test_domain_match_longest_wins(providers, host, expected, entry):
    match = match_domain(db.session, host)
    if expected is None:
        assert match is None
    else:
        assert (match.organisation.id, match.entry) == (providers[expected].id, entry)


def test_registrars_are_matched_separately(providers):
    from casemgr.domain import OrgKind

    match = match_domain(db.session, "www.example.com", OrgKind.REGISTRAR)
    assert match.organisation.id == providers["registrar"].id


@pytest.mark.parametrize(
    ("addresses", "expected", "entry", "address"),
    [
        (["192.0.2.1"], "wide", "192.0.2.0/24", "192.0.2.1"),
        (["192.0.2.129"], "narrow", "192.0.2.128/25", "192.0.2.129"),
        (["192.0.2.200"], "single", "192.0.2.200/32", "192.0.2.200"),
        (["192.0.2.255"], "narrow", "192.0.2.128/25", "192.0.2.255"),
        (["192.0.2.0"], "wide", "192.0.2.0/24", "192.0.2.0"),
        (["203.0.113.1"], None, None, None),
        (["2001:db8::1"], "wide", "2001:db8::/32", "2001:db8::1"),
        (["2001:db8:5:ffff::1"], "narrow", "2001:db8:5::/48", "2001:db8:5:ffff::1"),
        (["2001:db9::1"], None, None, None),
        # Among several addresses the smallest network wins (a /25 holds 128
        # addresses, an IPv6 /32 2**96)...
        (["2001:db8::1", "192.0.2.129"], "narrow", "192.0.2.128/25", "192.0.2.129"),
        (["2001:db8:5::1", "192.0.2.1"], "wide", "192.0.2.0/24", "192.0.2.1"),
        # ...and on a tie, the first address.
        (["198.51.100.1", "192.0.2.1"], "other", "198.51.100.0/24", "198.51.100.1"),
        (["192.0.2.1", "198.51.100.1"], "wide", "192.0.2.0/24", "192.0.2.1"),
        (["::ffff:192.0.2.130"], "narrow", "192.0.2.128/25", "192.0.2.130"),
    ],
)
def test_network_match_most_specific_wins(providers, addresses, expected, entry, address):
    match = match_network(db.session, addresses)
    if expected is None:
        assert match is None
    else:
        assert (match.organisation.id, match.entry, match.address) == (
            providers[expected].id,
            entry,
            address,
        )


def test_an_ipv4_address_is_not_in_an_ipv6_network(app, make):
    make.organisation(networks="::/8")  # holds ::c000:201, i.e. 192.0.2.1 as 128 bits
    assert match_network(db.session, ["192.0.2.1"]) is None


def test_deactivated_providers_are_not_suggested(providers):
    from casemgr import context
    from casemgr.directory import operations
    from casemgr.domain import SYSTEM_ACTOR

    operations.set_active(
        db.session, providers["narrow"], False, now=context.now(), actor=SYSTEM_ACTOR
    )
    assert match_domain(db.session, "img.example.com").organisation.id == providers["wide"].id
    assert match_network(db.session, ["192.0.2.129"]).organisation.id == providers["wide"].id


def test_trace_prefers_the_domain_and_shows_the_network(providers):
    dns = FakeDNS({"www.example.com": ["192.0.2.130"]})
    result = trace(db.session, "www.example.com", resolver=dns, timeout=1)
    assert result.provider.organisation.id == providers["wide"].id
    assert result.by_network.organisation.id == providers["narrow"].id
    assert result.registrar.organisation.id == providers["registrar"].id
    assert result.hosting_ip == "192.0.2.130"
    assert result.prefill() == {
        "provider_id": str(providers["wide"].id),
        "hosting_country": "KH",
        "hosting_ip": "192.0.2.130",
    }


def test_trace_by_network_alone(providers):
    dns = FakeDNS({"files.example.net": ["203.0.113.9", "2001:db8:5::10"]})
    result = trace(db.session, "files.example.net", resolver=dns, timeout=1)
    assert result.by_domain is None
    assert result.provider.organisation.id == providers["narrow"].id
    assert result.hosting_ip == "2001:db8:5::10"
    assert result.prefill()["hosting_country"] == "DE"


def test_a_failed_look_up_still_matches_the_domain(providers):
    result = trace(db.session, "img.example.com", resolver=FakeDNS(error=OSError("no")), timeout=1)
    assert result.error.startswith("the look-up of img.example.com failed")
    assert result.addresses == []
    assert result.provider.organisation.id == providers["narrow"].id
    assert result.prefill() == {"provider_id": str(providers["narrow"].id), "hosting_country": "DE"}


# --- on the case page


@pytest.fixture
def traced_case(app, make, analyst):
    return make.case("action_required", by=analyst, url="http://img.example.com/x/1.html")


def trace_page(client, case):
    """Trace, then follow the redirect back to the case page (post/redirect/get)."""
    response = client.post(f"/cases/{case.id}/trace")
    assert response.status_code == 303
    assert response.location == f"/cases/{case.id}#trace"
    return client.get(response.location)


def test_trace_button_is_on_the_case_page_and_explains_itself(client, traced_case, analyst):
    page = login(client, analyst).get(f"/cases/{traced_case.id}").get_data(as_text=True)
    assert f'action="/cases/{traced_case.id}/trace#trace"' in page
    assert "Trace host" in page
    assert "This is a network action" in page


def test_nothing_is_looked_up_until_asked(app, client, traced_case, analyst):
    dns = app.extensions["casemgr.resolver"] = FakeDNS()
    login(client, analyst).get(f"/cases/{traced_case.id}")
    assert dns.calls == []


def test_trace_shows_addresses_provider_and_fills_the_forms(
    app, client, traced_case, analyst, providers
):
    dns = app.extensions["casemgr.resolver"] = FakeDNS({"img.example.com": ["192.0.2.200"]})
    response = trace_page(login(client, analyst), traced_case)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert dns.calls == ["img.example.com"]
    assert "192.0.2.200" in page
    assert "Narrow Host (DE)" in page  # by domain img.example.com
    assert "Single Host (KH)" in page  # the network holding the address
    narrow = providers["narrow"].id
    assert "What it found is filled into the action forms" in page
    notice = page[page.index('name="request_notice-provider_id"') :]
    assert f'<option selected value="{narrow}">' in notice[: notice.index("</select>")]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.trace"))
    assert entry.actor_id == analyst.id
    assert entry.details["addresses"] == ["192.0.2.200"]
    assert entry.details["provider_id"] == narrow
    db.session.expire_all()
    assert traced_case.provider_id is None  # nothing changed on the case


@pytest.mark.parametrize(
    "error", [RuntimeError("resolver broke"), TimeoutError("timed out"), LookupFailed("custom")]
)
def test_a_failing_resolver_gives_a_message_not_a_500(app, client, traced_case, analyst, error):
    app.extensions["casemgr.resolver"] = FakeDNS(error=error)
    response = trace_page(login(client, analyst), traced_case)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "img.example.com" in page


def test_a_hanging_resolver_times_out_with_a_message(
    app, client, traced_case, analyst, hanging_dns
):
    app.extensions["casemgr.resolver"] = hanging_dns
    app.config["TRACE_DNS_TIMEOUT_SECONDS"] = 0.05
    response = trace_page(login(client, analyst), traced_case)
    assert response.status_code == 200
    assert "no answer from DNS for img.example.com within 0.05 s" in response.get_data(as_text=True)


def test_trace_needs_a_signed_in_user(client, traced_case):
    response = client.post(f"/cases/{traced_case.id}/trace")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_trace_of_a_missing_case_is_404(client, analyst):
    assert login(client, analyst).post("/cases/999/trace").status_code == 404


def test_trace_is_a_post_only(client, traced_case, analyst):
    assert login(client, analyst).get(f"/cases/{traced_case.id}/trace").status_code == 405


def test_prefill_from_the_query_string(client, make, analyst, providers):
    triage = make.case("triage", by=analyst)
    page = (
        login(client, analyst)
        .get(f"/cases/{triage.id}?hosting_ip=192.0.2.200&hosting_country=DE")
        .get_data(as_text=True)
    )
    assert re.search(r'name="assess-hosting_ip"[^>]*value="192.0.2.200"', page)
    assert re.search(r'<option selected value="DE">', page)

    ready = make.case("action_required", by=analyst)
    narrow = providers["narrow"].id
    page = client.get(f"/cases/{ready.id}?provider_id={narrow}").get_data(as_text=True)
    select_html = page[page.index('name="request_notice-provider_id"') :]
    select_html = select_html[: select_html.index("</select>")]
    assert f'<option selected value="{narrow}">' in select_html


class TestCSRF:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_trace_without_the_token_is_refused(self, app, client, traced_case, analyst):
        dns = app.extensions["casemgr.resolver"] = FakeDNS()
        client.get("/login")
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login",
            data={"email": analyst.email, "password": "correct horse battery", "csrf_token": token},
        )
        assert response.status_code == 302
        assert client.post(f"/cases/{traced_case.id}/trace").status_code == 400
        assert dns.calls == []
