"""Encryption at rest of reporters' contact details (Fernet: AES-128-CBC + HMAC).

Several keys at once (``MultiFernet``): the first, ``CONTACT_ENCRYPTION_KEY``,
encrypts; every key decrypts, the first and then ``CONTACT_ENCRYPTION_PREVIOUS_KEYS``
(newest first). ``flask --app wsgi keys rotate-contact`` moves stored values
to the first key (docs/deployment.md). A key is never printed: messages name
it by its position and its *key id*, a digest that does not reveal it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_ID_MESSAGE = b"casemgr contact key id"


def key_id(key: str | bytes) -> str:
    """12 hex digits naming ``key`` in messages and the audit log, without revealing it."""
    raw = base64.urlsafe_b64decode(key)
    return hmac.new(raw, _ID_MESSAGE, hashlib.sha256).hexdigest()[:12]


def previous_keys_setting(value: object) -> list[str]:
    """``CONTACT_ENCRYPTION_PREVIOUS_KEYS`` as a list: a list as it is, and text
    (the environment) split at commas (a Fernet key never holds one)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [item.strip() if isinstance(item, str) else item for item in value]
    raise ValueError(
        "CONTACT_ENCRYPTION_PREVIOUS_KEYS must be a list of keys (or, in the environment, "
        "keys separated by commas)"
    )


def _fernet(key: object, which: str) -> Fernet:
    """A Fernet for ``key``; a ValueError naming ``which`` (never the key) if it is not one."""
    if isinstance(key, str | bytes):
        try:
            return Fernet(key)
        except ValueError:
            pass
    raise ValueError(
        f"{which} is not a contact-encryption key (a Fernet key: 32 bytes in URL-safe "
        "base64, as flask --app wsgi keys contact prints)"
    )


class ContactCipher:
    def __init__(self, key: str | bytes, previous: Iterable[str | bytes] = ()):
        previous = list(previous)
        self._fernets = [_fernet(key, "CONTACT_ENCRYPTION_KEY")]
        for number, old in enumerate(previous, start=1):
            which = f"CONTACT_ENCRYPTION_PREVIOUS_KEYS key {number} of {len(previous)}"
            self._fernets.append(_fernet(old, which))
        self._ids = [key_id(item) for item in (key, *previous)]
        self._multi = MultiFernet(self._fernets)
        self.derived = False  # made from SECRET_KEY (development only)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> ContactCipher:
        """The configured keys; without ``CONTACT_ENCRYPTION_KEY``, a key derived
        from SECRET_KEY first (then the previous keys, if any).

        The derived key is for development only: production refuses to start
        without CONTACT_ENCRYPTION_KEY (see casemgr.create_app). Raises
        ValueError naming a key that is not one by its position.
        """
        previous = previous_keys_setting(config.get("CONTACT_ENCRYPTION_PREVIOUS_KEYS"))
        encryption_key = config.get("CONTACT_ENCRYPTION_KEY") or ""
        if isinstance(encryption_key, str):
            encryption_key = encryption_key.strip()
        if encryption_key:
            return cls(encryption_key, previous)  # type: ignore[arg-type]
        secret_key = str(config.get("SECRET_KEY") or "")
        derived = hashlib.sha256(b"casemgr-contact:" + secret_key.encode()).digest()
        cipher = cls(base64.urlsafe_b64encode(derived), previous)
        cipher.derived = True
        return cipher

    @property
    def key_ids(self) -> list[str]:
        """The keys' ids, the encrypting one first."""
        return list(self._ids)

    def encrypt(self, plaintext: str) -> bytes:
        return self._multi.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._multi.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise ValueError(
                "contact details cannot be decrypted with the configured keys"
            ) from None

    def key_position(self, token: bytes) -> int | None:
        """Which key decrypts ``token``: 0 for the encrypting key, 1 for the
        first previous key, ...; None if none does."""
        for position, fernet in enumerate(self._fernets):
            try:
                fernet.decrypt(token)
            except InvalidToken:
                continue
            return position
        return None

    def rotate(self, token: bytes) -> bytes:
        """``token`` encrypted again with the encrypting key (its time kept).
        Raises ValueError if no key decrypts it."""
        try:
            return self._multi.rotate(token)
        except InvalidToken:
            raise ValueError(
                "contact details cannot be decrypted with the configured keys"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
