"""What the organisations API says and hears, and the JSON Schema of each, side by side.

The bodies of ``casemgr/directory/api.py`` are built here, next to the schemas
that ``casemgr/api/openapi.py`` publishes for them (:data:`SCHEMAS`) and the
schema of the request that creates an organisation (:data:`ORGANISATION_REQUEST`),
from which the request is read too. Objects are closed: the tests validate every
answer against the document.
"""

from __future__ import annotations

from collections.abc import Iterable

from casemgr.api.schemas import (
    COUNTRY,
    ID,
    TEXT,
    TIME,
    Json,
    closed_object,
    enum_of,
    iso,
    nullable,
    ref,
)
from casemgr.directory.inputs import (
    LANGUAGES,
    MAX_ADDRESS_LENGTH,
    MAX_API_TOKEN_LENGTH,
    MAX_NAME_LENGTH,
)
from casemgr.directory.models import FORWARD_BY, MAX_API_BASE_URL_LENGTH, Organisation
from casemgr.domain import OrgKind


def organisation(record: Organisation) -> Json:
    return {
        "id": record.id,
        "kind": record.kind,
        "name": record.name,
        "country": record.country,
        "email": record.email,
        "language": record.language,
        "address": record.address,
        "trust_removal_reports": record.trust_removal_reports,
        "api_base_url": record.api_base_url,
        "forward_by": record.forward_by,
        "has_api_token": record.has_api_token,
        "created_at": iso(record.created_at),
    }


def organisation_list(records: Iterable[Organisation]) -> Json:
    return {"items": [organisation(record) for record in records]}


ORGANISATION_REQUEST: Json = closed_object(
    {
        "kind": enum_of(OrgKind),
        "name": {**TEXT, "maxLength": MAX_NAME_LENGTH},
        "country": nullable(COUNTRY),
        "email": nullable({**TEXT, "format": "email"}),
        "language": {
            **enum_of(LANGUAGES),
            "default": "en",
            "description": "Language of the notices",
        },
        "address": {**TEXT, "maxLength": MAX_ADDRESS_LENGTH, "default": ""},
        "trust_removal_reports": {
            "type": "boolean",
            "default": False,
            "description": "Hosting providers and partner hotlines: their `removed` (on a "
            "letter's response page, or over the API) closes the case without an analyst "
            "verifying it",
        },
        "api_base_url": {
            **nullable({**TEXT, "maxLength": MAX_API_BASE_URL_LENGTH}),
            "description": "Partner hotlines running casemgr: the base URL of their "
            "installation (http or https, no credentials, query or fragment)",
        },
        "forward_by": {
            **enum_of(FORWARD_BY),
            "default": "letter",
            "description": "How a forwarded case reaches the partner hotline",
        },
        "api_token": {
            **nullable({**TEXT, "maxLength": MAX_API_TOKEN_LENGTH}),
            "writeOnly": True,
            "description": "Our API token at the partner's installation; stored encrypted, "
            "never returned",
        },
    },
    optional=(
        "country",
        "email",
        "language",
        "address",
        "trust_removal_reports",
        "api_base_url",
        "forward_by",
        "api_token",
    ),
)

SCHEMAS: dict[str, Json] = {
    "Organisation": closed_object(
        {
            "id": ID,
            "kind": enum_of(OrgKind),
            "name": TEXT,
            "country": nullable(COUNTRY),
            "email": nullable(TEXT),
            "language": TEXT,
            "address": TEXT,
            "trust_removal_reports": {"type": "boolean"},
            "api_base_url": nullable(TEXT),
            "forward_by": enum_of(FORWARD_BY),
            "has_api_token": {"type": "boolean"},
            "created_at": TIME,
        },
        description="A partner hotline, a police unit or a hosting provider.",
    ),
    "OrganisationList": closed_object(
        {"items": {"type": "array", "items": ref("Organisation")}},
        description="Active organisations by name.",
    ),
}
