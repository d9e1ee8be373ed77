"""The keys of the audit log: the one new entries are made under, and older ones
kept only to verify what was made under them.

``AUDIT_KEY`` (or the first line of the file ``AUDIT_KEY_FILE``) is the key
of new entries and checkpoints; ``AUDIT_PREVIOUS_KEYS`` (and the file's
further lines) are the keys it replaced, newest first. A key is never
stored in the database nor printed: it is named by its *key id*, the first
12 hex digits of the HMAC of a constant under it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

MIN_LENGTH = 32
_ID_MESSAGE = b"casemgr audit key id"


def key_id(secret: bytes) -> str:
    return hmac.new(secret, _ID_MESSAGE, hashlib.sha256).hexdigest()[:12]


def generate_key() -> str:
    """A new key, as ``flask --app wsgi keys audit`` prints it."""
    return secrets.token_urlsafe(32)


def sign(secret: bytes, data: bytes) -> str:
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditKeys:
    """The current key and the previous ones, by key id."""

    current_id: str
    secrets_by_id: Mapping[str, bytes] = field(repr=False)
    derived: bool = False  # made from SECRET_KEY (development only)

    @property
    def current(self) -> bytes:
        return self.secrets_by_id[self.current_id]

    def get(self, identifier: str | None) -> bytes | None:
        return self.secrets_by_id.get(identifier) if identifier else None

    @property
    def previous_ids(self) -> list[str]:
        return [identifier for identifier in self.secrets_by_id if identifier != self.current_id]

    def describe(self) -> str:
        """``AUDIT_KEY (id 1a2b...) and 1 previous key (3c4d...)``, for messages."""
        text = f"AUDIT_KEY (key id {self.current_id}"
        text += ", derived from SECRET_KEY: development only)" if self.derived else ")"
        if self.previous_ids:
            text += f" and AUDIT_PREVIOUS_KEYS ({', '.join(self.previous_ids)})"
        return text

    @classmethod
    def of(cls, current: str | bytes, previous: Iterable[str | bytes] = ()) -> AuditKeys:
        """Keys from their text (tests and tools)."""
        keys = [_bytes(current), *(_bytes(key) for key in previous)]
        by_id: dict[str, bytes] = {}
        for key in keys:
            by_id.setdefault(key_id(key), key)
        return cls(key_id(keys[0]), by_id)

    @classmethod
    def from_config(cls, config: Mapping[str, object], *, derive_from: str | None) -> AuditKeys:
        """The configured keys. Without one: a key derived from ``derive_from``
        (SECRET_KEY, where development allows it), else ValueError."""
        setting = str(config.get("AUDIT_KEY") or "")
        path = str(config.get("AUDIT_KEY_FILE") or "")
        previous = config.get("AUDIT_PREVIOUS_KEYS") or []
        if isinstance(previous, str):
            previous = [previous]
        if setting and path:
            raise ValueError("set AUDIT_KEY or AUDIT_KEY_FILE, not both")
        keys = _read_key_file(path) if path else [setting] if setting else []
        keys += [str(key) for key in previous]  # type: ignore[union-attr]
        for number, key in enumerate(keys):
            if len(key) < MIN_LENGTH:
                which = "AUDIT_KEY" if number == 0 and (setting or path) else "a previous key"
                raise ValueError(
                    f"{which} is shorter than {MIN_LENGTH} characters "
                    "(flask --app wsgi keys audit prints a new key)"
                )
        if setting or path:
            return cls.of(keys[0], keys[1:])
        if derive_from is None:
            raise ValueError(
                "AUDIT_KEY is not set: the audit log's entries and checkpoints are made "
                "under it (flask --app wsgi keys audit prints a new one; set "
                "CASEMGR_AUDIT_KEY, or AUDIT_KEY_FILE naming a file that holds it). "
                "Keep a copy outside the database: without it the log cannot be verified"
            )
        derived = hashlib.sha256(b"casemgr-audit:" + derive_from.encode()).hexdigest()
        return replace(cls.of(derived, keys), derived=True)


def _read_key_file(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"AUDIT_KEY_FILE {path!r} cannot be read: {exc.strerror}") from None
    keys = [line.strip() for line in text.splitlines() if line.strip()]
    if not keys:
        raise ValueError(f"AUDIT_KEY_FILE {path!r} holds no key")
    return keys


def _bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode("utf-8")
