"""The web plumbing of casemgr/http.py that is not error handling (that is in
test_security.py): reading ?page= and ``next`` from a request."""

from __future__ import annotations

import pytest
from flask import Flask

from casemgr.http import MAX_PAGE, page_arg, safe_next_path


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("", 1),
        ("?page=3", 3),
        ("?page=0", 1),
        ("?page=-2", 1),
        ("?page=two", 1),
        ("?page=%C2%B2", 1),  # a digit to str.isdigit(), not to int()
        ("?page=99999999999999999999", MAX_PAGE),
    ],
)
def test_page_arg(query, page):
    with Flask(__name__).test_request_context(f"/list{query}"):
        assert page_arg() == page


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/cases/?view=mine", "/cases/?view=mine"),
        (None, None),
        ("", None),
        ("cases", None),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("/cases/\x00", None),
    ],
)
def test_safe_next_path_keeps_only_paths_of_this_site(target, safe):
    assert safe_next_path(target) == safe
