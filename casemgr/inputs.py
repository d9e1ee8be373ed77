"""The one guard on text coming in: every request passes it before any view runs.

Control characters have no business in what the app reads, and PostgreSQL
cannot store two kinds of them at all (NUL, and the unpaired surrogates a JSON
``\\ud800`` escape makes). The rule, the same for every page and the API: a
control character other than TAB, LF and CR, or an unpaired surrogate, in

- a **query parameter** (its name or value),
- a **JSON body** (every string and every key, at any depth; the error names
  the top-level field that holds it),
- a **form field** (its name, and its value unless the field is free text),
- a **header the app reads** (:data:`READ_HEADERS`)

is refused before any view runs: ValidationFailed naming the field, answered
with the JSON envelope (422) under /api/ and with an error page (400)
elsewhere.

**Free text** (:data:`FREE_TEXT_FIELDS`: what a person types or pastes, such as
a report's description, a note, a provider's message) passes the guard: its
form refuses the characters itself and shows the form again with the person's
text, the characters made visible, and the error next to the field, so that
nobody loses what they wrote to a stray control pasted with it.
tests/test_inputs.py checks that every multi-line field of every form is listed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request

from casemgr.errors import ValidationFailed
from casemgr.privacy import ANONYMOUS_BLUEPRINTS

# C0 controls except TAB, LF and CR; and every surrogate (a str holds one only
# when it is unpaired: a JSON escape, or bytes decoded with surrogateescape).
UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

# The headers whose values the app (or a library it uses) reads as text.
READ_HEADERS = ("Authorization", "If-Match", "Origin", "Accept-Language", "Content-Type")

# Form fields whose value is free text (a sub-form's or a prefixed form's field
# is matched by its last part: "url_12-message", "note-body").
FREE_TEXT_FIELDS = frozenset(
    {
        "address",
        "body",
        "contact",
        "description",
        "domains",
        "hosted_by",
        "message",
        "networks",
        "notes",
        "reason",
        "urls",
    }
)

MESSAGE = "must not contain control characters other than tab and line breaks (such as NUL)"

_FORM_MIMETYPE = "application/x-www-form-urlencoded"


class UnwantedCharacters(ValidationFailed):
    """Input holding characters the guard refuses (an error page says 400, the API 422)."""


def init_app(app: Flask) -> None:
    # The first hook of all: CSRF, sessions and the views see only guarded input.
    app.before_request_funcs.setdefault(None, []).insert(0, guard_request)


def has_unwanted(text: str) -> bool:
    return UNWANTED.search(text) is not None


def shown(name: str) -> str:
    """A field's name as an error may show it: unwanted characters as ``\\xNN`` escapes."""
    return UNWANTED.sub(lambda match: f"\\x{ord(match.group()):02x}", name)


def guard_request() -> None:
    """Refuse or clean the request's text (see the module's rule)."""
    fields: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if has_unwanted(name) or has_unwanted(value):
            fields[shown(name)] = [MESSAGE]
    for header in READ_HEADERS:
        value = request.headers.get(header)
        if value is not None and has_unwanted(value):
            fields[header] = [MESSAGE]
    if request.is_json:
        fields.update(_json_problems())
    elif request.mimetype == _FORM_MIMETYPE or (
        request.mimetype == "multipart/form-data" and _takes_uploads()
    ):
        fields.update(_form_problems())
    if fields:
        raise UnwantedCharacters(fields)


def _form_problems() -> dict[str, list[str]]:
    if request.mimetype == _FORM_MIMETYPE:
        # Keep the raw body readable after parsing (the public form checks its encoding).
        request.get_data(cache=True)
    problems = {}
    for name, value in request.form.items(multi=True):
        if has_unwanted(name) or (not is_free_text(name) and has_unwanted(value)):
            problems[shown(name)] = [MESSAGE]
    return problems


def _takes_uploads() -> bool:
    """A staff page: a file sent anywhere else (the anonymous pages above all:
    it could be the material reported) is refused unread by the page, never
    parsed (spooled to disk) here."""
    return request.blueprint not in (None, "api", *ANONYMOUS_BLUEPRINTS)


def is_free_text(name: str) -> bool:
    return name.rpartition("-")[2] in FREE_TEXT_FIELDS


def _json_problems() -> dict[str, list[str]]:
    """The body's top-level fields that hold unwanted text at any depth (the
    whole ``body`` when it is not an object).

    A body that is not JSON is left for the view to refuse as it does."""
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return {}
    fields = body.items() if isinstance(body, dict) else [("body", body)]
    return {shown(name): [MESSAGE] for name, value in fields if not _clean(name, value)}


def _clean(*values: Any) -> bool:
    """No text in ``values``, keys included, holds an unwanted character
    (iterative: JSON nests deeper than Python recurses)."""
    pending = list(values)
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if has_unwanted(value):
                return False
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
    return True
