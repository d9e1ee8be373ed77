"""The HTTP part of the removal check against real servers on 127.0.0.1."""

from __future__ import annotations

import http.client

import pytest

from casemgr.checks.probe import Outcome, ProbeSettings, probe, user_agent
from tests.checks.conftest import BIG_BODY, FakeResolver


@pytest.fixture
def settings(resolver) -> ProbeSettings:
    return ProbeSettings(
        timeout=2.0,
        max_redirects=3,
        allow_private=True,
        user_agent="casemgr-removal-check (Test Hotline; hotline@example.org)",
        resolver=resolver,
    )


@pytest.mark.parametrize(
    ("path", "outcome", "status"),
    [("/ok", Outcome.LIVE, 200), ("/404", Outcome.GONE, 404), ("/410", Outcome.GONE, 410)],
)
def test_one_head_request_and_its_status(site, settings, path, outcome, status):
    result = probe(site.url(path), settings)
    assert (result.outcome, result.status_code) == (outcome, status)
    assert result.redirects == 0 and result.final_location is None and result.error is None
    assert [(seen.method, seen.path) for seen in site.requests] == [("HEAD", path)]


def test_sends_only_host_user_agent_and_connection(site, settings):
    probe(site.url("/ok?a=1"), settings)
    (seen,) = site.requests
    assert seen.path == "/ok?a=1"
    assert seen.headers == {
        "Host": f"site.test:{site.port}",
        "User-Agent": "casemgr-removal-check (Test Hotline; hotline@example.org)",
        "Connection": "close",
    }


def test_no_cookie_is_sent_back_across_redirects(site, settings):
    """Every answer sets a cookie; no request carries one, nor a Referer."""
    result = probe(site.url("/to-404"), settings)
    assert result.outcome == Outcome.GONE
    assert len(site.requests) == 2
    for seen in site.requests:
        assert seen.method == "HEAD"
        assert not {name.lower() for name in seen.headers} & {"cookie", "referer"}


def test_a_redirect_to_404_is_gone_and_says_where(site, settings):
    result = probe(site.url("/to-404"), settings)
    assert (result.outcome, result.status_code, result.redirects) == (Outcome.GONE, 404, 1)
    assert result.final_location == site.url("/404")


def test_a_redirect_loop_is_an_outcome(site, settings):
    result = probe(site.url("/loop-a"), settings)
    assert result.outcome == Outcome.TOO_MANY_REDIRECTS
    assert "loop" in result.error
    assert result.redirects == 1 and result.final_location == site.url("/loop-a")
    assert len(site.requests) == 2
    assert site.methods() == {"HEAD"}


def test_at_most_max_redirects_are_followed(site, settings):
    assert probe(site.url("/chain/3"), settings).outcome == Outcome.LIVE
    site.requests.clear()
    result = probe(site.url("/chain/4"), settings)
    assert result.outcome == Outcome.TOO_MANY_REDIRECTS
    assert result.error == "more than 3 redirects"
    assert result.status_code == 307 and result.redirects == 3
    assert len(site.requests) == 4  # the first request and three redirects, no more


def test_a_server_answering_200_to_everything_is_live(everything_ok, settings):
    result = probe(everything_ok.url("/removed-long-ago"), settings)
    assert (result.outcome, result.status_code) == (Outcome.LIVE, 200)
    assert everything_ok.methods() == {"HEAD"}


def test_a_body_sent_to_head_is_never_read(site, settings, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the body was read")

    monkeypatch.setattr(http.client.HTTPResponse, "read", never)
    monkeypatch.setattr(http.client.HTTPResponse, "readinto", never)
    result = probe(site.url("/big-body"), settings)
    assert (result.outcome, result.status_code) == (Outcome.LIVE, 200)
    site.server.shutdown()  # waits for the handler: it has recorded what it sent
    assert site.body_bytes_sent and site.body_bytes_sent[0] < BIG_BODY


def test_a_server_that_accepts_and_hangs_times_out(hanging, resolver):
    settings = ProbeSettings(timeout=0.5, allow_private=True, resolver=resolver)
    result = probe(f"http://site.test:{hanging}/x", settings)
    assert result.outcome == Outcome.ERROR
    assert result.error == "no answer within 0.5 s"


def test_a_server_that_trickles_headers_is_cut_off(trickling, resolver):
    settings = ProbeSettings(timeout=0.5, allow_private=True, resolver=resolver)
    result = probe(f"http://site.test:{trickling}/x", settings)
    assert (result.outcome, result.error) == (Outcome.ERROR, "no answer within 0.5 s")


def test_a_closed_port_is_an_error(settings, hanging):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once closed
    result = probe(f"http://site.test:{port}/x", settings)
    assert result.outcome == Outcome.ERROR
    assert result.error.startswith("cannot connect to 127.0.0.1")


def test_nxdomain_is_unresolvable(settings, resolver):
    result = probe("http://gone.test/x", settings)
    assert (result.outcome, result.status_code) == (Outcome.UNRESOLVABLE, None)
    assert result.error == "gone.test does not exist in DNS"
    assert resolver.asked == ["gone.test"]


def test_a_name_without_addresses_is_unresolvable(site):
    settings = ProbeSettings(resolver=FakeResolver({"empty.test": []}))
    assert probe("http://empty.test/", settings).outcome == Outcome.UNRESOLVABLE


def test_a_dns_failure_is_an_error_not_unresolvable(site):
    def broken(host):
        raise OSError("temporary failure in name resolution")

    result = probe("http://site.test/", ProbeSettings(resolver=broken))
    assert result.outcome == Outcome.ERROR
    assert "temporary failure" in result.error


def test_a_dns_that_never_answers_times_out():
    import threading

    stuck = threading.Event()

    def slow(host):
        stuck.wait(5)
        return ["127.0.0.1"]

    result = probe("http://site.test/", ProbeSettings(timeout=0.2, resolver=slow))
    stuck.set()
    assert result.outcome == Outcome.ERROR
    assert result.error == "no answer from DNS for site.test within 0.2 s"


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://site.test:{port}/ok", "127.0.0.1"),
        ("http://private.test:{port}/ok", "10.0.0.7"),
        ("http://metadata.test/latest/meta-data/", "169.254.169.254"),
        ("http://mixed.test:{port}/ok", "127.0.0.1"),
        ("http://127.0.0.1:{port}/ok", "127.0.0.1"),
        ("http://[::1]:{port}/ok", "::1"),
    ],
)
def test_private_addresses_are_refused_unless_allowed(site, resolver, url, address):
    settings = ProbeSettings(timeout=1.0, resolver=resolver)  # allow_private off
    result = probe(url.format(port=site.port), settings)
    assert result.outcome == Outcome.REFUSED
    assert f"resolves to {address}, which is not a public address" in result.error
    assert site.requests == []


def test_every_redirect_is_checked_for_private_addresses(site, resolver, monkeypatch):
    """127.0.0.1 stands in for a public address here; the redirect goes to 10.1.2.3."""
    from casemgr.checks import probe as probe_module

    monkeypatch.setattr(probe_module, "_public", lambda address: address.startswith("127."))
    settings = ProbeSettings(timeout=1.0, resolver=resolver)
    result = probe(site.url("/to-private"), settings)
    assert result.outcome == Outcome.REFUSED
    assert result.error == "10.1.2.3 resolves to 10.1.2.3, which is not a public address"
    assert (result.redirects, result.final_location) == (1, "http://10.1.2.3/x")
    assert len(site.requests) == 1


@pytest.mark.parametrize("url", ["ftp://site.test/x", "file:///etc/passwd", "gopher://a.test/"])
def test_only_http_and_https(url, settings, site):
    result = probe(url, settings)
    assert result.outcome == Outcome.REFUSED
    assert result.error.startswith("only http and https are checked")


def test_a_redirect_to_another_scheme_is_not_followed(site, settings):
    result = probe(site.url("/to-ftp"), settings)
    assert result.outcome == Outcome.REFUSED
    assert result.final_location == "ftp://files.test/x" and result.redirects == 1
    assert len(site.requests) == 1


def test_https_verifies_the_certificate(site, settings):
    """A plain-HTTP server on the https port: the TLS handshake fails, an error."""
    result = probe(f"https://site.test:{site.port}/ok", settings)
    assert result.outcome == Outcome.ERROR
    assert result.error.startswith("TLS failed")


def test_user_agent_is_plain_ascii_naming_the_hotline():
    config = {
        "HOTLINE_NAME": "ខ្មែរ Hotline (KH)\r\nX-Injected: 1",
        "HOTLINE_WEBSITE": "https://hotline.example.org",
        "HOTLINE_EMAIL": "hotline@example.org",
    }
    assert user_agent(config) == (
        "casemgr-removal-check (Hotline KHX-Injected: 1; https://hotline.example.org; "
        "hotline@example.org)"
    )
    assert user_agent({}) == "casemgr-removal-check"


def test_non_ascii_paths_are_percent_encoded(site, settings):
    probe(site.url("/ok/ផ្ទះ?q=ា b"), settings)
    (seen,) = site.requests
    assert seen.path.isascii() and " " not in seen.path


def test_https_with_a_trusted_certificate(tls_site, resolver):
    import ssl

    trusting = ssl.create_default_context(cafile=tls_site.ca_file)
    settings = ProbeSettings(
        timeout=2.0, allow_private=True, resolver=resolver, ssl_context=trusting
    )
    url = f"https://site.test:{tls_site.site.port}/404"
    assert probe(url, settings).outcome == Outcome.GONE
    assert [seen.method for seen in tls_site.site.requests] == ["HEAD"]


def test_https_with_an_untrusted_certificate_is_an_error(tls_site, resolver):
    settings = ProbeSettings(timeout=2.0, allow_private=True, resolver=resolver)
    result = probe(f"https://site.test:{tls_site.site.port}/404", settings)
    assert result.outcome == Outcome.ERROR
    assert result.error.startswith("TLS certificate not accepted: self-signed certificate")
    assert tls_site.site.requests == []


def test_https_for_another_name_is_an_error(tls_site, resolver):
    import ssl

    trusting = ssl.create_default_context(cafile=tls_site.ca_file)
    settings = ProbeSettings(
        timeout=2.0, allow_private=True, resolver=resolver, ssl_context=trusting
    )
    result = probe(f"https://other.test:{tls_site.site.port}/404", settings)
    assert result.outcome == Outcome.ERROR
    assert result.error.startswith("TLS certificate not accepted: Hostname mismatch")
    assert tls_site.site.requests == []
