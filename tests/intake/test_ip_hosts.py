"""IP address hosts read the way browsers read them (normalise_url's tables in
test_urls.py go through these too)."""

import ipaddress

import pytest

from casemgr.intake import ip_hosts


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("192.0.2.1", "192.0.2.1"),
    ],
)
def test_ipv4_hosts_in_every_form_browsers_accept(host, address):
    assert ip_hosts.ends_in_a_number(host)
    assert ip_hosts.parse_ipv4(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "1.2.3.0xg", "1.2.3.09"])
def test_what_is_no_ipv4_address_is_none(host):
    assert ip_hosts.parse_ipv4(host) is None


def test_names_do_not_end_in_a_number():
    assert not ip_hosts.ends_in_a_number("example.com")


@pytest.mark.parametrize("text", ["fe80::1%eth0", "1::2::3", "example"])
def test_what_is_no_ipv6_address_is_none(text):
    assert ip_hosts.parse_ipv6(text) is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("10.0.0.1", False),
        ("224.0.0.1", False),
        ("2606:4700::1", True),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped: judged by the IPv4 address
        ("2002:0808:0808::", True),  # 6to4 of 8.8.8.8
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ],
)
def test_is_public(address, public):
    assert ip_hosts.is_public(ipaddress.ip_address(address)) is public


def test_ipv6_is_written_compressed_and_the_same_in_every_python():
    assert (
        ip_hosts.format_ipv6(ipaddress.IPv6Address("2001:DB8:0:0:1:0:0:1")) == "2001:db8::1:0:0:1"
    )
    assert ip_hosts.format_ipv6(ipaddress.IPv6Address("::ffff:8.8.8.8")) == "::ffff:808:808"
