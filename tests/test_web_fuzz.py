"""The web side fuzzed: every HTML route, as every kind of caller, gets arbitrary
text, bytes and sizes in its query parameters and form fields (the names its
pages' forms use, and others), and never answers 5xx or logs a traceback.

Bounded (derandomized; three explicit examples and EXAMPLES generated ones per
route and caller) so that it costs about a
minute on each database; CSRF is off, as in every test.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.conftest import login
from tests.test_permissions import _concrete

EXAMPLES = 10
ROLES = ("anonymous", "analyst", "supervisor", "admin")
# Sign the caller out (the next route signs in again, as every route does).
SIGNING_OUT = {"/logout", "/account/sessions/end"}

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40) | st.text(
    st.characters(max_codepoint=0x9F, exclude_categories=["Cs"]), max_size=10
)
_values = st.one_of(
    _text,
    st.binary(max_size=40),
    st.sampled_from(
        ["", " ", "0", "-1", "1", "2", "me", "true", "1e309", "NaN", "9" * 30, "%", "&",
         "2026-11-28", "0001-01-01", "9999-12-31", "2026-02-30", "2026-11-28T09:00",
         "0001-01-01T00:00", "9999-12-31T23:59", "2026-10", "0000-00", "XX", "KH",
         "http://example.com/a", "\x00", "a\x00b", "\x1b[31m", "\ufeff", "\u202e"]
    ),
    st.integers(0, 70_000).map(lambda n: "x" * n),  # sizes: up to past the body limit
)  # fmt: skip


def _html_routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api/", "/static/"))
        for method in rule.methods & {"GET", "POST"}
    )


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_FIELD = re.compile(r"<(?:input|select|textarea|button)\b[^>]*?\bname=\"([^\"]+)\"")


def _attribute(attributes: str, name: str) -> str | None:
    match = re.search(rf'\b{name}="([^"]*)"', attributes)
    return match.group(1).replace("&amp;", "&") if match else None


def _field_names(client, paths: list[str]) -> dict[tuple[str, str], set[str]]:
    """(method, path) -> the names of the fields the pages' forms send there."""
    names: dict[tuple[str, str], set[str]] = {}
    for path in paths:
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for attributes, body in _FORM.findall(response.get_data(as_text=True)):
            action = urlsplit(_attribute(attributes, "action") or path).path
            method = (_attribute(attributes, "method") or "get").upper()
            names.setdefault((method, _generic(action)), set()).update(_FIELD.findall(body))
    return names


def _generic(rule: str) -> str:
    return re.sub(r"/\d+", "/<id>", rule)


@pytest.fixture
def world(app, make):
    """Something of each kind for the routes' ids, and the callers."""
    users = {role: make.user(role) for role in ROLES[1:]}
    routes = [(method, rule, _concrete(rule, make)) for method, rule in _html_routes(app)]
    for status in ("triage", "notice_sent"):
        make.case(status, by=users["analyst"])
    client = app.test_client()
    login(client, users["admin"])
    names = _field_names(client, [path for method, _, path in routes if method == "GET"])
    login(client, users["supervisor"])
    for key, more in _field_names(
        client, [path for method, _, path in routes if method == "GET"]
    ).items():
        names.setdefault(key, set()).update(more)
    return users, routes, names


def test_no_route_answers_5xx_to_anything(app, world, caplog):
    users, routes, names = world
    every_name = sorted({name for found in names.values() for name in found})
    caplog.set_level(logging.ERROR)
    seen = {}
    for role in ROLES:
        for method, rule, path in routes:
            client = app.test_client()
            if role != "anonymous":
                factories.forget_last_code(users[role])
                login(client, users[role])
            own = sorted(
                names.get((method, _generic(path)), set())
                | names.get(("GET", _generic(path)), set())
            )
            fields = own or every_name[:40]
            seen[f"{method} {rule}"] = len(own)

            _fuzzer(client, role, method, path, fields, caplog)()
    # The pages' forms were read: every route a form sends to got its names.
    print(
        f"{len(seen)} routes x {len(ROLES)} callers x {EXAMPLES} examples; with their own"
        f" field names: {sum(1 for count in seen.values() if count)}"
    )
    assert sum(1 for count in seen.values() if count) >= 25


def _fuzzer(client, role: str, method: str, path: str, fields: list[str], caplog):
    """Hypothesis' test of one route as one caller."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # Every field at once with what has broken pages before (NUL on PostgreSQL,
    # years Python cannot count from, sizes), then the generated examples.
    @example([(name, "a\x00b") for name in fields], [(name, "\x00") for name in fields])
    @example([(name, "0001-01-01") for name in fields], [(name, "0001-01") for name in fields])
    @example([(name, "x" * 5000) for name in fields], [(name, "9" * 30) for name in fields])
    @given(
        st.lists(st.tuples(st.sampled_from(fields) | _text, _values), max_size=6),
        st.lists(st.tuples(st.sampled_from(fields) | _text, _values), max_size=3),
    )
    def fuzz(form, query):
        if method == "POST" and path in SIGNING_OUT:
            form, query = [], []
        request = f"{role}: {method} {path}?{urlencode(query)} body={urlencode(form)!r}"
        caplog.clear()
        response = client.open(
            path,
            method=method,
            query_string=urlencode(query),
            data=urlencode(form) if method == "POST" else None,
            content_type="application/x-www-form-urlencoded",
        )
        response.close()
        assert response.status_code < 500, request
        tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= 40]
        assert not tracebacks, f"{request}: {tracebacks[0].getMessage()}"

    return fuzz
