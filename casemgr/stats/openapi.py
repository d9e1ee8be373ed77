"""The OpenAPI 3.1 description of GET /api/v1/stats, to merge into the API document.

Paths are relative to the API's server URL (``/api/v1``). Schemas are inline
(JSON Schema 2020-12, as OpenAPI 3.1 uses), so the fragment stands alone;
tests/stats/test_api.py checks real answers against it.
"""

from __future__ import annotations

from typing import Any

from casemgr.countries import ISO_COUNTRY_CODES

_COUNT = {"type": "integer", "minimum": 0}
_SECONDS = {
    "type": ["number", "null"],
    "description": "Seconds; null when there is no duration to summarise.",
}


def _rows(key: str, key_schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {
            "type": "object",
            "required": [key, "count"],
            "properties": {key: key_schema, "count": _COUNT},
        },
    }


_NULLABLE_TEXT = {"type": ["string", "null"]}
_SUMMARY = {
    "type": "object",
    "required": ["count", "median_seconds", "p90_seconds"],
    "properties": {"count": _COUNT, "median_seconds": _SECONDS, "p90_seconds": _SECONDS},
}

FIGURES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Counts, times from receipt and open cases describe the URLs reported in the period; "
        "'notices' and times.notice_to_removal describe the notices sent in it. Medians and "
        "90th percentiles interpolate linearly between the nearest values (as PostgreSQL's "
        "percentile_cont). Durations are whole seconds before interpolation."
    ),
    "required": [
        "period",
        "as_of",
        "filters",
        "reports_received",
        "urls_reported",
        "unique_urls",
        "assessed",
        "illegal",
        "closed_without_action",
        "by_classification",
        "by_resolution",
        "by_site_type",
        "by_hosting_country",
        "by_provider",
        "by_month",
        "times",
        "notices",
        "open",
    ],
    "properties": {
        "period": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
            },
        },
        "as_of": {"type": "string", "format": "date-time"},
        "filters": {
            "type": "object",
            "required": ["hosting_country", "provider_id"],
            "properties": {
                "hosting_country": _NULLABLE_TEXT,
                "provider_id": {"type": ["integer", "null"]},
            },
        },
        "reports_received": {**_COUNT, "description": "Submissions (one may list many URLs)."},
        "urls_reported": {**_COUNT, "description": "Cases: one per reported URL."},
        "unique_urls": {**_COUNT, "description": "Distinct normalised URLs."},
        "assessed": _COUNT,
        "illegal": {**_COUNT, "description": "Assessed illegal_baseline or illegal_national."},
        "closed_without_action": {
            **_COUNT,
            "description": "Closed with no notice, forwarding or police referral.",
        },
        "by_classification": _rows("key", _NULLABLE_TEXT, "null: not assessed."),
        "by_resolution": _rows("key", _NULLABLE_TEXT, "null: still open."),
        "by_site_type": _rows("key", _NULLABLE_TEXT, "null: not recorded."),
        "by_hosting_country": _rows(
            "key", _NULLABLE_TEXT, "ISO 3166-1 alpha-2, largest first; null: not recorded."
        ),
        "by_provider": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["provider_id", "name", "count"],
                "properties": {
                    "provider_id": {"type": ["integer", "null"]},
                    "name": _NULLABLE_TEXT,
                    "count": _COUNT,
                },
            },
        },
        "by_month": _rows("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "UTC months."),
        "by_day": _rows(
            "day",
            {"type": "string", "format": "date"},
            "UTC days; only for periods of up to 92 days.",
        ),
        "times": {
            "type": "object",
            "required": [
                "receipt_to_assessment",
                "receipt_to_first_action",
                "receipt_to_removal",
                "notice_to_removal",
            ],
            "properties": {
                "receipt_to_assessment": _SUMMARY,
                "receipt_to_first_action": _SUMMARY,
                "receipt_to_removal": _SUMMARY,
                "notice_to_removal": {
                    **_SUMMARY,
                    "description": "Removal before the notice counts as 0.",
                },
            },
        },
        "notices": {
            "type": "object",
            "required": ["notified", "removed", "removed_within", "time_to_removal"],
            "properties": {
                "notified": _COUNT,
                "removed": _COUNT,
                "removed_within": {
                    "type": "array",
                    "description": (
                        "Share of notified URLs removed within 1, 3 and 7 days of the notice. "
                        "measurable leaves out notices younger than the window whose URL is "
                        "not removed yet; share is null when nothing is measurable."
                    ),
                    "items": {
                        "type": "object",
                        "required": ["days", "removed", "measurable", "share"],
                        "properties": {
                            "days": {"type": "integer", "enum": [1, 3, 7]},
                            "removed": _COUNT,
                            "measurable": _COUNT,
                            "share": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                        },
                    },
                },
                "time_to_removal": _rows("bucket", {"type": "string"}, "A histogram."),
            },
        },
        "open": {
            "type": "object",
            "required": ["total", "overdue", "by_state"],
            "properties": {
                "total": _COUNT,
                "overdue": _COUNT,
                "by_state": _rows("state", {"type": "string"}, "Every open state, in order."),
            },
        },
    },
}

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


# Any case, blank space around it ignored (casemgr/stats/selection.py).
_COUNTRY_PATTERN = (
    r"^\s*("
    + "|".join(f"[{a}{a.lower()}][{b}{b.lower()}]" for a, b in sorted(ISO_COUNTRY_CODES))
    + r")\s*$"
)


def _date_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "string", "format": "date"},
    }


OPENAPI_PATHS: dict[str, Any] = {
    "/stats": {
        "get": {
            "operationId": "getStats",
            "summary": "The published figures of a period",
            "description": (
                "For supervisors and admins, as the statistics pages are: an analyst's token "
                "gets 403 (docs/api.md, What changed)."
            ),
            "tags": ["statistics"],
            "security": [{"bearerAuth": []}],
            "parameters": [
                _date_parameter("from", "First day, YYYY-MM-DD (UTC); not in the future."),
                _date_parameter("to", "Last day, YYYY-MM-DD (UTC), included; not before from."),
                {
                    "name": "country",
                    "in": "query",
                    "required": False,
                    "description": "Only cases hosted in this country (ISO 3166-1 alpha-2, "
                    "any case; empty: every country).",
                    "schema": {
                        "anyOf": [
                            {"type": "string", "pattern": _COUNTRY_PATTERN},
                            {"type": "string", "pattern": r"^[^\S\x0b\x0c\x1c-\x1f]*$"},
                        ]
                    },
                },
                {
                    "name": "provider",
                    "in": "query",
                    "required": False,
                    "description": "Only cases of this hosting provider (organisation id; "
                    "not one: 422; empty: every provider).",
                    "schema": {
                        "anyOf": [
                            {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                            {"type": "string", "const": ""},
                        ]
                    },
                },
            ],
            "responses": {
                "200": {
                    "description": "The figures.",
                    "content": {"application/json": {"schema": FIGURES_SCHEMA}},
                },
                "401": {
                    "description": "No valid bearer token.",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "403": {
                    "description": "The token's account is not a supervisor or an admin.",
                    "content": {"application/json": {"schema": _ERROR}},
                },
                "422": {
                    "description": (
                        "A bad parameter; fields names each one (from, to, country, provider)."
                    ),
                    "content": {"application/json": {"schema": _ERROR}},
                },
            },
        }
    }
}
