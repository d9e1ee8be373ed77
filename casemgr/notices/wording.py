"""What letters say, per language, and the settings the letter runs need.

Two settings hold every word of a letter that a hotline may want to change:

``NOTICE_WORDING``
    ``{language: {"legal_basis": ..., "request": ..., "request_referral": ...,
    "request_escalation": ..., "request_supervisors": ..., "closing": ...,
    "labels": {...}, "titles": {...}}}``. A language may give only some keys: the others come from
    English. ``labels`` override the renderer's fixed wording
    (:data:`casemgr.notices.pdf.letter.DEFAULT_LABELS`), ``titles`` its titles by
    kind. In the prose keys, ``{hotline}``, ``{hotline_email}``,
    ``{reference}`` (the letter's reference) and ``{notified}`` (who got the
    notice a reminder or escalation follows up) are filled in.

``CLASSIFICATION_BASIS``
    ``{language: {classification: text}}``: the basis printed beside each
    URL. It names the legal basis of the assessment, never what the material
    shows.

The recipient organisation's ``language`` picks the wording, falling back to
English. The English defaults below are generic: a hotline should replace
``legal_basis`` with the provisions of its own national law.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from types import MappingProxyType
from typing import Any

from flask import Flask

from casemgr.notices.pdf.layout import render_letter
from casemgr.notices.pdf.letter import DEFAULT_LABELS, KINDS, Letter
from casemgr.pdf.letterhead import Letterhead
from casemgr.responses.links import LinkSettings
from casemgr.settings import Timings

Renderer = Callable[[Letter, Letterhead], bytes]

FALLBACK_LANGUAGE = "en"

DEFAULT_WORDING: Mapping[str, Mapping[str, Any]] = {
    "en": {
        "legal_basis": (
            "Producing, distributing, offering, making available and possessing child "
            "sexual abuse material is a criminal offence under national law and under the "
            "international baseline shared by hotlines worldwide, in line with Article 3 of "
            "the Optional Protocol to the UN Convention on the Rights of the Child on the "
            "sale of children, child prostitution and child pornography."
        ),
        "request": (
            "We ask you to remove the content at each URL listed, or to disable access to "
            "it, without delay.\n\n"
            "Please preserve all data related to it (the files, account and upload "
            "details, access records) so that the police can request it, and do not alert "
            "the account holder in a way that could hamper an investigation.\n\n"
            "Please confirm the removal to {hotline_email}, quoting our reference "
            "{reference}."
        ),
        "request_referral": (
            "We ask you to take the action that your procedures provide for, and to let "
            "us know at {hotline_email} what has been done, quoting our reference "
            "{reference}."
        ),
        "request_escalation": (
            "Our notice and reminders went to {notified}. We ask you to take the steps open "
            "to you to have the content removed and the related data preserved, and to let "
            "us know at {hotline_email} what has been done, quoting our reference "
            "{reference}."
        ),
        "request_supervisors": (
            "Our notice and reminders went to {notified}, and the removal has not been "
            "confirmed. Please decide the next step for each case listed (for example a "
            "referral to police, or another way to reach the host) and record it on the "
            "case."
        ),
        "closing": "Yours faithfully,\n{hotline}",
        "labels": {},
        "titles": {},
    }
}

PROSE_KEYS = (
    "legal_basis",
    "request",
    "request_referral",
    "request_escalation",
    "request_supervisors",
    "closing",
)
_MAPPING_KEYS = ("labels", "titles")

DEFAULT_CLASSIFICATION_BASIS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "illegal_baseline": "Child sexual abuse material (international baseline)",
        "illegal_national": "Child sexual abuse material (national law)",
    }
}


@dataclass(frozen=True)
class Wording:
    """The wording of one language, complete (missing keys taken from English)."""

    language: str
    legal_basis: str
    request: str
    request_referral: str
    request_escalation: str
    request_supervisors: str
    closing: str
    labels: Mapping[str, str]
    titles: Mapping[str, str]

    def request_for(self, kind: str, recipient_kind: str) -> str:
        """The request of a letter: removal for providers, action for partners and
        police, a decision for the hotline's own supervisors."""
        if kind == "escalation":
            return (
                self.request_supervisors
                if recipient_kind == "supervisors"
                else self.request_escalation
            )
        if kind == "referral" or recipient_kind != "hosting_provider":
            return self.request_referral
        return self.request


def _fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def letterhead_from_app(app: Flask) -> Letterhead:
    """The hotline's letterhead from ``app.config``, for every PDF it makes (notice
    letters, the statistics report). A ``HOTLINE_LOGO`` that is not a file in
    the instance folder is logged and left out rather than failing the PDF."""
    config = app.config
    logo = config.get("HOTLINE_LOGO") or None
    logo_path = None
    if logo:
        logo_path = os.path.join(app.instance_path, logo)
        if not os.path.isfile(logo_path):
            app.logger.warning(
                "HOTLINE_LOGO %r is not a file in %s: PDFs are made without a logo",
                logo,
                app.instance_path,
            )
            logo_path = None
    return Letterhead(
        name=config["HOTLINE_NAME"],
        address=config["HOTLINE_ADDRESS"],
        email=config["HOTLINE_EMAIL"],
        phone=config.get("HOTLINE_PHONE") or "",
        website=config.get("HOTLINE_WEBSITE") or "",
        logo_path=logo_path,
    )


@dataclass(frozen=True)
class NoticeSettings:
    """Everything the letter runs take from the configuration, checked once."""

    letterhead: Letterhead
    reference_prefix: str
    timings: Timings
    wording: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: DEFAULT_WORDING)
    classification_basis: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: DEFAULT_CLASSIFICATION_BASIS
    )
    referrals: bool = True
    supervisors_email: str | None = None
    renderer: Renderer = render_letter
    # HOTLINE_TIMEZONE: the letters' dates, deadlines and first-seen times.
    timezone: tzinfo = UTC
    # Response links in notices and reminders to providers; None: no links.
    links: LinkSettings | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "wording", _check_wording(self.wording))
        object.__setattr__(self, "classification_basis", _check_basis(self.classification_basis))

    @classmethod
    def from_app(cls, app: Flask, *, renderer: Renderer | None = None) -> NoticeSettings:
        """Build the settings from ``app.config``; raises ValueError naming a bad setting."""
        config = app.config
        letterhead = letterhead_from_app(app)
        return cls(
            letterhead=letterhead,
            reference_prefix=config["CASE_REFERENCE_PREFIX"],
            timings=app.extensions["casemgr.timings"],
            wording=_merge_languages(DEFAULT_WORDING, config.get("NOTICE_WORDING") or {}),
            classification_basis=_merge_languages(
                DEFAULT_CLASSIFICATION_BASIS, config.get("CLASSIFICATION_BASIS") or {}
            ),
            referrals=bool(config.get("NOTICE_REFERRALS", True)),
            supervisors_email=config.get("HOTLINE_SUPERVISORS_EMAIL") or None,
            renderer=renderer or render_letter,
            timezone=app.extensions["casemgr.timezone"],
            links=app.extensions["casemgr.response_links"],
        )

    def wording_for(self, language: str | None) -> Wording:
        """The wording in ``language``, each missing key taken from English."""
        english = self.wording[FALLBACK_LANGUAGE]
        own = self.wording.get(language or FALLBACK_LANGUAGE, {})
        chosen = language if language in self.wording else FALLBACK_LANGUAGE
        prose = {key: own.get(key) or english[key] for key in PROSE_KEYS}
        return Wording(
            language=chosen,
            labels=MappingProxyType({**english.get("labels", {}), **own.get("labels", {})}),
            titles=MappingProxyType({**english.get("titles", {}), **own.get("titles", {})}),
            **prose,
        )

    def basis_for(self, classification: str | None, language: str | None) -> str:
        """The classification basis printed for one URL, in ``language`` or English."""
        own = self.classification_basis.get(language or FALLBACK_LANGUAGE, {})
        english = self.classification_basis[FALLBACK_LANGUAGE]
        key = classification or ""
        return own.get(key) or english.get(key) or key.replace("_", " ")

    def fill(self, text: str, *, reference: str, notified: str = "") -> str:
        return _fill(
            text,
            {
                "hotline": self.letterhead.name,
                "hotline_email": self.letterhead.email,
                "reference": reference,
                "notified": notified or "the recipient of our notice",
            },
        )


def _merge_languages(
    defaults: Mapping[str, Mapping[str, Any]], configured: Any
) -> dict[str, dict[str, Any]]:
    if not isinstance(configured, Mapping):
        raise ValueError("must be a mapping of language code to settings")
    merged = {language: dict(values) for language, values in defaults.items()}
    for language, values in configured.items():
        if not isinstance(values, Mapping):
            raise ValueError(f"the settings of language {language!r} must be a mapping")
        merged.setdefault(str(language), {}).update(values)
    return merged


def _check_wording(wording: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    if FALLBACK_LANGUAGE not in wording:
        raise ValueError("NOTICE_WORDING needs English ('en'), the fallback of every language")
    for language, values in wording.items():
        where = f"NOTICE_WORDING[{language!r}]"
        unknown = set(values) - set(PROSE_KEYS) - set(_MAPPING_KEYS)
        if unknown:
            raise ValueError(f"{where} has unknown keys: {sorted(unknown)}")
        for key in PROSE_KEYS:
            if key in values and not isinstance(values[key], str):
                raise ValueError(f"{where}[{key!r}] must be text")
        labels = values.get("labels", {})
        if not isinstance(labels, Mapping) or set(labels) - set(DEFAULT_LABELS):
            raise ValueError(
                f"{where}['labels'] must map labels of casemgr.notices.pdf.letter.DEFAULT_LABELS "
                f"to text; unknown: {sorted(set(labels) - set(DEFAULT_LABELS))}"
            )
        titles = values.get("titles", {})
        if not isinstance(titles, Mapping) or set(titles) - set(KINDS):
            raise ValueError(f"{where}['titles'] must map letter kinds {sorted(KINDS)} to text")
    missing = [key for key in PROSE_KEYS if not wording[FALLBACK_LANGUAGE].get(key)]
    if missing:
        raise ValueError(f"NOTICE_WORDING['en'] must not blank out {missing}")
    return wording


def _check_basis(basis: Mapping[str, Mapping[str, str]]) -> Mapping[str, Mapping[str, str]]:
    if FALLBACK_LANGUAGE not in basis:
        raise ValueError("CLASSIFICATION_BASIS needs English ('en')")
    for language, values in basis.items():
        for key, value in values.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"CLASSIFICATION_BASIS[{language!r}][{key!r}] must be text")
    return basis
