import pytest

from casemgr.intake.urls import (
    MAX_URL_LENGTH,
    MSG_CONTAINS_SPACES,
    MSG_CONTROL_CHARACTERS,
    MSG_EMAIL_ADDRESS,
    MSG_EMPTY,
    MSG_INVALID_PORT,
    MSG_NOT_A_URL,
    MSG_PRIVATE_HOST,
    MSG_SCHEME_NOT_ALLOWED,
    MSG_TOO_LONG,
    InvalidURL,
    host_of,
    normalise_url,
)

# A URL of exactly MAX_URL_LENGTH characters.
LONGEST = "http://example.com/" + "a" * (MAX_URL_LENGTH - len("http://example.com/"))

VALID = [
    # whitespace and missing scheme
    ("  http://example.com/a \t\r\n", "http://example.com/a"),
    ("\ufeff\u00a0http://example.com/a\u200b", "http://example.com/a"),
    ("example.com/a", "http://example.com/a"),
    ("//example.com/x", "http://example.com/x"),
    ("www.example.com", "http://www.example.com/"),
    ("example.com:8080/a", "http://example.com:8080/a"),
    ("example.com:80", "http://example.com/"),
    ("http:example.com/a", "http://example.com/a"),
    ("https:/example.com", "https://example.com/"),
    ("http:\\\\example.com/x", "http://example.com/x"),
    # case
    ("HTTP://EXAMPLE.COM/Path/UPPER", "http://example.com/Path/UPPER"),
    ("hTTpS://Example.Com/", "https://example.com/"),
    # empty path
    ("http://example.com", "http://example.com/"),
    ("http://example.com/", "http://example.com/"),
    ("http://example.com?q=1", "http://example.com/?q=1"),
    # ports
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com:80/a", "https://example.com:80/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("http://example.com:080/", "http://example.com/"),
    ("http://example.com:08080/", "http://example.com:8080/"),
    ("http://example.com:/a", "http://example.com/a"),
    ("http://example.com:65535/", "http://example.com:65535/"),
    # fragment
    ("http://example.com/a#frag", "http://example.com/a"),
    ("http://example.com#frag", "http://example.com/"),
    ("https://EXAMPLE.com:443?x#y", "https://example.com/?x"),
    # trailing dot of the host
    ("http://example.com./a", "http://example.com/a"),
    # userinfo dropped
    ("http://user:pass@example.com/x", "http://example.com/x"),
    ("http://user@evil.test@example.com/", "http://example.com/"),
    ("http://@example.com/", "http://example.com/"),
    # path and query kept exactly
    ("http://example.com/a/../b/./c", "http://example.com/a/../b/./c"),
    ("http://example.com/%7Euser/a%2Fb%20c", "http://example.com/%7Euser/a%2Fb%20c"),
    ("http://example.com/?b=2&a=1&a=1", "http://example.com/?b=2&a=1&a=1"),
    ("http://example.com/ü/日本?q=ü", "http://example.com/ü/日本?q=ü"),
    ("http://example.com//double//", "http://example.com//double//"),
    ("http://example.com/?", "http://example.com/?"),
    ("http://example.com/a?x=http://other.test/@y", "http://example.com/a?x=http://other.test/@y"),
    ("http://example.com/a\\b", "http://example.com/a\\b"),
    # international hosts
    ("http://BÜcher.example/", "http://xn--bcher-kva.example/"),
    ("http://münchen.de/Straße", "http://xn--mnchen-3ya.de/Straße"),
    ("http://例え.テスト/", "http://xn--r8jz45g.xn--zckzah/"),
    ("http://faß.de/", "http://xn--fa-hia.de/"),
    ("http://ｅｘａｍｐｌｅ.com。/", "http://example.com/"),
    ("http://XN--BCHER-KVA.example/", "http://xn--bcher-kva.example/"),
    ("http://ex%61mple.com/", "http://example.com/"),
    # hosts browsers reach although IDNA 2008 would not like them
    ("http://-foo-.blogspot.com/", "http://-foo-.blogspot.com/"),
    ("http://my_site.example.com/", "http://my_site.example.com/"),
    (
        "http://abcdefghijklmnopqrstuvwxyz234567.onion/",
        "http://abcdefghijklmnopqrstuvwxyz234567.onion/",
    ),
    # public IP literals
    ("http://93.184.216.34/x", "http://93.184.216.34/x"),
    ("http://93.184.216.34:80/x", "http://93.184.216.34/x"),
    ("http://1572395042/", "http://93.184.216.34/"),
    ("http://0x5d.0xb8.0xd8.0x22/", "http://93.184.216.34/"),
    ("http://0135.0270.0330.042/", "http://93.184.216.34/"),
    ("http://8.8.8.8./", "http://8.8.8.8/"),
    (
        "http://[2606:2800:220:1:248:1893:25C8:1946]/",
        "http://[2606:2800:220:1:248:1893:25c8:1946]/",
    ),
    ("http://[2001:4860:4860:0:0:0:0:8888]:8080/a", "http://[2001:4860:4860::8888]:8080/a"),
    ("http://[2606:0:0:1:0:0:0:1]/", "http://[2606:0:0:1::1]/"),
    ("http://[2606:0:0:1:0:0:1:1]/", "http://[2606::1:0:0:1:1]/"),
    ("http://[2606:4700:0:0:1:0:0:1]/", "http://[2606:4700::1:0:0:1]/"),
    ("https://[2606:4700::1]:443/", "https://[2606:4700::1]/"),
    ("http://[::ffff:93.184.216.34]/", "http://[::ffff:5db8:d822]/"),
    ("http://[64:ff9b::5db8:d822]/", "http://[64:ff9b::5db8:d822]/"),
    # length limit counts the stripped input
    (LONGEST, LONGEST),
    ("  " + LONGEST + "\n", LONGEST),
]

INVALID = [
    # empty
    ("", MSG_EMPTY),
    ("   \t\r\n ", MSG_EMPTY),
    # schemes
    ("ftp://example.com/a", MSG_SCHEME_NOT_ALLOWED),
    ("javascript:alert(1)", MSG_SCHEME_NOT_ALLOWED),
    ("data:text/html,<b>x</b>", MSG_SCHEME_NOT_ALLOWED),
    ("file:///etc/passwd", MSG_SCHEME_NOT_ALLOWED),
    ("mailto:someone@example.com", MSG_SCHEME_NOT_ALLOWED),
    ("ws://example.com/", MSG_SCHEME_NOT_ALLOWED),
    ("hxxp://example.com/", MSG_SCHEME_NOT_ALLOWED),
    ("view-source:http://example.com/", MSG_SCHEME_NOT_ALLOWED),
    # private and local IPv4, including the forms browsers accept
    ("http://127.0.0.1/", MSG_PRIVATE_HOST),
    ("http://10.1.2.3/", MSG_PRIVATE_HOST),
    ("http://172.16.0.1/", MSG_PRIVATE_HOST),
    ("http://192.168.1.1:8080/", MSG_PRIVATE_HOST),
    ("http://169.254.169.254/latest/meta-data/", MSG_PRIVATE_HOST),
    ("http://0.0.0.0/", MSG_PRIVATE_HOST),
    ("http://100.64.0.1/", MSG_PRIVATE_HOST),
    ("http://224.0.0.1/", MSG_PRIVATE_HOST),
    ("http://240.0.0.1/", MSG_PRIVATE_HOST),
    ("http://255.255.255.255/", MSG_PRIVATE_HOST),
    ("http://192.0.2.1/", MSG_PRIVATE_HOST),
    ("http://2130706433/", MSG_PRIVATE_HOST),
    ("http://0x7f000001/", MSG_PRIVATE_HOST),
    ("http://0x7f.0.0.1/", MSG_PRIVATE_HOST),
    ("http://0177.0.0.1/", MSG_PRIVATE_HOST),
    ("http://017700000001/", MSG_PRIVATE_HOST),
    ("http://127.1/", MSG_PRIVATE_HOST),
    ("http://0/", MSG_PRIVATE_HOST),
    ("http://127.0.0.1./", MSG_PRIVATE_HOST),
    ("http://%31%32%37.0.0.1/", MSG_PRIVATE_HOST),
    ("http://１２７.０.０.１/", MSG_PRIVATE_HOST),
    ("http://example.com@127.0.0.1/", MSG_PRIVATE_HOST),
    ("127.0.0.1:8000/admin", MSG_PRIVATE_HOST),
    # private and local IPv6
    ("http://[::1]/", MSG_PRIVATE_HOST),
    ("http://[::]/", MSG_PRIVATE_HOST),
    ("http://[fe80::1]/", MSG_PRIVATE_HOST),
    ("http://[fc00::1]/", MSG_PRIVATE_HOST),
    ("http://[fd12:3456:789a::1]:8080/", MSG_PRIVATE_HOST),
    ("http://[ff02::1]/", MSG_PRIVATE_HOST),
    ("http://[2001:db8::1]/", MSG_PRIVATE_HOST),
    ("http://[::ffff:127.0.0.1]/", MSG_PRIVATE_HOST),
    ("http://[::ffff:7f00:1]/", MSG_PRIVATE_HOST),
    ("http://[::ffff:192.168.0.1]/", MSG_PRIVATE_HOST),
    ("http://[2002:7f00:1::1]/", MSG_PRIVATE_HOST),
    ("http://[64:ff9b::a00:1]/", MSG_PRIVATE_HOST),
    # localhost
    ("http://localhost/", MSG_PRIVATE_HOST),
    ("http://LOCALHOST:3000/", MSG_PRIVATE_HOST),
    ("http://localhost./", MSG_PRIVATE_HOST),
    ("http://app.localhost/", MSG_PRIVATE_HOST),
    ("localhost:5000", MSG_PRIVATE_HOST),
    # too long
    (LONGEST + "a", MSG_TOO_LONG),
    ("http://" + "a" * 3000 + ".com/", MSG_TOO_LONG),
    # punycode makes the result longer than the input
    ("http://ü.example/" + "a" * (MAX_URL_LENGTH - len("http://ü.example/")), MSG_TOO_LONG),
    # control, invisible characters and spaces
    ("http://example.com/\x00", MSG_CONTROL_CHARACTERS),
    ("http://exa\x01mple.com/", MSG_CONTROL_CHARACTERS),
    ("http://example.com/a\tb", MSG_CONTROL_CHARACTERS),
    ("http://example.com/a\nb", MSG_CONTROL_CHARACTERS),
    ("\x1fhttp://example.com/", MSG_CONTROL_CHARACTERS),
    ("http://example.com/\x7f", MSG_CONTROL_CHARACTERS),
    ("http://example.com/\x85", MSG_CONTROL_CHARACTERS),
    ("http://example.com/\u200e", MSG_CONTROL_CHARACTERS),
    ("http://example.com/\u202e", MSG_CONTROL_CHARACTERS),
    ("http://example.com/\ud800", MSG_CONTROL_CHARACTERS),
    ("http://exa mple.com/", MSG_CONTAINS_SPACES),
    ("http://example.com/a b", MSG_CONTAINS_SPACES),
    ("http://a.example http://b.example", MSG_CONTAINS_SPACES),
    ("http://example.com/a\u00a0b", MSG_CONTAINS_SPACES),
    # not web addresses
    ("hello", MSG_NOT_A_URL),
    ("http://", MSG_NOT_A_URL),
    ("http:///", MSG_NOT_A_URL),
    ("https://?x=1", MSG_NOT_A_URL),
    ("http://#top", MSG_NOT_A_URL),
    ("http://user@/", MSG_NOT_A_URL),
    ("/images/a.jpg", MSG_NOT_A_URL),
    ("http://intranet/", MSG_NOT_A_URL),
    ("http://exa$mple.com/", MSG_NOT_A_URL),
    ("http://exa<mple>.com/", MSG_NOT_A_URL),
    ("http://example..com/", MSG_NOT_A_URL),
    ("http://.example.com/", MSG_NOT_A_URL),
    ("http://example.com../", MSG_NOT_A_URL),
    ("http://" + "a" * 64 + ".com/", MSG_NOT_A_URL),
    ("http://" + "a." * 127 + "com/", MSG_NOT_A_URL),
    ("http://exa\ufffdmple.com/", MSG_NOT_A_URL),
    ("http://exa%ffmple.com/", MSG_NOT_A_URL),
    ("http://exa%2fmple.com/", MSG_NOT_A_URL),
    ("http://example.com\\@evil.example/", MSG_NOT_A_URL),
    ("http://1.2.3.256/", MSG_NOT_A_URL),
    ("http://1.2.3.4.5/", MSG_NOT_A_URL),
    ("http://09.1.1.1/", MSG_NOT_A_URL),
    ("http://4294967296/", MSG_NOT_A_URL),
    ("http://example.0x10/", MSG_NOT_A_URL),
    ("http://[::1/", MSG_NOT_A_URL),
    ("http://[not-ipv6]/", MSG_NOT_A_URL),
    ("http://[]/", MSG_NOT_A_URL),
    ("http://[fe80::1%25eth0]/", MSG_NOT_A_URL),
    ("http://[2606:4700::1]x/", MSG_NOT_A_URL),
    ("http://2606:4700::1/", MSG_NOT_A_URL),
    ("http://example.com:80:80/", MSG_NOT_A_URL),
    ("someone@example.com", MSG_EMAIL_ADDRESS),
    # ports
    ("http://example.com:abc/", MSG_INVALID_PORT),
    ("http://example.com:65536/", MSG_INVALID_PORT),
    ("http://example.com:99999999999999999999/", MSG_INVALID_PORT),
    ("http://example.com:-1/", MSG_INVALID_PORT),
    ("http://example.com:８０/", MSG_INVALID_PORT),
    ("http://[2606:4700::1]:x/", MSG_INVALID_PORT),
    ("example.com:http/", MSG_INVALID_PORT),
]


def _id(value: str) -> str:
    return ascii(value if len(value) <= 60 else value[:40] + "...")


@pytest.mark.parametrize(("raw", "expected"), VALID, ids=[_id(raw) for raw, _ in VALID])
def test_normalise_url_accepts(raw, expected):
    assert normalise_url(raw) == expected


@pytest.mark.parametrize(("raw", "message"), INVALID, ids=[_id(raw) for raw, _ in INVALID])
def test_normalise_url_refuses(raw, message):
    with pytest.raises(InvalidURL) as caught:
        normalise_url(raw)
    assert caught.value.message == message
    assert str(caught.value) == message
    assert caught.value.code


@pytest.mark.parametrize("expected", sorted({out for _, out in VALID}))
def test_normalise_url_is_idempotent(expected):
    assert normalise_url(expected) == expected


def test_invalid_url_is_a_value_error_with_a_code():
    with pytest.raises(ValueError, match="http:// or https://") as caught:
        normalise_url("ftp://example.com/")
    assert caught.value.code == "scheme_not_allowed"


def test_too_long_message_matches_the_limit():
    assert f"{MAX_URL_LENGTH:,}" in MSG_TOO_LONG


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com/a", "example.com"),
        ("https://example.com:8443/a?b#c", "example.com"),
        ("http://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("http://BÜcher.example/", "xn--bcher-kva.example"),
        ("http://93.184.216.34/", "93.184.216.34"),
        ("http://[2606:4700::1]:8080/", "2606:4700::1"),
        ("example.com", "example.com"),
    ],
)
def test_host_of(url, host):
    assert host_of(url) == host


def test_host_of_refuses_what_normalise_url_refuses():
    with pytest.raises(InvalidURL):
        host_of("http://localhost/")
