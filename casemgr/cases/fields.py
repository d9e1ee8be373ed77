"""The fields workflow actions take: how each kind of value is parsed, and the
words an assessment uses for the material.

Kept apart from workflow.py, which says which action goes where and what it
writes: this module knows nothing of actions, only of values (ids, country
codes, IP addresses, yes or no, times, reasons, classifications) and of the
``FieldSpec`` that forms and the API document are generated from. Pure
Python, like the workflow.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from casemgr.clock import as_utc, parse_iso
from casemgr.countries import is_country_code
from casemgr.database import MAX_ID

MAX_REASON_LENGTH = 2000
# What a typed case reference may be at most (PREFIX-2026-000042 is far shorter).
MAX_CASE_REFERENCE_LENGTH = 64


# --- parsing: each parser returns the clean value or raises ValueError(message)


def _id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdecimal():
        number = int(value.strip())
    else:
        raise ValueError("must be a whole number")
    if not 0 < number <= MAX_ID:
        raise ValueError(f"must be a positive number, at most {MAX_ID}")
    return number


def _case_id_or_reference(value: Any) -> int | str:
    """A case's id, or its reference as a person types it (``cm-2026-000042``)."""
    if isinstance(value, str) and not value.strip().isdecimal():
        reference = value.strip().upper()
        if len(reference) > MAX_CASE_REFERENCE_LENGTH or not reference.isprintable():
            raise ValueError("must be a case id or a case reference, e.g. CM-2026-000042")
        return reference
    try:
        return _id(value)
    except ValueError:
        raise ValueError("must be a case id or a case reference, e.g. CM-2026-000042") from None


def _country(value: Any) -> str:
    if not isinstance(value, str) or not is_country_code(value.strip().upper()):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. KH")
    return value.strip().upper()


def _ip(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an IPv4 or IPv6 address")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "off", "0", ""}:
        return False
    raise ValueError("must be true or false")


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time")
    try:
        return parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-11-28T09:30:00Z") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    text = value.strip()
    if len(text) > MAX_REASON_LENGTH:
        raise ValueError(f"must be at most {MAX_REASON_LENGTH} characters")
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
        raise ValueError("must not contain control characters")
    return text


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "id": _id,
    "country": _country,
    "ip": _ip,
    "bool": _bool,
    "datetime": _datetime,
    "text": _text,
}


@dataclass(frozen=True)
class FieldSpec:
    """One field an action takes. ``kind`` and ``choices`` let forms and the API
    document be generated from this table instead of repeating it."""

    name: str
    kind: str  # id | choice | country | ip | bool | datetime | text
    required: bool = True
    # A field needed only when the predicate over the other clean values holds.
    required_if: Callable[[dict[str, Any]], bool] | None = None
    label: str = ""
    choices: tuple[str, ...] = ()
    # For ids: what they point at ("staff", "case", or an OrgKind value).
    refers_to: str | None = None
    # Required only in some cases (e.g. details of illegal material): explained here.
    required_when: str = ""

    def parse(self, value: Any) -> Any:
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"must be one of: {', '.join(self.choices)}")
            return value
        if self.kind == "id" and self.refers_to == "case":
            # Another case is named by its id or by the reference people know it by;
            # the resolver turns a reference into the id.
            return _case_id_or_reference(value)
        return _PARSERS[self.kind](value)

    def is_required(self, values: dict[str, Any]) -> bool:
        if self.required_if is not None:
            return self.required_if(values)
        return self.required


def choices_of(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def parse_fields(
    specs: Sequence[FieldSpec], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The clean values of the fields given, and the errors keyed by field name.

    A field left out, null or blank is not given; a required one not given is
    an error.
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec in specs:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            values[spec.name] = spec.parse(value)
        except ValueError as exc:
            errors[spec.name] = [str(exc)]
    for spec in specs:
        if spec.name not in values and spec.name not in errors and spec.is_required(values):
            errors[spec.name] = ["is required"]
    return values, errors


# --- what an assessment says of the material


class Classification(StrEnum):
    ILLEGAL_BASELINE = "illegal_baseline"
    ILLEGAL_NATIONAL = "illegal_national"
    NOT_ILLEGAL = "not_illegal"
    OUT_OF_REMIT = "out_of_remit"


ILLEGAL: frozenset[Classification] = frozenset(
    {Classification.ILLEGAL_BASELINE, Classification.ILLEGAL_NATIONAL}
)


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MIXED = "mixed"
    OTHER = "other"


class SiteType(StrEnum):
    WEBSITE = "website"
    IMAGE_HOST = "image_host"
    FILE_HOST = "file_host"
    FORUM = "forum"
    SOCIAL = "social"
    BLOG = "blog"
    OTHER = "other"


class AgeGroup(StrEnum):
    INFANT_TODDLER = "infant_toddler"
    PREPUBESCENT = "prepubescent"
    PUBESCENT = "pubescent"


_ILLEGAL_ONLY = "the classification is illegal_baseline or illegal_national"
# What an assessment writes on the case besides the classification: details
# of illegal material, cleared when the material is not illegal.
MATERIAL_DETAILS = ("media_type", "site_type", "hosting_country", "age_group", "hosting_ip")


def is_illegal(values: dict[str, Any]) -> bool:
    return values.get("classification") in ILLEGAL


def illegal_only(name: str, kind: str, label: str, choices: tuple[str, ...] = ()) -> FieldSpec:
    """A detail of the material, asked for when it is illegal."""
    return FieldSpec(
        name,
        kind,
        required_if=is_illegal,
        label=label,
        choices=choices,
        required_when=_ILLEGAL_ONLY,
    )
