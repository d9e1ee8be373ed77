"""Typed views of the configuration that services need, built once per app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Timings:
    assessment_due: timedelta = timedelta(hours=24)
    takedown_due: timedelta = timedelta(hours=72)
    takedown_due_by_country: Mapping[str, timedelta] = field(default_factory=dict)
    reminder_interval: timedelta = timedelta(hours=72)
    reminders_before_escalation: int = 2
    forwarded_reminder: timedelta = timedelta(days=7)
    police_hold_review: timedelta = timedelta(days=30)
    removal_verify: timedelta = timedelta(hours=24)

    def takedown_due_for(self, country: str | None) -> timedelta:
        return self.takedown_due_by_country.get(country or "", self.takedown_due)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Timings:
        return cls(
            assessment_due=timedelta(hours=config["ASSESSMENT_DUE_HOURS"]),
            takedown_due=timedelta(hours=config["TAKEDOWN_DUE_HOURS"]),
            takedown_due_by_country={
                country.upper(): timedelta(hours=hours)
                for country, hours in config["TAKEDOWN_DUE_HOURS_BY_COUNTRY"].items()
            },
            reminder_interval=timedelta(hours=config["REMINDER_INTERVAL_HOURS"]),
            reminders_before_escalation=int(config["REMINDERS_BEFORE_ESCALATION"]),
            forwarded_reminder=timedelta(days=config["FORWARDED_REMINDER_DAYS"]),
            police_hold_review=timedelta(days=config["POLICE_HOLD_REVIEW_DAYS"]),
            removal_verify=timedelta(hours=config["REMOVAL_VERIFY_HOURS"]),
        )


@dataclass(frozen=True)
class LoginPolicy:
    """Sign-in throttling and session lifetimes (config.py explains each)."""

    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    pending: timedelta = timedelta(minutes=10)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    require_2fa_for_all: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoginPolicy:
        return cls(
            max_failures=max(1, int(config["LOGIN_MAX_FAILURES"])),
            failure_window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
            lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
            pending=timedelta(minutes=config["LOGIN_PENDING_MINUTES"]),
            session_idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            session_absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
            require_2fa_for_all=bool(config["REQUIRE_2FA_FOR_ALL"]),
        )


class ContactViewers(StrEnum):
    """Who may reveal a reporter's contact details on a case (``CONTACT_VIEWERS``).

    Admins rank above supervisors and see what they see."""

    ASSIGNEE = "assignee"  # the case's assignee, and supervisors
    SUPERVISORS = "supervisors"  # supervisors only
    ANALYSTS = "analysts"  # every member of staff (the rule before need-to-know)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ContactViewers:
        value = config.get("CONTACT_VIEWERS", cls.ASSIGNEE.value)
        try:
            return cls(value)
        except ValueError:
            raise ValueError(
                f"CONTACT_VIEWERS is {value!r}; it must be one of: {', '.join(cls)}"
            ) from None
