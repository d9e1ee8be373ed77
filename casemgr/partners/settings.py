"""The partners job's settings, read from the configuration once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# Bytes of a partner's answer read at most: a larger answer is an error.
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PartnerSettings:
    timeout: float = 20.0
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=300)
    retry_max: timedelta = timedelta(hours=6)
    poll_limit: int = 500
    poll_interval: timedelta = timedelta(minutes=60)
    hotline_name: str = "casemgr"
    max_answer_bytes: int = MAX_ANSWER_BYTES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PartnerSettings:
        return cls(
            timeout=float(config.get("PARTNER_TIMEOUT", 20)),
            max_attempts=max(1, int(config.get("PARTNER_MAX_ATTEMPTS", 8))),
            retry_base=timedelta(
                seconds=max(1, int(config.get("PARTNER_RETRY_BASE_SECONDS", 300)))
            ),
            retry_max=timedelta(seconds=int(config.get("PARTNER_RETRY_MAX_SECONDS", 6 * 3600))),
            poll_limit=max(0, int(config.get("PARTNER_POLL_LIMIT", 500))),
            poll_interval=timedelta(minutes=float(config.get("PARTNER_POLL_INTERVAL_MINUTES", 60))),
            hotline_name=str(config.get("HOTLINE_NAME") or "casemgr"),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: base, 2x base, 4x ..., capped."""
        wait = self.retry_base * (2 ** max(0, attempts - 1))
        return min(wait, self.retry_max)
