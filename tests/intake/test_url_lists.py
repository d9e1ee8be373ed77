"""Reading a text box of URLs, one per line: line numbers, duplicates, the limit."""

import pytest

from casemgr.intake.url_lists import LineError, TooManyURLs, parse_url_lines
from casemgr.intake.urls import (
    MSG_CONTAINS_SPACES,
    MSG_CONTROL_CHARACTERS,
    MSG_PRIVATE_HOST,
    MSG_SCHEME_NOT_ALLOWED,
)


def test_parse_url_lines_mixes_valid_and_invalid_lines():
    text = "\n".join(
        [
            "http://example.com/a",
            "",
            "ftp://example.com/b",
            "   ",
            "EXAMPLE.com/c",
            "http://localhost/",
            "not a url",
        ]
    )
    urls, errors = parse_url_lines(text)
    assert urls == ["http://example.com/a", "http://example.com/c"]
    assert errors == [
        LineError(3, "ftp://example.com/b", MSG_SCHEME_NOT_ALLOWED),
        LineError(6, "http://localhost/", MSG_PRIVATE_HOST),
        LineError(7, "not a url", MSG_CONTAINS_SPACES),
    ]


def test_parse_url_lines_collapses_duplicates_after_normalisation():
    text = "http://example.com/a\nhttp://b.example/\nEXAMPLE.COM:80/a#x\nb.example\n"
    urls, errors = parse_url_lines(text)
    assert urls == ["http://example.com/a", "http://b.example/"]
    assert errors == []


def test_parse_url_lines_ignores_blank_lines_and_counts_them_in_line_numbers():
    urls, errors = parse_url_lines("\n\n  \t\nhttp://localhost/\n\n")
    assert urls == []
    assert errors == [LineError(4, "http://localhost/", MSG_PRIVATE_HOST)]


def test_parse_url_lines_handles_windows_and_old_mac_line_endings():
    urls, errors = parse_url_lines("http://a.example/\r\nhttp://b.example/\r\rftp://c.example/\r\n")
    assert urls == ["http://a.example/", "http://b.example/"]
    assert errors == [LineError(4, "ftp://c.example/", MSG_SCHEME_NOT_ALLOWED)]


def test_parse_url_lines_reports_control_characters_on_their_own_line():
    # \x1c and \x85 are line breaks to str.splitlines(); here they stay in
    # the line and are reported.
    urls, errors = parse_url_lines(
        "http://a.example/\x1cx\nhttp://b.example/\x85\nhttp://c.example/"
    )
    assert urls == ["http://c.example/"]
    assert errors == [
        LineError(1, "http://a.example/\x1cx", MSG_CONTROL_CHARACTERS),
        LineError(2, "http://b.example/\x85", MSG_CONTROL_CHARACTERS),
    ]


def test_parse_url_lines_accepts_the_limit():
    text = "\n".join(f"http://example.com/{n}" for n in range(50))
    urls, errors = parse_url_lines(text + "\n\n\n")
    assert len(urls) == 50
    assert errors == []


def test_parse_url_lines_refuses_more_than_the_limit():
    text = "\n".join(f"http://example.com/{n}" for n in range(51))
    with pytest.raises(TooManyURLs) as caught:
        parse_url_lines(text)
    assert caught.value.count == 51
    assert caught.value.limit == 50
    assert caught.value.message == "You can send at most 50 web addresses at once."
    assert str(caught.value) == caught.value.message


def test_parse_url_lines_counts_invalid_and_duplicate_lines_towards_the_limit():
    with pytest.raises(TooManyURLs) as caught:
        parse_url_lines("http://example.com/\nhttp://example.com/\nftp://x\n", limit=2)
    assert caught.value.message == "You can send at most 2 web addresses at once."


def test_parse_url_lines_of_nothing():
    assert parse_url_lines("") == ([], [])
    assert parse_url_lines("\r\n \n\t") == ([], [])


def test_parse_url_lines_needs_a_positive_limit():
    with pytest.raises(ValueError, match="limit"):
        parse_url_lines("http://example.com/", limit=0)
