"""What delivery takes from the configuration, checked once: :class:`OutboxSettings`.

Its own module because the job, the composing of a message and the
recording of an attempt all read it, and a bad setting should be named when
the job starts, not half-way through a run. The retry policy (how many
attempts, the back-off between them) is part of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, timedelta, tzinfo
from typing import Any

from flask import Flask

from casemgr.localtime import zone
from casemgr.outbox.mailer import SmtpSettings, mailbox
from casemgr.outbox.wording import MailWording
from casemgr.responses.links import LinkSettings

# No response links (PUBLIC_BASE_URL empty): a letter's e-mail says nothing of one.
NO_LINKS = LinkSettings(base_url="", key=b"", lifetime=timedelta(0))

# What to do with a message handed to the server whose answer was lost (see casemgr.outbox).
UNKNOWN_OUTCOME_POLICIES = ("hold", "resend")


@dataclass(frozen=True)
class OutboxSettings:
    """Everything delivery takes from the configuration, checked once."""

    smtp: SmtpSettings
    sender: str
    hotline_name: str
    hotline_email: str
    message_id_domain: str
    default_language: str = "en"
    wording: MailWording = MailWording.from_config({})
    max_attempts: int = 6
    retry_base: timedelta = timedelta(minutes=5)
    retry_max: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=15)
    batch_limit: int = 5000
    unknown_outcome: str = "hold"
    # HOTLINE_TIMEZONE: the offset of the messages' Date header.
    timezone: tzinfo = UTC
    # Where a letter's response link points (PUBLIC_BASE_URL) and its key.
    links: LinkSettings = NO_LINKS

    @classmethod
    def from_app(cls, app: Flask) -> OutboxSettings:
        """The app's settings, with the response links the app made (the letters' own)."""
        settings = cls.from_config(app.config)
        links = app.extensions.get("casemgr.response_links")
        return replace(settings, links=links) if links is not None else settings

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        """Raises ValueError naming the setting that is wrong."""
        sender = mailbox(config.get("MAIL_FROM") or config.get("HOTLINE_EMAIL"))
        if sender is None:
            raise ValueError("MAIL_FROM (or HOTLINE_EMAIL) must be an e-mail address")
        domain = str(config.get("MAIL_MESSAGE_ID_DOMAIN") or sender.rsplit("@", 1)[1])
        if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
            raise ValueError("MAIL_MESSAGE_ID_DOMAIN must be a plain (ASCII) domain name")
        numbers: dict[str, float] = {}
        for name in (
            "OUTBOX_MAX_ATTEMPTS",
            "OUTBOX_RETRY_BASE_SECONDS",
            "OUTBOX_RETRY_MAX_SECONDS",
            "OUTBOX_LEASE_SECONDS",
            "OUTBOX_BATCH_LIMIT",
        ):
            value = config.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number")
            numbers[name] = value
        smtp = SmtpSettings.from_config(config)
        lease = timedelta(seconds=numbers["OUTBOX_LEASE_SECONDS"])
        if lease.total_seconds() <= smtp.timeout * 4 + smtp.data_timeout:
            raise ValueError(
                "OUTBOX_LEASE_SECONDS must be longer than one message can take: more than "
                "4 x SMTP_TIMEOUT + SMTP_DATA_TIMEOUT"
            )
        policy = config.get("OUTBOX_UNKNOWN_OUTCOME", "hold")
        if policy not in UNKNOWN_OUTCOME_POLICIES:
            raise ValueError(
                f"OUTBOX_UNKNOWN_OUTCOME must be one of {', '.join(UNKNOWN_OUTCOME_POLICIES)}"
            )
        return cls(
            smtp=smtp,
            sender=sender,
            hotline_name=config["HOTLINE_NAME"],
            hotline_email=config["HOTLINE_EMAIL"],
            message_id_domain=domain,
            default_language=config.get("MAIL_DEFAULT_LANGUAGE") or "en",
            wording=MailWording.from_config(config.get("MAIL_WORDING") or {}),
            max_attempts=int(numbers["OUTBOX_MAX_ATTEMPTS"]),
            retry_base=timedelta(seconds=numbers["OUTBOX_RETRY_BASE_SECONDS"]),
            retry_max=timedelta(seconds=numbers["OUTBOX_RETRY_MAX_SECONDS"]),
            lease=lease,
            batch_limit=int(numbers["OUTBOX_BATCH_LIMIT"]),
            unknown_outcome=policy,
            timezone=zone(config.get("HOTLINE_TIMEZONE") or "UTC"),
            links=(
                LinkSettings.from_config(config) if "NOTICE_RESPONSE_DAYS" in config else NO_LINKS
            ),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base, ..."""
        delay = self.retry_base * (2 ** max(0, min(attempts - 1, 30)))
        return min(delay, self.retry_max)
