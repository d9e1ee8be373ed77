"""How to reach the hotline, at the foot of every public page.

From the settings: ``HOTLINE_NAME``, ``HOTLINE_EMAIL``, ``HOTLINE_PHONE``,
``HOTLINE_WEBSITE`` and ``HOTLINE_EMERGENCY`` (the "in an emergency" line per
language code, the default language's where the page's has none). A setting
left empty leaves its line out: the footer never shows an empty label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from casemgr.i18n import current_language
from casemgr.public import bp


@dataclass(frozen=True)
class HotlineContacts:
    name: str
    email: str
    phone: str
    phone_href: str  # tel: link, the number without spaces
    website: str  # the address as given (http or https only)
    website_label: str  # the address without its scheme and trailing slash
    emergency: str

    @property
    def any(self) -> bool:
        return bool(self.email or self.phone or self.website or self.emergency)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _phone_href(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone)
    return f"tel:{digits}" if re.fullmatch(r"\+?\d{3,}", digits) else ""


def _website(value: str) -> tuple[str, str]:
    """The site's address and its label; ("", "") unless it is an http(s) address."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "", ""
    label = value.split("://", 1)[1].rstrip("/")
    return value, label


def emergency_line(setting: Any, language: str, languages: Sequence[str]) -> str:
    """The emergency line for ``language``, else the default language's, else ""."""
    if isinstance(setting, str):  # one line for every language
        return setting.strip()
    if not isinstance(setting, Mapping):
        return ""
    for code in (language, language.split("-")[0].split("_")[0], *languages[:1]):
        text = _text(setting.get(code))
        if text:
            return text
    return ""


def hotline_contacts(config: Mapping[str, Any], language: str) -> HotlineContacts:
    phone = _text(config.get("HOTLINE_PHONE"))
    website, website_label = _website(_text(config.get("HOTLINE_WEBSITE")))
    return HotlineContacts(
        name=_text(config.get("HOTLINE_NAME")),
        email=_text(config.get("HOTLINE_EMAIL")),
        phone=phone,
        phone_href=_phone_href(phone),
        website=website,
        website_label=website_label,
        emergency=emergency_line(
            config.get("HOTLINE_EMERGENCY"), language, list(config.get("LANGUAGES") or ["en"])
        ),
    )


@bp.app_context_processor
def contacts_helper():
    """``hotline_contacts()`` for the public layout (called only where it is drawn)."""
    return {"hotline_contacts": lambda: hotline_contacts(current_app.config, current_language())}
