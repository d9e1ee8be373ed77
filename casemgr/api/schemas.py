"""The JSON Schema vocabulary every API resource shares, and the error envelopes.

Each feature's ``schemas`` module builds its response bodies and their schemas
from these blocks, side by side; ``openapi.py`` publishes the features' schemas
with :data:`ERROR_SCHEMAS`. Objects are closed (``additionalProperties:
false``): the tests validate every answer against the document, so a field
added without its schema, or the other way round, fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from casemgr.countries import ISO_COUNTRY_CODES
from casemgr.database import MAX_ID

Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Json) -> Json:
    """``schema`` or null."""
    if "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    widened = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened


def closed_object(properties: Json, *, optional: Iterable[str] = (), **extra: Any) -> Json:
    """An object with exactly these properties, all required except ``optional``."""
    skipped = set(optional)
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in skipped],
        "additionalProperties": False,
        **extra,
    }


def enum_of(values: type[StrEnum] | Sequence[str]) -> Json:
    return {"type": "string", "enum": [str(value) for value in values]}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT = {"type": "string"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC offset included"}
COUNTRY = {
    "type": "string",
    "description": "ISO 3166-1 alpha-2 country code",
    "examples": ["KH"],
}
VERSION = {"type": "integer", "minimum": 0}

# --- what requests may send, as the server reads it

# What the input guard (casemgr.inputs) refuses in any text of a request: control
# characters other than tab and line breaks. The document adds it to every text a
# request carries that has no stricter pattern (openapi.py).
GUARDED_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
# Text that is empty or blank: where a field is optional, it means "not given".
BLANK = {"type": "string", "pattern": r"^[^\S\x0b\x0c\x1c-\x1f]*$"}
# A date or date-time as Python's ISO 8601 reader takes it beyond RFC 3339 (no offset,
# a space for the T, the seconds or minutes left out), blank space around it ignored.
ISO_TEXT = {
    "type": "string",
    "pattern": r"^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}([.,]\d{1,6})?)?)?"
    r"(Z|[+-]\d{2}(:?\d{2})?)?)?\s*$",
}
# A country code as the server reads it: any case, blank space around it ignored.
COUNTRY_GIVEN = {
    "type": "string",
    "pattern": r"^\s*("
    + "|".join(f"[{a}{a.lower()}][{b}{b.lower()}]" for a, b in sorted(ISO_COUNTRY_CODES))
    + r")\s*$",
    "description": "ISO 3166-1 alpha-2 country code, any case (`KH`, `kh`)",
    "examples": ["KH"],
}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- errors

_ERROR_PROPERTIES: Json = {
    "error": {**TEXT, "description": "A stable code for programs"},
    "message": {**TEXT, "description": "For people"},
}

ERROR_SCHEMAS: dict[str, Json] = {
    "Error": {
        "type": "object",
        "properties": _ERROR_PROPERTIES,
        "required": ["error", "message"],
        "description": "Every error has this envelope; some add fields.",
    },
    "ValidationError": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "validation"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Messages by the name of the field, query parameter or header "
                "at fault; a bad URL is named by its index: `urls[3]: message`",
            },
        }
    ),
    "InvalidTransition": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "invalid_transition"},
            "allowed_actions": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "StaleVersion": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "stale_version"},
            "version": {**VERSION, "description": "The case's current version"},
        },
        optional=("version",),
    ),
}
